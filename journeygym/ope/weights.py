"""Importance weights: how much more (or less) likely the target policy makes each logged decision.

The per-decision ratio of customer ``i`` in week ``t`` is
``rho_it = pi(a_it | s_it) / mu(a_it | s_it)``, the target's probability of the
logged action over the behavior's; it is 1 in padding (weeks after a
customer's last logged week), so a shorter episode's weights stop changing
there.  The cumulative weight ``w_it = rho_i0 * ... * rho_it`` reweighs a
whole trajectory up to week ``t``; ``w_i,H-1`` is the trajectory weight.

Every estimator and diagnostic takes its ratios from :func:`importance_ratios`
and :func:`cumulative_weights`, so the formula is defined once.
"""

from __future__ import annotations

import numpy as np

from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.target import checked_target_array

__all__ = [
    "cumulative_weights",
    "effective_sample_size",
    "importance_ratios",
    "logged_target_probabilities",
    "ratios_of_checked_target",
]


def logged_target_probabilities(episodes: LoggedEpisodes, target: np.ndarray) -> np.ndarray:
    """``(N, H)`` the target's probability ``pi(a_t | s_t)`` of each logged action (1 in padding)."""
    return _logged_target(episodes, checked_target_array(target, episodes, "target probabilities"))


def _logged_target(episodes: LoggedEpisodes, target: np.ndarray) -> np.ndarray:
    chosen = np.take_along_axis(target, episodes.actions[:, :, None], axis=2)[:, :, 0]
    chosen[~episodes.mask] = 1.0  # a fresh array: set in place, no second (N, H) copy
    return chosen


def importance_ratios(episodes: LoggedEpisodes, target: np.ndarray) -> np.ndarray:
    """``(N, H)`` per-decision ratios ``pi(a_t | s_t) / mu(a_t | s_t)``; 1 in padding.

    Parameters
    ----------
    episodes
        The log, with behavior probabilities (logged, or estimated by
        :func:`journeygym.ope.behavior.estimate_behavior_policy`).
    target
        ``(N, H, A)`` target probabilities (:func:`journeygym.ope.target.target_probabilities`).

    Raises
    ------
    OPEInputError
        If the episodes carry no behavior probabilities or ``target`` has the
        wrong shape or invalid values.
    """
    return ratios_of_checked_target(episodes, checked_target_array(target, episodes, "target probabilities"))


def ratios_of_checked_target(episodes: LoggedEpisodes, target: np.ndarray) -> np.ndarray:
    """:func:`importance_ratios` of a target that :func:`~journeygym.ope.target.checked_target_array` returned.

    For callers that have checked the target already: the check reads the whole ``(N, H, A)`` array.
    """
    ratios = _logged_target(episodes, target)
    # LoggedEpisodes.with_behavior guarantees mu > 0 for every logged action.
    mu = episodes.logged_propensities
    mu[~episodes.mask] = 1.0
    ratios /= mu
    return ratios


def cumulative_weights(ratios: np.ndarray) -> np.ndarray:
    """``(N, H)`` cumulative importance weights ``w_t = rho_0 * ... * rho_t`` (product over weeks).

    The last column is each customer's trajectory weight (padding ratios are 1).
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    if ratios.ndim != 2:
        raise OPEInputError(f"importance ratios: received shape {ratios.shape}, expected (N, H).")
    return np.cumprod(ratios, axis=1)


#: Weights scaled at once by :func:`effective_sample_size` (8 MiB of float64).
_ESS_BLOCK_ELEMENTS = 1 << 20


def effective_sample_size(weights: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray | float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` over axis 0 (customers).

    Parameters
    ----------
    weights
        ``(N,)`` or ``(N, H)`` non-negative weights.
    mask
        Same shape, True for the weights to count (default all).

    Returns
    -------
    float or numpy.ndarray
        A float for ``(N,)`` weights, ``(H,)`` for ``(N, H)``; 0 where every
        counted weight is 0.  Scale-free: the weights are divided by their
        largest value first, so huge trajectory weights do not overflow.
    """
    weights = np.asarray(weights, dtype=np.float64)
    counted = np.ones(weights.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    largest = np.max(weights, axis=0, where=counted, initial=0.0)
    divisor = np.where(largest > 0, largest, 1.0)
    total = np.zeros(weights.shape[1:])
    total_sq = np.zeros(weights.shape[1:])
    step = max(1, _ESS_BLOCK_ELEMENTS // max(1, int(np.prod(weights.shape[1:]))))
    for start in range(0, weights.shape[0], step):  # blocks of customers: no (N, H) temporary for a large log
        scaled = np.where(counted[start : start + step], weights[start : start + step], 0.0)
        scaled /= divisor
        total += scaled.sum(axis=0)
        total_sq += np.square(scaled, out=scaled).sum(axis=0)
    ess = np.divide(np.square(total), total_sq, out=np.zeros_like(total, dtype=np.float64), where=total_sq > 0)
    return float(ess) if ess.ndim == 0 else ess
