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

    Parameters
    ----------
    initial_belief
        ``(..., n, K)`` distribution of the hidden state at week 0 per customer.
    transition
        ``(..., K, K)`` transition matrix without e-mail.
    event_logit
        ``(..., n, K)`` event logit per customer and next state, without the e-mail effect.
    tilt, effect
        E-mail engagement tilt (eta x m(0)) and logit effect (tau x m(0)); scalars or
        arrays over the leading axes.  Zero for the control arm.

    Returns
    -------
    numpy.ndarray
        ``(..., n)`` probabilities.
    """
    tilt = np.asarray(tilt, dtype=np.float64)
    effect = np.asarray(effect, dtype=np.float64)
    week0_belief = np.einsum("...nk,...kl->...nl", initial_belief, tilted_transition(transition, tilt))
    no_event_week0 = 1.0 - _sigmoid(event_logit + effect[..., None, None])
    no_event_week1 = 1.0 - _sigmoid(event_logit)
    # continue[n, z] = P(no event in week 1 | state z after week 0)
    continue_none = np.einsum("...nl,...kl->...nk", no_event_week1, transition)
    return 1.0 - np.sum(week0_belief * no_event_week0 * continue_none, axis=-1)
