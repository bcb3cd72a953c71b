"""The Stable-Baselines3 classes of the learning agents: VecEnv wrappers, the dual-ascent and learning-curve callbacks.

They subclass Stable-Baselines3 (and so load torch); the models they use --
the belief filter (:mod:`journeygym.envs.belief`), the shadow price
(:mod:`journeygym.agents.lagrangian`) and the learning curves
(:mod:`journeygym.agents.learning_curves`) -- live in modules that do not, so
that building and checking an agent's settings stays light.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from journeygym.agents.features import find_journey_env, find_population_env, model_parameters_of
from journeygym.agents.lagrangian import RATE_SIGNALS, ContactTarget, Preferences, check_choice
from journeygym.agents.learning_curves import CurvePoint, LearningCurve, evaluate_checkpoint
from journeygym.baselines.base import Policy
from journeygym.envs.belief import BeliefTracker
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import mean_spend

__all__ = [
    "BeliefObservation", "DualAscentCallback", "EmailPriceWrapper", "ExpectedRewardWrapper", "LearningCurveCallback", "TimeoutBootstrap",
]


class BeliefObservation(VecEnvWrapper):
    """Append the :class:`~journeygym.envs.belief.BeliefTracker` belief over z (K columns) to every observation.

    Parameters
    ----------
    venv
        A ``JourneyVecEnv`` (possibly wrapped) -- or any VecEnv of raw journeygym
        observations when ``parameters`` and ``assumptions`` are given.
    parameters, assumptions
        The filter's model; default: the env's posterior mean and scenario.
    """

    def __init__(
        self,
        venv: VecEnv,
        parameters: DynamicsParameters | None = None,
        assumptions: ScenarioAssumptions | None = None,
    ) -> None:
        if parameters is None or assumptions is None:
            population = find_population_env(venv)
            if population is None:
                raise ValueError(
                    "BeliefObservation: the env is not a JourneyVecEnv, so its model is unknown; "
                    "pass parameters= and assumptions=, or set belief_features=False."
                )
            parameters = parameters or model_parameters_of(population)
            assumptions = assumptions or population.assumptions
        self.tracker = BeliefTracker(parameters, assumptions)
        base = venv.observation_space
        k = parameters.n_states
        space = spaces.Box(
            low=np.concatenate([base.low, np.zeros(k, dtype=np.float32)]),
            high=np.concatenate([base.high, np.ones(k, dtype=np.float32)]),
            dtype=np.float32,
        )
        super().__init__(venv, observation_space=space)

    def _augment(self, obs: np.ndarray, belief: np.ndarray) -> np.ndarray:
        return np.concatenate([obs, belief.astype(np.float32)], axis=-1)

    def reset(self) -> np.ndarray:
        """Reset the env and the filter."""
        obs = self.venv.reset()
        self.tracker.reset()
        return self._augment(obs, self.tracker.observe(obs))

    def step_wait(self) -> VecEnvStepReturn:
        """Step, filter, and append the belief (also to terminal observations)."""
        obs, rewards, dones, infos = self.venv.step_wait()
        done_rows = np.flatnonzero(dones)
        if done_rows.size == 0:
            return self._augment(obs, self.tracker.observe(obs)), rewards, dones, infos
        last = obs.copy()
        for row in done_rows:
            last[row] = infos[row]["terminal_observation"]
        final_belief = self.tracker.observe(last)
        for row in done_rows:
            infos[row]["terminal_observation"] = self._augment(last[row], final_belief[row])
        self.tracker.observe(obs[done_rows], rows=done_rows)
        return self._augment(obs, self.tracker.belief), rewards, dones, infos


class ExpectedRewardWrapper(VecEnvWrapper):
    """Train on ``margin * P(purchase | z') * E[spend | segment] - cost`` instead of the sampled reward.

    Needs a ``JourneyVecEnv`` underneath (it reads the step's purchase
    probabilities from ``last_info``).  Put a ``VecMonitor`` *below* it to log
    the sampled episode returns.
    """

    def __init__(self, venv: VecEnv) -> None:
        self.population = find_population_env(venv)
        journey = find_journey_env(venv)
        if self.population is None or journey is None:
            raise ValueError(
                "ExpectedRewardWrapper: the env is not a JourneyVecEnv (no purchase probabilities to take the "
                "expectation of); use training_reward='sampled' for other envs."
            )
        self._journey = journey
        self._segment: np.ndarray | None = None
        self._mean_spend: np.ndarray | None = None
        super().__init__(venv)

    def reset(self) -> np.ndarray:
        """Reset the wrapped env."""
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        # Read the segment and the draw now: a same-step reset replaces both.
        parameters = self.population.parameters
        self._segment = self.population.state.segment.copy()
        self._mean_spend = mean_spend(parameters)
        self.venv.step_async(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step and swap sampled spend for expected spend."""
        obs, rewards, dones, infos = self.venv.step_wait()
        info = self._journey.last_info
        margin = self.population.assumptions.margin
        expected = rewards - margin * info["spend"] + margin * info["purchase_prob"] * self._mean_spend[self._segment]
        return obs, expected.astype(np.float32), dones, infos


class TimeoutBootstrap(VecEnvWrapper):
    """Bootstrap the reward of customers whose season ends at the horizon, all in one forward pass.

    At a truncation (``infos[i]["TimeLimit.truncated"]``) Stable-Baselines3's on-policy
    rollout adds ``gamma * V(terminal observation)`` to the reward, one customer at a time:
    a population of 512 customers ending its season together costs 512 forward passes of
    the value network, about a fifth of a PPO run with one epoch.  This wrapper adds the
    same bootstrap for every such customer in one batch and clears the flag, so the
    rollout does not add it again.  Outermost (above ``VecNormalize``): the rollout would
    add it to the normalized reward, and so does this.

    Parameters
    ----------
    venv
        The wrapped training env.
    gamma
        The algorithm's discount.

    Notes
    -----
    :attr:`policy` must be set to the model's policy before the first step (the model is
    built on this env); until then nothing is bootstrapped here.
    """

    def __init__(self, venv: VecEnv, gamma: float) -> None:
        super().__init__(venv)
        self.gamma = float(gamma)
        self.policy: Any = None

    def reset(self) -> np.ndarray:
        """Reset the wrapped env."""
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        """Step, and add ``gamma * V(terminal observation)`` to the truncated customers' rewards."""
        obs, rewards, dones, infos = self.venv.step_wait()
        if self.policy is None:
            return obs, rewards, dones, infos
        rows = [
            int(i) for i in np.flatnonzero(dones)
            if infos[i].get("TimeLimit.truncated", False) and infos[i].get("terminal_observation") is not None
        ]
        if rows:
            import torch

            terminal = np.stack([infos[i]["terminal_observation"] for i in rows])
            with torch.no_grad():
                values = self.policy.predict_values(self.policy.obs_to_tensor(terminal)[0])
            rewards = rewards.copy()
            rewards[rows] += self.gamma * values.cpu().numpy().reshape(-1).astype(rewards.dtype)
            for i in rows:
                infos[i]["TimeLimit.truncated"] = False
        return obs, rewards, dones, infos


class EmailPriceWrapper(VecEnvWrapper):
    """Charge ``email_price`` per e-mail asked for (and not dropped by a budget) and count the requests.

    Parameters
    ----------
    venv
        A (wrapped) ``JourneyVecEnv``; the population env underneath reports the requests.
    population
        That population env (``info["requested"]`` with contact rules; otherwise an e-mail
        asked for a customer subscribed at the start of the week).
    email_price
        The starting price in dollars per e-mail; :attr:`email_price` may be changed between steps.

    Notes
    -----
    Place it above ``VecMonitor`` so that the logged episode returns stay the
    unpriced ones (comparable across prices), and below ``VecNormalize``.
    """

    def __init__(self, venv: VecEnv, population: Any, email_price: float) -> None:
        super().__init__(venv)
        self.population = population
        self.email_price = float(email_price)
        self.last_requested = np.zeros(self.num_envs, dtype=bool)
        self.last_charged = np.zeros(self.num_envs, dtype=bool)
        self._actions: np.ndarray | None = None
        self._subscribed: np.ndarray | None = None
        self.reset_counts()

    def reset_counts(self) -> None:
        """Start new sampled-request counts."""
        self.requested = 0
        self.subscribed = 0
        self.customers = 0

    def reset(self) -> np.ndarray:
        """Reset the wrapped env."""
        return self.venv.reset()

    def step_async(self, actions: np.ndarray) -> None:
        # Read subscriptions before the step: a same-step reset replaces finished customers.
        self._actions = np.asarray(actions).reshape(self.num_envs)
        self._subscribed = self.population.state.subscribed.copy()
        self.venv.step_async(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step and subtract the price of the requested e-mails."""
        obs, rewards, dones, infos = self.venv.step_wait()
        info = _population_info(self.venv)
        requested = info.get("requested")
        if requested is None:
            requested = self.population.actions.is_contact[self._actions] & self._subscribed
        self.last_requested = np.asarray(requested, dtype=bool)
        thinned = info.get("thinned")
        self.last_charged = self.last_requested if thinned is None else self.last_requested & ~thinned
        self.requested += int(np.count_nonzero(self.last_requested))
        self.subscribed += int(np.count_nonzero(self._subscribed))
        self.customers += self.num_envs
        if self.email_price:
            rewards = (rewards - self.email_price * self.last_charged).astype(np.float32)
        return obs, rewards, dones, infos


def _population_info(venv: VecEnv) -> dict[str, Any]:
    """The last step's info dict of the ``JourneyVecEnv`` under ``venv``."""
    journey = find_journey_env(venv)
    return {} if journey is None else journey.last_info


class DualAscentCallback(BaseCallback):
    """Tune the shadow price by dual ascent during training (PPO: per rollout; DQN: per season of steps).

    Parameters
    ----------
    wrapper
        The :class:`EmailPriceWrapper` of the training env (its price is updated in place).
    target
        The request rate to meet.
    step
        Dual step size: dollars per e-mail per unit of rate gap.
    preferences
        The greedy policy's preferences for a batch of training observations.
    subscribed_column
        Column of the observation that says a customer is subscribed.
    interval
        DQN only: environment steps between updates (one season of the training customers).
    start
        DQN only: no update before this many customer-weeks (``learning_starts``: random actions).
    """

    def __init__(
        self,
        wrapper: EmailPriceWrapper,
        target: ContactTarget,
        step: float,
        preferences: Preferences,
        subscribed_column: int,
        *,
        interval: int = 0,
        start: int = 0,
        signal: str = "sampled",
    ) -> None:
        super().__init__()
        self.wrapper = wrapper
        self.target = target
        self.step = float(step)
        self.preferences = preferences
        self.subscribed_column = subscribed_column
        self.interval = int(interval)
        self.start = int(start)
        self.signal = check_choice(signal, RATE_SIGNALS, "signal", "DualAscentCallback")
        self.history: list[dict[str, float]] = []
        self._observations: list[np.ndarray] = []
        self._flags: np.ndarray | None = None
        self._pending: tuple[int, float] | None = None
        self._calls = 0

    def _on_step(self) -> bool:
        if self.interval <= 0:
            return True
        # DQN: remember the observations acted on, and which transition requested an e-mail, so the
        # replay buffer's rewards can be re-priced when the price moves.
        buffer = self.model.replay_buffer
        if self._flags is None:
            self._flags = np.zeros(buffer.rewards.shape, dtype=np.float32)
        if self._pending is not None:
            # The transition stored after the last update was priced before it.
            row, change = self._pending
            buffer.rewards[row] -= change * self._flags[row]
            self._pending = None
        self._flags[buffer.pos] = self.wrapper.last_charged
        self._observations.append(np.array(self.model._last_obs, copy=True))
        self._calls += 1
        if self._calls % self.interval == 0:
            if self.num_timesteps > self.start:
                old = self.wrapper.email_price
                self._update(np.concatenate(self._observations))
                change = self.wrapper.email_price - old
                if change:
                    # This step's transition is stored after the callback, at the old price.
                    stored = buffer.buffer_size if buffer.full else buffer.pos
                    buffer.rewards[:stored] -= change * self._flags[:stored]
                    self._pending = (buffer.pos, change)
            else:
                self.wrapper.reset_counts()
            self._observations = []
        return True

    def _on_rollout_end(self) -> None:
        if self.interval > 0:
            return
        observations = self.model.rollout_buffer.observations
        self._update(observations.reshape(-1, observations.shape[-1]))

    def _update(self, observations: np.ndarray) -> None:
        subscribed = observations[:, self.subscribed_column] > 0.5
        greedy = np.empty(observations.shape[0], dtype=bool)
        for start in range(0, observations.shape[0], 8192):
            chunk = observations[start : start + 8192]
            greedy[start : start + 8192] = np.argmax(self.preferences(chunk), axis=1) != 0
        requested = int(np.count_nonzero(greedy & subscribed))
        greedy_rate = self.target.rate_of(requested, np.count_nonzero(subscribed), observations.shape[0])
        w = self.wrapper
        sampled = self.target.rate_of(w.requested, w.subscribed, w.customers)
        w.reset_counts()
        rate = sampled if self.signal == "sampled" else greedy_rate
        price = max(0.0, w.email_price + self.step * (rate - self.target.rate))
        w.email_price = price
        self.history.append(
            {"timesteps": float(self.num_timesteps), "email_price": price, "contact_rate": rate,
             "sampled_contact_rate": sampled, "greedy_contact_rate": greedy_rate}
        )
        self.logger.record("lagrangian/email_price", price)
        self.logger.record("lagrangian/contact_rate", rate)
        self.logger.record("lagrangian/sampled_contact_rate", sampled)
        self.logger.record("lagrangian/greedy_contact_rate", greedy_rate)
        self.logger.record("lagrangian/contact_target", self.target.rate)


class LearningCurveCallback(BaseCallback):
    """Evaluate the greedy policy at checkpoints of training and record its :class:`LearningCurve`.

    Checkpoints are taken at the start of a rollout (after the previous update; PPO: one
    season of the training customers, DQN: every ``train_freq`` steps) once the env-step
    count reaches the next due count, and once more at the end of training.  The
    evaluation runs on its own env and filter and draws no random number from the
    training streams.

    Parameters
    ----------
    env
        The validation ``CustomerPopulationVectorEnv`` (closed at the end of training).
    policy
        The network's greedy policy (:meth:`SB3Agent.checkpoint_policy
        <journeygym.agents.sb3_agents.SB3Agent.checkpoint_policy>`): it acts with the
        network as it is at each checkpoint.
    curve
        The curve the checkpoints are appended to (:meth:`LearningCurve.start
        <journeygym.agents.learning_curves.LearningCurve.start>`).
    total_timesteps
        The training budget the checkpoints are spread over (:meth:`CurveSettings.schedule
        <journeygym.agents.learning_curves.CurveSettings.schedule>`).
    """

    def __init__(self, env: Any, policy: Policy, curve: LearningCurve, total_timesteps: int) -> None:
        super().__init__()
        self.env = env
        self.policy = policy
        self.due = curve.settings.schedule(total_timesteps)
        self.curve = curve
        self._started = 0.0
        self._evaluating = 0.0
        self._next = 0

    def _on_training_start(self) -> None:
        self._started = time.perf_counter()
        self._evaluating = 0.0
        self._next = 0

    def trained_seconds(self) -> float:
        """Wall seconds since training started, the evaluations excluded."""
        return time.perf_counter() - self._started - self._evaluating

    def _on_rollout_start(self) -> None:
        if self._next < len(self.due) and self.num_timesteps >= self.due[self._next]:
            while self._next < len(self.due) and self.num_timesteps >= self.due[self._next]:
                self._next += 1
            self._checkpoint()

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        points = self.curve.points
        if not points or points[-1].timesteps < self.num_timesteps:
            self._checkpoint()
        self.env.close()

    def _checkpoint(self) -> None:
        started = time.perf_counter()
        trained = self.trained_seconds()
        value, contacts = evaluate_checkpoint(self.env, self.policy, self.curve.settings)
        self._evaluating += time.perf_counter() - started
        self.curve.points.append(CurvePoint(int(self.num_timesteps), trained, value, contacts))
        self.logger.record("eval/return_per_customer", value)
        self.logger.record("eval/contacts_per_customer_week", contacts)
