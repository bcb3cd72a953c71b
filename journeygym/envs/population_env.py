"""``CustomerPopulationVectorEnv``: N customers as arrays, stepped by the one kernel."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from journeygym.envs.contact_rules import ContactRules, EnforcedActions, check_priorities
from journeygym.envs.kernel import (
    PopulationState,
    StepOutcome,
    draw_reset_noise,
    draw_step_noise,
    initial_population,
    step_population,
)
from journeygym.envs.observation import ObservationBuffer
from journeygym.envs.parameters import DynamicsParameters, ParameterDraws, ScenarioAssumptions
from journeygym.envs.simulation import (
    ArtifactSource,
    NamedActionsAndObservations,
    ParameterSelector,
    validate_actions,
    validate_reset_options,
)

RESET_OPTIONS: tuple[str, ...] = ("params", "reset_mask")
_INFO_KEYS: tuple[str, ...] = (
    "hidden_state",
    "purchase_prob",
    "visit_prob",
    "purchased",
    "visited",
    "spend",
    "delivered",
    "unsubscribed",
)
_CONTACT_INFO_KEYS: tuple[str, ...] = ("requested", "capped", "thinned")


class CustomerPopulationVectorEnv(NamedActionsAndObservations, VectorEnv):
    """N customers of :class:`~journeygym.envs.journey_env.CustomerJourneyEnv` stepped together.

    Every customer follows exactly the single env's dynamics; the kernel runs
    on arrays of N customers at once.  One parameter draw is shared by the
    whole population during an episode; with ``params="sample"`` a new draw is
    taken whenever all customers start afresh (at ``reset`` and when the whole
    population autoresets).

    ## Spaces

    ``single_action_space`` is ``Discrete(A)``, ``action_space`` is
    ``MultiDiscrete([A] * N)``; ``single_observation_space`` is the single
    env's Box and ``observation_space`` its batch of shape ``(N, D)``.

    ## Autoreset

    Gymnasium 1.x autoreset, ``next-step`` by default: the step after a
    customer's last week resets that customer (its action is ignored, its
    reward is 0).  ``autoreset_mode="SameStep"`` resets in the same step and
    reports the last observation in ``info["final_obs"]``, as
    Stable-Baselines3 expects.

    ## Arguments

    | Argument      | Default     | Meaning |
    |---------------|-------------|---------|
    | num_envs      | 1           | number of customers N |
    | params        | "mean"      | "mean", "sample" or a draw index |
    | artifact      | None        | artifact path or ``ParameterDraws``; None = the shipped default |
    | scenario      | None        | ``ScenarioAssumptions`` or a dict of overrides |
    | horizon       | None        | weeks per episode |
    | autoreset_mode| "NextStep"  | "NextStep" or "SameStep" |
    | copy          | True        | return a copy of the observation buffer (False reuses it) |

    ``reset(options=...)`` accepts ``params`` (draw for this episode) and
    ``reset_mask`` (bool array: reset only those customers; they keep the
    current draw).

    ## Info

    A dict of arrays of length N (with the ``_key`` masks of Gymnasium's
    vector convention): ``hidden_state``, ``draw``, and after a step
    ``purchase_prob``, ``visit_prob``, ``purchased``, ``visited``, ``spend``,
    ``delivered``, ``unsubscribed``; with contact rules also ``requested``
    (an e-mail was asked for a subscribed customer), ``capped`` (blocked by the
    frequency cap) and ``thinned`` (dropped by the budget).

    ## Contact rules

    A scenario with ``contact_budget`` (or ``contact_budget_per_1000``) and
    ``cap_emails``/``cap_weeks`` is enforced in every step by
    :class:`~journeygym.envs.contact_rules.ContactRules`: capped customers are
    never e-mailed, and when more e-mails are requested than the week's budget
    the highest priorities are kept.  Priorities for the next step are given
    with :meth:`prioritize`; without them the requests are thinned at random
    (the same uniforms for every policy: common random numbers).
    :attr:`last_budget` holds the last step's budget in e-mails (-1 without one).
    With a cap the observation gains the column ``weeks_until_email_allowed``.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        params: str | int = "mean",
        artifact: ArtifactSource = None,
        scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
        horizon: int | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        copy: bool = True,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs: received {num_envs!r}, expected an integer >= 1 (the number of customers).")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise ValueError(
                f"autoreset_mode: received {autoreset_mode!r}, expected 'NextStep' or 'SameStep'."
            ) from None
        if mode == AutoresetMode.DISABLED:
            raise ValueError("autoreset_mode: 'Disabled' is not supported; use 'NextStep' or 'SameStep'.")
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.num_envs = int(num_envs)
        self.copy = copy
        self._selector = ParameterSelector(artifact, params, scenario, horizon)
        self.assumptions: ScenarioAssumptions = self._selector.assumptions
        self.n_actions = len(self._selector.action_names)
        self.single_action_space = spaces.Discrete(self.n_actions)
        self.contact_rules = ContactRules(self.assumptions, self._selector.actions)
        self._observations = ObservationBuffer(
            self.num_envs,
            self._selector.draws.mean.population,
            self._selector.action_names,
            self.assumptions.horizon,
            self.assumptions.fatigue_stocks,
            self.contact_rules,
        )
        self._priorities: np.ndarray | None = None
        self.last_budget = -1
        self.single_observation_space = self._observations.space
        self._all = np.ones(self.num_envs, dtype=bool)
        self._all.setflags(write=False)
        self._state: PopulationState | None = None
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    # The batched spaces hold per-customer bounds (about 250 bytes per customer for the observation
    # Box): built on first use, since stepping never needs them.
    @cached_property
    def action_space(self) -> spaces.MultiDiscrete:  # type: ignore[override]
        """``MultiDiscrete([A] * N)``."""
        return batch_space(self.single_action_space, self.num_envs)

    @cached_property
    def observation_space(self) -> spaces.Box:  # type: ignore[override]
        """The single env's Box batched to shape ``(N, D)``."""
        return batch_space(self.single_observation_space, self.num_envs)

    @property
    def parameter_draws(self) -> ParameterDraws:
        """Every posterior draw the env can use, and their mean (the artifact it was built from)."""
        return self._selector.draws

    @property
    def draw_index(self) -> int:
        """Index of the posterior draw in use (-1 for the mean)."""
        return self._selector.draw_index

    @property
    def parameters(self) -> DynamicsParameters:
        """The parameter set (posterior draw or mean) of the current episode."""
        return self._selector.parameters

    @property
    def state(self) -> PopulationState:
        """The customers' full state (hidden state included).

        Each :meth:`step` updates its arrays in place: copy what you keep across steps
        (the info dict's ``hidden_state`` is already a copy).
        """
        if self._state is None:
            raise RuntimeError("CustomerPopulationVectorEnv: call reset() before reading the state.")
        return self._state

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset all customers (or those in ``options["reset_mask"]``)."""
        super().reset(seed=seed)
        chosen = validate_reset_options(options, RESET_OPTIONS)
        mask = chosen.get("reset_mask")
        if mask is None or self._state is None:
            self._new_population(chosen.get("params"))
        else:
            rows = np.flatnonzero(self._check_mask(mask))
            self._replace_customers(rows)
        return self._observation(), self._info(None)

    def _check_mask(self, mask: Any) -> np.ndarray:
        mask = np.asarray(mask)
        if mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
            raise ValueError(
                f"reset options: reset_mask received dtype {mask.dtype} and shape {mask.shape}, "
                f"expected a bool array of shape ({self.num_envs},)."
            )
        return mask

    def _new_population(self, params: Any) -> None:
        self._selector.choose(params, self.np_random)
        self._state = initial_population(self._selector.tables, draw_reset_noise(self.np_random, self.num_envs))
        self._observations.write_static(self._state)
        self._needs_reset[:] = False

    def _replace_customers(self, rows: np.ndarray) -> None:
        if rows.size == 0:
            return
        if rows.size == self.num_envs:
            self._new_population(None)
            return
        fresh = initial_population(self._selector.tables, draw_reset_noise(self.np_random, rows.size))
        self._state.assign(rows, fresh)
        self._observations.write_static(fresh, rows)
        self._needs_reset[rows] = False

    def prioritize(self, priorities: Any, source: str = "priorities") -> None:
        """Priorities of the customers' e-mail requests in the next step (larger = kept first under the budget).

        ``priorities`` is ``(N,)`` finite numbers, or None for random thinning; it applies to the
        next :meth:`step` only.  Raises :class:`~journeygym.envs.contact_rules.PriorityError` for a
        wrong shape or a non-finite value; ``source`` names the priorities in its message.
        """
        self._priorities = None if priorities is None else check_priorities(priorities, self.num_envs, source)

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Play one week for every customer (after the scenario's contact rules)."""
        state = self._state
        if state is None:
            raise RuntimeError("CustomerPopulationVectorEnv: call reset() before step().")
        actions = validate_actions(actions, self.n_actions, self.num_envs)
        priorities, self._priorities = self._priorities, None
        restarting = np.flatnonzero(self._needs_reset)
        if restarting.size == self.num_envs:
            self._new_population(None)
            zeros = np.zeros(self.num_envs, dtype=bool)
            return self._observation(), np.zeros(self.num_envs), zeros, zeros.copy(), self._info(None)

        noise = draw_step_noise(self.np_random, self.num_envs)
        enforced: EnforcedActions | None = None
        if self.contact_rules.active:
            uniforms = self.np_random.random(self.num_envs) if self.contact_rules.has_budget else None
            reachable = state.subscribed
            if restarting.size:
                # A restarting customer's action is ignored: it neither uses nor counts toward the budget.
                reachable = reachable.copy()
                reachable[restarting] = False
            enforced = self.contact_rules.enforce(actions, reachable, state.recent_emails, priorities, uniforms)
            actions = enforced.actions
            self.last_budget = enforced.budget
        outcome = step_population(state, actions, self._selector.tables, noise)
        reward = outcome.reward
        truncated = state.week >= self._selector.tables.horizon
        terminated = np.zeros(self.num_envs, dtype=bool)
        if restarting.size:
            self._replace_customers(restarting)
            reward[restarting] = 0.0
            truncated[restarting] = False
        info = self._info(outcome)
        if enforced is not None:
            for key in _CONTACT_INFO_KEYS:
                info[key] = getattr(enforced, key)
                info[f"_{key}"] = self._all
        if self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP:
            observation = self._same_step_autoreset(truncated, info)
        else:
            self._needs_reset = truncated.copy()
            observation = self._observation()
        return observation, reward, terminated, truncated, info

    def _same_step_autoreset(self, done: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        if not done.any():
            return self._observation()
        info["final_obs"] = self._observation_buffer().copy()
        info["_final_obs"] = done.copy()
        self._replace_customers(np.flatnonzero(done))
        return self._observation()

    def _observation_buffer(self) -> np.ndarray:
        return self._observations.write_dynamic(self._state)

    def _observation(self) -> np.ndarray:
        buffer = self._observation_buffer()
        return buffer.copy() if self.copy else buffer

    def _info(self, outcome: StepOutcome | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "hidden_state": self._state.hidden_state.copy(),
            "_hidden_state": self._all,
            "draw": np.full(self.num_envs, self._selector.draw_index),
            "_draw": self._all,
        }
        if outcome is not None:
            for key in _INFO_KEYS[1:]:
                info[key] = getattr(outcome, key)
                info[f"_{key}"] = self._all
        return info

