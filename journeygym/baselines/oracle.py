"""The full-information oracle: exact backward induction per customer (DESIGN 2.9).

With the hidden state z, the parameters and the customer's covariates known,
each customer's problem is a finite MDP over (week t, state z, fatigue f,
subscribed s).  It is solved exactly, vectorized over customers, for the
undiscounted return that reports use, so its value bounds every policy that
sees less.  The scenario's ``discount`` is deliberately not applied: it only
shapes what agents train for (see :class:`~journeygym.envs.parameters.ScenarioAssumptions`),
and an oracle of the discounted return would no longer bound the reported one.

The solution is computed per history segment (customers of a segment share
the e-mail effects, so the transition matrices are shared and the expectation
over the next state is one batched matrix product per action and fatigue).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from journeygym.baselines.base import Policy
from journeygym.envs.covariates import HISTORY_SEGMENTS
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import ResponseTables, compile_response


@dataclass(frozen=True, eq=False)
class OracleSolution:
    """Optimal values and actions of N customers.

    Attributes
    ----------
    state_values
        ``(N, K)`` optimal expected return from week 0 given the week-0 hidden
        state (fatigue 0, subscribed).
    actions
        ``(H, N, K, F+1)`` optimal action of a subscribed customer at week t in
        state z with fatigue f (unsubscribed customers cannot be e-mailed).
    """

    state_values: np.ndarray
    actions: np.ndarray

    def expected_values(self, initial_belief: np.ndarray) -> np.ndarray:
        """Expected optimal return per customer given its ``(N, K)`` week-0 state distribution."""
        return np.sum(self.state_values * initial_belief, axis=1)



def solve_oracle(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    segment: np.ndarray,
    purchase_covariate_logit: np.ndarray,
    *,
    fixed_action: int | None = None,
) -> OracleSolution:
    """Backward induction for every customer.

    Parameters
    ----------
    parameters, assumptions
        The dynamics and the scenario.
    segment, purchase_covariate_logit
        ``(N,)`` history segment and covariate purchase logit of each customer
        (as in :class:`~journeygym.envs.kernel.PopulationState`).
    fixed_action
        Evaluate the policy that always takes this action instead of optimizing
        (exact policy evaluation, used to check the simulator).
    """
    segment = np.asarray(segment)
    n_customers = segment.size
    n_states = parameters.n_states
    horizon, max_fatigue = assumptions.horizon, assumptions.max_fatigue
    response = compile_response(parameters, assumptions)
    state_values = np.zeros((n_customers, n_states))
    actions = np.zeros((horizon, n_customers, n_states, max_fatigue + 1), dtype=np.int8)
    # The batched products are of 5 x 5 matrices: BLAS threads only add overhead
    # (measured: 6 s single-threaded against 34 s with threads on 2 busy cores).
    with threadpool_limits(limits=1, user_api="blas"):
        for g in range(len(HISTORY_SEGMENTS)):
            members = np.flatnonzero(segment == g)
            if members.size:
                values, group_actions = _solve_segment(
                    response, horizon, g, np.asarray(purchase_covariate_logit)[members], fixed_action
                )
                state_values[members] = values
                actions[:, members] = group_actions
    return OracleSolution(state_values=state_values, actions=actions)


def _solve_segment(
    response: ResponseTables,
    horizon: int,
    g: int,
    covariate_logit: np.ndarray,
    fixed_action: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    transitions = response.transition[g]  # (A, F+1, K, K)
    n_actions, n_fatigue, n_states = transitions.shape[0], transitions.shape[1], transitions.shape[-1]
    n = covariate_logit.size
    # Expected reward of landing in z' after action a at fatigue f, before the cost: (A, F+1, n, K).
    purchase_probability = expit(response.purchase_logit[g][:, :, None, :] + covariate_logit[None, None, :, None])
    reward = response.expected_reward(purchase_probability, g, 0)
    cost = response.action_cost
    next_fatigue = response.next_fatigue  # (A, F+1)

    value_subscribed = np.zeros((n_fatigue, n, n_states))  # V_{t+1}(z', f', s=1), indexed [f', n, z']
    value_unsubscribed = np.zeros((n_fatigue, n, n_states))
    group_actions = np.zeros((horizon, n, n_states, n_fatigue), dtype=np.int8)
    candidate_actions = list(range(n_actions)) if fixed_action is None else [fixed_action]
    # q[f, n, z] = sum_z' P_a,f(z'|z) (reward(z') + continuation(z')) - cost, as a batched matmul.
    transposed = np.swapaxes(transitions, -1, -2)
    for t in range(horizon - 1, -1, -1):
        # Unsubscribed: no e-mail arrives, so only "no action" dynamics apply.
        # "No action" does not depend on fatigue: one (K, K) matrix serves every fatigue level.
        new_unsubscribed = np.matmul(reward[0] + value_unsubscribed[next_fatigue[0]], transposed[0, 0])
        q = np.empty((len(candidate_actions), n_fatigue, n, n_states))
        for i, a in enumerate(candidate_actions):
            landing = value_subscribed[next_fatigue[a]]
            leave = response.unsubscribe[a][:, None, None]  # (F+1, 1, 1); zero for no action
            if np.any(leave):
                landing = (1.0 - leave) * landing + leave * value_unsubscribed[next_fatigue[a]]
            np.matmul(reward[a] + landing, transposed[a], out=q[i])
            q[i] -= cost[a]
        best = q.argmax(axis=0)
        value_subscribed = np.take_along_axis(q, best[None], axis=0)[0]
        value_unsubscribed = new_unsubscribed
        group_actions[t] = np.transpose(np.asarray(candidate_actions, dtype=np.int8)[best], (1, 2, 0))
    return value_subscribed[0], group_actions


class OraclePolicy(Policy):
    """Acts optimally on the true hidden state (an upper bound, not a deployable policy).

    On the first week of an episode it solves :func:`solve_oracle` for the
    population it is handed, then looks its actions up each week.
    """

    name = "oracle"
    uses_hidden_state = True

    def __init__(self) -> None:
        self._solution: OracleSolution | None = None
        self._solved_for: tuple[Any, ...] | None = None

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The oracle needs the hidden state; use :meth:`act_on_state`."""
        raise TypeError(f"{type(self).__name__} acts on the simulator state (act_on_state), not on observations.")

    def decision_problem(self, assumptions: ScenarioAssumptions) -> ScenarioAssumptions:
        """The decision problem solved: the whole scenario (a subclass may shorten the horizon)."""
        return assumptions

    def act_on_state(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> np.ndarray:
        """Optimal actions for every customer this week."""
        problem = self.decision_problem(assumptions)
        key = (id(parameters), assumptions, state.n_customers)
        if self._solution is None or self._solved_for != key or not state.week.any():
            self._solution = solve_oracle(parameters, problem, state.segment, state.purchase_covariate_logit)
            self._solved_for = key
        week = np.minimum(state.week, problem.horizon - 1)
        chosen = self._solution.actions[week, np.arange(state.n_customers), state.hidden_state, state.fatigue]
        return np.where(state.subscribed, chosen, 0).astype(np.int64)
