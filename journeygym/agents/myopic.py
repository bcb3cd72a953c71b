"""A myopic full-information policy: the best action for *this* week's reward, knowing the hidden state.

It is the oracle of :mod:`journeygym.baselines.oracle` with a one-week horizon,
re-solved every week: it sees z, the parameters and the covariates like the
oracle, but ignores every consequence beyond the current week (fatigue,
unsubscribes, engagement that lasts).  Comparing it with the oracle measures
how much of the value of full information is long-term (DESIGN 2.5: without
fatigue and fatigue-driven unsubscribes, the myopic policy is close to optimal).
Like the oracle it is a reference, not a deployable policy.
"""

from __future__ import annotations

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.baselines.oracle import solve_oracle
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

__all__ = ["MyopicOraclePolicy"]


class MyopicOraclePolicy(Policy):
    """Maximizes the expected reward of the current week given the true hidden state."""

    name = "myopic_oracle"
    uses_hidden_state = True

    def __init__(self) -> None:
        self._actions: np.ndarray | None = None
        self._solved_for: tuple[object, ...] | None = None

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The policy needs the hidden state; use :meth:`act_on_state`."""
        raise TypeError("MyopicOraclePolicy acts on the simulator state (act_on_state), not on observations.")

    def act_on_state(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> np.ndarray:
        """This week's best action for every subscribed customer."""
        # The one-week problem does not depend on the week: solve once per population.
        key = (id(parameters), assumptions, state.n_customers)
        if self._actions is None or self._solved_for != key or not state.week.any():
            one_week = assumptions.replace(horizon=1)
            self._actions = solve_oracle(parameters, one_week, state.segment, state.purchase_covariate_logit).actions[0]
            self._solved_for = key
        chosen = self._actions[np.arange(state.n_customers), state.hidden_state, state.fatigue]
        return np.where(state.subscribed, chosen, 0).astype(np.int64)
