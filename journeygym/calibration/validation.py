"""Validation of a parameter artifact against the trial it was calibrated on.

The simulator itself (the kernel, not the exact formulas used for matching)
replays the trial once per posterior draw: a population as large as each
trial arm is drawn, e-mailed with that arm at week 0 and left alone for the
rest of the outcome window (one more week for Hillstrom's two); a visit or
conversion in any of those weeks counts.  The spread of
the simulated rates over draws is the posterior predictive distribution of
each observed rate (parameter uncertainty plus binomial noise of the same
sample size).  Calibration passes when the observed rate lies inside the 90%
predictive interval in at least 90% of the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from journeygym.calibration.inputs import CalibrationTrial
from journeygym.envs.kernel import compile_tables, draw_reset_noise, draw_step_noise, initial_population, step_population
from journeygym.envs.parameters import ParameterDraws

OUTCOMES: tuple[str, ...] = ("visit", "conversion")
#: Share of cells whose observed rate must fall inside the predictive interval.
REQUIRED_COVERAGE = 0.90
INTERVAL = (0.05, 0.95)


#: Recency buckets (months) of the check by recency: the response model's extrapolation across engagement.
RECENCY_BUCKETS: tuple[tuple[int, int], ...] = ((1, 2), (3, 4), (5, 6), (7, 9), (10, 12))
GROUPINGS: tuple[str, ...] = ("segment", "recency")


def _group_labels(trial: CalibrationTrial, grouping: str) -> list[str]:
    if grouping == "segment":
        return [*trial.segment_labels, "all"]
    if grouping == "recency":
        return [*trial.recency_group_labels, "all"]
    raise ValueError(f"grouping: received {grouping!r}, expected one of {GROUPINGS}.")


def has_grouping(trial: CalibrationTrial, grouping: str) -> bool:
    """Whether the trial can be checked by ``grouping`` (by recency only with a recency column)."""
    return grouping == "segment" or bool(trial.recency_group_labels)


def _start_groups(trial: CalibrationTrial) -> np.ndarray:
    """The recency group of each start profile (the trial's rows of that profile share it)."""
    frame = trial.frame
    groups = np.zeros(len(trial.start_labels), dtype=np.int64)
    groups[frame["start_idx"].to_numpy()] = frame["recency_group"].to_numpy()
    return groups


def simulate_trial_rates(draws: ParameterDraws, trial: CalibrationTrial, seed: int, grouping: str = "segment") -> np.ndarray:
    """Simulated rates over the trial's window per draw, outcome, group (+ overall) and arm.

    ``grouping`` is ``"segment"`` (the segments the responses were matched on)
    or ``"recency"`` (:data:`RECENCY_BUCKETS`, an out-of-sample check of how the
    e-mail's effect spreads over engagement; only for a trial with recency).

    Returns
    -------
    numpy.ndarray
        Shape ``(S, 2, n_groups + 1, A)``: outcome 0 visit, 1 conversion; the last
        group index is the whole arm.
    """
    n_groups, arm_sizes = len(_group_labels(trial, grouping)) - 1, trial.arm_sizes
    n_arms = len(arm_sizes)
    start_group = _start_groups(trial)
    rates = np.zeros((len(draws), len(OUTCOMES), n_groups + 1, n_arms))
    rng = np.random.default_rng(seed)
    schedule = (0,) * (trial.window_weeks - 1)
    for s, parameters in enumerate(draws.draws):
        tables = compile_tables(parameters, draws.assumptions)
        for arm, size in enumerate(arm_sizes):
            state = initial_population(tables, draw_reset_noise(rng, size))
            group = state.segment if grouping == "segment" else start_group[state.start]
            visited = np.zeros(size, dtype=bool)
            converted = np.zeros(size, dtype=bool)
            for action in (arm, *schedule):
                outcome = step_population(state, np.full(size, action), tables, draw_step_noise(rng, size))
                visited |= outcome.visited
                converted |= outcome.purchased
            counts = np.bincount(group, minlength=n_groups)
            for o, happened in enumerate((visited, converted)):
                hits = np.bincount(group, weights=happened, minlength=n_groups)
                rates[s, o, :n_groups, arm] = hits / np.maximum(counts, 1)
                rates[s, o, n_groups, arm] = happened.mean()
    return rates


def observed_trial_rates(trial: CalibrationTrial, grouping: str = "segment") -> np.ndarray:
    """Observed rates in the layout of :func:`simulate_trial_rates` (without the draw axis; NaN for an outcome not recorded)."""
    frame = trial.frame
    n_groups = len(_group_labels(trial, grouping)) - 1
    n_arms = len(trial.arm_labels)
    group = frame["segment_idx" if grouping == "segment" else "recency_group"].to_numpy()
    rates = np.full((len(OUTCOMES), n_groups + 1, n_arms), np.nan)
    for o, column in enumerate(OUTCOMES):
        if column not in frame.columns:
            continue
        by_cell = frame.groupby([group, frame["arm"].to_numpy()])[column].mean()
        for (g, arm), value in by_cell.items():
            rates[o, int(g), int(arm)] = value
        rates[o, n_groups] = frame.groupby("arm")[column].mean().reindex(range(n_arms)).to_numpy()
    return rates


def validation_table(
    observed: np.ndarray, simulated: np.ndarray, trial: CalibrationTrial, grouping: str = "segment"
) -> pd.DataFrame:
    """One row per recorded outcome x group x arm: observed rate, simulated mean and 90% interval, inside or not."""
    low, high = np.quantile(simulated, INTERVAL, axis=0)
    mean = simulated.mean(axis=0)
    groups = _group_labels(trial, grouping)
    arm_names = trial.arm_labels
    rows = []
    for o, outcome in enumerate(OUTCOMES):
        if outcome not in trial.outcomes:
            continue
        for g, label in enumerate(groups):
            if len(groups) == 2 and g == 0:
                continue  # one group: its rows are the overall rows
            for a, arm in enumerate(arm_names):
                rows.append(
                    {
                        "outcome": outcome,
                        grouping: label,
                        "arm": arm,
                        "observed": observed[o, g, a],
                        "simulated_mean": mean[o, g, a],
                        "simulated_p05": low[o, g, a],
                        "simulated_p95": high[o, g, a],
                        "inside": bool(low[o, g, a] <= observed[o, g, a] <= high[o, g, a]),
                    }
                )
    return pd.DataFrame(rows)


def coverage(table: pd.DataFrame) -> float:
    """Share of cells whose observed rate is inside the simulated 90% interval."""
    return float(table["inside"].mean())
