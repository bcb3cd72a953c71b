"""Exact expectations of the simulator's version of the trial (docs/calibration.md).

A trial e-mailed customers once and recorded visits and conversions over the
next W weeks (two for Hillstrom).  In the simulator that is: action ``a`` at
week 0, no action in weeks 1..W-1, outcome = at least one event in weeks
0..W-1.  Over a few weeks the hidden state is a small Markov chain, so the
probability is computed exactly (no Monte Carlo), vectorized over customers and
over any leading batch axes (for example posterior draws).  The names say "two
week" after the built-in trial; every function takes the window ``weeks``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit as _sigmoid

from journeygym.envs.response import tilted_transition

#: Weeks over which the carryover ratio rho counts a single e-mail's incremental events (a year).
CARRYOVER_WEEKS = 52


def over_states(*factors: np.ndarray) -> np.ndarray:
    """Sum over the last (hidden-state) axis of the element-wise product of ``factors`` (one einsum, no temporaries)."""
    return np.einsum(",".join(["...k"] * len(factors)) + "->...", *factors)


def _times_transposed(values: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``values @ matrix^T`` over the last axis; one matrix product when ``matrix`` is a single (K, K) matrix."""
    if matrix.ndim == 2:
        return (values.reshape(-1, values.shape[-1]) @ matrix.T).reshape(values.shape)
    return np.matmul(values, np.swapaxes(matrix, -1, -2))


class TwoWeekExperiment:
    """The two-week experiment for fixed customers, evaluated for many e-mail effects.

    Week 1 does not depend on the e-mail's tilt or effect, so its part is
    computed once; bisection over the tilt or effect then costs one matrix
    product per evaluation.

    Parameters
    ----------
    initial_belief
        ``(..., n, K)`` distribution of the hidden state at week 0 per customer.
    transition
        ``(..., K, K)`` transition matrix without e-mail.
    event_logit
        ``(..., n, K)`` event logit per customer and next state, without the e-mail effect.
    weeks
        The outcome window W (the send's week included).
    """

    def __init__(self, initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray, weeks: int = 2) -> None:
        self.initial_belief = initial_belief
        self.transition = transition
        self.event_logit = event_logit
        # continue_none[n, z] = P(no event in weeks 1..W-1 | state z after week 0)
        no_event = 1.0 - _sigmoid(event_logit)
        self.continue_none = _silent_after_week0(no_event, transition, weeks)
        self._no_event_without_effect = no_event * self.continue_none
        self._last_tilt: tuple[object, np.ndarray] | None = None

    def probability(self, tilt: np.ndarray | float = 0.0, effect: np.ndarray | float | None = None) -> np.ndarray:
        """``(..., n)`` probability of at least one event in weeks 0..W-1.

        ``tilt`` (eta x m(f)) and ``effect`` (alpha or beta x m(f)) are scalars or arrays over
        the leading axes; ``None`` or zero effect reuses the cached week-1 term.
        """
        week0_belief = self._week0_belief(tilt)
        if effect is None or not np.any(effect):
            no_event = self._no_event_without_effect
        else:
            effect = np.asarray(effect, dtype=np.float64)
            no_event = (1.0 - _sigmoid(self.event_logit + effect[..., None, None])) * self.continue_none
        return 1.0 - over_states(week0_belief, no_event)

    def mean_probability_and_slope(self, tilt: np.ndarray, effect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(...,)`` mean over customers of :meth:`probability` and of its derivative in ``effect``."""
        week0_belief = self._week0_belief(tilt)
        event = _sigmoid(self.event_logit + np.asarray(effect, dtype=np.float64)[..., None, None])
        weighted = week0_belief * self.continue_none
        probability = 1.0 - over_states(weighted, (1.0 - event))
        slope = over_states(weighted, event, (1.0 - event))
        return probability.mean(axis=-1), slope.mean(axis=-1)

    def _week0_belief(self, tilt: np.ndarray | float) -> np.ndarray:
        if self._last_tilt is not None and self._last_tilt[0] is tilt:
            return self._last_tilt[1]  # solving for the effect: the tilt array is fixed
        week0_belief = np.matmul(self.initial_belief, tilted_transition(self.transition, tilt))
        self._last_tilt = (tilt, week0_belief)
        return week0_belief


def _silent_after_week0(no_event: np.ndarray, transition: np.ndarray, weeks: int) -> np.ndarray:
    """P(no event in weeks 1..W-1 | state after week 0), by that state: W - 1 steps of the chain."""
    silent = np.ones_like(no_event)
    for _ in range(weeks - 1):
        silent = _times_transposed(no_event * silent, transition)
    return silent


def shifted_control_probability(
    initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray, shift: np.ndarray, weeks: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """``(S,)`` mean control probability over the W-week window with the event logit shifted by ``shift`` (``(S,)``),
    and its derivative in the shift (which moves every week's events)."""
    event = _sigmoid(event_logit + shift[:, None, None])
    silent, d_event = 1.0 - event, event * (1.0 - event)
    next_state = initial_belief @ transition
    silent_later, d_silent_later = np.ones_like(silent), np.zeros_like(silent)
    for _ in range(weeks - 1):  # the product rule, one week of the chain at a time
        silent_later, d_silent_later = (
            _times_transposed(silent * silent_later, transition),
            _times_transposed(silent * d_silent_later - d_event * silent_later, transition),
        )
    probability = 1.0 - over_states(next_state, silent, silent_later)
    slope = over_states(next_state, d_event, silent_later) - over_states(next_state, silent, d_silent_later)
    return probability.mean(axis=-1), slope.mean(axis=-1)


def two_week_event_probability(
    initial_belief: np.ndarray,
    transition: np.ndarray,
    event_logit: np.ndarray,
    tilt: np.ndarray | float = 0.0,
    effect: np.ndarray | float = 0.0,
    weeks: int = 2,
) -> np.ndarray:
    """Probability of at least one event (visit or purchase) in weeks 0..W-1.

    Week 0: the state moves with the e-mail-tilted transition, then the event
    happens with ``sigmoid(event_logit[z'] + effect)``.  Each later week: the state moves
    with the plain transition, then the event happens with ``sigmoid(event_logit[z''])``.
    See :class:`TwoWeekExperiment` for the shapes.

    Returns
    -------
    numpy.ndarray
        ``(..., n)`` probabilities.
    """
    return TwoWeekExperiment(initial_belief, transition, event_logit, weeks).probability(tilt, effect)


class CarryoverExperiment:
    """Expected incremental events of one e-mail at week 0 and none after, over 2 and over 52 weeks.

    The carryover ratio ``rho`` of docs/calibration.md is ``incremental(...)[1] /
    incremental(...)[0]``: the e-mail's expected extra events (visits or
    purchases, counted, not "at least one") over :data:`CARRYOVER_WEEKS` weeks
    divided by those within the two-week window.  Exact: the expected events
    from week 1 on are a linear function of the state distribution after
    week 0, precomputed once per customer and draw.

    Parameters
    ----------
    initial_belief
        ``(n, K)`` distribution of the hidden state at week 0 per customer.
    transition
        ``(K, K)`` transition matrix without e-mail.
    event_logit
        ``(S, n, K)`` event logit per draw, customer and state, without the e-mail's effect.
    weeks
        The long window (default :data:`CARRYOVER_WEEKS`).
    window
        The trial's outcome window W (the short window).
    """

    def __init__(
        self, initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray, weeks: int = CARRYOVER_WEEKS, window: int = 2
    ) -> None:
        self.initial_belief = initial_belief
        self.transition = transition
        self.event_logit = event_logit
        self.control_next = initial_belief @ transition  # (n, K) state after week 0 without e-mail
        event = _sigmoid(event_logit)
        self.control_week0 = over_states(self.control_next, event)
        # Expected events in weeks 1..T-1 from state z after week 0: event @ (A + A^2 + ... + A^(T-1))^T.
        power, total, short = np.eye(transition.shape[-1]), np.zeros_like(transition), np.zeros_like(transition)
        for week in range(1, weeks):
            power = power @ transition
            total = total + power
            if week < window:
                short = short + power
        #: ``{W: (S, n, K), T: (S, n, K)}``: expected events after week 0 within the trial's and the long window.
        self.events_after_week0: dict[int, np.ndarray] = {
            window: _times_transposed(event, transition) if window == 2 else _times_transposed(event, short),
            weeks: _times_transposed(event, total),
        }
        self.weeks, self.window = weeks, window

    def incremental(self, tilt: np.ndarray | float, effect: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """``(S,)`` mean incremental events over the trial's window and over the long window.

        ``tilt`` and ``effect`` are ``(S,)`` (or scalars): the e-mail's engagement
        tilt and its direct effect on the event logit in week 0.
        """
        treated_next = np.matmul(self.initial_belief, tilted_transition(self.transition, tilt))  # (S, n, K)
        effect = np.asarray(effect, dtype=np.float64)
        week0 = over_states(treated_next, _sigmoid(self.event_logit + effect[..., None, None])) - self.control_week0
        shift = treated_next - self.control_next
        short = week0 + over_states(shift, self.events_after_week0[self.window])
        long = week0 + over_states(shift, self.events_after_week0[self.weeks])
        return short.mean(axis=-1), long.mean(axis=-1)
