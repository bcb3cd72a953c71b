"""One-sided lower bounds on a policy's value from per-customer importance-sampling terms.

Two bounds, both at a confidence level ``1 - delta``:

* :func:`student_t_lower_bound`: ``mean - t_{1-delta, n-1} s / sqrt(n)``.  It
  assumes the mean of the per-customer terms is nearly normal, which importance
  weights with heavy tails often make false; it is tight but approximate.
* :func:`concentration_lower_bound`: the high-confidence off-policy evaluation
  bound of Thomas, Theocharous & Ghavamzadeh (2015), *High confidence
  off-policy evaluation*, AAAI.  The per-customer terms are made non-negative
  by shifting the rewards by a known lower bound ``r_min``, clipped at ``c``
  (clipping a non-negative variable only lowers its mean, so a lower bound on
  the clipped mean is one on the true mean), and bounded with the
  empirical-Bernstein inequality of Maurer & Pontil (2009), *Empirical
  Bernstein bounds and sample variance penalization*, COLT, Theorem 4:
  for i.i.d. ``Y_i`` in ``[0, c]``, with probability at least ``1 - delta``,

  .. math::

      E[Y] \\ge \\bar Y - \\sqrt{2 S^2 \\ln(2/\\delta) / n} - 7 c \\ln(2/\\delta) / (3 (n - 1))

  with ``S^2`` the sample variance.  As Thomas et al. do, ``c`` is chosen on a
  held-out share of the customers (maximizing the bound predicted for the
  remaining ones) and the bound is computed on the others only, so the choice
  does not void it.

The concentration bound holds whatever the distribution of the weights, but
only if every reward is at least ``r_min`` and the logged propensities are the
behavior policy's true ones (with estimated propensities it is approximate).
"""

from __future__ import annotations

import numpy as np
from scipy.special import stdtrit

from journeygym.ope.episodes import OPEInputError

__all__ = [
    "HELD_OUT_FRACTION",
    "MAX_CLIP_CANDIDATES",
    "choose_clip",
    "concentration_lower_bound",
    "empirical_bernstein_lower_bound",
    "student_t_bound_of_moments",
    "student_t_lower_bound",
]

#: Share of the customers held out to choose the clipping level ``c``.
HELD_OUT_FRACTION = 0.2
#: At most this many candidate clipping levels (evenly spaced order statistics of the held-out terms).
MAX_CLIP_CANDIDATES = 256


def student_t_lower_bound(terms: np.ndarray, confidence: float) -> float:
    """One-sided Student-t lower bound on the mean of i.i.d. ``terms`` at level ``confidence``.

    Parameters
    ----------
    terms
        ``(n,)`` per-customer terms, ``n >= 2``.
    confidence
        In (0, 1), e.g. 0.95.
    """
    n = terms.shape[0]
    if n < 2:
        raise OPEInputError(f"a Student-t bound needs at least 2 customers; received {n}.")
    return student_t_bound_of_moments(float(terms.mean()), float(terms.std(ddof=1)), n, confidence)


def student_t_bound_of_moments(mean: float, standard_deviation: float, n: int, confidence: float) -> float:
    """:func:`student_t_lower_bound` of ``n >= 2`` terms with this mean and sample standard deviation."""
    return float(mean - stdtrit(n - 1, confidence) * standard_deviation / np.sqrt(n))


#: Clipped samples :func:`_bernstein_bounds` holds at once (32 MiB of float64).
_CLIPPED_ELEMENTS = 1 << 22


def _bernstein_bounds(samples: np.ndarray, clips: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """The empirical-Bernstein bound for each clip in ``clips`` (K,), with mean and variance from ``samples``
    but the deviation terms for a sample of size ``n`` (the prediction Thomas et al. maximize)."""
    log_term = np.log(2.0 / (1.0 - confidence))
    means, variance = np.empty(clips.shape[0]), np.zeros(clips.shape[0])
    # A few clips at a time: 256 candidates on 200,000 held-out customers would be 400 MB of clipped copies.
    step = max(1, _CLIPPED_ELEMENTS // max(1, samples.shape[0]))
    for start in range(0, clips.shape[0], step):
        clipped = np.minimum(samples[None, :], clips[start : start + step, None])
        means[start : start + step] = clipped.mean(axis=1)
        if samples.shape[0] > 1:
            variance[start : start + step] = clipped.var(axis=1, ddof=1)
    return means - np.sqrt(2.0 * variance * log_term / n) - 7.0 * clips * log_term / (3.0 * (n - 1))


def empirical_bernstein_lower_bound(samples: np.ndarray, clip: float, confidence: float) -> float:
    """Lower bound on ``E[X]`` from i.i.d. non-negative ``samples`` clipped at ``clip`` (Maurer & Pontil 2009).

    Parameters
    ----------
    samples
        ``(n,)`` non-negative i.i.d. samples, ``n >= 2``.
    clip
        The clipping level ``c > 0``.
    confidence
        ``1 - delta``.

    Returns
    -------
    float
        ``max(0, bound)``: a non-negative variable's mean is at least 0.
    """
    n = samples.shape[0]
    if n < 2:
        raise OPEInputError(f"an empirical-Bernstein bound needs at least 2 customers; received {n}.")
    return max(0.0, float(_bernstein_bounds(samples, np.array([float(clip)]), n, confidence)[0]))


def choose_clip(held_out: np.ndarray, n_bound: int, confidence: float) -> float | None:
    """The clipping level that maximizes the bound predicted from ``held_out`` for ``n_bound`` customers.

    Candidates are the positive held-out values (at most
    :data:`MAX_CLIP_CANDIDATES` order statistics); None when none is positive
    (the bound is then the trivial 0).
    """
    positive = np.unique(held_out[held_out > 0])
    if positive.size == 0:
        return None
    if positive.size > MAX_CLIP_CANDIDATES:
        positive = positive[np.linspace(0, positive.size - 1, MAX_CLIP_CANDIDATES).round().astype(int)]
    predicted = _bernstein_bounds(held_out, positive, n_bound, confidence)
    return float(positive[int(np.argmax(predicted))])


def concentration_lower_bound(
    nonnegative_terms: np.ndarray,
    confidence: float,
    rng: np.random.Generator,
    held_out_fraction: float = HELD_OUT_FRACTION,
) -> float:
    """High-confidence lower bound on the mean of i.i.d. non-negative terms (Thomas et al. 2015).

    A random ``held_out_fraction`` of the customers chooses the clipping level
    (:func:`choose_clip`); the empirical-Bernstein bound is computed on the rest.

    Parameters
    ----------
    nonnegative_terms
        ``(N,)`` per-customer importance-sampling terms of the reward-shifted log.
    confidence
        ``1 - delta``.
    rng
        Draws the held-out split.
    held_out_fraction
        Share of customers held out, in (0, 1).

    Returns
    -------
    float
        A lower bound on ``E[terms]`` (>= 0).

    Raises
    ------
    OPEInputError
        If fewer than 2 customers would remain for the bound, or a term is negative.
    """
    n = nonnegative_terms.shape[0]
    n_held = max(1, int(round(held_out_fraction * n)))
    if n - n_held < 2:
        raise OPEInputError(
            f"the concentration bound holds out {n_held} of {n} customers to choose its clipping level and needs at "
            "least 2 more; pass a log with at least 4 customers or reward_lower_bound=None."
        )
    if np.any(nonnegative_terms < 0):
        raise OPEInputError(
            f"the shifted importance-sampling terms must be >= 0 (smallest {nonnegative_terms.min():.6g}); a reward "
            "is below reward_lower_bound. Pass the smallest possible weekly reward."
        )
    order = rng.permutation(n)
    held_out, rest = nonnegative_terms[order[:n_held]], nonnegative_terms[order[n_held:]]
    clip = choose_clip(held_out, rest.shape[0], confidence)
    return 0.0 if clip is None else empirical_bernstein_lower_bound(rest, clip, confidence)
