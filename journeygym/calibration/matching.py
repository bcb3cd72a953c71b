"""Matching simulator parameters to the trial, one posterior draw at a time (docs/calibration.md).

Each function solves monotone equations per posterior draw, for all draws at
once, by a vectorized root finder on the exact two-week experiment and the
exact carryover experiment (:mod:`journeygym.calibration.two_week`):

* :func:`match_level` -- the logit shift of a whole outcome level (purchase
  offset ``delta_0``, visit level) so that the simulated control rate equals
  a target rate;
* :func:`match_visit_response` -- the engagement tilt ``eta`` and the direct
  visit response ``alpha`` of one segment x arm so that a single e-mail's
  carryover ratio equals the assumed ``rho`` and the simulated two-week visit
  uplift equals the draw's;
* :func:`match_uplift` -- the direct purchase response ``beta`` given ``eta``,
  so that the simulated two-week conversion uplift equals the draw's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

from journeygym.calibration.two_week import (
    CarryoverExperiment,
    TwoWeekExperiment,
    over_states,
    shifted_control_probability,
    two_week_event_probability,
)
from journeygym.envs.response import tilted_transition

#: Bracket of every matched logit-scale quantity.  A target outside what the
#: bracket can reach is reported as clipped, never silently.
BRACKET: tuple[float, float] = (-8.0, 8.0)
#: Bracket of the direct purchase response beta.  ASSUMPTION: an e-mail lowers the purchase odds of its
#: week by at most a factor e (63%).  beta is matched last, to the conversion uplift left after the tilt
#: and the visit response; in a sparse segment the posterior draws a conversion uplift far below what the
#: visits imply, and without a floor beta went to -2 to -8 there (an e-mail that all but stops the week's
#: purchases), which made the year of e-mail of those draws implausibly flat.  Draws the floor binds on
#: are reported as clipped, and the trial replay checks their conversion rates.
PURCHASE_RESPONSE_BRACKET: tuple[float, float] = (-1.0, 8.0)
#: Bracket of the engagement tilt eta: no persistence (0) up to a tilt far beyond any carryover in the
#: advertising literature.
TILT_BRACKET: tuple[float, float] = (0.0, 8.0)
#: Absolute tolerance of the solved rates and uplifts.
TOLERANCE = 1e-9
#: Absolute tolerance of a solved carryover ratio (the validation asks for 2%).
RATIO_TOLERANCE = 1e-6
_MAX_ITERATIONS = 80
_NEWTON_ITERATIONS = 30


@dataclass(frozen=True)
class MatchResult:
    """Solved values per draw, and which draws hit the bracket's edge."""

    values: np.ndarray
    clipped: np.ndarray
    residual: np.ndarray


def _solve(
    function: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    bracket: tuple[float, float] = BRACKET,
    tolerance: float = TOLERANCE,
) -> MatchResult:
    """Solve ``function(x) = target`` element-wise for an increasing ``function``."""
    with threadpool_limits(limits=1, user_api="blas"):  # many tiny K x K products: threads only add overhead
        return _illinois(function, np.asarray(target, dtype=np.float64), bracket, tolerance)


def _illinois(
    function: Callable[[np.ndarray], np.ndarray], target: np.ndarray, bracket: tuple[float, float], tolerance: float
) -> MatchResult:
    """Vectorized regula falsi with the Illinois modification (superlinear, and never leaves the bracket)."""
    low = np.full(target.shape, bracket[0])
    high = np.full(target.shape, bracket[1])
    f_low = function(low) - target
    f_high = function(high) - target
    below_range = f_low > 0.0
    above_range = f_high < 0.0
    inside = ~(below_range | above_range)
    # Which end was replaced last: -1 low, +1 high (Illinois halves the other end's value on a repeat).
    last = np.zeros(target.shape, dtype=np.int8)
    x = 0.5 * (low + high)
    for _ in range(_MAX_ITERATIONS):
        gap = f_high - f_low
        secant = np.where(gap > 0.0, (low * f_high - high * f_low) / np.where(gap > 0.0, gap, 1.0), 0.5 * (low + high))
        x = np.clip(secant, low, high)
        f_x = function(x) - target
        done = (np.abs(f_x) <= tolerance) | ~inside
        if done.all():
            break
        replace_high = f_x > 0.0
        f_low = np.where(replace_high, np.where(last == 1, 0.5 * f_low, f_low), f_x)
        f_high = np.where(replace_high, f_x, np.where(last == -1, 0.5 * f_high, f_high))
        low = np.where(replace_high, low, x)
        high = np.where(replace_high, x, high)
        last = np.where(replace_high, 1, -1).astype(np.int8)
    values = np.where(below_range, bracket[0], np.where(above_range, bracket[1], x))
    return MatchResult(values=values, clipped=~inside, residual=function(values) - target)


def _newton(
    value_and_slope: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    value: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    start: np.ndarray | None = None,
    bracket: tuple[float, float] = BRACKET,
) -> MatchResult:
    """Solve ``value(x) = target`` element-wise for an increasing function by Newton's method.

    Steps are damped to one logit unit and kept in ``bracket``; elements that
    do not settle in :data:`_NEWTON_ITERATIONS` steps are solved by the bracketed
    method (which reports targets out of reach as clipped).
    """
    x = np.zeros(target.shape) if start is None else np.array(start, dtype=np.float64)
    x = np.clip(np.clip(x, *BRACKET), *bracket)
    converged = np.zeros(target.shape, dtype=bool)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(_NEWTON_ITERATIONS):
            current, slope = value_and_slope(x)
            residual = current - target
            converged = np.abs(residual) <= TOLERANCE
            if converged.all():
                return MatchResult(values=x, clipped=np.zeros(target.shape, dtype=bool), residual=residual)
            step = np.where(slope > 0.0, -residual / np.where(slope > 0.0, slope, 1.0), 0.0)
            x = np.where(converged, x, np.clip(x + np.clip(step, -1.0, 1.0), *bracket))
    (rows,) = np.nonzero(~converged)
    slow = _solve(lambda values: value(_scatter(x, rows, values))[rows], target[rows], bracket)
    values, clipped = x.copy(), np.zeros(target.shape, dtype=bool)
    values[rows], clipped[rows] = slow.values, slow.clipped
    return MatchResult(values=values, clipped=clipped, residual=value(values) - target)


def _scatter(base: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = base.copy()
    out[rows] = values
    return out


def match_level(
    initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray, target_rate: np.ndarray, weeks: int = 2
) -> MatchResult:
    """Shift of the event logit so the mean control rate over the W-week window (``weeks``) equals ``target_rate``.

    Parameters
    ----------
    initial_belief
        ``(n, K)`` week-0 state distribution of the customers averaged over.
    transition
        ``(K, K)`` transition matrix.
    event_logit
        ``(S, n, K)`` event logit per draw, customer and state before the shift.
    target_rate
        ``(S,)`` target control rate per draw.
    """

    def control_rate(shift: np.ndarray) -> np.ndarray:
        return two_week_event_probability(initial_belief, transition, event_logit + shift[:, None, None], weeks=weeks).mean(axis=-1)

    return _newton(
        lambda shift: shifted_control_probability(initial_belief, transition, event_logit, shift, weeks),
        control_rate,
        np.asarray(target_rate, dtype=np.float64),
    )


def two_week_uplift(
    initial_belief: np.ndarray,
    transition: np.ndarray,
    event_logit: np.ndarray,
    tilt: np.ndarray,
    effect: np.ndarray,
) -> np.ndarray:
    """Mean two-week uplift of an e-mail over the customers, per draw, ``(S,)``."""
    treated = two_week_event_probability(initial_belief, transition, event_logit, tilt=tilt, effect=effect)
    control = two_week_event_probability(initial_belief, transition, event_logit)
    return (treated - control).mean(axis=-1)


def match_uplift(
    two_week: TwoWeekExperiment,
    target_uplift: np.ndarray,
    tilt: np.ndarray | float,
    start: np.ndarray | None = None,
    bracket: tuple[float, float] = PURCHASE_RESPONSE_BRACKET,
) -> MatchResult:
    """The direct effect on the event logit, given the engagement ``tilt``, so the mean two-week
    uplift of ``two_week`` equals ``target_uplift`` (``(S,)``, as ``tilt``).

    Newton's method with the exact slope from ``start`` (default 0), the bracketed
    method for draws it does not settle.  The effect stays in ``bracket`` (default
    :data:`PURCHASE_RESPONSE_BRACKET`); a target it cannot reach there is reported as clipped.
    """
    target = np.asarray(target_uplift, dtype=np.float64)
    control = two_week.probability().mean(axis=-1)
    tilt = np.broadcast_to(np.asarray(tilt, dtype=np.float64), target.shape)

    def uplift_and_slope(effect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probability, slope = two_week.mean_probability_and_slope(tilt, effect)
        return probability - control, slope

    return _newton(
        uplift_and_slope, lambda effect: two_week.probability(tilt, effect).mean(axis=-1) - control, target, start, bracket
    )


@dataclass(frozen=True)
class VisitResponseMatch:
    """The engagement tilt ``eta`` and direct visit response ``alpha`` solved for one segment x arm.

    Attributes
    ----------
    tilt, visit_effect
        ``(S,)`` solved values.
    clipped
        ``(S,)`` draws where either equation hit its bracket.
    undefined
        ``(S,)`` draws whose two-week visit uplift is not positive, so no carryover ratio is
        defined; they get ``eta = 0`` (no persistence) and ``alpha`` matched alone.
    ratio
        ``(S,)`` realized carryover ratio (52-week over two-week incremental visits).
    """

    tilt: np.ndarray
    visit_effect: np.ndarray
    clipped: np.ndarray
    undefined: np.ndarray
    ratio: np.ndarray


class _VisitResponseSystem:
    """The two equations in ``(eta, alpha)`` of one segment x arm, with their exact Jacobian, per draw.

    ``F1 = U(eta, alpha) - u`` (two-week visit uplift, "at least one visit") and
    ``F2 = E52 - rho E2`` (incremental expected visits over 52 and 2 weeks).
    """

    def __init__(self, two_week: TwoWeekExperiment, counts: CarryoverExperiment, target: np.ndarray, carryover: float) -> None:
        self.belief = two_week.initial_belief
        self.transition = two_week.transition
        self.logit = two_week.event_logit
        self.continue_none = two_week.continue_none
        self.control_next = counts.control_next
        self.control_week0 = counts.control_week0
        self.future = counts.events_after_week0[counts.weeks] - carryover * counts.events_after_week0[2]
        self.control = two_week.probability().mean(axis=-1)
        self.target = target
        self.carryover = carryover
        n_states = self.transition.shape[-1]
        self.upward = np.triu(np.ones((n_states, n_states)), k=1)

    def evaluate(self, tilt: np.ndarray, effect: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(F1, F2, jacobian (S, 2, 2), E2)``."""
        rows = tilted_transition(self.transition, tilt)  # (S, K, K)
        slope = rows * (self.upward - np.sum(rows * self.upward, axis=-1, keepdims=True))  # d rows / d eta
        treated = np.matmul(self.belief, rows)  # (S, n, K)
        d_treated = np.matmul(self.belief, slope)
        visit = expit(self.logit + effect[:, None, None])
        d_visit = visit * (1.0 - visit)
        silent = (1.0 - visit) * self.continue_none
        shift = treated - self.control_next
        two_week_gap = 1.0 - self.carryover
        f1 = (1.0 - over_states(treated, silent)).mean(axis=-1) - self.control - self.target
        week0 = over_states(treated, visit) - self.control_week0
        f2 = (two_week_gap * week0 + over_states(shift, self.future)).mean(axis=-1)
        jacobian = np.empty((tilt.size, 2, 2))
        jacobian[:, 0, 0] = -over_states(d_treated, silent).mean(axis=-1)
        jacobian[:, 0, 1] = over_states(treated, d_visit, self.continue_none).mean(axis=-1)
        jacobian[:, 1, 0] = (two_week_gap * over_states(d_treated, visit) + over_states(d_treated, self.future)).mean(axis=-1)
        jacobian[:, 1, 1] = two_week_gap * over_states(treated, d_visit).mean(axis=-1)
        return f1, f2, jacobian, week0.mean(axis=-1)


def _newton_visit_response(
    system: _VisitResponseSystem, tilt: np.ndarray, effect: np.ndarray, iterations: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newton's method on both equations at once; returns ``(tilt, effect, converged)``."""
    converged = np.zeros(tilt.shape, dtype=bool)
    for _ in range(iterations):
        f1, f2, jacobian, week0 = system.evaluate(tilt, effect)
        converged = (np.abs(f1) <= TOLERANCE) & (np.abs(f2) <= RATIO_TOLERANCE * np.maximum(np.abs(week0), 1e-12))
        if converged.all():
            break
        det = jacobian[:, 0, 0] * jacobian[:, 1, 1] - jacobian[:, 0, 1] * jacobian[:, 1, 0]
        safe = np.where(det != 0.0, det, 1.0)
        step_tilt = np.where(det != 0.0, (-f1 * jacobian[:, 1, 1] + f2 * jacobian[:, 0, 1]) / safe, 0.0)
        step_effect = np.where(det != 0.0, (-f2 * jacobian[:, 0, 0] + f1 * jacobian[:, 1, 0]) / safe, 0.0)
        # Damped: at most one logit unit per step, inside the brackets.
        scale = np.minimum(1.0, 1.0 / np.maximum(np.maximum(np.abs(step_tilt), np.abs(step_effect)), 1e-300))
        tilt = np.where(converged, tilt, np.clip(tilt + scale * step_tilt, *TILT_BRACKET))
        effect = np.where(converged, effect, np.clip(effect + scale * step_effect, *BRACKET))
    finite = np.isfinite(tilt) & np.isfinite(effect)
    return tilt, effect, converged & finite


def _nested_visit_response(
    initial_belief: np.ndarray, transition: np.ndarray, visit_logit: np.ndarray, target: np.ndarray, carryover: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The slow, bracketed solution: ``alpha(eta)`` inside, ``eta`` outside; returns ``(tilt, effect, clipped)``."""
    two_week = TwoWeekExperiment(initial_belief, transition, visit_logit)
    counts = CarryoverExperiment(initial_belief, transition, visit_logit)

    def visit_effect_for(tilt: np.ndarray) -> MatchResult:
        return match_uplift(two_week, target, tilt)

    def ratio_for(tilt: np.ndarray) -> np.ndarray:
        short, long = counts.incremental(tilt, visit_effect_for(tilt).values)
        return long / np.where(short != 0.0, short, 1.0)

    tilt = _solve(ratio_for, np.full(target.shape, carryover), TILT_BRACKET, RATIO_TOLERANCE)
    effect = visit_effect_for(tilt.values)
    return tilt.values, effect.values, tilt.clipped | effect.clipped


def match_visit_response(
    two_week: TwoWeekExperiment,
    counts: CarryoverExperiment,
    target_uplift: np.ndarray,
    carryover: float,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> VisitResponseMatch:
    """Solve ``eta`` and ``alpha`` per draw so the carryover ratio is ``carryover`` and the two-week
    visit uplift is ``target_uplift``.

    ``two_week`` and ``counts`` are the two experiments of the same customers and
    visit logits.  Both equations are solved together by Newton's method with the
    exact Jacobian, from ``start`` (a solution at a nearby carryover) or from no
    persistence.  Draws where it does not converge are solved by the bracketed
    method: for a given ``eta``, ``alpha(eta)`` reproduces the two-week uplift
    (the uplift increases with ``alpha``), and the carryover ratio increases with
    ``eta`` from exactly 1 at ``eta = 0``; a ratio beyond the bracket is reported
    as clipped.

    Raises
    ------
    ValueError
        For a carryover below 1 or not finite.
    """
    if not np.isfinite(carryover) or carryover < 1.0:
        raise ValueError(
            f"carryover: received {carryover!r}, expected a finite ratio >= 1 (1 = no persistence); "
            "pass --carryover with values such as 1,1.5,2.5."
        )
    target = np.asarray(target_uplift, dtype=np.float64)
    undefined = target <= 0.0
    zero = np.zeros(target.shape)
    no_persistence: MatchResult | None = None
    if carryover == 1.0 or start is None or undefined.any():
        no_persistence = match_uplift(two_week, target, zero)
    if carryover == 1.0 or undefined.all():
        assert no_persistence is not None
        tilt, effect, clipped = zero, no_persistence.values, no_persistence.clipped
    else:
        if start is None:
            assert no_persistence is not None
            start = (np.full(target.shape, 1.0), no_persistence.values)
        system = _VisitResponseSystem(two_week, counts, target, carryover)
        with threadpool_limits(limits=1, user_api="blas"):
            tilt, effect, converged = _newton_visit_response(system, start[0].copy(), start[1].copy())
        clipped = np.zeros(target.shape, dtype=bool)
        retry = ~converged & ~undefined
        if retry.any():
            (rows,) = np.nonzero(retry)
            tilt[rows], effect[rows], clipped[rows] = _nested_visit_response(
                two_week.initial_belief, two_week.transition, two_week.event_logit[rows], target[rows], carryover
            )
        if undefined.any():
            # Draws without a positive uplift keep eta = 0 and the alpha matched alone.
            assert no_persistence is not None
            tilt = np.where(undefined, 0.0, tilt)
            effect = np.where(undefined, no_persistence.values, effect)
            clipped = np.where(undefined, no_persistence.clipped, clipped)
    short, long = counts.incremental(tilt, effect)
    ratio = np.where(undefined, np.nan, long / np.where(short != 0.0, short, 1.0))
    return VisitResponseMatch(tilt=tilt, visit_effect=effect, clipped=clipped, undefined=undefined, ratio=ratio)


def carryover_ratio(counts: CarryoverExperiment, tilt: np.ndarray, effect: np.ndarray) -> np.ndarray:
    """``(S,)`` realized carryover ratio of the events of ``counts`` for solved ``tilt`` and ``effect``."""
    short, long = counts.incremental(tilt, effect)
    return long / np.where(short != 0.0, short, np.nan)
