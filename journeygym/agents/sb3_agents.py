"""PPO and DQN agents over :class:`~journeygym.envs.JourneyVecEnv` (Stable-Baselines3).

Both follow the :class:`~journeygym.agents.protocol.Agent` protocol.  The
defaults are tuned for this simulator (see each class): one
population of ``n_envs`` customers is the vectorized env, the training reward is
its expectation given the week's hidden state (:class:`ExpectedRewardWrapper`,
same expected return, much less noise), the observation carries the
posterior-mean HMM filter's belief over the engagement state
(:class:`BeliefObservation`), and rewards are scaled by ``VecNormalize``
(``norm_obs=False``: the observation columns are already in [0, 1]).

Saved agents are directories::

    agent.json          class, name, hyperparameters, package version
    model.zip           the SB3 model (``PPO.load`` / ``DQN.load`` read it)
    vecnormalize.pkl    the reward-normalization statistics (``VecNormalize.load``)
    belief_model.npz    the filter's model, as a journeygym artifact (when belief features are on)

Training logs (TensorBoard and ``progress.csv``) go to ``tensorboard_log`` when set;
``rollout/ep_rew_mean`` is the mean return of the last population of training
customers (with ``training_reward="expected"``, their expected return).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

import journeygym
from journeygym.agents.features import BeliefObservation, BeliefTracker, ExpectedRewardWrapper, find_population_env
from journeygym.agents.protocol import EnvFactory
from journeygym.baselines.base import check_observations
from journeygym.envs.parameters import ParameterDraws, ScenarioAssumptions

__all__ = ["DQNAgent", "PPOAgent", "SB3Agent"]

_TRAINING_REWARDS = ("expected", "sampled")


class SB3Agent:
    """Common machinery of the Stable-Baselines3 agents (subclasses set the algorithm and defaults).

    Parameters
    ----------
    name
        Label in result tables (default: the algorithm, lower case).
    n_envs
        Customers simulated in parallel during training.
    belief_features
        Append the HMM filter's belief over the hidden state to the observation.
    training_reward
        ``"expected"`` (default) or ``"sampled"``; see :class:`ExpectedRewardWrapper`.
    normalize_reward
        Scale rewards with ``VecNormalize(norm_obs=False, norm_reward=True)``.
    tensorboard_log
        Directory for TensorBoard and CSV training logs (None: no logs).
    device
        Torch device (default ``"cpu"``: the networks are small).
    verbose
        SB3 verbosity.
    **algorithm_kwargs
        Passed to the SB3 algorithm, overriding the tuned defaults
        (``learning_rate``, ``gamma``, ``policy_kwargs``...).  Without ``gamma`` the
        discount is the scenario's (:attr:`ScenarioAssumptions.discount
        <journeygym.envs.parameters.ScenarioAssumptions>` of the env it trains on),
        for the algorithm and the reward normalization alike.
    """

    algorithm: ClassVar[type[BaseAlgorithm]]
    default_name: ClassVar[str]
    default_n_envs: ClassVar[int]
    defaults: ClassVar[dict[str, Any]]

    def __init__(
        self,
        name: str | None = None,
        *,
        n_envs: int | None = None,
        belief_features: bool = True,
        training_reward: str = "expected",
        normalize_reward: bool = True,
        tensorboard_log: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        verbose: int = 0,
        **algorithm_kwargs: Any,
    ) -> None:
        if training_reward not in _TRAINING_REWARDS:
            raise ValueError(
                f"{type(self).__name__}: training_reward received {training_reward!r}, expected one of {_TRAINING_REWARDS}."
            )
        n_envs = self.default_n_envs if n_envs is None else n_envs
        if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
            raise ValueError(f"{type(self).__name__}: n_envs received {n_envs!r}, expected an integer >= 1.")
        self.name = name or self.default_name
        self.n_envs = n_envs
        self.belief_features = bool(belief_features)
        self.training_reward = training_reward
        self.normalize_reward = bool(normalize_reward)
        self.tensorboard_log = None if tensorboard_log is None else str(tensorboard_log)
        self.device = device
        self.verbose = verbose
        self.algorithm_kwargs = dict(algorithm_kwargs)
        self.model: BaseAlgorithm | None = None
        self.vec_normalize: VecNormalize | None = None
        self._belief_model: ParameterDraws | None = None
        self._tracker: BeliefTracker | None = None

    # ----------------------------------------------------------------- hyperparameters
    def _resolved_kwargs(self, horizon: int, discount: float | None = None) -> dict[str, Any]:
        """The algorithm's keyword arguments: tuned defaults, the scenario's (horizon, discount), the user's."""
        # Average the logged episode returns over one population of customers.
        common = {"stats_window_size": max(100, self.n_envs)}
        scenario = {**self._horizon_defaults(horizon), **({} if discount is None else {"gamma": discount})}
        return {**common, **self.defaults, **scenario, **self.algorithm_kwargs}

    def _horizon_defaults(self, horizon: int) -> dict[str, Any]:
        return {}

    def minimum_timesteps(self, horizon: int) -> int:
        """Fewest training steps that make one update (used to reject impossible budgets)."""
        return self.n_envs * horizon

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters recorded with results (``gamma``: the one trained with, once trained)."""
        params = {
            "n_envs": self.n_envs,
            "belief_features": self.belief_features,
            "training_reward": self.training_reward,
            "normalize_reward": self.normalize_reward,
            **self.defaults,
            **self.algorithm_kwargs,
        }
        if self.model is not None:
            params["gamma"] = float(self.model.gamma)
        return params

    # ----------------------------------------------------------------- training
    def _wrap(self, venv: VecEnv, gamma: float) -> VecEnv:
        if self.training_reward == "expected":
            venv = ExpectedRewardWrapper(venv)
        # Above the reward swap: the logged episode return (rollout/ep_rew_mean) is then the
        # expected return of the training customers -- the same quantity as the sampled
        # return in expectation, with a fraction of its noise, so learning curves are readable.
        venv = VecMonitor(venv)
        if self.belief_features:
            venv = BeliefObservation(venv)
            tracker = venv.tracker
            population = find_population_env(venv)
            self._belief_model = _belief_artifact(population)
            self._tracker = tracker
        if self.normalize_reward:
            venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)
            self.vec_normalize = venv
        return venv

    def fit(self, env_factory: EnvFactory, total_timesteps: int, seed: int) -> SB3Agent:
        """Train from scratch for ``total_timesteps`` customer-weeks.

        Parameters
        ----------
        env_factory
            ``env_factory(n_envs)`` -> a ``JourneyVecEnv`` (see :mod:`journeygym.agents.protocol`).
        total_timesteps
            Training budget in customer-weeks.
        seed
            Seeds the env, torch and numpy.
        """
        venv = env_factory(self.n_envs)
        population = find_population_env(venv)
        horizon = population.assumptions.horizon if population is not None else int(self.algorithm_kwargs.get("n_steps", 52))
        discount = (population.assumptions if population is not None else ScenarioAssumptions()).discount
        if total_timesteps < self.minimum_timesteps(horizon):
            raise ValueError(
                f"{self.name}: total_timesteps received {total_timesteps}, expected at least "
                f"{self.minimum_timesteps(horizon)} (one update: n_envs x horizon = {self.n_envs} x {horizon})."
            )
        kwargs = self._resolved_kwargs(horizon, discount)
        venv.seed(seed)
        env = self._wrap(venv, float(kwargs["gamma"]))
        self.model = self.algorithm("MlpPolicy", env, seed=seed, device=self.device, verbose=self.verbose, **kwargs)
        if self.tensorboard_log is not None:
            Path(self.tensorboard_log).mkdir(parents=True, exist_ok=True)
            formats = ["csv", "tensorboard"] + (["stdout"] if self.verbose else [])
            self.model.set_logger(configure(self.tensorboard_log, formats))
        self.model.learn(total_timesteps=total_timesteps, progress_bar=False)
        env.close()
        return self

    # ----------------------------------------------------------------- acting
    def act(self, observations: np.ndarray) -> np.ndarray:
        """Greedy actions (``predict(deterministic=True)``) for a batch of observations."""
        if self.model is None:
            raise RuntimeError(f"{self.name}: the agent is not trained; call fit(...) or load(path) first.")
        observations = check_observations(observations)
        if self._tracker is not None:
            belief = self._tracker.observe(observations)
            observations = np.concatenate([observations, belief.astype(np.float32)], axis=1)
        actions, _ = self.model.predict(observations, deterministic=True)
        return np.asarray(actions, dtype=np.int64).reshape(-1)

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the agent to the directory ``path`` (created if needed)."""
        if self.model is None:
            raise RuntimeError(f"{self.name}: nothing to save; call fit(...) first.")
        from journeygym.envs.artifact import save_artifact

        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory / "model.zip")
        if self.vec_normalize is not None:
            self.vec_normalize.save(str(directory / "vecnormalize.pkl"))
        if self._belief_model is not None:
            save_artifact(self._belief_model, directory / "belief_model.npz")
        settings = {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "journeygym_version": journeygym.__version__,
            "name": self.name,
            "n_envs": self.n_envs,
            "belief_features": self.belief_features,
            "training_reward": self.training_reward,
            "normalize_reward": self.normalize_reward,
            "device": self.device,
            "algorithm_kwargs": self.algorithm_kwargs,
        }
        (directory / "agent.json").write_text(json.dumps(settings, indent=2, default=str))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SB3Agent:
        """Read an agent written by :meth:`save` (the reward statistics stay in ``vecnormalize.pkl``)."""
        from journeygym.envs.artifact import load_artifact

        directory = Path(path)
        settings_file = directory / "agent.json"
        if not settings_file.is_file():
            raise FileNotFoundError(
                f"{cls.__name__}.load: no agent.json in {str(directory)!r}; expected a directory written by save(path)."
            )
        settings = json.loads(settings_file.read_text())
        agent = cls(
            settings["name"],
            n_envs=settings["n_envs"],
            belief_features=settings["belief_features"],
            training_reward=settings["training_reward"],
            normalize_reward=settings["normalize_reward"],
            device=settings.get("device", "cpu"),
            **settings["algorithm_kwargs"],
        )
        agent.model = cls.algorithm.load(directory / "model.zip", device=agent.device)
        if agent.belief_features:
            model = load_artifact(directory / "belief_model.npz")
            agent._belief_model = model
            agent._tracker = BeliefTracker(model.mean, model.assumptions)
        return agent

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}(name={self.name!r}, {params})"


def _belief_artifact(population: Any) -> ParameterDraws:
    """The filter's model (posterior mean and scenario) as a one-draw artifact, for saving."""
    from journeygym.agents.features import model_parameters_of

    mean = model_parameters_of(population)
    return ParameterDraws(
        draws=(mean,), mean=mean, assumptions=population.assumptions, metadata={"role": "belief filter model"}
    )


class PPOAgent(SB3Agent):
    """Proximal Policy Optimization with defaults tuned for the customer-journey env.

    One rollout is one season of ``n_envs`` customers (``n_steps`` = horizon),
    so every update sees complete seasons and values bootstrap only at the
    horizon; four minibatches per rollout, ten epochs.  ``n_envs = 512``
    because the advantage of an e-mail is small next to the noise of a
    customer's season: with 128-256 customers per update some seeds settled on
    e-mailing almost no one, with 512 none did in the tuning sweep.  The
    entropy bonus is 0 (0.01 made runs less stable, not more).  See
    :class:`SB3Agent` for the reward and observation wrappers.
    """

    algorithm = PPO
    default_name = "ppo"
    default_n_envs = 512
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 3e-4,
        "n_epochs": 10,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "ent_coef": 0.0,
        "policy_kwargs": {"net_arch": {"pi": [64, 64], "vf": [64, 64]}},
    }

    def _horizon_defaults(self, horizon: int) -> dict[str, Any]:
        n_steps = int(self.algorithm_kwargs.get("n_steps", horizon))
        return {"n_steps": n_steps, "batch_size": max(1, self.n_envs * n_steps // 4)}

    def minimum_timesteps(self, horizon: int) -> int:
        """One rollout: ``n_envs x n_steps``."""
        return self.n_envs * int(self.algorithm_kwargs.get("n_steps", horizon))


class DQNAgent(SB3Agent):
    """Deep Q-learning with defaults for the customer-journey env.

    Collects ``n_envs`` customer-weeks per env step into a replay buffer and
    makes ``gradient_steps`` updates per env step; exploration decays linearly
    over ``exploration_fraction`` of training.  Tuned less than PPO: treat it
    as a second learner to check PPO's result, not as a tuned benchmark.
    """

    algorithm = DQN
    default_name = "dqn"
    default_n_envs = 64
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 1e-4,
        "buffer_size": 500_000,
        "learning_starts": 20_000,
        "batch_size": 256,
        "train_freq": 1,
        "gradient_steps": 4,
        "target_update_interval": 2_000,
        "exploration_fraction": 0.3,
        "exploration_initial_eps": 1.0,
        "exploration_final_eps": 0.02,
        "policy_kwargs": {"net_arch": [64, 64]},
    }

    def minimum_timesteps(self, horizon: int) -> int:
        """Enough steps to pass ``learning_starts`` and make one gradient update."""
        starts = int(self._resolved_kwargs(horizon).get("learning_starts", 0))
        return max(self.n_envs * horizon, starts + self.n_envs)
