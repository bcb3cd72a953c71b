"""Spend model: log-normal spend per history segment, fitted on the trial's converters.

Segment log-means are partially pooled by an empirical-Bayes normal-normal
model (segments with few converters borrow from the overall mean); the log
standard deviation is pooled.  Posterior draws of the segment log-means carry
their uncertainty into the parameter draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd



@dataclass(frozen=True)
class SpendModel:
    """Fitted spend model.

    Attributes
    ----------
    log_mean, log_mean_sd
        (G,) posterior mean and standard deviation of each segment's log-mean.
    log_sd
        Pooled standard deviation of log spend.
    between_segment_sd
        Estimated spread of the true segment log-means (the pooling strength).
    converters
        (G,) number of converters per segment.
    """

    log_mean: np.ndarray
    log_mean_sd: np.ndarray
    log_sd: float
    between_segment_sd: float
    converters: np.ndarray

    def sample_log_means(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """``(n_draws, G)`` posterior draws of the segment log-means."""
        return rng.normal(self.log_mean, self.log_mean_sd, size=(n_draws, self.log_mean.size))


def fit_spend_model(trial: pd.DataFrame, n_segments: int | None = None) -> SpendModel:
    """Fit on rows with ``conversion == 1`` and positive ``spend`` (columns ``segment_idx``, ``spend``).

    ``n_segments``: the number of segments G (default: the largest ``segment_idx`` + 1).
    """
    buyers = trial[(trial["conversion"] == 1) & (trial["spend"] > 0)]
    if buyers.empty:
        raise ValueError("fit_spend_model: received no converters with positive spend; expected a trial with conversions.")
    log_spend = np.log(buyers["spend"].to_numpy(dtype=np.float64))
    segment = buyers["segment_idx"].to_numpy()
    if n_segments is None:
        n_segments = int(trial["segment_idx"].max()) + 1
    counts = np.bincount(segment, minlength=n_segments)
    sums = np.bincount(segment, weights=log_spend, minlength=n_segments)
    group_means = np.where(counts > 0, sums / np.maximum(counts, 1), log_spend.mean())
    residual = log_spend - group_means[segment]
    log_sd = float(np.sqrt(residual @ residual / max(log_spend.size - np.count_nonzero(counts), 1)))
    standard_error2 = np.where(counts > 0, log_sd**2 / np.maximum(counts, 1), np.inf)
    observed = counts > 0
    overall = float(log_spend.mean())
    between2 = max(0.0, float(np.var(group_means[observed], ddof=1) - np.mean(standard_error2[observed]))) if observed.sum() > 1 else 0.0
    shrink = np.where(observed, between2 / (between2 + standard_error2), 0.0)
    posterior_mean = overall + shrink * (group_means - overall)
    posterior_var = np.where(observed, shrink * standard_error2, between2) + (1 - shrink) ** 2 * log_sd**2 / log_spend.size
    return SpendModel(
        log_mean=posterior_mean,
        log_mean_sd=np.sqrt(posterior_var),
        log_sd=log_sd,
        between_segment_sd=float(np.sqrt(between2)),
        converters=counts,
    )


def spend_model_from_log(transactions: pd.DataFrame, n_segments: int) -> SpendModel:
    """Spend per purchase week from a transaction log, the same for every segment (a trial without spend).

    The log's purchases are summed per customer and week (the simulator's spend is a
    week's); the log-normal's location is their mean log with its standard error
    (the posterior spread of the draws), its scale their standard deviation.
    """
    days = (transactions["date"] - transactions["date"].min()).dt.days.to_numpy()
    weekly = (
        pd.DataFrame({"customer_id": transactions["customer_id"].to_numpy(), "week": days // 7, "amount": transactions["amount"].to_numpy()})
        .groupby(["customer_id", "week"])["amount"]
        .sum()
        .to_numpy()
    )
    weekly = weekly[weekly > 0]
    if weekly.size < 2:
        raise ValueError(
            f"spend_model_from_log: received {weekly.size} purchase weeks with a positive amount, expected at least 2; "
            "the log's amounts give the spend per purchase of a trial without a spend column."
        )
    log_spend = np.log(weekly)
    log_sd = float(log_spend.std(ddof=1))
    return SpendModel(
        log_mean=np.full(n_segments, float(log_spend.mean())),
        log_mean_sd=np.full(n_segments, log_sd / np.sqrt(log_spend.size)),
        log_sd=log_sd,
        between_segment_sd=0.0,
        converters=np.zeros(n_segments, dtype=np.int64),
    )
