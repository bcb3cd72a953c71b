"""PPO and DQN agents over :class:`~journeygym.envs.JourneyVecEnv` (Stable-Baselines3).

Both follow the :class:`~journeygym.agents.protocol.Agent` protocol.  The
defaults are tuned for this simulator (see each class): one
population of ``n_envs`` customers is the vectorized env, the training reward is
its expectation given the week's hidden state (:class:`~journeygym.agents.sb3_wrappers.ExpectedRewardWrapper`,
same expected return, much less noise), the observation carries the
posterior-mean HMM filter's belief over the engagement state
(:class:`~journeygym.agents.sb3_wrappers.BeliefObservation`), and rewards are scaled by ``VecNormalize``
(``norm_obs=False``: the observation columns are already in [0, 1]).

Saved agents are directories::

    agent.json          class, name, hyperparameters, package version
    model.zip           the SB3 model (``PPO.load`` / ``DQN.load`` read it)
    vecnormalize.pkl    the reward-normalization statistics (``VecNormalize.load``)
    belief_model.npz    the filter's model, as a journeygym artifact (when belief features are on)

Under a contact budget the agents train with a shadow price per requested
e-mail (``email_price``), tuned by dual ascent to a request rate
(``contact_target``) and calibrated after training; see
:mod:`journeygym.agents.lagrangian`.  ``priority(observations)`` ranks the
customers by the policy's preference for e-mailing them.

Training logs (TensorBoard and ``progress.csv``) go to ``tensorboard_log`` when set;
``rollout/ep_rew_mean`` is the mean return of the last population of training
customers (with ``training_reward="expected"``, their expected return).  The
learning curve (:mod:`journeygym.agents.learning_curves`) is the greedy policy's
return on fixed validation customers at a few checkpoints: ``learning_curve_``
after ``fit``, ``learning_curve.json`` in a saved agent, ``eval/`` in the logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from journeygym.agents.devices import check_device
from journeygym.agents.features import find_population_env, with_belief
from journeygym.agents.lagrangian import (
    Calibration,
    ContactTarget,
    RATE_SIGNALS,
    TRAINING_BUDGETS,
    calibrate_offset,
    check_calibration,
    check_choice,
    check_contact_target,
    check_email_price,
    email_preference,
    greedy_actions,
    lift_budget,
    resolve_contact_target,
    validation_request_rate,
)
from journeygym.agents.learning_curves import CheckpointPolicy, CurveSettings, LearningCurve
from journeygym.agents.sb3_persistence import load_agent, save_agent
from journeygym.baselines.agent_protocol import EnvFactory
from journeygym.baselines.base import check_observations
from journeygym.envs.belief import BeliefTracker
from journeygym.envs.parameters import ParameterDraws, ScenarioAssumptions

if TYPE_CHECKING:  # Stable-Baselines3 and torch load when an agent trains or loads, not when it is built
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

    from journeygym.agents.sb3_wrappers import EmailPriceWrapper

__all__ = ["DQNAgent", "PPOAgent", "SB3Agent"]

_TRAINING_REWARDS = ("expected", "sampled")
#: How the learning rate moves over training: held, or falling linearly to 0 at the end of the budget.
LEARNING_RATE_SCHEDULES = ("constant", "linear")


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
        ``"expected"`` (default) or ``"sampled"``; see :class:`~journeygym.agents.sb3_wrappers.ExpectedRewardWrapper`.
    normalize_reward
        Scale rewards with ``VecNormalize(norm_obs=False, norm_reward=True)``.
    tensorboard_log
        Directory for TensorBoard and CSV training logs (None: no logs).
    device
        Torch device: ``"cpu"`` (default: the networks are small), ``"auto"`` (a GPU when torch
        sees one) or ``"cuda"``; see :mod:`journeygym.agents.devices`.
    learning_curve
        Settings of the learning curve measured during training (:class:`~journeygym.agents.learning_curves.CurveSettings`
        or a mapping of its keys: ``checkpoints``, ``customers``, ``episodes``, ``seed``; default: its
        defaults), or None for none.
    verbose
        SB3 verbosity.
    email_price
        Shadow price in dollars per e-mail the policy asks for, in the training reward
        (>= 0; default 0: none; requests a training budget drops are not charged, see
        :mod:`journeygym.agents.lagrangian`).  With ``contact_target`` it is the starting price.
    contact_target
        Tune the price during training by dual ascent so that the policy requests this
        rate of e-mails: None (default: no tuning), ``"budget"`` (the training scenario's
        ``contact_budget`` per subscribed customer-week, or ``contact_budget_per_1000`` / 1000
        per customer-week) or a share in (0, 1] per subscribed customer-week.
    price_step
        Dual step size in dollars per e-mail per unit of rate gap (default: the class's).
    rate_signal
        The request rate the dual update reads: ``"greedy"`` (default: the e-mails the greedy
        policy -- the one evaluated -- asks for on the training states) or ``"sampled"`` (those
        asked for by the actions taken in training, exploration included).
    calibration
        With a target, after training: ``"match"`` (default) shifts the e-mail preference so
        that the greedy policy's request rate on validation seasons of the training env meets
        the target; ``"ceiling"`` only lowers it to the target; None leaves it.
    calibration_customers
        Customers per validation season of the calibration (four seasons, one draw each
        when the env samples draws).
    training_budget
        With a target: ``"lifted"`` (default) trains on the env without its weekly budget,
        the tuned price standing in for it (the Lagrangian relaxation; a frequency cap stays),
        and calibrates on the env with it; ``"enforced"`` trains under the budget, which drops
        excess requests at random.  A budget that drops requests at random dilutes what a
        request teaches: in the quick PPO budget at a 20% budget the policy trained under it
        earned 4.7 a customer where the one trained with the budget lifted earned 7.7.
    **algorithm_kwargs
        Passed to the SB3 algorithm, overriding the tuned defaults
        (``learning_rate``, ``gamma``, ``policy_kwargs``...), and
        ``learning_rate_schedule``: ``"constant"`` or ``"linear"`` (from ``learning_rate``
        down to 0 at the end of ``total_timesteps``; SB3's ``LinearSchedule``).  Without ``gamma`` the
        discount is the scenario's (:attr:`ScenarioAssumptions.discount
        <journeygym.envs.parameters.ScenarioAssumptions>` of the env it trains on),
        for the algorithm and the reward normalization alike.
    """

    #: The Stable-Baselines3 class's name (``stable_baselines3.<name>``, see :meth:`algorithm`).
    algorithm_name: ClassVar[str]
    default_name: ClassVar[str]
    default_n_envs: ClassVar[int]
    defaults: ClassVar[dict[str, Any]]
    default_price_step: ClassVar[float]
    default_rate_signal: ClassVar[str]
    #: Bootstrap the truncated seasons' rewards in one batch (:class:`~journeygym.agents.sb3_wrappers.TimeoutBootstrap`;
    #: on-policy algorithms: an off-policy replay buffer reads the truncation flags itself).
    batched_bootstrap: ClassVar[bool] = False

    @classmethod
    def algorithm(cls) -> type[BaseAlgorithm]:
        """The Stable-Baselines3 algorithm class (imported on first use)."""
        import stable_baselines3

        algorithm: type[BaseAlgorithm] = getattr(stable_baselines3, cls.algorithm_name)
        return algorithm

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
        email_price: float = 0.0,
        contact_target: float | str | None = None,
        price_step: float | None = None,
        calibration: str | None = "match",
        calibration_customers: int = 1024,
        rate_signal: str | None = None,
        training_budget: str = "lifted",
        learning_curve: CurveSettings | Mapping[str, Any] | None = CurveSettings(),
        **algorithm_kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        self.device = check_device(device, owner)
        self.learning_curve = CurveSettings.of(learning_curve, owner)
        self.email_price = check_email_price(email_price, owner)
        self.contact_target = check_contact_target(contact_target, owner)
        step = self.default_price_step if price_step is None else price_step
        self.price_step = check_email_price(step, owner, "price_step")
        self.calibration = check_calibration(calibration, owner)
        customers = calibration_customers
        if isinstance(customers, bool) or not isinstance(customers, int) or customers < 1:
            raise ValueError(
                f"{owner}: calibration_customers received {calibration_customers!r}, expected an integer >= 1."
            )
        self.calibration_customers = calibration_customers
        signal = self.default_rate_signal if rate_signal is None else rate_signal
        self.rate_signal = check_choice(signal, RATE_SIGNALS, "rate_signal", owner)
        self.training_budget = check_choice(training_budget, TRAINING_BUDGETS, "training_budget", owner)
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
        self.verbose = verbose
        self.algorithm_kwargs = dict(algorithm_kwargs)
        check_choice(
            self.algorithm_kwargs.get("learning_rate_schedule", "constant"), LEARNING_RATE_SCHEDULES,
            "learning_rate_schedule", owner,
        )
        self.model: BaseAlgorithm | None = None
        self.vec_normalize: VecNormalize | None = None
        self._belief_model: ParameterDraws | None = None
        self._tracker: BeliefTracker | None = None
        #: The price after training (None without a price) and the calibration's offset on the
        #: e-mail preference (in the units of the network's logits or Q-values).
        self.final_email_price: float | None = None
        self.preference_offset = 0.0
        #: What the dual ascent and the calibration did (None without a target).
        self.price_record: dict[str, Any] | None = None
        self._wrapper: EmailPriceWrapper | None = None
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        #: The learning curve of the last ``fit`` (None without one, or when the env is not a JourneyVecEnv).
        self.learning_curve_: LearningCurve | None = None

    @property
    def priced(self) -> bool:
        """The agent trains with a shadow price per e-mail (fixed or tuned)."""
        return self.email_price > 0.0 or self.contact_target is not None

    # ----------------------------------------------------------------- hyperparameters
    def _resolved_kwargs(self, horizon: int, discount: float | None = None) -> dict[str, Any]:
        """The algorithm's keyword arguments: tuned defaults, the scenario's (horizon, discount), the user's."""
        # Average the logged episode returns over one population of customers.
        common = {"stats_window_size": max(100, self.n_envs)}
        scenario = {**self._horizon_defaults(horizon), **({} if discount is None else {"gamma": discount})}
        return {**common, **self.defaults, **scenario, **self.algorithm_kwargs}

    def _horizon_defaults(self, horizon: int) -> dict[str, Any]:
        return {}

    def algorithm_class(self) -> type[BaseAlgorithm]:
        """The class this agent trains and loads with (:meth:`algorithm`, unless a setting swaps it)."""
        return self.algorithm()

    def policy_class(self) -> Any:
        """The SB3 policy the algorithm builds: its ``"MlpPolicy"``, unless a setting swaps it."""
        return "MlpPolicy"

    @staticmethod
    def _algorithm_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
        """The SB3 algorithm's keyword arguments: ``learning_rate_schedule`` turned into SB3's schedule."""
        kwargs = dict(kwargs)
        if kwargs.pop("learning_rate_schedule", "constant") == "linear":
            from stable_baselines3.common.utils import LinearSchedule

            kwargs["learning_rate"] = LinearSchedule(float(kwargs["learning_rate"]), 0.0, 1.0)
        return kwargs

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
            "device": self.device,
            "learning_curve": None if self.learning_curve is None else self.learning_curve.to_dict(),
            **self.defaults,
            **self.algorithm_kwargs,
        }
        if self.priced:
            params.update(email_price=self.email_price, contact_target=self.contact_target)
            if self.contact_target is not None:
                params.update(
                    price_step=self.price_step, rate_signal=self.rate_signal, training_budget=self.training_budget,
                    calibration=self.calibration, calibration_customers=self.calibration_customers,
                )
        if self.model is not None:
            params["gamma"] = float(self.model.gamma)
        return params

    # ----------------------------------------------------------------- training
    def _wrap(self, venv: VecEnv, gamma: float) -> VecEnv:
        from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

        from journeygym.agents.sb3_wrappers import BeliefObservation, EmailPriceWrapper, ExpectedRewardWrapper

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
        if self.priced:
            # Above VecMonitor: the logged returns stay unpriced, comparable across prices.
            venv = self._wrapper = EmailPriceWrapper(venv, find_population_env(venv), self.email_price)
        if self.normalize_reward:
            venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=gamma)
            self.vec_normalize = venv
        if self.batched_bootstrap:
            from journeygym.agents.sb3_wrappers import TimeoutBootstrap

            venv = TimeoutBootstrap(venv, gamma)
        return venv

    def fit(self, env_factory: EnvFactory, total_timesteps: int, seed: int, callback: Any = None) -> SB3Agent:
        """Train from scratch for ``total_timesteps`` customer-weeks.

        Parameters
        ----------
        env_factory
            ``env_factory(n_envs)`` -> a ``JourneyVecEnv`` (see :mod:`journeygym.agents.protocol`).
        total_timesteps
            Training budget in customer-weeks.
        seed
            Seeds the env, torch and numpy.
        callback
            Further Stable-Baselines3 callbacks (one or a list), run after the agent's own; one that
            returns False from ``on_step`` ends training early (e.g. on a wall-clock budget).
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
        target = self._target(population)
        if target is not None and self.training_budget == "lifted":
            lift_budget(population)
        venv.seed(seed)
        self._wrapper, self._last = None, None
        self.final_email_price, self.preference_offset, self.price_record = None, 0.0, None
        env = self._wrap(venv, float(kwargs["gamma"]))
        self.model = self.algorithm_class()(
            self.policy_class(), env, seed=seed, device=self.device, verbose=self.verbose, **self._algorithm_arguments(kwargs)
        )
        if self.batched_bootstrap:
            env.policy = self.model.policy
        if self.tensorboard_log is not None:
            from stable_baselines3.common.logger import configure

            Path(self.tensorboard_log).mkdir(parents=True, exist_ok=True)
            formats = ["csv", "tensorboard"] + (["stdout"] if self.verbose else [])
            self.model.set_logger(configure(self.tensorboard_log, formats))
        else:  # SB3's own default logger would leave an empty SB3-<date> folder in the temp directory per fit
            from stable_baselines3.common.logger import Logger, make_output_format

            self.model.set_logger(Logger(None, [make_output_format("stdout", "")] if self.verbose else []))
        callbacks = []
        if target is not None:
            from journeygym.agents.sb3_wrappers import DualAscentCallback

            subscribed = population.observation_names.index("subscribed")
            dual = DualAscentCallback(
                self._wrapper, target, self.price_step, self._network_preferences, subscribed,
                signal=self.rate_signal, **self._dual_schedule(horizon, kwargs),
            )
            callbacks.append(dual)
        curve = self._curve_callback(env_factory, total_timesteps) if population is not None else None
        if curve is not None:
            callbacks.append(curve)
        if callback is not None:
            callbacks.extend(callback if isinstance(callback, list) else [callback])
        self.model.learn(total_timesteps=total_timesteps, progress_bar=False, callback=callbacks or None)
        env.close()
        if self._wrapper is not None:
            self.final_email_price = float(self._wrapper.email_price)
        if target is not None:
            self.price_record = {"target": target.rate, "per_subscribed": target.per_subscribed}
            self.price_record["history"] = dual.history
            if self.calibration is not None:
                result = self._calibrate(env_factory, target, seed)
                self.preference_offset = result.offset
                self.price_record.update(
                    preference_offset=result.offset, calibrated_rate=result.rate,
                    uncalibrated_rate=result.uncalibrated_rate, calibration_rollouts=result.evaluations,
                )
        return self

    def _curve_callback(self, env_factory: EnvFactory, total_timesteps: int) -> Any:
        """The learning-curve callback, on a validation env of its own (None without a curve)."""
        self.learning_curve_ = None
        if self.learning_curve is None:
            return None
        from journeygym.agents.sb3_wrappers import LearningCurveCallback

        env = find_population_env(env_factory(self.learning_curve.customers))
        self.learning_curve_ = LearningCurve.start(env, self.learning_curve)
        return LearningCurveCallback(env, self.checkpoint_policy(), self.learning_curve_, total_timesteps)

    def checkpoint_policy(self) -> CheckpointPolicy:
        """The greedy policy of the network as it is now (during training too), with a belief filter of its own.

        Without the calibration offset; acting with it touches neither the agent's filter nor any random stream.
        """
        if self.model is None:
            raise RuntimeError(f"{self.name}: the agent is not trained; call fit(...) or load(path) first.")
        belief = None
        if self.belief_features:
            belief = (self._belief_model.mean, self._belief_model.assumptions)
        return CheckpointPolicy(self.name, self._network_preferences, belief)

    def _target(self, population: Any) -> ContactTarget | None:
        if self.contact_target is None:
            return None
        if population is None:
            raise ValueError(
                f"{self.name}: contact_target needs a JourneyVecEnv to train on (its contact rules and requests)."
            )
        return resolve_contact_target(self.contact_target, population.assumptions, self.name)

    def _dual_schedule(self, horizon: int, kwargs: dict[str, Any]) -> dict[str, int]:
        """When the price is updated: PPO after each rollout (the default); see :class:`DQNAgent`."""
        return {}

    def _calibrate(self, env_factory: EnvFactory, target: ContactTarget, seed: int) -> Calibration:
        """Shift the e-mail preference so that the greedy request rate on the training env meets the target."""
        env = find_population_env(env_factory(self.calibration_customers))
        tracker = None
        if self.belief_features:
            tracker = BeliefTracker(self._belief_model.mean, self._belief_model.assumptions)

        def preferences_of(observations: np.ndarray) -> np.ndarray:
            return self._network_preferences(with_belief(observations, tracker))

        def request_rate(offset: float) -> tuple[float, np.ndarray]:
            return validation_request_rate(env, preferences_of, offset, target, seed + 10_007, episodes=4)

        result = calibrate_offset(request_rate, target.rate, self.calibration)
        env.close()
        return result

    # ----------------------------------------------------------------- acting
    def act(self, observations: np.ndarray) -> np.ndarray:
        """Greedy actions (the most preferred, after the calibration offset) for a batch of observations."""
        return greedy_actions(self._preferences(observations), self.preference_offset)

    def priority(self, observations: np.ndarray) -> np.ndarray:
        """``(n,)`` preference for e-mailing each customer: best e-mail arm minus no action (see subclasses).

        Positive exactly when :meth:`act` requests an e-mail.  Called after :meth:`act` on the same
        week's observations it reuses that week's features (the belief filter advances once a week).
        """
        return email_preference(self._preferences(observations)) + self.preference_offset

    def evaluation_record(self) -> dict[str, Any]:
        """``{"email_price": the price after training}`` (None when the agent trains without a price).

        The calibration's offset is not a price: it is kept in :attr:`price_record` and ``agent.json``.
        """
        return {"email_price": self.final_email_price if self.priced else None}

    def _preferences(self, observations: np.ndarray) -> np.ndarray:
        """``(n, A)`` network preferences of this week's observations (cached for the same observations)."""
        if self.model is None:
            raise RuntimeError(f"{self.name}: the agent is not trained; call fit(...) or load(path) first.")
        observations = check_observations(observations)
        last = self._last
        if last is not None and last[0].shape == observations.shape and np.array_equal(last[0], observations):
            return last[1]
        preferences = self._network_preferences(with_belief(observations, self._tracker))
        self._last = (observations.copy(), preferences)
        return preferences

    def _network_preferences(self, features: np.ndarray) -> np.ndarray:
        """``(n, A)`` action preferences of the network for feature rows (greedy action = argmax)."""
        import torch

        policy = self.model.policy
        with torch.no_grad():
            tensor = policy.obs_to_tensor(np.asarray(features, dtype=np.float32))[0]
            return self._preference_tensor(policy, tensor).cpu().numpy().astype(np.float64)

    def _preference_tensor(self, policy: Any, tensor: Any) -> Any:
        raise NotImplementedError

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the agent to the directory ``path`` (created if needed); see :mod:`journeygym.agents.sb3_persistence`."""
        save_agent(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SB3Agent:
        """Read an agent written by :meth:`save` (the reward statistics stay in ``vecnormalize.pkl``)."""
        return load_agent(cls, path)

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
    horizon; four minibatches per rollout.  ``n_envs = 512`` because the
    advantage of an e-mail is small next to the noise of a customer's season:
    with 128-256 customers per update some seeds settled on e-mailing almost no
    one, with 512 none did in the tuning sweep (then with ten epochs).  The
    entropy bonus is 0 (0.01 made runs less stable, not more).  See
    :class:`SB3Agent` for the reward and observation wrappers.

    Tuned for return per wall-second (``benchmarks/tune_agents.py --grid small``):
    one epoch per rollout, the learning rate 5e-3 falling linearly to 0.  In 18
    wall-seconds per seed (seeds 0-2, 2 shared cores; fixed validation customers
    on which never earns 5.000 a customer and the oracle 5.608) the earlier ten
    epochs at 3e-4 ran 30,087 env-steps/s and reached 5.012 [4.988, 5.044], one
    seed e-mailing no one; these ran 131,699 (178,235 per CPU-second) and reached
    5.152 [5.022, 5.218]; a constant 3e-3 sent one seed to e-mailing almost everyone.

    Under a contact target the price moves by ``price_step = 0.02`` dollars per
    unit of rate gap after each rollout (about 19 updates in 500k steps): in the
    tuning runs under an enforced 10% or 20% budget, steps of 0.05 and 0.1
    overshot -- the greedy policy stopped asking for any e-mail and the
    calibrated policy earned less.  The calibration then meets the rate.
    """

    algorithm_name = "PPO"
    default_name = "ppo"
    batched_bootstrap = True
    default_n_envs = 512
    default_price_step = 0.02
    default_rate_signal = "greedy"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 5e-3,
        "learning_rate_schedule": "linear",
        "n_epochs": 1,
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

    def _preference_tensor(self, policy: Any, tensor: Any) -> Any:
        """The action logits (their differences are the log-odds of the greedy choice)."""
        return policy.get_distribution(tensor).distribution.logits


class DQNAgent(SB3Agent):
    """Deep Q-learning with defaults for the customer-journey env.

    Collects ``n_envs`` customer-weeks per env step into a replay buffer and
    makes ``gradient_steps`` updates every ``train_freq`` env steps; exploration
    decays linearly over ``exploration_fraction`` of training.  Tuned less than
    PPO: treat it as a second learner to check PPO's result, not as a tuned
    benchmark.

    Tuned for return per wall-second (``benchmarks/tune_agents.py --grid small``):
    one gradient step every four env steps from a buffer of 100,000.  In 18
    wall-seconds per seed (as for :class:`PPOAgent`) the earlier four steps every
    env step from 500,000 ran 8,083 env-steps/s and reached 4.795 [4.525, 5.066];
    these ran 44,785 and reached 5.323 [5.166, 5.423].  Per env-step they learn
    less: the same wall time is about five times the env-steps.

    DQN depends on its training seed more than PPO: at 1,000,000 env-steps, two
    of five seeds end near or below ``never`` on the validation customers, in
    each of the twelve settings searched around these defaults (``--grid
    dqn-seeds``; the tables are in ``docs/agent_tuning.md``), with double
    Q-learning (``double_q=True``, :class:`~journeygym.agents.dqn_variants.DoubleDQN`)
    and with other exploration schedules.  The dueling network (``dueling=True``,
    :class:`~journeygym.agents.dqn_variants.DuelingDQNPolicy`) put all five seeds
    above ``never`` on the validation customers, but at the quick preset's budget
    two of five seeds still ended at ``never``'s return; both are options, off by default.

    Under a contact target the price moves by ``price_step = 0.1`` after every
    season of env steps once learning has started (about 44 updates in 150k
    steps with the default ``n_envs``), and the replay buffer is re-priced.
    """

    algorithm_name = "DQN"
    default_name = "dqn"
    default_n_envs = 64
    default_price_step = 0.1
    default_rate_signal = "greedy"
    defaults: ClassVar[dict[str, Any]] = {
        "learning_rate": 1e-4,
        "learning_rate_schedule": "constant",
        "buffer_size": 100_000,
        "learning_starts": 20_000,
        "batch_size": 256,
        "train_freq": 4,
        "gradient_steps": 1,
        "target_update_interval": 2_000,
        "exploration_fraction": 0.3,
        "exploration_initial_eps": 1.0,
        "exploration_final_eps": 0.02,
        "policy_kwargs": {"net_arch": [64, 64]},
        "double_q": False,
        "dueling": False,
    }

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        for option in ("double_q", "dueling"):
            value = self.algorithm_kwargs.get(option, False)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{type(self).__name__}: {option} received {value!r}, expected True or False.")

    def algorithm_class(self) -> type[BaseAlgorithm]:
        """:class:`~journeygym.agents.dqn_variants.DoubleDQN` with ``double_q=True``, else SB3's DQN."""
        if {**self.defaults, **self.algorithm_kwargs}["double_q"]:
            from journeygym.agents.dqn_variants import DoubleDQN

            return DoubleDQN
        return self.algorithm()

    def policy_class(self) -> Any:
        """:class:`~journeygym.agents.dqn_variants.DuelingDQNPolicy` with ``dueling=True``, else ``"MlpPolicy"``."""
        if {**self.defaults, **self.algorithm_kwargs}["dueling"]:
            from journeygym.agents.dqn_variants import DuelingDQNPolicy

            return DuelingDQNPolicy
        return "MlpPolicy"

    @staticmethod
    def _algorithm_arguments(kwargs: dict[str, Any]) -> dict[str, Any]:
        """SB3's arguments: ``double_q`` and ``dueling`` chose the classes and are not among them."""
        return SB3Agent._algorithm_arguments({k: v for k, v in kwargs.items() if k not in ("double_q", "dueling")})

    def minimum_timesteps(self, horizon: int) -> int:
        """Enough steps to pass ``learning_starts`` and make one gradient update."""
        starts = int(self._resolved_kwargs(horizon).get("learning_starts", 0))
        return max(self.n_envs * horizon, starts + self.n_envs)

    def _preference_tensor(self, policy: Any, tensor: Any) -> Any:
        """The Q-values (in the units of the normalized reward)."""
        return policy.q_net(tensor)

    def _dual_schedule(self, horizon: int, kwargs: dict[str, Any]) -> dict[str, int]:
        """After every season of env steps (``horizon`` steps of ``n_envs`` customers), once learning has started.

        The replay buffer's rewards are re-priced whenever the price moves, so old transitions
        carry the current price.
        """
        return {"interval": horizon, "start": int(kwargs.get("learning_starts", 0))}
