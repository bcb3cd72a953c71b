"""Average treatment effects of parameter draws, pushed through a trial's customers.

Shared by the posterior (the estimator's uplift and control-rate draws) and
by the prior predictive check.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from journeygym.calibration.uplift.model import unique_rows
from journeygym.calibration.uplift.trial import UpliftTrial

__all__ = ["average_effects", "effects_by_segment"]


def effects_by_segment(tau: np.ndarray, n_segments: int) -> np.ndarray:
    """Treatment effects as ``(n_samples, G, A)`` from either model's ``tau``."""
    if tau.ndim == 2:  # pooled: one effect per arm, shared by the segments
        return np.repeat(tau[:, None, :], n_segments, axis=1)
    return tau


def average_effects(
    trial: UpliftTrial, alpha: np.ndarray, beta: np.ndarray, effects: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, the mean over each segment's customers of the control probability and of the uplift.

    Parameters
    ----------
    trial
        The customers to average over.
    alpha : (S, G)
        Raw-scale intercept per segment.
    beta : (S, p)
        Raw-scale covariate effects.
    effects : (S, G, A)
        Log-odds treatment effects.

    Returns
    -------
    control : (S, G)
    uplift : (S, G, A)
    """
    keys = np.column_stack([trial.segment, trial.covariates]).astype(np.float64)
    unique, inverse = unique_rows(keys)
    weights = np.bincount(inverse, minlength=unique.shape[0]).astype(np.float64)
    segment = unique[:, 0].astype(np.int64)
    covariates = unique[:, 1:]
    shares = weights / np.bincount(segment, weights=weights, minlength=effects.shape[1])[segment]
    kernel = _average_effects_kernel()
    return kernel(
        np.ascontiguousarray(alpha, dtype=np.float64),
        np.ascontiguousarray(beta, dtype=np.float64),
        np.ascontiguousarray(effects, dtype=np.float64),
        np.ascontiguousarray(covariates),
        segment,
        shares,
    )


_KERNEL: list[Any] = []


def _average_effects_kernel() -> Any:
    """A compiled loop over draws x customers (parallel over draws): one pass, no large temporaries."""
    if _KERNEL:
        return _KERNEL[0]
    import numba

    @numba.njit(parallel=True, cache=True)
    def kernel(alpha, beta, effects, covariates, segment, shares):  # type: ignore[no-untyped-def]
        n_samples, n_segments, n_treat = effects.shape
        n_rows, n_cov = covariates.shape
        control = np.zeros((n_samples, n_segments))
        uplift = np.zeros((n_samples, n_segments, n_treat))
        for s in numba.prange(n_samples):
            for i in range(n_rows):
                g = segment[i]
                linear_predictor = alpha[s, g]
                for j in range(n_cov):
                    linear_predictor += beta[s, j] * covariates[i, j]
                base = 1.0 / (1.0 + math.exp(-linear_predictor))
                control[s, g] += shares[i] * base
                for a in range(n_treat):
                    uplift[s, g, a] += shares[i] * (1.0 / (1.0 + math.exp(-(linear_predictor + effects[s, g, a]))) - base)
        return control, uplift

    _KERNEL.append(kernel)
    return kernel
