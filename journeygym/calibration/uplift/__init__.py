"""Bayesian logistic uplift models for randomized trials.

Two models of a binary outcome ``y`` in a trial with a control arm (0) and
treatment arms ``1..A``, customers in segments ``0..G-1`` and covariates ``x``
(raw design, e.g. :func:`journeygym.datasets.hillstrom_columns.design_matrix`):

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
  covariates such as two complementary indicators no longer slow the sampler); arms enter
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

Modules
-------
``trial``
    :class:`UpliftTrial`, the trial and its validation.
``tables``
    Trials from tables: :func:`trial_from_frame`, :func:`trial_from_hillstrom`.
``model``
    :class:`UpliftPriors`, the likelihood's design and the PyMC models.
``logistic``
    The sigmoid and the fused softplus loss of the likelihood.
``sampling``
    Sampling and the convergence checks (:func:`check_convergence`).
``effects``
    Average treatment effects of parameter draws.
``checks``
    Prior and posterior predictive checks.
``decisions``
    The seed's decision rule (:func:`decide`) and its plot.
``estimator``
    :class:`BayesianUpliftModel`.
``analysis``
    :func:`analyze_trial` and the seed reproduction (:func:`seed_003_config`).
"""

from journeygym.calibration.uplift.analysis import SEED_003_REFERENCE, SeedConfig, analyze_trial, seed_003_config
from journeygym.calibration.uplift.decisions import DECISION_LABELS, MONITOR_PROBABILITY, TARGET_PROBABILITY, decide
from journeygym.calibration.uplift.estimator import BayesianUpliftModel, NotFittedError
from journeygym.calibration.uplift.model import UpliftPriors
from journeygym.calibration.uplift.sampling import (
    ESS_MIN,
    RHAT_MAX,
    ConvergenceError,
    ConvergenceWarning,
    check_convergence,
)
from journeygym.calibration.uplift.tables import trial_from_frame, trial_from_hillstrom
from journeygym.calibration.uplift.trial import UpliftTrial

__all__ = [
    "DECISION_LABELS",
    "ESS_MIN",
    "MONITOR_PROBABILITY",
    "RHAT_MAX",
    "SEED_003_REFERENCE",
    "TARGET_PROBABILITY",
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
