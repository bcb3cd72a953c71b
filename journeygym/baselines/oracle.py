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

The same recursion can price every e-mail (``email_price``) and evaluate the
expected e-mails of the policy it computes; the budgeted oracle
(:mod:`journeygym.baselines.budgeted_oracle`) uses both to bound every policy
that keeps a weekly contact budget, and :class:`OraclePolicy` acts on it when
the scenario sets one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from journeygym.baselines.base import Policy
from journeygym.envs.covariates import HISTORY_SEGMENTS
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.fatigue import reachable_levels
from journeygym.envs.response import ResponseTables, compile_response


@dataclass(frozen=True, eq=False)
class OracleSolution:
    """Optimal values and actions of N customers.

    Attributes
    ----------
    state_values
        ``(N, K)`` optimal expected return from week 0 given the week-0 hidden
        state (at the scenario's starting fatigue, subscribed).  With an e-mail price ``lambda`` it is the
        priced return, ``return - lambda * e-mails``.
    actions
        ``(H, N, K, F+1)`` optimal action of a subscribed customer at week t in
        state z with fatigue f (unsubscribed customers cannot be e-mailed).
    expected_contacts
        ``(N, K)`` expected number of e-mails the policy delivers over the
        horizon from week 0 given the week-0 hidden state, or None when not
        asked for.
    advantages
        ``(H, N, K, F+1)`` float32 ``Q(best e-mail) - Q(no action)`` of a
        subscribed customer (at the price), or None when not asked for.
    email_price
        The price ``lambda`` added to the cost of every e-mail.
    never_values
        ``(N, K)`` expected return from week 0 without any e-mail (the value of
        an unsubscribed customer), or None when not asked for.
    """

    state_values: np.ndarray
    actions: np.ndarray
    expected_contacts: np.ndarray | None = None
    advantages: np.ndarray | None = None
    email_price: float = 0.0
    never_values: np.ndarray | None = None

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
    email_price: float = 0.0,
    contacts: bool = False,
    advantages: bool = False,
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
    email_price
        ``lambda >= 0`` added to the cost of every e-mail (the Lagrangian
        relaxation of a contact budget, :mod:`journeygym.baselines.budgeted_oracle`);
        0 solves the problem as stated.
    contacts
        Also evaluate the expected number of e-mails the policy delivers
        (:attr:`OracleSolution.expected_contacts`): a policy-evaluation
        recursion run alongside the value recursion; the expected return
        without e-mails (:attr:`OracleSolution.never_values`) comes with them.
    advantages
        Also keep ``Q(best e-mail) - Q(no action)`` of every week, state and
        fatigue (:attr:`OracleSolution.advantages`, ``4 H N K (F+1)`` bytes).
    """
    if not (np.isfinite(email_price) and email_price >= 0.0):
        raise ValueError(f"email_price: received {email_price!r}, expected a finite number >= 0 (a price per e-mail).")
    if advantages and fixed_action is not None:
        raise ValueError(
            f"advantages: received advantages=True with fixed_action={fixed_action!r}; the advantages compare "
            "actions, so ask for them only when the actions are optimized."
        )
    segment = np.asarray(segment)
    n_customers = segment.size
    n_states = parameters.n_states
    horizon, max_fatigue = assumptions.horizon, assumptions.max_fatigue
    response = compile_response(parameters, assumptions)
    start = assumptions.initial_fatigue_level
    state_values = np.zeros((n_customers, n_states))
    actions = np.zeros((horizon, n_customers, n_states, max_fatigue + 1), dtype=np.int8)
    expected_contacts = np.zeros((n_customers, n_states)) if contacts else None
    never_values = np.zeros((n_customers, n_states)) if contacts else None
    gaps = np.zeros((horizon, n_customers, n_states, max_fatigue + 1), dtype=np.float32) if advantages else None
    # The batched products are of 5 x 5 matrices: BLAS threads only add overhead
    # (measured: 6 s single-threaded against 34 s with threads on 2 busy cores).
    with threadpool_limits(limits=1, user_api="blas"):
        for g in range(len(HISTORY_SEGMENTS)):
            members = np.flatnonzero(segment == g)
            if members.size:
                result = _solve_segment(
                    response, horizon, g, np.asarray(purchase_covariate_logit)[members], fixed_action,
                    float(email_price), contacts, advantages, start,
                )
                state_values[members] = result.values
                actions[:, members] = result.actions
                if expected_contacts is not None:
                    expected_contacts[members] = result.contacts
                    never_values[members] = result.never
                if gaps is not None:
                    gaps[:, members] = result.advantages
    return OracleSolution(
        state_values=state_values,
        actions=actions,
        expected_contacts=expected_contacts,
        advantages=gaps,
        email_price=float(email_price),
        never_values=never_values,
    )


class _SegmentSolution(NamedTuple):
    values: np.ndarray
    actions: np.ndarray
    contacts: np.ndarray | None
    advantages: np.ndarray | None
    never: np.ndarray


def _solve_segment(
    response: ResponseTables,
    horizon: int,
    g: int,
    covariate_logit: np.ndarray,
    fixed_action: int | None,
    email_price: float,
    want_contacts: bool,
    want_advantages: bool,
    start: int,
) -> _SegmentSolution:
    transitions = response.transition[g]  # (A, F+1, K, K)
    n_actions, n_fatigue, n_states = transitions.shape[0], transitions.shape[1], transitions.shape[-1]
    n = covariate_logit.size
    # Expected reward of landing in z' after action a at fatigue f, before the cost: (A, F+1, n, K).
    purchase_probability = expit(response.purchase_logit[g][:, :, None, :] + covariate_logit[None, None, :, None])
    reward = response.expected_reward(purchase_probability, g, 0)
    cost = response.action_cost
    next_fatigue = response.next_fatigue  # (A, F+1)

    value_subscribed = np.zeros((n_fatigue, n, n_states))  # V_{t+1}(z', f', s=1), indexed [f', n, z']
    # Unsubscribed customers receive no e-mail, so their value does not depend on fatigue: V_{t+1}(z', s=0).
    value_unsubscribed = np.zeros((n, n_states))
    # Expected e-mails from t+1 on while subscribed; unsubscribed customers get none.
    contacts_subscribed = np.zeros((n_fatigue, n, n_states)) if want_contacts else None
    group_actions = np.zeros((horizon, n, n_states, n_fatigue), dtype=np.int8)
    group_advantages = np.zeros((horizon, n, n_states, n_fatigue), dtype=np.float32) if want_advantages else None
    candidate_actions = list(range(n_actions)) if fixed_action is None else [fixed_action]
    # q[f, n, z] = sum_z' P_a,f(z'|z) (reward(z') + continuation(z')) - cost, as a batched matmul.
    transposed = np.swapaxes(transitions, -1, -2)
    leaves = [response.unsubscribe[a][:, None, None] for a in range(n_actions)]  # (F+1, 1, 1); zero for no action
    unsubscribes = [bool(np.any(leave)) for leave in leaves]
    # Only the fatigue levels some history reaches by week t are solved at week t (about 70% of the grid).
    reachable = reachable_levels(next_fatigue, start, horizon)
    for t in range(horizon - 1, -1, -1):
        rows = reachable[t]
        # Unsubscribed: no e-mail arrives, so only "no action" dynamics apply, the same at every fatigue.
        new_unsubscribed = np.matmul(reward[0, 0] + value_unsubscribed, transposed[0, 0])
        # A running maximum over the actions, the first best kept on ties as argmax does
        # (argmax and take_along_axis over a leading axis of 3 were most of the time).
        best_value = best_action = best_contacts = no_action = best_email = None
        for a in candidate_actions:
            after = next_fatigue[a][rows]
            landing = value_subscribed[after]
            leave = leaves[a][rows]
            if unsubscribes[a]:
                landing = (1.0 - leave) * landing + leave * value_unsubscribed
            q = np.matmul(reward[a][rows] + landing, transposed[a][rows])
            q -= cost[a]
            if a != 0 and email_price:
                q -= email_price
            contact_q = None
            if want_contacts:
                # A delivered e-mail counts even when it unsubscribes the customer.
                staying = contacts_subscribed[after]
                if unsubscribes[a]:
                    staying = (1.0 - leave) * staying
                contact_q = np.matmul(staying, transposed[a][rows])
                if a != 0:
                    contact_q += 1.0
            if want_advantages:
                if a == 0:
                    no_action = q
                else:
                    best_email = q.copy() if best_email is None else np.maximum(best_email, q, out=best_email)
            if best_value is None:
                best_value = q.copy() if want_advantages else q
                best_action = np.full(q.shape, a, dtype=np.int8)
                best_contacts = contact_q
            else:
                better = q > best_value
                np.copyto(best_action, np.int8(a), where=better)
                np.maximum(best_value, q, out=best_value)
                if contact_q is not None:
                    np.copyto(best_contacts, contact_q, where=better)
        if group_advantages is not None:
            best_email -= no_action
            group_advantages[t][:, :, rows] = np.transpose(best_email, (1, 2, 0))
        value_subscribed = np.zeros((n_fatigue, n, n_states))
        value_subscribed[rows] = best_value
        value_unsubscribed = new_unsubscribed
        if best_contacts is not None:
            contacts_subscribed = np.zeros((n_fatigue, n, n_states))
            contacts_subscribed[rows] = best_contacts
        group_actions[t][:, :, rows] = np.transpose(best_action, (1, 2, 0))
    return _SegmentSolution(
        values=value_subscribed[start],
        actions=group_actions,
        contacts=None if contacts_subscribed is None else contacts_subscribed[start],
        advantages=group_advantages,
        never=value_unsubscribed,
    )


class OraclePolicy(Policy):
    """Acts optimally on the true hidden state (an upper bound, not a deployable policy).

    On the first week of an episode it solves :func:`solve_oracle` for the
    population it is handed, then looks its actions up each week.

    Under a weekly contact budget it is the **budgeted oracle**: on the first
    week it minimizes the Lagrangian dual of the budget over a price per e-mail
    (:func:`~journeygym.baselines.budgeted_oracle.solve_budgeted_oracle`).  The
    dual's minimum ``D(lambda*)`` is an upper bound on the mean return of every
    budget-feasible policy on these customers (weak duality), recorded as
    ``value_bound``.  The policy that acts is a budget-feasible heuristic: it
    asks for the e-mails of the ``lambda*``-priced optimal policy, and its
    priority (:meth:`priority_on_state`) is that policy's
    ``Q(best e-mail) - Q(no action)`` at ``lambda*``, so the environment keeps
    the largest gains the week's budget allows.  Its realized value is below
    the bound.  Without a budget the actions are the unpriced optimum's.  A
    frequency cap is not modelled (the environment blocks the capped
    requests); the bound ignores it, which keeps it valid.

    Parameters
    ----------
    email_price
        None (default): the price is ``lambda*`` under a budget and 0 without.
        A number ``lambda >= 0``: act on the optimal policy with every e-mail's
        cost raised by ``lambda`` (a point of the oracle's value-against-volume
        curve); under a budget the recorded bound is then ``D(lambda)``, valid
        for any ``lambda`` but not the tightest.
    """

    name = "oracle"
    uses_hidden_state = True
    #: Whether the solution bounds the scenario's return, so that it is recorded (a shortened
    #: decision problem, as the myopic oracle's, bounds nothing and is never priced).
    records_bound = True

    def __init__(self, email_price: float | None = None) -> None:
        if email_price is not None and not (
            isinstance(email_price, (int, float, np.integer, np.floating))
            and not isinstance(email_price, bool)
            and np.isfinite(email_price)
            and email_price >= 0
        ):
            raise ValueError(f"OraclePolicy: received email_price={email_price!r}, expected None or a finite number >= 0.")
        self.email_price = None if email_price is None else float(email_price)
        self._solution: OracleSolution | None = None
        self._solved_for: tuple[Any, ...] | None = None
        self._population: str | None = None
        self._record: dict[str, Any] = {}

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The oracle needs the hidden state; use :meth:`act_on_state`."""
        raise TypeError(f"{type(self).__name__} acts on the simulator state (act_on_state), not on observations.")

    def decision_problem(self, assumptions: ScenarioAssumptions) -> ScenarioAssumptions:
        """The decision problem solved: the whole scenario (a subclass may shorten the horizon)."""
        return assumptions

    def act_on_state(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> np.ndarray:
        """Optimal actions for every customer this week (priced at ``lambda*`` under a budget)."""
        solution, week = self._lookup(state, parameters, assumptions)
        chosen = solution.actions[week, np.arange(state.n_customers), state.hidden_state, state.fatigue]
        return np.where(state.subscribed, chosen, 0).astype(np.int64)

    def priority_on_state(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> np.ndarray | None:
        """``Q(best e-mail) - Q(no action)`` this week at the policy's price (finite; larger = kept first)."""
        solution, week = self._lookup(state, parameters, assumptions)
        if solution.advantages is None:
            return None
        gains = solution.advantages[week, np.arange(state.n_customers), state.hidden_state, state.fatigue]
        return gains.astype(np.float64)

    def evaluation_record(self) -> dict[str, Any]:
        """``value_bound`` and ``email_price`` of the episode solved last (empty before any).

        Under a budget: the budgeted oracle's bound ``D(lambda*)`` and ``lambda*``.
        Without: the exact mean optimal return of the episode's customers given
        their week-0 hidden states, and no price.
        """
        return dict(self._record)

    def get_params(self) -> dict[str, Any]:
        """The fixed price per e-mail, when one is set."""
        return {} if self.email_price is None else {"email_price": self.email_price}

    def _lookup(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> tuple[OracleSolution, np.ndarray]:
        """The solution for this population (solved at its first week) and the week to read it at."""
        problem = self.decision_problem(assumptions)
        key = (id(parameters), assumptions, state.n_customers)
        population = _fingerprint(state) if not state.week.any() else None
        if self._solution is None or self._solved_for != key or (population is not None and population != self._population):
            self._solve(state, parameters, assumptions, problem, starting=population is not None)
            self._solved_for = key
            self._population = population
        return self._solution, np.minimum(state.week, problem.horizon - 1)

    def _solve(
        self,
        state: PopulationState,
        parameters: DynamicsParameters,
        assumptions: ScenarioAssumptions,
        problem: ScenarioAssumptions,
        *,
        starting: bool,
    ) -> None:
        from journeygym.baselines.budgeted_oracle import dual_value, solve_budgeted_oracle, weekly_contact_share

        customers = (parameters, problem, state.segment, state.purchase_covariate_logit)
        initial_state = state.hidden_state.copy()
        budgeted = assumptions.has_budget
        priced = budgeted and self.records_bound and self.email_price is None
        if priced:
            result = solve_budgeted_oracle(*customers, initial_state, advantages=True)
            self._solution = result.solution
            record = {"value_bound": result.value_bound, "email_price": result.email_price}
        else:
            price = self.email_price or 0.0
            self._solution = solve_oracle(*customers, email_price=price, advantages=budgeted)
            if budgeted:
                allowance = weekly_contact_share(assumptions) * problem.horizon
                record = {"value_bound": dual_value(self._solution, initial_state, allowance), "email_price": price}
            elif self.email_price:
                record = {"value_bound": None, "email_price": price}  # a priced policy bounds nothing unbudgeted
            else:
                record = {"value_bound": dual_value(self._solution, initial_state, 0.0), "email_price": None}
        # The record holds for the customers as they start (week 0), whose hidden state is z_i0.
        self._record = record if starting and self.records_bound else {}


def _fingerprint(state: PopulationState) -> str:
    """A digest of what the solution depends on per customer: segment, covariate logit, week-0 hidden state."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (state.segment, state.purchase_covariate_logit, state.hidden_state):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
