"""Means with confidence intervals over customers, posterior draws or seeds.

Shared by the layers that summarise repeated measurements: the experiments'
summaries (intervals over draws, seeds and customer blocks) and the
off-policy assessment (intervals over logging seeds).  Only numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Estimate", "mean_interval", "share_of_draws_better", "t_interval"]


@dataclass(frozen=True)
class Estimate:
    """A mean with a two-sided confidence interval."""

    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def mean_interval(per_draw: Sequence[np.ndarray], level: float = 0.95) -> Estimate:
    """Mean over draws of per-customer values, with a ``level`` interval.

    With one draw the interval is over customers (normal approximation).  With
    several, the draw means are the units (Student t over draws): the spread
    between posterior draws then counts as uncertainty, as it should.

    Raises
    ------
    ValueError
        If there is no draw, or a draw holds no values.
    """
    if not per_draw or any(np.asarray(v).size == 0 for v in per_draw):
        raise ValueError("mean_interval: received no values; expected at least one draw with customers.")
    if len(per_draw) == 1:
        values = np.asarray(per_draw[0], dtype=np.float64)
        mean = float(values.mean())
        half = stats.norm.ppf(0.5 + level / 2) * values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else 0.0
        return Estimate(mean, mean - half, mean + half)
    means = np.array([np.mean(v) for v in per_draw])
    return t_interval(float(means.mean()), means, level)


def t_interval(center: float, units: np.ndarray, level: float = 0.95) -> Estimate:
    """``center`` with the Student-t ``level`` interval of the mean of ``units`` (NaN bounds with fewer than two)."""
    if units.size < 2:
        return Estimate(center, float("nan"), float("nan"))
    half = stats.t.ppf(0.5 + level / 2, df=units.size - 1) * units.std(ddof=1) / np.sqrt(units.size)
    return Estimate(center, center - half, center + half)


def share_of_draws_better(per_draw_difference: Sequence[np.ndarray]) -> float:
    """Share of draws on which the mean paired difference is above zero."""
    return float(np.mean([np.mean(d) > 0 for d in per_draw_difference]))
