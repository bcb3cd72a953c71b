"""The seed's targeting rule on P(uplift > 0), and the plot of a decision table."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DECISION_LABELS", "MONITOR_PROBABILITY", "TARGET_PROBABILITY", "decide", "plot_decisions"]

#: Decision thresholds on P(uplift > 0), as in the seed analysis.
TARGET_PROBABILITY = 0.90
MONITOR_PROBABILITY = 0.70
DECISION_LABELS: dict[str, str] = {
    "target": "Target confidently",
    "monitor": "Promising but monitor / test more",
    "deprioritize": "Weak evidence: deprioritize for now",
}
_DECISION_COLORS = {"target": "#1b7837", "monitor": "#e08214", "deprioritize": "#b2182b"}


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


def plot_decisions(table: pd.DataFrame, path: str | os.PathLike[str], xlabel: str, title: str) -> Path:
    """Interval plot of a decision table, one row per segment x arm, coloured by decision.

    Parameters
    ----------
    table
        Columns ``segment``, ``arm``, ``uplift_mean``, ``uplift_p10``,
        ``uplift_p90`` and ``decision`` (as from
        :meth:`BayesianUpliftModel.summary`).
    path
        Where to write the image (format from the file suffix, e.g. ``.png``).
    xlabel, title
        Axis label and title.

    Returns
    -------
    pathlib.Path
        The written image.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

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
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    handles = [Line2D([0], [0], color=_DECISION_COLORS[k], linewidth=2.5, label=v) for k, v in DECISION_LABELS.items()]
    axes.legend(handles=handles, fontsize=7, loc="best")
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target, dpi=120)
    return target
