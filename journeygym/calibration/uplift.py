"""Bayesian logistic uplift models for randomized trials.

Two models of a binary outcome ``y`` in a trial with a control arm (0) and
treatment arms ``1..A``, customers in segments ``0..G-1`` and covariates ``x``
(raw design, e.g. :func:`journeygym.envs.covariates.design_matrix`):

``pooled``
    ``logit P(y = 1) = alpha + x_std . beta_std + tau[arm]`` with one log-odds
    treatment effect per arm, shared by all segments.
``hierarchical``
    ``logit P(y = 1) = alpha[segment] + x_std . beta_std + tau[segment, arm]``
    with the effect of each segment x arm partially pooled towards the arm's
    mean effect, parameterized non-centred::

        tau[g, a] = mu_t[a] + sigma_t[a] * z_t[g, a],   z_t ~ Normal(0, 1)

    The intercept is shared unless ``segment_intercepts=True``, which gives
    each segment its own, partially pooled and non-centred intercept
    ``alpha + segment_sd * segment_z[g]``.

Priors (:class:`UpliftPriors`, log-odds scale): ``alpha ~ Normal(0, 2.5)``,
``beta_std ~ Normal(0, 1)``, ``tau[a]`` (pooled) and ``mu_t[a] ~ Normal(0, 1)``,
``sigma_t[a] ~ HalfNormal(0.5)``, ``segment_sd ~ HalfNormal(1)``.

``x_std`` are the covariates centred on their mean and divided by their
standard deviation over the trial's customers (``standardize=True``), so
``alpha`` is the log-odds of a control customer with average covariates. The
coefficients are reported on both scales: ``beta_std`` (per standard
deviation) and ``beta = beta_std / sd`` (per raw unit); ``alpha_raw[g] =
alpha (+ segment offset) - beta . mean`` is the intercept of the raw design.

How it samples fast (all exact; the model above is unchanged):

* the likelihood is binomial over the unique rows of (segment, arm,
  covariates), which equals the customers' Bernoulli likelihood; with a
  continuous covariate such as log history the rows stay unique, with
  categorical covariates they collapse to a few cells;
* it is one dense matrix-vector product per gradient;
* intercept and covariate effects are sampled as ``fixed_white``, a linear map
  of them under which the design's columns are orthonormal (correlated
  covariates such as mens/womens no longer slow the sampler); arms enter
  through indicators centred on the arm shares, so the sampled intercept is
  the one at the average arm mix; the hierarchical model samples
  ``tau_mean[a]``, the mean over segments of ``tau[:, a]``, instead of
  ``mu_t[a] = tau_mean[a] - sigma_t[a] * mean(z_t[:, a])``. Each map has unit
  Jacobian and its conditional prior reproduces the priors stated above.

Sampling uses nutpie (numba backend), falling back to PyMC's NUTS only when
nutpie is not installed. Every fit is checked: split R-hat <= 1.01, bulk and
tail ESS >= 400 for every parameter, and no divergent transitions; a failure
warns (:class:`ConvergenceWarning`) or raises (:class:`ConvergenceError`).

The uplift of a segment x arm is an average treatment effect on the
probability scale: per posterior draw, the mean over the segment's customers
(all arms) of ``sigmoid(c + tau) - sigmoid(c)``, where ``c`` is the
customer's control log-odds.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from journeygym.arguments import option_setting
from journeygym.calibration.errors import DataValidationError
from journeygym.envs.covariates import COVARIATE_NAMES, HISTORY_SEGMENTS, design_matrix
from journeygym.records import to_jsonable

__all__ = [
    "DECISION_LABELS",
    "ESS_MIN",
    "RHAT_MAX",
    "BayesianUpliftModel",
    "ConvergenceError",
    "ConvergenceWarning",
    "NotFittedError",
    "SeedConfig",
    "UpliftPriors",
    "UpliftTrial",
    "analyze_trial",
    "check_convergence",
    "decide",
    "seed_003_config",
    "trial_from_frame",
    "trial_from_hillstrom",
]

ModelKind = Literal["pooled", "hierarchical"]
OnFailure = Literal["warn", "raise"]

#: Largest acceptable split R-hat of any parameter.
RHAT_MAX = 1.01
#: Smallest acceptable bulk and tail effective sample size of any parameter.
ESS_MIN = 400
#: Decision thresholds on P(uplift > 0), as in the seed analysis.
TARGET_PROBABILITY = 0.90
MONITOR_PROBABILITY = 0.70
DECISION_LABELS: dict[str, str] = {
    "target": "Target confidently",
    "monitor": "Promising but monitor / test more",
    "deprioritize": "Weak evidence: deprioritize for now",
}
_DECISION_COLORS = {"target": "#1b7837", "monitor": "#e08214", "deprioritize": "#b2182b"}
#: Central interval reported in the decision table (80%, as in the seed analysis).
_INTERVAL = (0.10, 0.90)
#: Central interval of the predictive checks.
_PREDICTIVE_INTERVAL = (0.05, 0.95)


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics fail the convergence criteria; the posterior is not to be trusted."""


class ConvergenceError(RuntimeError):
    """Raised instead of :class:`ConvergenceWarning` when ``on_failure="raise"``."""


class NotFittedError(RuntimeError):
    """A fitted attribute was read before :meth:`BayesianUpliftModel.fit`."""


# --------------------------------------------------------------------------
# trial specification
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class UpliftTrial:
    """A randomized trial with a binary outcome, ready for the uplift models.

    Parameters
    ----------
    outcome : array of {0, 1}, shape (n,)
        The binary outcome per customer.
    arm : array of int, shape (n,)
        Treatment arm per customer: 0 is the control, ``1..A`` the treatments.
    segment : array of int, shape (n,), optional
        Segment per customer, ``0..G-1``. ``None`` puts everyone in one segment.
    covariates : array of float, shape (n, p), optional
        Pre-treatment covariates; ``None`` means none.
    covariate_names : sequence of str
        One name per covariate column.
    arm_names : sequence of str, optional
        Names of the arms, control first (default ``control, arm 1, ...``).
    segment_names : sequence of str, optional
        Names of the segments (default ``segment 0, ...``; ``all`` for one).
    outcome_name : str
        Name of the outcome, used in reports.

    Raises
    ------
    DataValidationError
        Shapes disagree, values are missing or out of range, an arm or a
        segment has no customers, or a covariate is constant.
    """

    outcome: np.ndarray
    arm: np.ndarray
    segment: np.ndarray | None = None
    covariates: np.ndarray | None = None
    covariate_names: Sequence[str] = ()
    arm_names: Sequence[str] | None = None
    segment_names: Sequence[str] | None = None
    outcome_name: str = "outcome"

    def __post_init__(self) -> None:
        outcome = _as_binary(self.outcome, "outcome")
        n = outcome.shape[0]
        if n == 0:
            raise DataValidationError("UpliftTrial: received 0 customers; a trial needs at least one per arm.")
        arm = _as_codes(self.arm, "arm", n)
        segment = np.zeros(n, dtype=np.int64) if self.segment is None else _as_codes(self.segment, "segment", n)
        covariates, names = _as_covariates(self.covariates, self.covariate_names, n)
        n_arms = int(arm.max()) + 1
        n_segments = int(segment.max()) + 1
        arm_names = _names(self.arm_names, n_arms, "arm_names", ["control", *(f"arm {a}" for a in range(1, n_arms))])
        default_segments = ["all"] if n_segments == 1 else [f"segment {g}" for g in range(n_segments)]
        segment_names = _names(self.segment_names, n_segments, "segment_names", default_segments)
        _require_every_level(arm, arm_names, "arm")
        _require_every_level(segment, segment_names, "segment")
        if len(arm_names) < 2:
            raise DataValidationError(
                f"UpliftTrial: only one arm ({arm_names[0]!r}); an uplift model needs a control and at least one treatment."
            )
        _require_variation(covariates, names)
        for name, value in (
            ("outcome", outcome),
            ("arm", arm),
            ("segment", segment),
            ("covariates", covariates),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "covariate_names", names)
        object.__setattr__(self, "arm_names", arm_names)
        object.__setattr__(self, "segment_names", segment_names)

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self.outcome.shape[0])

    @property
    def n_treatments(self) -> int:
        """Number of treatment arms ``A`` (the control not counted)."""
        return len(self.arm_names) - 1

    @property
    def n_segments(self) -> int:
        """Number of segments ``G``."""
        return len(self.segment_names)

    def cell_counts(self) -> pd.DataFrame:
        """Customers and outcomes per segment x arm, with the observed rate."""
        frame = pd.DataFrame({"segment": self.segment, "arm": self.arm, "y": self.outcome})
        table = frame.groupby(["segment", "arm"])["y"].agg(n="size", events="sum")
        full = pd.MultiIndex.from_product([range(self.n_segments), range(len(self.arm_names))], names=["segment", "arm"])
        table = table.reindex(full, fill_value=0).reset_index()
        table["rate"] = table["events"] / table["n"].where(table["n"] > 0)
        return table


def _as_binary(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataValidationError(f"UpliftTrial: {name} must be one-dimensional; received shape {array.shape}.")
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        raise DataValidationError(f"UpliftTrial: {name} must be 0/1 numbers; received dtype {array.dtype}.")
    if np.isnan(array.astype(np.float64)).any():
        raise DataValidationError(f"UpliftTrial: {name} has {int(np.isnan(array.astype(float)).sum())} missing value(s).")
    levels = np.unique(array)
    if not np.isin(levels, (0, 1)).all():
        raise DataValidationError(f"UpliftTrial: {name} must be binary (0/1); received levels {levels[:10].tolist()}.")
    return array.astype(np.int64)


def _as_codes(values: Any, name: str, n: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise DataValidationError(f"UpliftTrial: {name} must have shape ({n},) like the outcome; received {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        raise DataValidationError(f"UpliftTrial: {name} must be integer codes; received dtype {array.dtype}.")
    as_float = array.astype(np.float64)
    if not np.isfinite(as_float).all() or (as_float != np.round(as_float)).any() or (as_float < 0).any():
        raise DataValidationError(f"UpliftTrial: {name} must hold whole numbers >= 0 (codes); received other values.")
    return array.astype(np.int64)


def _as_covariates(values: Any, names: Sequence[str], n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if values is None:
        if len(names):
            raise DataValidationError(f"UpliftTrial: covariate_names {list(names)} given without covariates.")
        return np.zeros((n, 0)), ()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != n:
        raise DataValidationError(f"UpliftTrial: covariates must have shape ({n}, p); received {array.shape}.")
    names = tuple(str(name) for name in names)
    if len(names) != array.shape[1]:
        raise DataValidationError(
            f"UpliftTrial: {array.shape[1]} covariate column(s) but {len(names)} name(s) {list(names)}."
        )
    if len(set(names)) != len(names):
        raise DataValidationError(f"UpliftTrial: covariate names must be unique; received {list(names)}.")
    bad = ~np.isfinite(array)
    if bad.any():
        columns = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
        raise DataValidationError(f"UpliftTrial: covariates {columns} hold {int(bad.sum())} missing or infinite value(s).")
    return np.ascontiguousarray(array), names


def _names(given: Sequence[str] | None, count: int, what: str, default: list[str]) -> tuple[str, ...]:
    if given is None:
        return tuple(default)
    names = tuple(str(name) for name in given)
    if len(names) < count:
        raise DataValidationError(f"UpliftTrial: {what} has {len(names)} name(s) but the codes go up to {count - 1}.")
    return names


def _require_every_level(codes: np.ndarray, names: tuple[str, ...], what: str) -> None:
    counts = np.bincount(codes, minlength=len(names))
    empty = [names[k] for k in np.flatnonzero(counts == 0)]
    if empty:
        raise DataValidationError(f"UpliftTrial: no customers in {what}(s) {empty}; every {what} needs at least one.")


def _require_variation(covariates: np.ndarray, names: tuple[str, ...]) -> None:
    if covariates.shape[0] < 2:
        return
    constant = [names[j] for j in np.flatnonzero(covariates.std(axis=0) == 0)]
    if constant:
        raise DataValidationError(
            f"UpliftTrial: covariate(s) {constant} take a single value; a constant is not identifiable next to the "
            "intercept: drop it."
        )


def trial_from_hillstrom(
    table: pd.DataFrame,
    outcome: Literal["visit", "conversion"] = "conversion",
    arms: Literal["split", "any"] = "split",
) -> UpliftTrial:
    """The Hillstrom trial as an :class:`UpliftTrial` on the simulator's covariate design.

    Parameters
    ----------
    table
        Output of :func:`journeygym.calibration.hillstrom.load_hillstrom`.
    outcome
        ``"visit"`` or ``"conversion"``.
    arms
        ``"split"``: arms No E-Mail, Mens E-Mail, Womens E-Mail; ``"any"``:
        No E-Mail versus any e-mail.

    Returns
    -------
    UpliftTrial
        Segments are the seven history segments; covariates are
        :func:`journeygym.envs.covariates.design_matrix` (``COVARIATE_NAMES``).
    """
    if outcome not in ("visit", "conversion"):
        raise DataValidationError(f"trial_from_hillstrom: outcome must be 'visit' or 'conversion'; received {outcome!r}.")
    if arms not in ("split", "any"):
        raise DataValidationError(f"trial_from_hillstrom: arms must be 'split' or 'any'; received {arms!r}.")
    required = ("recency", "history", "mens", "womens", "newbie", "zip_idx", "channel_idx", "segment_idx", "arm", outcome)
    _require_columns(table, required, "trial_from_hillstrom (load the table with load_hillstrom)")
    covariates = design_matrix(
        table["recency"], table["history"], table["mens"], table["womens"], table["newbie"], table["zip_idx"], table["channel_idx"]
    )
    arm = table["arm"].to_numpy()
    arm_names: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    if arms == "any":
        arm, arm_names = (arm > 0).astype(np.int64), ("No E-Mail", "Any E-Mail")
    return UpliftTrial(
        outcome=table[outcome].to_numpy(),
        arm=arm,
        segment=table["segment_idx"].to_numpy(),
        covariates=covariates,
        covariate_names=COVARIATE_NAMES,
        arm_names=arm_names,
        segment_names=HISTORY_SEGMENTS,
        outcome_name=outcome,
    )


# --------------------------------------------------------------------------
# priors and the PyMC models
# --------------------------------------------------------------------------


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
class _Design:
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
        return (self.covariates - self.center) / self.scale


def _unique_rows(columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a 2-D array and, for each input row, the index of its unique row."""
    unique, inverse = np.unique(columns, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _build_design(trial: UpliftTrial, standardize: bool) -> _Design:
    keys = np.column_stack([trial.segment, trial.arm, trial.covariates]).astype(np.float64)
    unique, inverse = _unique_rows(keys)
    trials = np.bincount(inverse, minlength=unique.shape[0]).astype(np.float64)
    events = np.bincount(inverse, weights=trial.outcome, minlength=unique.shape[0])
    if standardize and trial.covariates.shape[1]:
        center, scale = trial.covariates.mean(axis=0), trial.covariates.std(axis=0)
    else:
        center, scale = np.zeros(trial.covariates.shape[1]), np.ones(trial.covariates.shape[1])
    return _Design(
        covariates=np.ascontiguousarray(unique[:, 2:]),
        segment=unique[:, 0].astype(np.int64),
        arm=unique[:, 1].astype(np.int64),
        trials=trials,
        events=events,
        center=center,
        scale=scale,
    )


def _build_model(
    trial: UpliftTrial,
    design: _Design,
    kind: ModelKind,
    priors: UpliftPriors,
    segment_intercepts: bool,
) -> Any:
    """The PyMC model; its likelihood is one binomial term per unique row of the design.

    The linear predictor is ``whitened @ fixed_white + cell_offset[segment, arm]``:
    one thin matrix-vector product for intercept and covariates, and a lookup
    of everything that depends only on the customer's segment and arm.
    Three exact reparameterizations (see the module docstring) make the
    posterior close to isotropic, so NUTS needs few steps per draw.
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
        pm.Potential("loglik", linear - _softplus_sum(linear_predictor, design.trials))
        pm.Deterministic("alpha_raw", intercept + segment_offset - shift, dims="segment")
    return model


def _softplus_sum(linear_predictor: Any, weights: np.ndarray) -> Any:
    """``sum(weights * log(1 + exp(linear_predictor)))`` as one fused, numba-compiled pass when available."""
    op = _logistic_loss_op()
    if op is None:
        import pytensor.tensor as pt

        return pt.dot(weights, pt.softplus(linear_predictor))
    return op(linear_predictor, weights)[0]


_LOSS_OP: list[Any] = []


def _logistic_loss_op() -> Any:
    """The fused loss Op, or ``None`` where this PyTensor cannot take a numba implementation.

    PyTensor computes ``softplus`` and its derivative ``sigmoid`` as separate
    element-wise passes with their own exponentials and temporaries; one loop
    computing both from a single ``exp(-|linear_predictor|)`` roughly halves the cost of a
    gradient, which is most of the sampler's time.
    """
    if _LOSS_OP:
        return _LOSS_OP[0]
    try:
        from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_default_op_cache_key
    except ImportError:
        _LOSS_OP.append(None)
        return None
    op_class = _make_loss_op_class()

    @register_funcify_default_op_cache_key(op_class)
    def _numba_loss(op: Any, node: Any = None, **kwargs: Any) -> Any:
        @numba_njit
        def loss(linear_predictor: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            derivative = np.empty(linear_predictor.shape[0])
            total = 0.0
            for i in range(linear_predictor.shape[0]):
                x = linear_predictor[i]
                small = math.exp(-abs(x))
                total += weights[i] * (max(x, 0.0) + math.log1p(small))
                inverse = 1.0 / (1.0 + small)
                derivative[i] = weights[i] * (inverse if x >= 0.0 else small * inverse)
            return np.asarray(total), derivative

        return loss

    _LOSS_OP.append(op_class())
    return _LOSS_OP[0]


def _make_loss_op_class() -> type:
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class LogisticLoss(Op):
        """``(sum(w * softplus(lp)), w * sigmoid(lp))``: the loss and its gradient in the linear predictor ``lp``."""

        __props__ = ()

        def make_node(self, linear_predictor: Any, weights: Any) -> Apply:
            linear_predictor = pt.as_tensor_variable(linear_predictor).astype("float64")
            weights = pt.as_tensor_variable(weights).astype("float64")
            return Apply(self, [linear_predictor, weights], [pt.dscalar(), pt.dvector()])

        def perform(self, node: Apply, inputs: list[np.ndarray], outputs: list[list[Any]]) -> None:
            linear_predictor, weights = inputs
            outputs[0][0] = np.asarray(np.dot(weights, np.logaddexp(0.0, linear_predictor)))
            outputs[1][0] = weights * _sigmoid(linear_predictor)

        def connection_pattern(self, node: Apply) -> list[list[bool]]:
            return [[True, True], [False, False]]

        def grad(self, inputs: list[Any], output_grads: list[Any]) -> list[Any]:
            linear_predictor, weights = inputs
            if not isinstance(output_grads[1].type, DisconnectedType):
                raise NotImplementedError("LogisticLoss: the derivative output has no gradient of its own.")
            return [output_grads[0] * self(linear_predictor, weights)[1], DisconnectedType()()]

    LogisticLoss.__qualname__ = LogisticLoss.__name__ = "JourneygymLogisticLoss"
    return LogisticLoss


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



# --------------------------------------------------------------------------
# sampling and diagnostics
# --------------------------------------------------------------------------


def _sample(
    model: Any, draws: int, tune: int, chains: int, seed: int, cores: int, target_accept: float, low_rank: bool
) -> tuple[Any, dict[str, Any]]:
    """Sample with nutpie (PyMC's NUTS if nutpie is missing); returns the trace and timings."""
    from threadpoolctl import threadpool_limits

    info: dict[str, Any] = {}
    # Chains run in parallel threads; a multi-threaded BLAS inside each gradient
    # oversubscribes the cores and halves the speed.
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            import nutpie
        except ImportError:
            nutpie = None
        if nutpie is not None:
            start = time.perf_counter()
            compiled = nutpie.compile_pymc_model(model, backend="numba")
            info["compile_seconds"] = time.perf_counter() - start
            start = time.perf_counter()
            idata = nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
                low_rank_modified_mass_matrix=low_rank,
                save_warmup=False,
            )
            info["sampling_seconds"] = time.perf_counter() - start
            info["sampler"] = f"nutpie {nutpie.__version__} (numba)"
        else:
            import pymc as pm

            start = time.perf_counter()
            with model:
                idata = pm.sample(
                    draws=draws,
                    tune=tune,
                    chains=chains,
                    cores=cores,
                    random_seed=seed,
                    target_accept=target_accept,
                    progressbar=False,
                    compute_convergence_checks=False,
                )
            info["compile_seconds"] = 0.0
            info["sampling_seconds"] = time.perf_counter() - start
            info["sampler"] = f"pymc {pm.__version__} NUTS (nutpie not installed)"
    return idata, info


def check_convergence(
    idata: Any, var_names: Sequence[str] | None = None, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN
) -> dict[str, Any]:
    """Convergence diagnostics of a posterior against fixed criteria.

    Parameters
    ----------
    idata
        ArviZ InferenceData with a ``posterior`` group and ``sample_stats``.
    var_names
        Parameters to check (default: all posterior variables).
    rhat_max, ess_min
        Largest split R-hat and smallest bulk and tail ESS accepted.

    Returns
    -------
    dict
        ``passed``, ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``,
        ``divergences``, ``failures`` (list of ``"parameter: statistic =
        value"``) and ``criteria``; all plain Python values.
    """
    import arviz as az

    names = list(var_names) if var_names is not None else list(idata.posterior.data_vars)
    posterior = idata.posterior[names]
    rows = {
        "r_hat": az.rhat(posterior),
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
    }
    failures: list[str] = []
    extremes: dict[str, float] = {}
    for statistic, dataset in rows.items():
        worst_overall = math.nan
        for name in names:
            values = np.asarray(dataset[name].values, dtype=np.float64).reshape(-1)
            labels = _element_labels(dataset[name])
            bad = values > rhat_max if statistic == "r_hat" else values < ess_min
            bad |= ~np.isfinite(values)
            failures.extend(f"{name}{labels[k]}: {statistic} = {values[k]:.4g}" for k in np.flatnonzero(bad))
            finite = values[np.isfinite(values)]
            if finite.size:
                worst = finite.max() if statistic == "r_hat" else finite.min()
                worst_overall = worst if math.isnan(worst_overall) else (
                    max(worst_overall, worst) if statistic == "r_hat" else min(worst_overall, worst)
                )
        extremes[statistic] = float(worst_overall)
    divergences = int(np.asarray(idata.sample_stats["diverging"]).sum())
    if divergences:
        failures.append(f"sampler: {divergences} divergent transition(s)")
    return {
        "passed": not failures,
        "max_rhat": extremes["r_hat"],
        "min_ess_bulk": extremes["ess_bulk"],
        "min_ess_tail": extremes["ess_tail"],
        "divergences": divergences,
        "failures": failures,
        "criteria": {"rhat_max": rhat_max, "ess_bulk_min": ess_min, "ess_tail_min": ess_min, "divergences": 0},
    }


def _element_labels(array: Any) -> list[str]:
    dims = [dim for dim in array.dims]
    if not dims:
        return [""]
    grids = np.meshgrid(*[array.coords[dim].values if dim in array.coords else np.arange(array.sizes[dim]) for dim in dims], indexing="ij")
    flat = [grid.reshape(-1) for grid in grids]
    return ["[" + ", ".join(str(part[k]) for part in flat) + "]" for k in range(flat[0].shape[0])]


# --------------------------------------------------------------------------
# decisions
# --------------------------------------------------------------------------


def decide(prob_positive: float | np.ndarray) -> np.ndarray:
    """The seed's targeting rule on P(uplift > 0).

    ``"target"`` (target confidently) when P >= 0.90, ``"monitor"`` (promising,
    monitor or test more) when 0.70 <= P < 0.90, else ``"deprioritize"``.
    See :data:`DECISION_LABELS` for the long labels.
    """
    p = np.asarray(prob_positive, dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"decide: probabilities must lie in [0, 1]; received {p.reshape(-1)[:5].tolist()}.")
    return np.select([p >= TARGET_PROBABILITY, p >= MONITOR_PROBABILITY], ["target", "monitor"], default="deprioritize")


# --------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------


class BayesianUpliftModel:
    """Bayesian logistic uplift model of a randomized trial (pooled or hierarchical).

    Parameters
    ----------
    kind : {"hierarchical", "pooled"}
        The model (see the module docstring).
    draws, tune, chains : int
        Posterior draws per chain, warm-up iterations per chain and chains.
    seed : int
        Seed of the sampler and of the predictive checks; the same seed gives
        the same posterior.
    priors : UpliftPriors, optional
        Prior scales (default :class:`UpliftPriors`).
    on_failure : {"warn", "raise"}
        What to do when the convergence diagnostics fail.
    standardize : bool
        Sample on centred and scaled covariates (recommended); ``False``
        puts the priors on the covariates as given.
    segment_intercepts : bool
        A partially pooled intercept per segment (hierarchical and pooled).
        Off by default: the simulator carries baseline differences between
        segments through the covariates only.
    target_accept : float
        Target acceptance rate of NUTS's step-size adaptation.  The default
        0.95 (PyMC's is 0.8) is what leaves the hierarchical models on the full
        Hillstrom trial without divergent transitions: at 0.8 a few draws in the
        tail of ``sigma_t`` diverged.  Warm-up of 600 iterations (nutpie's
        default is 300) pays for the smaller steps.
    cores : int, optional
        Chains sampled in parallel (default: ``min(chains, CPU count)``).

    Attributes
    ----------
    idata_ : arviz.InferenceData
        Posterior (and, after :meth:`prior_predictive_check`, prior) draws.
    diagnostics_ : dict
        Convergence diagnostics (:func:`check_convergence`) and timings.
    trial_ : UpliftTrial
        The fitted trial.
    """

    def __init__(
        self,
        kind: ModelKind = "hierarchical",
        draws: int = 1000,
        tune: int = 600,
        chains: int = 4,
        seed: int = 0,
        priors: UpliftPriors | None = None,
        on_failure: OnFailure = "warn",
        *,
        standardize: bool = True,
        segment_intercepts: bool = False,
        target_accept: float = 0.95,
        mass_matrix: Literal["diag", "low_rank"] = "low_rank",
        cores: int | None = None,
    ) -> None:
        if kind not in ("pooled", "hierarchical"):
            raise ValueError(f"kind: received {kind!r}, expected 'pooled' or 'hierarchical'.")
        if on_failure not in ("warn", "raise"):
            raise ValueError(f"on_failure: received {on_failure!r}, expected 'warn' or 'raise'.")
        for name, value, lowest in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
            if not isinstance(value, (int, np.integer)) or value < lowest:
                raise ValueError(f"{name}: received {value!r}, expected an integer >= {lowest}.")
        if not 0.0 < target_accept < 1.0:
            raise ValueError(f"target_accept: received {target_accept!r}, expected a number in (0, 1).")
        if priors is not None and not isinstance(priors, UpliftPriors):
            raise TypeError(f"priors: received {type(priors).__name__}, expected UpliftPriors.")
        self.kind = kind
        self.draws = int(draws)
        self.tune = int(tune)
        self.chains = int(chains)
        self.seed = int(seed)
        self.priors = priors or UpliftPriors()
        self.on_failure = on_failure
        self.standardize = standardize
        self.segment_intercepts = segment_intercepts
        self.target_accept = float(target_accept)
        if mass_matrix not in ("diag", "low_rank"):
            raise ValueError(f"mass_matrix: received {mass_matrix!r}, expected 'diag' or 'low_rank'.")
        self.mass_matrix = mass_matrix
        self.cores = cores
        self._cache: dict[str, Any] = {}

    # ---------------------------------------------------------------- fitting

    def build(self, trial: UpliftTrial) -> Any:
        """The PyMC model for a trial, unfitted (for inspection or prior checks)."""
        design = _build_design(trial, self.standardize)
        return _build_model(trial, design, self.kind, self.priors, self.segment_intercepts)

    def fit(self, trial: UpliftTrial) -> BayesianUpliftModel:
        """Sample the posterior and check convergence.

        Parameters
        ----------
        trial
            The trial (see :class:`UpliftTrial`, :func:`trial_from_frame`,
            :func:`trial_from_hillstrom`).

        Returns
        -------
        BayesianUpliftModel
            ``self``, with ``idata_``, ``diagnostics_`` and ``trial_`` set.

        Raises
        ------
        ConvergenceError
            With ``on_failure="raise"`` when a diagnostic fails.
        """
        if not isinstance(trial, UpliftTrial):
            raise TypeError(f"fit: received {type(trial).__name__}, expected UpliftTrial (see trial_from_frame).")
        start = time.perf_counter()
        self._cache = {}
        self._design = _build_design(trial, self.standardize)
        self._model = _build_model(trial, self._design, self.kind, self.priors, self.segment_intercepts)
        cores = self.cores or min(self.chains, os.cpu_count() or 1)
        idata, timing = _sample(
            self._model, self.draws, self.tune, self.chains, self.seed, cores, self.target_accept,
            self.mass_matrix == "low_rank",
        )
        self.trial_ = trial
        self.idata_ = idata
        self.diagnostics_ = {
            **check_convergence(idata, self._parameter_names()),
            **timing,
            "wall_seconds": time.perf_counter() - start,
            "customers": trial.n_customers,
            "likelihood_rows": int(self._design.trials.shape[0]),
        }
        self._report_convergence()
        return self

    def _parameter_names(self) -> list[str]:
        """Model parameters and deterministics, without the sampler's unconstrained copies (``*_log__``)."""
        declared = [variable.name for variable in (*self._model.free_RVs, *self._model.deterministics)]
        return [name for name in declared if name in self.idata_.posterior]

    def _report_convergence(self) -> None:
        diagnostics = self.diagnostics_
        if diagnostics["passed"]:
            return
        shown = diagnostics["failures"][:12]
        more = len(diagnostics["failures"]) - len(shown)
        message = (
            f"{self.kind} uplift model of {self.trial_.outcome_name!r} failed its convergence checks "
            f"(R-hat <= {RHAT_MAX}, bulk and tail ESS >= {ESS_MIN}, no divergences): " + "; ".join(shown)
            + (f"; and {more} more" if more > 0 else "")
            + ". Do not use this posterior: sample longer (draws, tune), raise target_accept, or revisit the priors."
        )
        if self.on_failure == "raise":
            raise ConvergenceError(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)

    def _require_fit(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError("This BayesianUpliftModel is not fitted yet: call fit(trial) first.")

    # ------------------------------------------------------------ draws

    def _stacked(self, name: str) -> np.ndarray:
        values = self.idata_.posterior[name].values
        return values.reshape((-1, *values.shape[2:]))

    @property
    def n_samples_(self) -> int:
        """Posterior samples over all chains."""
        self._require_fit()
        return int(self.idata_.posterior.sizes["chain"] * self.idata_.posterior.sizes["draw"])

    @property
    def effect_draws_(self) -> np.ndarray:
        """Treatment effects on the log-odds scale, ``(n_samples, G, A)``, A the treated arms (control excluded)."""
        self._require_fit()
        return _effects(self._stacked("tau"), self.trial_.n_segments)

    @property
    def covariate_effects_draws_(self) -> np.ndarray:
        """Covariate effects per raw unit of the design, ``(n_samples, n_covariates)``."""
        self._require_fit()
        return self._stacked_or_empty("beta")

    @property
    def covariate_effects_std_draws_(self) -> np.ndarray:
        """Covariate effects per standard deviation of the covariate, ``(n_samples, n_covariates)``."""
        self._require_fit()
        return self._stacked_or_empty("beta_std")

    def _stacked_or_empty(self, name: str) -> np.ndarray:
        if name in self.idata_.posterior:
            return self._stacked(name)
        return np.zeros((self.n_samples_, 0))

    @property
    def intercept_draws_(self) -> np.ndarray:
        """Intercept on the raw design scale per segment (log-odds of control at x = 0), ``(n_samples, G)``."""
        self._require_fit()
        return self._stacked("alpha_raw")

    @property
    def uplift_draws_(self) -> np.ndarray:
        """Average treatment effect on the probability scale, ``(n_samples, G, A)``, A the treated arms.

        For each posterior draw, segment and treatment arm: the mean over the
        segment's customers (all arms) of ``sigmoid(c + tau) - sigmoid(c)``, ``c`` the customer's control log-odds.
        """
        self._require_fit()
        if "uplift" not in self._cache:
            self._cache["uplift"] = _average_effects(
                self.trial_, self.intercept_draws_, self.covariate_effects_draws_, self.effect_draws_
            )[1]
        return self._cache["uplift"]

    @property
    def control_rate_draws_(self) -> np.ndarray:
        """Model-implied control rate per segment, ``(n_samples, G)`` (mean over the segment's customers)."""
        self._require_fit()
        if "control" not in self._cache:
            self._cache["control"], self._cache["uplift"] = _average_effects(
                self.trial_, self.intercept_draws_, self.covariate_effects_draws_, self.effect_draws_
            )
        return self._cache["control"]

    # ------------------------------------------------------------ reports

    def summary(self) -> pd.DataFrame:
        """Decision table, one row per segment x treatment arm.

        Returns
        -------
        pandas.DataFrame
            Columns ``segment``, ``arm``, ``n_control``, ``n_treated``,
            ``observed_uplift`` (raw difference of rates), ``effect_logodds``
            (posterior mean of tau), ``uplift_mean``, ``uplift_p10``,
            ``uplift_p90`` (80% interval), ``prob_positive`` (P(uplift > 0))
            and ``decision`` (:func:`decide`).
        """
        self._require_fit()
        uplift, effects = self.uplift_draws_, self.effect_draws_
        counts = self.trial_.cell_counts().set_index(["segment", "arm"])
        rows = []
        for g, segment in enumerate(self.trial_.segment_names):
            control = counts.loc[(g, 0)]
            for a, arm in enumerate(self.trial_.arm_names[1:]):
                treated = counts.loc[(g, a + 1)]
                draws = uplift[:, g, a]
                low, high = np.quantile(draws, _INTERVAL)
                rows.append(
                    {
                        "segment": segment,
                        "arm": arm,
                        "n_control": int(control["n"]),
                        "n_treated": int(treated["n"]),
                        "observed_uplift": float(treated["rate"] - control["rate"]),
                        "effect_logodds": float(effects[:, g, a].mean()),
                        "uplift_mean": float(draws.mean()),
                        "uplift_p10": float(low),
                        "uplift_p90": float(high),
                        "prob_positive": float((draws > 0).mean()),
                    }
                )
        table = pd.DataFrame(rows)
        table["decision"] = decide(table["prob_positive"].to_numpy())
        return table

    def parameter_summary(self) -> pd.DataFrame:
        """ArviZ summary (mean, sd, 90% HDI, ESS, R-hat) of every posterior variable."""
        import arviz as az

        self._require_fit()
        return az.summary(self.idata_, hdi_prob=0.9)

    def prior_predictive_check(self, draws: int = 500) -> pd.DataFrame:
        """Implied control rate and uplift under the prior alone.

        Samples the priors with :func:`pymc.sample_prior_predictive` (stored
        as the ``prior`` group of ``idata_``) and pushes each draw through the
        trial's customers.

        Returns
        -------
        pandas.DataFrame
            One row per quantity (``control_rate`` overall, ``uplift`` per
            arm and per segment x arm) with the prior 5%, 50% and 95% points.
        """
        import pymc as pm

        self._require_fit()
        with warnings.catch_warnings():
            # The likelihood is a Potential; prior draws rightly ignore it. The
            # forward sampler is tiny, so a missing BLAS link does not matter.
            warnings.filterwarnings("ignore", message=".*Potential.*")
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            prior = pm.sample_prior_predictive(
                draws=draws, model=self._model, random_seed=self.seed, var_names=self._parameter_names()
            )
        if "prior" not in self.idata_.groups():
            self.idata_.extend(prior)
        samples = prior.prior
        stacked = {name: values.reshape((-1, *values.shape[2:])) for name, values in _draw_arrays(samples).items()}
        stacked.setdefault("beta", np.zeros((stacked["tau"].shape[0], 0)))
        control, uplift = _average_effects(
            self.trial_, stacked["alpha_raw"], stacked["beta"], _effects(stacked["tau"], self.trial_.n_segments)
        )
        weights = np.bincount(self.trial_.segment, minlength=self.trial_.n_segments) / self.trial_.n_customers
        rows = [_quantile_row("control_rate", "all", "control", control @ weights)]
        for a, arm in enumerate(self.trial_.arm_names[1:]):
            rows.append(_quantile_row("uplift", "all", arm, uplift[:, :, a] @ weights))
            for g, segment in enumerate(self.trial_.segment_names):
                rows.append(_quantile_row("uplift", segment, arm, uplift[:, g, a]))
        table = pd.DataFrame(rows)
        self._cache["prior_check"] = table
        return table

    def posterior_predictive_check(self, draws: int = 1000) -> pd.DataFrame:
        """Observed versus posterior predictive outcome rates.

        For ``draws`` evenly spaced posterior samples, new outcomes are drawn
        for every customer (binomially per unique row, which is exact) and the
        rates recomputed overall, per arm and per segment x arm.

        Returns
        -------
        pandas.DataFrame
            Columns ``segment``, ``arm``, ``n``, ``observed``,
            ``predictive_mean``, ``predictive_p05``, ``predictive_p95`` and
            ``inside`` (observed within the 90% predictive interval).
        """
        self._require_fit()
        picks = np.unique(np.linspace(0, self.n_samples_ - 1, min(draws, self.n_samples_)).round().astype(int))
        design = self._design
        rng = np.random.default_rng(self.seed)
        linear_predictor = self._linear_predictor(picks)
        simulated = rng.binomial(design.trials.astype(np.int64)[None, :], _sigmoid(linear_predictor))
        groups = {
            ("all", "all"): np.ones_like(design.arm, dtype=bool),
            **{("all", arm): design.arm == a for a, arm in enumerate(self.trial_.arm_names)},
            **{
                (segment, arm): (design.segment == g) & (design.arm == a)
                for g, segment in enumerate(self.trial_.segment_names)
                for a, arm in enumerate(self.trial_.arm_names)
            },
        }
        rows = []
        for (segment, arm), mask in groups.items():
            n = design.trials[mask].sum()
            if n == 0:
                continue
            rates = simulated[:, mask].sum(axis=1) / n
            low, high = np.quantile(rates, _PREDICTIVE_INTERVAL)
            observed = design.events[mask].sum() / n
            rows.append(
                {
                    "segment": segment,
                    "arm": arm,
                    "n": int(n),
                    "observed": float(observed),
                    "predictive_mean": float(rates.mean()),
                    "predictive_p05": float(low),
                    "predictive_p95": float(high),
                    "inside": bool(low <= observed <= high),
                }
            )
        table = pd.DataFrame(rows)
        self._cache["posterior_check"] = table
        return table

    def _linear_predictor(self, picks: np.ndarray) -> np.ndarray:
        """Linear predictor of every unique design row for the picked samples, ``(len(picks), m)``."""
        design = self._design
        alpha = self.intercept_draws_[picks][:, design.segment]
        effects = np.concatenate([np.zeros((picks.size, self.trial_.n_segments, 1)), self.effect_draws_[picks]], axis=2)
        return alpha + self.covariate_effects_draws_[picks] @ design.covariates.T + effects[:, design.segment, design.arm]

    def plot_uplift(self, path: str | os.PathLike[str]) -> Path:
        """Interval plot of the uplift per segment x arm, coloured by decision.

        Each row shows the posterior mean uplift (probability scale) with its
        80% interval; colours follow :data:`DECISION_LABELS`.

        Returns
        -------
        pathlib.Path
            The written image (format from the file suffix, e.g. ``.png``).
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D

        table = self.summary()
        labels = [f"{row.segment} | {row.arm}" for row in table.itertuples()]
        figure = Figure(figsize=(8.0, 1.2 + 0.32 * len(table)))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = np.arange(len(table))[::-1]
        colors = [_DECISION_COLORS[d] for d in table["decision"]]
        axes.hlines(positions, table["uplift_p10"], table["uplift_p90"], colors=colors, linewidth=2.5)
        axes.scatter(table["uplift_mean"], positions, color=colors, zorder=3, s=22)
        axes.axvline(0.0, color="0.4", linestyle="--", linewidth=1)
        axes.set_yticks(positions, labels, fontsize=8)
        axes.set_xlabel(f"uplift in P({self.trial_.outcome_name}) (posterior mean, 80% interval)")
        axes.set_title(f"{self.kind.capitalize()} Bayesian uplift by segment x arm")
        handles = [Line2D([0], [0], color=_DECISION_COLORS[k], linewidth=2.5, label=v) for k, v in DECISION_LABELS.items()]
        axes.legend(handles=handles, fontsize=7, loc="best")
        figure.tight_layout()
        target = Path(path)
        figure.savefig(target, dpi=120)
        return target

    def _posterior_check(self) -> pd.DataFrame:
        """The last posterior predictive check, run with its defaults if none was yet."""
        cached = self._cache.get("posterior_check")
        return cached if cached is not None else self.posterior_predictive_check()

    def to_json(self, indent: int | None = 2) -> str:
        """JSON report: settings, priors, diagnostics, parameter summary, decision table, predictive checks."""
        self._require_fit()
        parameters = self.parameter_summary()
        covariates = pd.DataFrame(
            {
                "covariate": list(self.trial_.covariate_names),
                "raw_mean": self.covariate_effects_draws_.mean(axis=0),
                "raw_sd": self.covariate_effects_draws_.std(axis=0),
                "std_mean": self.covariate_effects_std_draws_.mean(axis=0),
                "std_sd": self.covariate_effects_std_draws_.std(axis=0),
                "center": self._design.center,
                "scale": self._design.scale,
            }
        )
        report = {
            "model": {
                "kind": self.kind,
                "outcome": self.trial_.outcome_name,
                "arms": list(self.trial_.arm_names),
                "segments": list(self.trial_.segment_names),
                "covariates": list(self.trial_.covariate_names),
                "draws": self.draws,
                "tune": self.tune,
                "chains": self.chains,
                "seed": self.seed,
                "standardize": self.standardize,
                "segment_intercepts": self.segment_intercepts,
                "priors": asdict(self.priors),
            },
            "diagnostics": self.diagnostics_,
            "posterior": parameters.reset_index(names="parameter").to_dict(orient="records"),
            "covariate_effects": covariates.to_dict(orient="records"),
            "decisions": self.summary().to_dict(orient="records"),
            "posterior_predictive": self._posterior_check().to_dict(orient="records"),
        }
        if "prior_check" in self._cache:
            report["prior_predictive"] = self._cache["prior_check"].to_dict(orient="records")
        return json.dumps(to_jsonable(report, nonfinite_as_none=True), indent=indent, allow_nan=False)




def _draw_arrays(samples: Any) -> dict[str, np.ndarray]:
    return {name: samples[name].values for name in ("alpha_raw", "beta", "tau") if name in samples}


def _quantile_row(quantity: str, segment: str, arm: str, values: np.ndarray) -> dict[str, Any]:
    low, mid, high = np.quantile(values, (0.05, 0.5, 0.95))
    return {"quantity": quantity, "segment": segment, "arm": arm, "p05": float(low), "p50": float(mid), "p95": float(high)}


def _effects(tau: np.ndarray, n_segments: int) -> np.ndarray:
    """Treatment effects as ``(n_samples, G, A)`` from either model's ``tau``."""
    if tau.ndim == 2:  # pooled: one effect per arm, shared by the segments
        return np.repeat(tau[:, None, :], n_segments, axis=1)
    return tau


def _sigmoid(x: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(x)


def _average_effects(
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
    unique, inverse = _unique_rows(keys)
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


# --------------------------------------------------------------------------
# any trial from a table
# --------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return
    received = [str(column) for column in frame.columns]
    hints = []
    for column in missing:
        close = _closest(str(column), received)
        hints.append(f"{column!r}" + (f" (did you mean {close!r}?)" if close else ""))
    raise DataValidationError(f"{where}: missing column(s) {', '.join(hints)}; the table has {received}.")


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like ``name``, ignoring case, if any is close."""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _first_rows(mask: np.ndarray, index: pd.Index) -> list[Any]:
    return [_plain(v) for v in index[np.flatnonzero(mask)[:5]]]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _check_no_missing(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    problems = []
    for column in columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            problems.append(f"{column!r}: {int(missing.sum())} missing, first at row(s) {_first_rows(missing, frame.index)}")
    if problems:
        raise DataValidationError("Missing values in the trial table: " + "; ".join(problems) + ". Fill or drop those rows.")


def _binary_outcome(series: pd.Series) -> np.ndarray:
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(series):
        return values.astype(np.int64)
    levels = pd.unique(series)
    if pd.api.types.is_numeric_dtype(series) and set(np.asarray(levels, dtype=np.float64).tolist()) <= {0.0, 1.0}:
        return values.astype(np.int64)
    shown = [_plain(v) for v in levels[:10]]
    raise DataValidationError(
        f"Outcome column {series.name!r} must be binary (0/1 or True/False); received {len(levels)} level(s) {shown}. "
        "Recode it, e.g. df[col] = (df[col] == 'yes').astype(int)."
    )


def _arm_levels(series: pd.Series, control: Any) -> list[Any]:
    levels = list(pd.unique(series))
    shown = [_plain(v) for v in levels]
    if len(levels) < 2:
        raise DataValidationError(
            f"Treatment column {series.name!r} has a single level {shown}; an uplift analysis needs a control and at "
            "least one treatment arm."
        )
    if control is None:
        numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
        if numeric and set(np.asarray(levels, dtype=np.float64).tolist()) == {0.0, 1.0}:
            control = levels[[float(v) for v in levels].index(0.0)]
        elif "No E-Mail" in levels:
            control = "No E-Mail"
        else:
            raise DataValidationError(
                f"Treatment column {series.name!r} has levels {shown}; name the control level with "
                f"{option_setting('control', metavar='LEVEL')}."
            )
    matches = [level for level in levels if _same_level(level, control)]
    if not matches:
        raise DataValidationError(f"{option_setting('control', control)} is not a level of {series.name!r}; its levels are {shown}.")
    rest = sorted((level for level in levels if not _same_level(level, matches[0])), key=_sort_key)
    return [matches[0], *rest]


def _same_level(level: Any, control: Any) -> bool:
    """Whether a column level equals the control given (also as text, e.g. ``"2"`` for 2 from the CLI)."""
    if level == control or str(level) == str(control):
        return True
    try:
        return float(level) == float(control)
    except (TypeError, ValueError):
        return False


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else (1, str(value))


def _codes(series: pd.Series, levels: Sequence[Any]) -> np.ndarray:
    lookup = {level: k for k, level in enumerate(levels)}
    return series.map(lookup).to_numpy(dtype=np.int64)


def _covariate_block(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64)[:, None], [str(series.name)]
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise DataValidationError(f"Covariate {series.name!r} holds infinite values; received {values[~np.isfinite(values)][:5].tolist()}.")
        return values[:, None], [str(series.name)]
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if (series == level).any()]
    else:
        levels = sorted(pd.unique(series), key=_sort_key)
    if len(levels) < 2:
        raise DataValidationError(f"Covariate {series.name!r} has a single level {levels}; drop it.")
    columns = np.column_stack([(series == level).to_numpy(dtype=np.float64) for level in levels[1:]])
    return columns, [f"{series.name}[{level}]" for level in levels[1:]]


def trial_from_frame(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    segment: str | None = None,
    covariates: Sequence[str] | None = None,
    control: Any = None,
) -> UpliftTrial:
    """Build an :class:`UpliftTrial` from a table of any randomized trial.

    Parameters
    ----------
    frame
        One row per randomized unit.
    treatment
        Column of the assigned arm (binary or multi-arm).
    outcome
        Column of the binary outcome (0/1 or True/False).
    segment
        Optional column whose levels get their own treatment effects.
    covariates
        Optional pre-treatment columns: numeric ones enter as they are,
        categorical ones as indicators of every level but the first.
    control
        The control level of ``treatment``. Optional when the column is 0/1
        (control 0) or holds ``"No E-Mail"`` (the Hillstrom control).

    Returns
    -------
    UpliftTrial

    Raises
    ------
    DataValidationError
        Missing columns, missing values, a non-binary outcome, a single arm,
        an unknown or missing control level, a constant covariate.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"Expected a pandas DataFrame; received {type(frame).__name__}.")
    covariates = list(covariates or [])
    named = [treatment, outcome, *([segment] if segment is not None else []), *covariates]
    _require_columns(frame, named, "trial table")
    if len(frame) == 0:
        raise DataValidationError("The trial table has no rows.")
    leaking = [column for column in covariates if column in (treatment, outcome)]
    if leaking:
        raise DataValidationError(f"Covariates {leaking} repeat the treatment or outcome column; use pre-treatment columns only.")
    if segment is not None and segment in (treatment, outcome):
        raise DataValidationError(
            f"{option_setting('segment', segment)} is the treatment or outcome column; pick a pre-treatment column."
        )
    _check_no_missing(frame, list(dict.fromkeys(named)))
    y = _binary_outcome(frame[outcome])
    arm_levels = _arm_levels(frame[treatment], control)
    arm = _codes(frame[treatment], arm_levels)
    segment_codes, segment_names = None, None
    if segment is not None:
        segment_levels = sorted(pd.unique(frame[segment]), key=_sort_key)
        segment_codes, segment_names = _codes(frame[segment], segment_levels), [str(v) for v in segment_levels]
    blocks, names = [], []
    for column in covariates:
        values, labels = _covariate_block(frame[column])
        blocks.append(values)
        names.extend(labels)
    return UpliftTrial(
        outcome=y,
        arm=arm,
        segment=segment_codes,
        covariates=np.column_stack(blocks) if blocks else None,
        covariate_names=names,
        arm_names=[str(v) for v in arm_levels],
        segment_names=segment_names,
        outcome_name=str(outcome),
    )


def analyze_trial(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    segment: str | None = None,
    covariates: Sequence[str] | None = None,
    control: Any = None,
    *,
    kind: Literal["auto", "pooled", "hierarchical"] = "auto",
    draws: int = 1000,
    tune: int = 600,
    chains: int = 4,
    seed: int = 0,
    priors: UpliftPriors | None = None,
    on_failure: OnFailure = "warn",
    segment_intercepts: bool = True,
) -> BayesianUpliftModel:
    """Fit a Bayesian uplift model to any randomized trial in a table.

    Parameters
    ----------
    frame, treatment, outcome, segment, covariates, control
        See :func:`trial_from_frame`.
    kind
        ``"auto"``: hierarchical when a segment column is given, else pooled.
    draws, tune, chains, seed, priors, on_failure
        See :class:`BayesianUpliftModel`.
    segment_intercepts
        Give each segment its own baseline rate (partially pooled). On by
        default here: in an arbitrary trial, segments usually differ in their
        baseline, and the uplift on the probability scale depends on it.

    Returns
    -------
    BayesianUpliftModel
        The fitted model; see :meth:`BayesianUpliftModel.summary`.
    """
    trial = trial_from_frame(frame, treatment, outcome, segment, covariates, control)
    chosen = ("hierarchical" if segment is not None else "pooled") if kind == "auto" else kind
    model = BayesianUpliftModel(
        kind=chosen,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        priors=priors,
        on_failure=on_failure,
        segment_intercepts=segment_intercepts and segment is not None,
    )
    return model.fit(trial)


# --------------------------------------------------------------------------
# the seed analysis
# --------------------------------------------------------------------------

#: Posterior means and sds reported by the seed notebook's hierarchical model.
SEED_003_REFERENCE: dict[str, Any] = {
    "mu_t": {"mean": 0.427, "sd": 0.194},
    "sigma_t": {"mean": 0.182, "sd": 0.142},
    "segment_effects": (0.439, 0.353, 0.419, 0.560, 0.500, 0.400, 0.397),
}


@dataclass(frozen=True)
class SeedConfig:
    """A fully specified reproduction of a seed analysis.

    Attributes
    ----------
    trial : UpliftTrial
        The trial exactly as the seed built it.
    model_options : dict
        Keyword arguments of :class:`BayesianUpliftModel`.
    reference : dict
        The seed's reported posterior summaries.
    """

    trial: UpliftTrial
    model_options: dict[str, Any]
    reference: dict[str, Any] = field(default_factory=dict)

    def model(self, **overrides: Any) -> BayesianUpliftModel:
        """An unfitted model with the seed's options (overrides win)."""
        return BayesianUpliftModel(**{**self.model_options, **overrides})


def seed_003_config(table: pd.DataFrame) -> SeedConfig:
    """The seed notebook's hierarchical conversion model on Hillstrom.

    As in the notebook: treatment is any e-mail; recency and history are
    z-scored on all 64,000 rows (sample standard deviation) and a 15,000-row
    subsample is drawn with ``random_state=42``; covariates are
    ``recency_z, history_z, mens, womens, newbie`` as given (not standardized
    again); one intercept ``Normal(-3, 1)``; covariate effects
    ``Normal(0, 0.5)``; ``mu_t ~ Normal(0, 0.5)``, ``sigma_t ~ HalfNormal(0.5)``,
    non-centred segment effects by history segment; sampler seed 42.

    Parameters
    ----------
    table
        Output of :func:`journeygym.calibration.hillstrom.load_hillstrom` (all
        64,000 rows).
    """
    required = ("recency", "history", "mens", "womens", "newbie", "segment_idx", "arm", "conversion")
    _require_columns(table, required, "seed_003_config (load the table with load_hillstrom)")
    work = table.loc[:, list(required)].copy()
    for column in ("recency", "history"):
        work[f"{column}_z"] = (work[column] - work[column].mean()) / work[column].std()
    sample = work.sample(15_000, random_state=42).reset_index(drop=True)
    names = ("recency_z", "history_z", "mens", "womens", "newbie")
    trial = UpliftTrial(
        outcome=sample["conversion"].to_numpy(),
        arm=(sample["arm"].to_numpy() > 0).astype(np.int64),
        segment=sample["segment_idx"].to_numpy(),
        covariates=sample.loc[:, list(names)].to_numpy(dtype=np.float64),
        covariate_names=names,
        arm_names=("No E-Mail", "Any E-Mail"),
        segment_names=HISTORY_SEGMENTS,
        outcome_name="conversion",
    )
    priors = UpliftPriors(
        intercept_mu=-3.0, intercept_sigma=1.0, coefficient_sigma=0.5, effect_sigma=0.5, effect_spread_sigma=0.5
    )
    options = {
        "kind": "hierarchical",
        "priors": priors,
        "seed": 42,
        "standardize": False,
        "segment_intercepts": False,
    }
    return SeedConfig(trial=trial, model_options=options, reference=SEED_003_REFERENCE)
