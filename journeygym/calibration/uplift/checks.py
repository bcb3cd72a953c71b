"""Prior and posterior predictive checks of the uplift models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from journeygym.calibration.uplift.effects import average_effects, effects_by_segment
from journeygym.calibration.uplift.logistic import sigmoid
from journeygym.calibration.uplift.model import Design
from journeygym.calibration.uplift.trial import UpliftTrial

__all__ = ["posterior_predictive_table", "prior_predictive_table"]

#: Central interval of the predictive checks.
_PREDICTIVE_INTERVAL = (0.05, 0.95)


def prior_predictive_table(trial: UpliftTrial, samples: Any) -> pd.DataFrame:
    """Implied control rate and uplift of prior draws, pushed through the trial's customers.

    Parameters
    ----------
    trial
        The customers to average over.
    samples
        The ``prior`` group of :func:`pymc.sample_prior_predictive` (``alpha_raw``,
        ``tau`` and, with covariates, ``beta``).

    Returns
    -------
    pandas.DataFrame
        One row per quantity (``control_rate`` overall, ``uplift`` per arm and
        per segment x arm) with the prior 5%, 50% and 95% points.
    """
    stacked = {name: values.reshape((-1, *values.shape[2:])) for name, values in _draw_arrays(samples).items()}
    stacked.setdefault("beta", np.zeros((stacked["tau"].shape[0], 0)))
    control, uplift = average_effects(
        trial, stacked["alpha_raw"], stacked["beta"], effects_by_segment(stacked["tau"], trial.n_segments)
    )
    weights = np.bincount(trial.segment, minlength=trial.n_segments) / trial.n_customers
    rows = [_quantile_row("control_rate", "all", "control", control @ weights)]
    for a, arm in enumerate(trial.arm_names[1:]):
        rows.append(_quantile_row("uplift", "all", arm, uplift[:, :, a] @ weights))
        for g, segment in enumerate(trial.segment_names):
            rows.append(_quantile_row("uplift", segment, arm, uplift[:, g, a]))
    return pd.DataFrame(rows)


def posterior_predictive_table(trial: UpliftTrial, design: Design, linear_predictor: np.ndarray, seed: int) -> pd.DataFrame:
    """Observed versus predictive outcome rates, overall, per arm and per segment x arm.

    Parameters
    ----------
    trial
        The fitted trial (names of its segments and arms).
    design
        The trial's unique rows (:func:`~journeygym.calibration.uplift.model.build_design`).
    linear_predictor : (S, m)
        Linear predictor of every unique row for ``S`` posterior samples.
    seed
        Seed of the binomial draws of new outcomes (one per customer, drawn
        per unique row, which is exact).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``arm``, ``n``, ``observed``, ``predictive_mean``,
        ``predictive_p05``, ``predictive_p95`` and ``inside`` (observed within
        the 90% predictive interval).
    """
    rng = np.random.default_rng(seed)
    simulated = rng.binomial(design.trials.astype(np.int64)[None, :], sigmoid(linear_predictor))
    groups = {
        ("all", "all"): np.ones_like(design.arm, dtype=bool),
        **{("all", arm): design.arm == a for a, arm in enumerate(trial.arm_names)},
        **{
            (segment, arm): (design.segment == g) & (design.arm == a)
            for g, segment in enumerate(trial.segment_names)
            for a, arm in enumerate(trial.arm_names)
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
    return pd.DataFrame(rows)


def _draw_arrays(samples: Any) -> dict[str, np.ndarray]:
    """The arrays of ``alpha_raw``, ``beta`` and ``tau`` among an xarray group of draws (those present)."""
    return {name: samples[name].values for name in ("alpha_raw", "beta", "tau") if name in samples}


def _quantile_row(quantity: str, segment: str, arm: str, values: np.ndarray) -> dict[str, Any]:
    """One row of a predictive-check table: the 5%, 50% and 95% points of ``values``."""
    low, mid, high = np.quantile(values, (0.05, 0.5, 0.95))
    return {"quantity": quantity, "segment": segment, "arm": arm, "p05": float(low), "p50": float(mid), "p95": float(high)}
