"""Priors, the likelihood's design and the PyMC models of the uplift analysis.

The models, their priors and the exact reparameterizations that make them
sample fast are described in :mod:`journeygym.calibration.uplift`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from journeygym.errors import DataValidationError
from journeygym.calibration.uplift.logistic import softplus_sum
from journeygym.calibration.uplift.trial import UpliftTrial

__all__ = ["Design", "ModelKind", "UpliftPriors", "build_design", "build_model", "unique_rows"]

ModelKind = Literal["pooled", "hierarchical"]


@dataclass(frozen=True)
class UpliftPriors:
    """Prior scales of the uplift models (all on the log-odds scale).

    Attributes
    ----------
    intercept_mu, intercept_sigma : float
        ``Normal`` prior of the intercept: the log-odds of a control customer
        with average covariates (with ``standardize=False``: with covariates
        at zero). The default ``Normal(0, 2.5)`` is the usual weakly
        informative choice for logistic regression.
    coefficient_sigma : float
        ``Normal(0, s)`` prior of each covariate effect per standard deviation
        of the covariate (per raw unit with ``standardize=False``). 1.0 keeps a
        one-sd change within a factor of about 7 on the odds.
    effect_sigma : float
        ``Normal(0, s)`` prior of an arm's treatment effect (pooled model) or
        of its mean effect ``mu_t`` (hierarchical): 1.0 allows odds ratios
        from about 1/7 to 7.
    effect_spread_sigma : float
        ``HalfNormal(s)`` prior of ``sigma_t``, the spread of the effect across
        segments in the hierarchical model.
    segment_intercept_sigma : float
        ``HalfNormal(s)`` prior of the spread of segment intercepts (only
        with ``segment_intercepts=True``).
    """

    intercept_mu: float = 0.0
    intercept_sigma: float = 2.5
    coefficient_sigma: float = 1.0
    effect_sigma: float = 1.0
    effect_spread_sigma: float = 0.5
    segment_intercept_sigma: float = 1.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not math.isfinite(value):
                raise DataValidationError(f"UpliftPriors: {name} must be finite; received {value}.")
            if name != "intercept_mu" and value <= 0:
                raise DataValidationError(f"UpliftPriors: {name} is a scale and must be > 0; received {value}.")


@dataclass(frozen=True)
class Design:
    """The trial's unique rows, scaled covariates and the likelihood's design matrix."""

    covariates: np.ndarray  # (m, p) raw covariates of the unique rows
    segment: np.ndarray  # (m,)
    arm: np.ndarray  # (m,)
    trials: np.ndarray  # (m,) customers per unique row
    events: np.ndarray  # (m,) outcomes equal to 1 per unique row
    center: np.ndarray  # (p,)
    scale: np.ndarray  # (p,)

    @property
    def standardized(self) -> np.ndarray:
        """The unique rows' covariates, centred and scaled."""
        return (self.covariates - self.center) / self.scale


def unique_rows(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a 2-D array and, for each input row, the index of its unique row."""
    unique, inverse = np.unique(columns, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def build_design(trial: UpliftTrial, standardize: bool) -> Design:
    """The trial collapsed to its unique (segment, arm, covariates) rows, with the covariates' centre and scale."""
    keys = np.column_stack([trial.segment, trial.arm, trial.covariates]).astype(np.float64)
    unique, inverse = unique_rows(keys)
    trials = np.bincount(inverse, minlength=unique.shape[0]).astype(np.float64)
    events = np.bincount(inverse, weights=trial.outcome, minlength=unique.shape[0])
    if standardize and trial.covariates.shape[1]:
        center, scale = trial.covariates.mean(axis=0), trial.covariates.std(axis=0)
    else:
        center, scale = np.zeros(trial.covariates.shape[1]), np.ones(trial.covariates.shape[1])
    return Design(
        covariates=np.ascontiguousarray(unique[:, 2:]),
        segment=unique[:, 0].astype(np.int64),
        arm=unique[:, 1].astype(np.int64),
        trials=trials,
        events=events,
        center=center,
        scale=scale,
    )


def build_model(
    trial: UpliftTrial,
    design: Design,
    kind: ModelKind,
    priors: UpliftPriors,
    segment_intercepts: bool,
) -> Any:
    """The PyMC model; its likelihood is one binomial term per unique row of the design.

    The linear predictor is ``whitened @ fixed_white + cell_offset[segment, arm]``:
    one thin matrix-vector product for intercept and covariates, and a lookup
    of everything that depends only on the customer's segment and arm.
    Three exact reparameterizations (see :mod:`journeygym.calibration.uplift`)
    make the posterior close to isotropic, so NUTS needs few steps per draw.
    """
    import pymc as pm
    import pytensor.tensor as pt

    n_segments, n_treat, n_cov = trial.n_segments, trial.n_treatments, trial.covariates.shape[1]
    n_arms = n_treat + 1
    coords = {
        "segment": list(trial.segment_names),
        "arm": list(trial.arm_names[1:]),
        "covariate": list(trial.covariate_names),
        "fixed": ["intercept", *trial.covariate_names],
    }
    cell = design.segment * n_arms + design.arm
    cell_events = np.bincount(cell, weights=design.events, minlength=n_segments * n_arms)
    shares = np.bincount(design.arm, weights=design.trials, minlength=n_arms)[1:] / design.trials.sum()
    fixed_design = np.column_stack([np.ones(design.trials.shape[0]), design.standardized])
    prior_sd = np.concatenate([[priors.intercept_sigma], np.full(n_cov, priors.coefficient_sigma)])
    whitened, to_fixed, from_fixed, white_chol = _whiten(fixed_design, design.trials, prior_sd, coords["fixed"])
    # (T - shares) per arm: treatment indicators centred on the arm shares, control first.
    centred_arms = np.vstack([np.zeros(n_treat), np.eye(n_treat)]) - shares
    with pm.Model(coords=coords) as model:
        if kind == "pooled":
            arm_effect = pm.Normal("tau", 0.0, priors.effect_sigma, dims="arm")
            deviation = pt.zeros((n_segments, n_treat))
        else:
            sigma_t = pm.HalfNormal("sigma_t", priors.effect_spread_sigma, dims="arm")
            z_t = pm.Normal("z_t", 0.0, 1.0, dims=("segment", "arm"))
            # Sampled: the mean over segments of tau = mu_t + sigma_t * z_t, which the
            # data pin down; mu_t follows. This conditional prior is mu_t ~ Normal(0, s).
            z_mean = z_t.mean(axis=0)
            arm_effect = pm.Normal("tau_mean", sigma_t * z_mean, priors.effect_sigma, dims="arm")
            pm.Deterministic("mu_t", arm_effect - sigma_t * z_mean, dims="arm")
            deviation = sigma_t[None, :] * (z_t - z_mean[None, :])
            pm.Deterministic("tau", arm_effect[None, :] + deviation, dims=("segment", "arm"))
        # The sampled intercept is the one at the average arm mix; this conditional
        # prior keeps the model's intercept ~ Normal(intercept_mu, intercept_sigma).
        centre = pt.concatenate([(priors.intercept_mu + pt.dot(shares, arm_effect))[None], pt.zeros(n_cov)])
        white = pm.MvNormal("fixed_white", mu=pt.dot(from_fixed, centre), chol=white_chol, dims="fixed")
        fixed = pt.dot(to_fixed, white)
        intercept = pm.Deterministic("intercept", fixed[0] - pt.dot(shares, arm_effect))
        segment_offset = pt.zeros(n_segments)
        if segment_intercepts and n_segments > 1:
            spread = pm.HalfNormal("segment_sd", sigma=priors.segment_intercept_sigma)
            segment_offset = spread * pm.Normal("segment_z", 0.0, 1.0, dims="segment")
        shift = 0.0
        if n_cov:
            beta_std = pm.Deterministic("beta_std", fixed[1:], dims="covariate")
            beta = pm.Deterministic("beta", beta_std / design.scale, dims="covariate")
            shift = pt.dot(beta, design.center)
        treated_deviation = pt.concatenate([pt.zeros((n_segments, 1)), deviation], axis=1)
        offsets = (segment_offset[:, None] + pt.dot(centred_arms, arm_effect)[None, :] + treated_deviation).reshape((-1,))
        linear_predictor = pt.dot(whitened, white) + offsets[cell]
        # Binomial log-likelihood up to a constant: events * lp - trials * log(1 + e^lp), lp the linear predictor.
        linear = pt.dot(whitened.T @ design.events, white) + pt.dot(cell_events, offsets)
        pm.Potential("loglik", linear - softplus_sum(linear_predictor, design.trials))
        pm.Deterministic("alpha_raw", intercept + segment_offset - shift, dims="segment")
    return model


def _whiten(
    design: np.ndarray, weights: np.ndarray, prior_sd: np.ndarray, names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormalize a design's columns and carry independent Normal priors over.

    With ``L`` the Cholesky factor of the customers' Gram matrix
    ``design' W design / n``, the parameters ``theta`` are written as
    ``theta = inv(L') w``: ``design @ theta = (design @ inv(L')) @ w`` with
    orthonormal columns, and ``theta ~ Normal(m, diag(s^2))`` becomes
    ``w ~ MvNormal(L' m, L' diag(s^2) L)``.

    Returns
    -------
    whitened : (m, k)
        ``design @ inv(L')``.
    to_theta, from_theta : (k, k)
        ``inv(L')`` and ``L'``.
    chol : (k, k)
        Lower Cholesky factor of the prior covariance of ``w``.
    """
    from scipy.linalg import solve_triangular

    gram = (design * weights[:, None]).T @ design / weights.sum()
    try:
        lower = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError as error:
        raise DataValidationError(
            f"The design columns {list(names)} are linearly dependent (a covariate is constant within the trial, "
            "duplicates another or is a combination of others, e.g. every level of a one-hot group): drop one."
        ) from error
    if np.linalg.cond(lower) > 1e6:
        raise DataValidationError(
            f"The design columns {list(names)} are nearly linearly dependent; drop a redundant covariate."
        )
    to_theta = solve_triangular(lower, np.eye(lower.shape[0]), lower=True).T
    whitened = design @ to_theta
    covariance = lower.T @ np.diag(prior_sd**2) @ lower
    return np.ascontiguousarray(whitened), to_theta, lower.T, np.linalg.cholesky(covariance)
