"""Exact expected outcomes of an open-loop e-mail schedule (no Monte Carlo).

For a schedule fixed in advance (an action per week and customer), a
customer's fatigue while subscribed is a deterministic function of the
schedule, so the only uncertainty is the hidden state and the subscription.
Their joint distribution is propagated week by week with the response model's
tables (:mod:`journeygym.envs.response`), giving the expected visits,
purchases, revenue, reward and contacts of every week exactly.  Used by the
calibration's plausibility checks (a single e-mail's carryover, e-mailing
everyone weekly) and by tests that hold the simulator against these
expectations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions
from journeygym.envs.response import compile_response

__all__ = ["ScheduleOutcome", "expected_schedule_outcome"]


@dataclass(frozen=True)
class ScheduleOutcome:
    """Expected outcomes per week and customer, each ``(W, N)``."""

    visits: np.ndarray
    purchases: np.ndarray
    revenue: np.ndarray
    reward: np.ndarray
    contacts: np.ndarray
    subscribed: np.ndarray


def expected_schedule_outcome(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    customers: PopulationState,
    schedule: np.ndarray,
    initial_belief: np.ndarray | None = None,
) -> ScheduleOutcome:
    """Expected outcomes of an open-loop schedule for customers at week 0.

    Parameters
    ----------
    parameters, assumptions
        The dynamics and the scenario.
    customers
        The customers' covariates and segments (for example from
        :func:`~journeygym.envs.kernel.initial_population`); their fatigue is
        taken as the scenario's starting level and every customer as subscribed, as at week 0.
    schedule
        ``(W,)`` action per week for every customer, or ``(W, N)`` per customer.
        ``W`` may exceed the scenario's horizon (the carryover counts a year).
    initial_belief
        ``(N, K)`` distribution of the week-0 hidden state; default: the model's
        distribution given each customer's recency.

    Returns
    -------
    ScheduleOutcome
        Expected visits, purchases, revenue (spend), reward (margin x spend
        minus the cost of delivered e-mails), contacts (delivered e-mails) and
        the probability of being subscribed after each week.
    """
    response = compile_response(parameters, assumptions)
    n = customers.n_customers
    segment = customers.segment
    plan = np.asarray(schedule, dtype=np.int64)
    plan = np.broadcast_to(plan[:, None], (plan.shape[0], n)) if plan.ndim == 1 else plan
    if plan.ndim != 2 or plan.shape[1] != n:
        raise ValueError(f"schedule: received shape {np.shape(schedule)}, expected (W,) or (W, {n}).")
    if plan.size and (plan.min() < 0 or plan.max() >= parameters.n_actions):
        raise ValueError(f"schedule: actions must lie in [0, {parameters.n_actions - 1}].")
    subscribed = (
        np.asarray(parameters.initial_state_by_recency)[customers.start] if initial_belief is None else np.array(initial_belief, dtype=np.float64)
    )
    unsubscribed = np.zeros_like(subscribed)
    fatigue = np.full(n, assumptions.initial_fatigue_level, dtype=np.int64)
    # Without an e-mail the week does not depend on fatigue; unsubscribed customers always live there.
    quiet_transition = response.transition[segment, 0, 0]
    quiet_visit = expit(response.visit_logit[segment, 0, 0] + customers.visit_covariate_logit[:, None])
    quiet_purchase = expit(response.purchase_logit[segment, 0, 0] + customers.purchase_covariate_logit[:, None])
    spend = response.mean_spend[segment]
    weeks = plan.shape[0]
    result = {name: np.zeros((weeks, n)) for name in ("visits", "purchases", "revenue", "reward", "contacts", "subscribed")}
    for week in range(weeks):
        action = plan[week]
        emailed = response.is_contact[action]
        transition = response.transition[segment, action, fatigue]  # action 0: the quiet week at any fatigue
        visit = expit(response.visit_logit[segment, action, fatigue] + customers.visit_covariate_logit[:, None])
        purchase = expit(response.purchase_logit[segment, action, fatigue] + customers.purchase_covariate_logit[:, None])
        next_subscribed = np.einsum("nk,nkj->nj", subscribed, transition)
        next_unsubscribed = np.einsum("nk,nkj->nj", unsubscribed, quiet_transition)
        purchases = np.sum(next_subscribed * purchase, axis=1) + np.sum(next_unsubscribed * quiet_purchase, axis=1)
        contacts = subscribed.sum(axis=1) * emailed
        result["visits"][week] = np.sum(next_subscribed * visit, axis=1) + np.sum(next_unsubscribed * quiet_visit, axis=1)
        result["purchases"][week] = purchases
        result["revenue"][week] = purchases * spend
        result["reward"][week] = response.margin * purchases * spend - contacts * response.action_cost[action]
        result["contacts"][week] = contacts
        leave = response.unsubscribe[action, fatigue][:, None]
        subscribed, unsubscribed = next_subscribed * (1.0 - leave), next_unsubscribed + next_subscribed * leave
        result["subscribed"][week] = subscribed.sum(axis=1)
        fatigue = response.next_fatigue[action, fatigue]
    return ScheduleOutcome(**result)
