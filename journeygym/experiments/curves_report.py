"""The report's learning curves: each learning agent's greedy return on fixed validation customers during training.

The agents record their curves while they train
(:mod:`journeygym.agents.learning_curves`); a cell stores its curve in the
``learning_curve`` column (env-steps, return per customer, e-mails per
customer-week at each checkpoint) and the training seconds at each checkpoint
in ``learning_curve_seconds``.  :func:`learning_curve_figures` draws one
figure per scenario setting, ``learning_curves_s<setting>.png``:

* return per customer against env-steps (customer-weeks) trained,
* the same against training wall seconds (evaluation excluded),
* e-mails delivered per customer-week against env-steps,

one color per agent, a thick line for the mean over seeds and a light line per
seed, with the seed baselines (``lookalike``, ``expected_ltv``,
``ltv_uplift``), the oracle and never of the same run as horizontal lines.

The curves are measured on the validation customers, the lines on the
evaluation customers: their levels differ by sampling noise and by the
posterior draws each meets (half a dollar in the quick preset).  When the run
has ``never`` and the curves record what sending nothing earns on their
customers, both are drawn as the gain over sending nothing, each paired on its
own customers (the curve minus the no-action return on the validation
customers; a policy's evaluation mean minus never's), which removes most of
that difference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeygym.experiments.summary import SEED_BASELINES, SettingSummary

__all__ = ["curve_table", "learning_curve_blocks", "learning_curve_figures"]

Block = tuple[Any, ...]

#: The columns of :func:`curve_table`.
CURVE_COLUMNS: tuple[str, ...] = (
    "setting", "policy", "seed", "checkpoint", "timesteps", "seconds", "return_per_customer", "contacts_per_customer_week",
    "no_action_return",
)


def curve_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (setting, policy, seed, checkpoint) of the cells that recorded a learning curve.

    ``seconds`` is NaN where the cell stored no timings, ``no_action_return`` where the curve did not
    measure it.  Empty (with :data:`CURVE_COLUMNS`) when
    no cell has a curve, or the results predate the column.
    """
    if "learning_curve" not in frame.columns:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    cells = frame[frame["learning_curve"].notna()].drop_duplicates("cell_id")
    rows = []
    for _, cell in cells.iterrows():
        record = json.loads(cell["learning_curve"])
        seconds = cell.get("learning_curve_seconds")
        steps = record["timesteps"]
        no_action = record.get("no_action_return")
        no_action = np.nan if no_action is None else float(no_action)
        if seconds is None or len(seconds) != len(steps):
            seconds = [np.nan] * len(steps)
        for i, step in enumerate(steps):
            rows.append(
                (
                    int(cell["setting"]), str(cell["policy"]), int(cell["seed"]), i, int(step), float(seconds[i]),
                    float(record["return_per_customer"][i]), float(record["contacts_per_customer_week"][i]), no_action,
                )
            )
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def _seed_mean(runs: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean over seeds of ``y`` against ``x`` (None when there is no meaningful mean).

    Seeds with the same checkpoints (the same env-steps: the usual case) are averaged
    checkpoint by checkpoint, ``x`` included (wall seconds differ between seeds); seeds
    with different env-steps are interpolated on the env-steps they share.
    """
    by_seed = [part.sort_values("checkpoint") for _, part in runs.groupby("seed")]
    grids = [part[x].to_numpy(dtype=float) for part in by_seed]
    values = [part[y].to_numpy(dtype=float) for part in by_seed]
    steps = [part["timesteps"].to_numpy() for part in by_seed]
    if any(np.isnan(g).any() for g in grids):
        return None
    if all(len(s) == len(steps[0]) and np.array_equal(s, steps[0]) for s in steps):
        return np.mean(grids, axis=0), np.mean(values, axis=0)
    if x != "timesteps":
        return None
    union = np.unique(np.concatenate(grids))
    inside = union[(union >= max(g[0] for g in grids)) & (union <= min(g[-1] for g in grids))]
    return inside, np.mean([np.interp(inside, g, v) for g, v in zip(grids, values)], axis=0)


def _reference_lines(summary: SettingSummary, base: float) -> list[tuple[str, float, str]]:
    """``(label, value - base, line style)`` of the seed baselines, the oracle and never of a setting (evaluation means)."""
    lines = []
    styles = iter(("--", "-.", (0, (3, 1, 1, 1, 1, 1))))
    for row in summary.rows:
        if row.kind in SEED_BASELINES:
            lines.append((row.policy, row.mean_return.mean - base, next(styles, "--")))
    for name, style in ((summary.oracle, ":"), (summary.never, "-")):
        if name is not None:
            lines.append((name, summary.row(name).mean_return.mean - base, style))
    return lines


def _relative(curves: pd.DataFrame, summary: SettingSummary) -> tuple[pd.DataFrame, float] | None:
    """The curves as gains over sending nothing, and never's evaluation mean (None: not both measured)."""
    if summary.never is None or curves["no_action_return"].isna().any():
        return None
    gains = curves.assign(return_per_customer=curves["return_per_customer"] - curves["no_action_return"])
    return gains, summary.row(summary.never).mean_return.mean


def _setting_figure(curves: pd.DataFrame, summary: SettingSummary, order: Sequence[str], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    relative = _relative(curves, summary)
    base = 0.0
    ylabel = "$ per customer"
    if relative is not None:
        curves, base = relative
        ylabel = "$ per customer over never"
    panels = (
        ("timesteps", "return_per_customer", "customer-weeks of training", ylabel),
        ("seconds", "return_per_customer", "training seconds (evaluation excluded)", ylabel),
        ("timesteps", "contacts_per_customer_week", "customer-weeks of training", "e-mails per customer-week"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(15.5, 3.9), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    policies = [p for p in order if p in set(curves["policy"])]
    for ax, (x, y, xlabel, ylabel) in zip(axes.ravel(), panels):
        for index, policy in enumerate(policies):
            color = colors[index % len(colors)]
            runs = curves[curves["policy"] == policy]
            for _, part in runs.groupby("seed"):
                part = part.sort_values("checkpoint")
                ax.plot(part[x], part[y], color=color, alpha=0.3, linewidth=0.9)
            mean = _seed_mean(runs, x, y)
            if mean is not None:
                n_seeds = runs["seed"].nunique()
                ax.plot(*mean, color=color, linewidth=2.2, marker="o", markersize=3, label=f"{policy} (mean of {n_seeds} seed(s))")
        if y == "return_per_customer":
            for label, value, style in _reference_lines(summary, base):
                ax.axhline(value, color="gray", linestyle=style, linewidth=1.1, label=f"{label} (evaluation)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"learning curves, setting {summary.setting}: {summary.label}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def learning_curve_figures(
    frame: pd.DataFrame, summaries: Sequence[SettingSummary], report_dir: Path
) -> dict[int, Path]:
    """Draw ``learning_curves_s<setting>.png`` for every setting with a curve; returns setting -> file."""
    curves = curve_table(frame)
    figures: dict[int, Path] = {}
    if curves.empty:
        return figures
    for summary in summaries:
        part = curves[curves["setting"] == summary.setting]
        if part.empty:
            continue
        order = [r.policy for r in summary.rows]
        path = report_dir / f"learning_curves_s{summary.setting}.png"
        figures[summary.setting] = _setting_figure(part, summary, order, path)
    return figures


def learning_curve_blocks(figures: dict[int, Path], summaries: Sequence[SettingSummary]) -> list[Block]:
    """The report's section "Learning curves": what the curves measure, and one figure per setting."""
    if not figures:
        return []
    blocks: list[Block] = [
        ("h2", "Learning curves"),
        (
            "p",
            "The greedy policy of each learning agent at checkpoints of training, on fixed validation customers "
            "(the same customers and weekly noise at every checkpoint and for every seed; not the training "
            "customers): return per customer against customer-weeks of training and against training wall seconds "
            "(the evaluations excluded), and e-mails delivered per customer-week. Thick lines: the mean over seeds; "
            "light lines: each seed. Gray lines: the seed baselines, the oracle and never of this run, at their evaluation "
            "means. With never in the run, returns are drawn as the gain over sending nothing, each paired on its own "
            "customers (a curve minus what sending nothing earns on the validation customers; a line minus never's "
            "evaluation mean): the two sets of customers and posterior draws differ, and pairing removes most of that "
            "difference. Under a contact target the curve is the policy before its calibration.",
        ),
    ]
    labels = {s.setting: s.label for s in summaries}
    for setting, path in figures.items():
        blocks.append(("img", path.name, f"Learning curves, setting {setting} ({labels.get(setting, '')})."))
    return blocks
