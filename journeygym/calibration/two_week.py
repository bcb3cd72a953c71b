"""Exact expectations of the simulator's two-week experiment (DESIGN 2.5).

The Hillstrom trial e-mailed customers once and recorded visits and
conversions over the next two weeks.  In the simulator that is: action ``a`` at
week 0, no action at week 1, outcome = at least one event in weeks 0 and 1.
Over two weeks the hidden state is a small Markov chain, so the probability is
computed exactly (no Monte Carlo), vectorized over customers and over any
leading batch axes (for example posterior draws).
"""

from __future__ import annotations

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def tilted_transition(transition: np.ndarray, tilt: np.ndarray | float) -> np.ndarray:
    """Transition rows tilted towards more engaged states: ``A[z,z'] exp(tilt [z' > z])``, renormalized.

    Parameters
    ----------
    transition
        ``(..., K, K)`` transition matrices.
    tilt
        Scalar or array broadcasting against the leading axes of ``transition``.
    """
    n_states = transition.shape[-1]
    upward = np.triu(np.ones((n_states, n_states)), k=1)
    weights = transition * np.exp(np.asarray(tilt, dtype=np.float64)[..., None, None] * upward)
    return weights / weights.sum(axis=-1, keepdims=True)


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
    """

    def __init__(self, initial_belief: np.ndarray, transition: np.ndarray, event_logit: np.ndarray) -> None:
        self.initial_belief = initial_belief
        self.transition = transition
        self.event_logit = event_logit
        # continue_none[n, z] = P(no event in week 1 | state z after week 0)
        self.continue_none = np.matmul(1.0 - _sigmoid(event_logit), np.swapaxes(transition, -1, -2))
        self._no_event_without_effect = (1.0 - _sigmoid(event_logit)) * self.continue_none
        self._last_tilt: tuple[object, np.ndarray] | None = None

    def probability(self, tilt: np.ndarray | float = 0.0, effect: np.ndarray | float | None = None) -> np.ndarray:
        """``(..., n)`` probability of at least one event in weeks 0 and 1.

        ``tilt`` (eta x m(f)) and ``effect`` (tau x m(f)) are scalars or arrays over
        the leading axes; ``None`` or zero effect reuses the cached week-1 term.
        """
        if self._last_tilt is not None and self._last_tilt[0] is tilt:
            week0_belief = self._last_tilt[1]  # solving for the effect: the tilt array is fixed
        else:
            week0_belief = np.matmul(self.initial_belief, tilted_transition(self.transition, tilt))
            self._last_tilt = (tilt, week0_belief)
        if effect is None or not np.any(effect):
            no_event = self._no_event_without_effect
        else:
            effect = np.asarray(effect, dtype=np.float64)
            no_event = (1.0 - _sigmoid(self.event_logit + effect[..., None, None])) * self.continue_none
        return 1.0 - np.sum(week0_belief * no_event, axis=-1)


def two_week_event_probability(
    initial_belief: np.ndarray,
    transition: np.ndarray,
    event_logit: np.ndarray,
    tilt: np.ndarray | float = 0.0,
    effect: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Probability of at least one event (visit or purchase) in weeks 0 and 1.

    Week 0: the state moves with the e-mail-tilted transition, then the event
    happens with ``sigmoid(event_logit[z'] + effect)``.  Week 1: the state moves
    with the plain transition, then the event happens with ``sigmoid(event_logit[z''])``.
    See :class:`TwoWeekExperiment` for the shapes.

    Returns
    -------
    numpy.ndarray
        ``(..., n)`` probabilities.
    """
    return TwoWeekExperiment(initial_belief, transition, event_logit).probability(tilt, effect)
