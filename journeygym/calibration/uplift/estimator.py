"""The scikit-learn-style estimator of the Bayesian uplift models.

:class:`BayesianUpliftModel` builds the model of a trial
(:mod:`~journeygym.calibration.uplift.model`), samples and checks it
(:mod:`~journeygym.calibration.uplift.sampling`) and reports the uplift per
segment x arm with the seed's decision rule, predictive checks and a JSON report.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from journeygym.calibration.uplift.checks import posterior_predictive_table, prior_predictive_table
from journeygym.calibration.uplift.decisions import decide, plot_decisions
from journeygym.calibration.uplift.effects import average_effects, effects_by_segment
from journeygym.calibration.uplift.model import ModelKind, UpliftPriors, build_design, build_model
from journeygym.calibration.uplift.sampling import (
    ESS_MIN,
    RHAT_MAX,
    ConvergenceError,
    ConvergenceWarning,
    check_convergence,
    sample_posterior,
)
from journeygym.calibration.uplift.trial import UpliftTrial
from journeygym.records import to_jsonable

__all__ = ["BayesianUpliftModel", "NotFittedError", "OnFailure"]

OnFailure = Literal["warn", "raise"]

#: Central interval reported in the decision table (80%, as in the seed analysis).
_INTERVAL = (0.10, 0.90)


class NotFittedError(RuntimeError):
    """A fitted attribute was read before :meth:`BayesianUpliftModel.fit`."""


class BayesianUpliftModel:
    """Bayesian logistic uplift model of a randomized trial (pooled or hierarchical).

    Parameters
    ----------
    kind : {"hierarchical", "pooled"}
        The model (see :mod:`journeygym.calibration.uplift`).
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
        design = build_design(trial, self.standardize)
        return build_model(trial, design, self.kind, self.priors, self.segment_intercepts)

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
        self._design = build_design(trial, self.standardize)
        self._model = build_model(trial, self._design, self.kind, self.priors, self.segment_intercepts)
        cores = self.cores or min(self.chains, os.cpu_count() or 1)
        idata, timing = sample_posterior(
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
        """Treatment effects on the log-odds scale, ``(n_samples, G, A)``."""
        self._require_fit()
        return effects_by_segment(self._stacked("tau"), self.trial_.n_segments)

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
        """Average treatment effect on the probability scale, ``(n_samples, G, A)``.

        For each posterior draw, segment and treatment arm: the mean over the
        segment's customers (all arms) of ``sigmoid(c + tau) - sigmoid(c)``, ``c`` the customer's control log-odds.
        """
        self._require_fit()
        if "uplift" not in self._cache:
            self._cache["uplift"] = average_effects(
                self.trial_, self.intercept_draws_, self.covariate_effects_draws_, self.effect_draws_
            )[1]
        return self._cache["uplift"]

    @property
    def control_rate_draws_(self) -> np.ndarray:
        """Model-implied control rate per segment, ``(n_samples, G)`` (mean over the segment's customers)."""
        self._require_fit()
        if "control" not in self._cache:
            self._cache["control"], self._cache["uplift"] = average_effects(
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
        table = prior_predictive_table(self.trial_, prior.prior)
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
        linear_predictor = self._linear_predictor(picks)
        table = posterior_predictive_table(self.trial_, self._design, linear_predictor, self.seed)
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
        return plot_decisions(
            self.summary(),
            path,
            xlabel=f"uplift in P({self.trial_.outcome_name}) (posterior mean, 80% interval)",
            title=f"{self.kind.capitalize()} Bayesian uplift by segment x arm",
        )

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
