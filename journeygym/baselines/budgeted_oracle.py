"""The budgeted oracle: an upper bound on every policy that keeps a weekly contact budget (docs/architecture.md, "Contact rules").

A weekly budget of ``b`` e-mails per subscribed customer (``contact_budget``;
``contact_budget_per_1000 / 1000`` per customer) allows at most ``b N`` e-mails
a week, since at most N customers are subscribed, so at most ``b H`` e-mails
per customer over the horizon on average.  Pricing every e-mail at
``lambda >= 0`` relaxes that constraint (a Lagrangian relaxation): each
customer's priced problem is solved exactly by :func:`~journeygym.baselines.oracle.solve_oracle`
with ``email_price=lambda``, and by weak duality

    ``D(lambda) = mean_i V_i^lambda(z_i0) + lambda b H``

bounds the mean return of **every** budget-feasible policy on these customers,
for every ``lambda``: such a policy's return is its priced return (at most
``V^lambda`` per customer, the best any policy can do, however much it sees)
plus ``lambda`` times its e-mails (at most ``b H`` per customer).  The bound is
an exact expectation given each customer's true week-0 hidden state ``z_i0``
and covariates, which the oracle knows.

``D`` is convex and piecewise linear in ``lambda`` with subgradient
``b H - C(lambda)`` (``C``: mean expected e-mails of the priced optimal
policy, from the DP's policy evaluation), so :func:`solve_budgeted_oracle`
minimizes it by a safeguarded secant search on the subgradient inside a
bracket, certified by the tangent lines: the true minimum lies within
:attr:`BudgetedOracle.gap` below the bound returned.  When the unpriced optimum
already keeps the budget (``C(0) <= b H``) the budget does not bind: the price
is 0 and the bound is the unconstrained oracle's exact value.

Relaxations that keep the bound valid (and make it looser than the best
budget-feasible policy's value): the weekly budgets are relaxed to one budget
over the horizon (``floor(b * subscribed)`` a week is at most ``b N``), and a
frequency cap (``cap_emails``/``cap_weeks``) is not modelled at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeygym.baselines.oracle import OracleSolution, solve_oracle
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

__all__ = ["BudgetedOracle", "dual_value", "solve_budgeted_oracle", "weekly_contact_share"]

#: Bound on the solves of one search; reached only on degenerate problems (the best point found is returned).
MAX_SOLVES = 30


def weekly_contact_share(assumptions: ScenarioAssumptions) -> float | None:
    """E-mails allowed per customer and week by the scenario's budget (``b``), or None without a budget.

    ``contact_budget`` is a share of the subscribed customers, who are at most
    all N customers; ``contact_budget_per_1000`` counts per 1,000 customers.
    """
    if assumptions.contact_budget is not None:
        return float(assumptions.contact_budget)
    if assumptions.contact_budget_per_1000 is not None:
        return float(assumptions.contact_budget_per_1000) / 1000.0
    return None


@dataclass(frozen=True, eq=False)
class BudgetedOracle:
    """The budgeted oracle's bound and the priced solution it was reached at.

    Attributes
    ----------
    email_price
        ``lambda*``, the price per e-mail minimizing the dual (0 when the budget does not bind).
    value_bound
        ``D(lambda*)``: upper bound on the mean return per customer of every budget-feasible policy.
    expected_contacts
        ``C(lambda*)``: mean expected e-mails per customer over the horizon of the priced optimal policy.
    allowance
        ``b H``: e-mails per customer over the horizon that the budget allows at most.
    unconstrained_value, unconstrained_contacts
        Mean exact value and mean expected e-mails of the unpriced oracle (no budget).
    gap
        ``D(lambda*)`` minus a lower bound on ``min D`` (0 when the budget does not bind or a kink was hit).
    solves
        Number of dynamic programs solved.
    solution
        The :class:`~journeygym.baselines.oracle.OracleSolution` at ``lambda*`` (with expected contacts).
    """

    email_price: float
    value_bound: float
    expected_contacts: float
    allowance: float
    unconstrained_value: float
    unconstrained_contacts: float
    gap: float
    solves: int
    solution: OracleSolution

    @property
    def binding(self) -> bool:
        """The budget binds: the unpriced oracle would send more e-mails than it allows."""
        return self.email_price > 0.0


def dual_value(solution: OracleSolution, initial_state: np.ndarray, allowance: float) -> float:
    """``D(lambda) = mean_i V_i^lambda(z_i0) + lambda * allowance`` of a solution priced at ``lambda``."""
    rows = np.arange(initial_state.size)
    return float(solution.state_values[rows, initial_state].mean() + solution.email_price * allowance)


@dataclass(frozen=True)
class _Point:
    """The dual at one price: its value, its slope ``b H - C`` and the solution."""

    price: float
    value: float
    slope: float
    contacts: float
    solution: OracleSolution


def solve_budgeted_oracle(
    parameters: DynamicsParameters,
    assumptions: ScenarioAssumptions,
    segment: np.ndarray,
    purchase_covariate_logit: np.ndarray,
    initial_state: np.ndarray,
    *,
    weekly_share: float | None = None,
    tolerance: float = 1e-3,
    advantages: bool = False,
) -> BudgetedOracle:
    """Minimize the Lagrangian dual of the contact budget over the price per e-mail.

    Parameters
    ----------
    parameters, assumptions
        The dynamics and the scenario (its budget gives ``b`` unless ``weekly_share`` is passed).
    segment, purchase_covariate_logit
        ``(N,)`` history segment and covariate purchase logit of each customer.
    initial_state
        ``(N,)`` each customer's true hidden state at week 0.
    weekly_share
        ``b``, e-mails allowed per customer and week; default from ``assumptions``
        (:func:`weekly_contact_share`).
    tolerance
        Stop once the bound is within ``tolerance * max(1, |bound|)`` of the dual's minimum.
    advantages
        Keep the advantages of the solution at ``lambda*`` (for priorities under the budget).

    Returns
    -------
    BudgetedOracle
        ``lambda*``, ``D(lambda*)``, ``C(lambda*)`` and the unconstrained values.

    Raises
    ------
    ValueError
        Without a budget (in the scenario or ``weekly_share``), or for a malformed ``initial_state``.
    """
    share = weekly_contact_share(assumptions) if weekly_share is None else float(weekly_share)
    if share is None or not (np.isfinite(share) and share >= 0.0):
        raise ValueError(
            f"weekly_share: received {share!r} (scenario contact_budget={assumptions.contact_budget!r}, "
            f"contact_budget_per_1000={assumptions.contact_budget_per_1000!r}); expected a budget: set one in "
            "the scenario or pass weekly_share >= 0 (e-mails per customer and week)."
        )
    initial_state = np.asarray(initial_state)
    n = np.asarray(segment).size
    if initial_state.shape != (n,) or initial_state.dtype.kind not in "iu" or (
        n and (initial_state.min() < 0 or initial_state.max() >= parameters.n_states)
    ):
        raise ValueError(
            f"initial_state: received dtype {initial_state.dtype} and shape {initial_state.shape}, expected ({n},) "
            f"integer hidden states in [0, {parameters.n_states - 1}] (the customers' state at week 0)."
        )
    allowance = share * assumptions.horizon
    rows = np.arange(n)
    solves = 0

    def evaluate(price: float) -> _Point:
        nonlocal solves
        solves += 1
        solution = solve_oracle(
            parameters, assumptions, segment, purchase_covariate_logit,
            email_price=price, contacts=True, advantages=advantages,
        )
        contacts = float(solution.expected_contacts[rows, initial_state].mean())
        return _Point(price, dual_value(solution, initial_state, allowance), allowance - contacts, contacts, solution)

    free = evaluate(0.0)
    unconstrained_value = free.value
    if free.slope >= 0.0:
        return _result(free, free, 0.0, solves, allowance)
    lower, upper = free, None
    # A first guess from a concave value-against-volume curve V(c) with V'(C(0)) = 0:
    # its slope at the allowance is 2 g (1 - bH / C(0)), g the mean gain per e-mail.
    never = float(free.solution.never_values[rows, initial_state].mean())
    gain_per_email = max((unconstrained_value - never) / free.contacts, 0.0)
    price = 2.0 * gain_per_email * (1.0 - allowance / free.contacts)
    if price <= 0.0:
        price = max(float(np.max(assumptions.action_costs)), 1e-3)
    best = free
    stale = 0
    while solves < MAX_SOLVES:
        point = evaluate(price)
        if point.value < best.value:
            best = point
        if point.slope == 0.0:
            return _result(point, free, 0.0, solves, allowance)
        if point.slope < 0.0:
            side = -1
            previous, lower = lower, point
        else:
            side = 1
            upper = point
        if upper is None:
            # Not bracketed yet: extrapolate log C linearly to the allowance (C is convex and decreasing,
            # so a straight line through two points falls short), at least 1.5x and at most 8x further.
            price = _extrapolated_price(previous, lower, allowance)
            continue
        gap = best.value - _tangent_minimum(lower, upper)
        if gap <= tolerance * max(1.0, abs(best.value)):
            return _result(best, free, max(gap, 0.0), solves, allowance)
        # Illinois-style safeguard: a side kept twice has its slope halved, so the bracket shrinks from both ends.
        stale = stale + side if stale * side > 0 else side
        low_slope, high_slope = lower.slope, upper.slope
        if stale <= -2:
            high_slope *= 0.5 ** (-stale - 1)
        elif stale >= 2:
            low_slope *= 0.5 ** (stale - 1)
        price = lower.price + (upper.price - lower.price) * (-low_slope) / (high_slope - low_slope)
        width = upper.price - lower.price
        price = min(max(price, lower.price + 1e-3 * width), upper.price - 1e-3 * width)
    gap = best.value - _tangent_minimum(lower, upper) if upper is not None else float("inf")
    return _result(best, free, max(gap, 0.0), solves, allowance)


def _extrapolated_price(previous: _Point, lower: _Point, allowance: float) -> float:
    """The next price while ``C > b H``: where ``log C``, extrapolated through two points, meets the allowance."""
    target = 4.0 * lower.price
    if allowance > 0.0 and 0.0 < lower.contacts < previous.contacts:
        decay = (np.log(previous.contacts) - np.log(lower.contacts)) / (lower.price - previous.price)
        target = lower.price + (np.log(lower.contacts) - np.log(allowance)) / decay
    return float(min(max(target, 1.5 * lower.price), 8.0 * lower.price))


def _tangent_minimum(lower: _Point, upper: _Point) -> float:
    """Minimum over prices of the larger of the tangents at ``lower`` (slope < 0) and ``upper`` (slope > 0)."""
    crossing = (upper.value - lower.value + lower.slope * lower.price - upper.slope * upper.price) / (
        lower.slope - upper.slope
    )
    return lower.value + lower.slope * (crossing - lower.price)


def _result(point: _Point, free: _Point, gap: float, solves: int, allowance: float) -> BudgetedOracle:
    return BudgetedOracle(
        email_price=point.price,
        value_bound=point.value,
        expected_contacts=point.contacts,
        allowance=allowance,
        unconstrained_value=free.value,
        unconstrained_contacts=free.contacts,
        gap=gap,
        solves=solves,
        solution=point.solution,
    )
