"""Matching simulator parameters to the trial, one posterior draw at a time (DESIGN 2.5).

Each function solves a monotone equation in one unknown per posterior draw,
for all draws at once, by vectorized bisection on the exact two-week
experiment (:mod:`journeygym.calibration.two_week`):

* :func:`match_level` -- the logit shift of a whole outcome level (purchase
  offset ``delta_0``, visit level) so that the simulated control rate equals
  a target rate;
* :func:`match_uplift` -- the e-mail's engagement tilt ``eta`` or its purchase
  effect ``tau`` in one segment x arm so that the simulated uplift equals the
  draw's posterior uplift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from journeygym.calibration.two_week import TwoWeekExperiment, two_week_event_probability

#: Bracket of every matched logit-scale quantity.  A target outside what the
#: bracket can reach is reported as clipped, never silently.
BRACKET: tuple[float, float] = (-8.0, 8.0)
_ITERATIONS = 34  # bracket width 16 / 2**34 ~ 1e-9


@dataclass(frozen=True)
class MatchResult:
    """Solved values per draw, and which draws hit the bracket's edge."""

    values: np.ndarray
    clipped: np.ndarray
    residual: np.ndarray


def _bisect(function: Callable[[np.ndarray], np.ndarray], target: np.ndarray) -> MatchResult:
    """Solve ``function(x) = target`` element-wise for an increasing ``function``."""
    with threadpool_limits(limits=1, user_api="blas"):  # many tiny K x K products: threads only add overhead
        return _bisect_unthreaded(function, target)


def _bisect_unthreaded(function: Callable[[np.ndarray], np.ndarray], target: np.ndarray) -> MatchResult:
    low = np.full(target.shape, BRACKET[0])
    high = np.full(target.shape, BRACKET[1])
    below_range = function(low) > target
    above_range = function(high) < target
    for _ in range(_ITERATIONS):
        middle = 0.5 * (low + high)
        too_low = function(middle) < target
        low = np.where(too_low, middle, low)
        high = np.where(too_low, high, middle)
    values = np.where(below_range, BRACKET[0], np.where(above_range, BRACKET[1], 0.5 * (low + high)))
    return MatchResult(values=values, clipped=below_range | above_range, residual=function(values) - target)


def match_level(
    initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray, target_rate: np.ndarray
) -> MatchResult:
    """Shift of the event logit so the mean two-week control rate equals ``target_rate``.

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
        return two_week_event_probability(initial_belief, transition, event_logit + shift[:, None, None]).mean(axis=-1)

    return _bisect(control_rate, np.asarray(target_rate, dtype=np.float64))


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
    initial_belief: np.ndarray,
    transition: np.ndarray,
    event_logit: np.ndarray,
    target_uplift: np.ndarray,
    *,
    solve_for: str,
    tilt: np.ndarray | None = None,
) -> MatchResult:
    """Solve the engagement tilt (``solve_for="tilt"``, effect 0) or the purchase effect
    (``solve_for="effect"``, given ``tilt``) so the mean two-week uplift equals ``target_uplift``.

    Shapes as in :func:`match_level`; ``target_uplift`` and ``tilt`` are ``(S,)``.
    """
    target = np.asarray(target_uplift, dtype=np.float64)
    experiment = TwoWeekExperiment(initial_belief, transition, event_logit)
    control = experiment.probability().mean(axis=-1)

    def uplift(tilt_value: np.ndarray, effect_value: np.ndarray | None) -> np.ndarray:
        return experiment.probability(tilt_value, effect_value).mean(axis=-1) - control

    if solve_for == "tilt":
        return _bisect(lambda x: uplift(x, None), target)
    if solve_for == "effect":
        if tilt is None:
            raise ValueError("match_uplift: solve_for='effect' needs the tilt solved first (tilt=...).")
        return _bisect(lambda x: uplift(tilt, x), target)
    raise ValueError(f"match_uplift: received solve_for={solve_for!r}, expected 'tilt' or 'effect'.")
