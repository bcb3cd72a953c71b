"""The oracle as a policy: it acts on the true hidden state with the oracle's solution (docs/architecture.md, "The oracle").

:class:`OraclePolicy` solves the full-information oracle
(:func:`~journeygym.baselines.oracle.solve_oracle`) for the customers it is
handed on their first week and looks its actions up every week after.  Under a
weekly contact budget it is the budgeted oracle
(:func:`~journeygym.baselines.budgeted_oracle.solve_budgeted_oracle`): it acts
on the optimal policy at the dual's price per e-mail and records the dual's
bound.  It imports both solvers; neither imports it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.baselines.budgeted_oracle import dual_value, solve_budgeted_oracle, weekly_contact_share
from journeygym.baselines.oracle import OracleSolution, solve_oracle
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

__all__ = ["OraclePolicy"]


class OraclePolicy(Policy):
    """Acts optimally on the true hidden state (an upper bound, not a deployable policy).

    On the first week of an episode it solves :func:`~journeygym.baselines.oracle.solve_oracle` for the
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
        chosen = solution.actions_at(week, np.arange(state.n_customers), state.hidden_state, state.fatigue)
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
