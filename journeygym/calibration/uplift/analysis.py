"""Ready-made uplift analyses: any trial in a table, and the reproduction of the seed notebook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from journeygym.calibration.uplift.estimator import BayesianUpliftModel, OnFailure
from journeygym.calibration.uplift.model import UpliftPriors
from journeygym.calibration.uplift.tables import require_columns, trial_from_frame
from journeygym.calibration.uplift.trial import UpliftTrial
from journeygym.datasets.hillstrom_columns import (
    HISTORY_SEGMENTS,
    SEED_NOTEBOOK_ARMS,
    SEED_NOTEBOOK_COVARIATES,
    SEED_NOTEBOOK_STANDARDIZED,
)

__all__ = ["SEED_003_REFERENCE", "SeedConfig", "analyze_trial", "seed_003_config"]


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
    subsample is drawn with ``random_state=42``; the covariates are
    :data:`~journeygym.datasets.hillstrom_columns.SEED_NOTEBOOK_COVARIATES`, the
    z-scored ones in place of recency and history (not standardized again); one intercept ``Normal(-3, 1)``; covariate effects
    ``Normal(0, 0.5)``; ``mu_t ~ Normal(0, 0.5)``, ``sigma_t ~ HalfNormal(0.5)``,
    non-centred segment effects by history segment; sampler seed 42.

    Parameters
    ----------
    table
        Output of :func:`journeygym.datasets.hillstrom.load_hillstrom` (all
        64,000 rows).
    """
    required = (*SEED_NOTEBOOK_COVARIATES, "segment_idx", "arm", "conversion")
    require_columns(table, required, "seed_003_config (load the table with load_hillstrom)")
    work = table.loc[:, list(required)].copy()
    for column in SEED_NOTEBOOK_STANDARDIZED:
        work[f"{column}_z"] = (work[column] - work[column].mean()) / work[column].std()
    sample = work.sample(15_000, random_state=42).reset_index(drop=True)
    names = tuple(f"{c}_z" if c in SEED_NOTEBOOK_STANDARDIZED else c for c in SEED_NOTEBOOK_COVARIATES)
    trial = UpliftTrial(
        outcome=sample["conversion"].to_numpy(),
        arm=(sample["arm"].to_numpy() > 0).astype(np.int64),
        segment=sample["segment_idx"].to_numpy(),
        covariates=sample.loc[:, list(names)].to_numpy(dtype=np.float64),
        covariate_names=names,
        arm_names=SEED_NOTEBOOK_ARMS,
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
