"""Validation of a parameter artifact against the trial it was calibrated on.

The simulator itself (the kernel, not the exact formulas used for matching)
replays the Hillstrom experiment once per posterior draw: a population as
large as each trial arm is drawn, e-mailed with that arm at week 0 and left
alone at week 1; a visit or conversion in either week counts.  The spread of
the simulated rates over draws is the posterior predictive distribution of
each observed rate (parameter uncertainty plus binomial noise of the same
sample size).  Calibration passes when the observed rate lies inside the 90%
predictive interval in at least 90% of the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from journeygym.envs.covariates import HISTORY_SEGMENTS
from journeygym.envs.kernel import compile_tables, draw_reset_noise, draw_step_noise, initial_population, step_population
from journeygym.envs.parameters import ParameterDraws

OUTCOMES: tuple[str, ...] = ("visit", "conversion")
#: Share of cells whose observed rate must fall inside the predictive interval.
REQUIRED_COVERAGE = 0.90
INTERVAL = (0.05, 0.95)


def simulate_trial_rates(draws: ParameterDraws, arm_sizes: Sequence[int], seed: int) -> np.ndarray:
    """Simulated two-week rates per draw, outcome, segment (+ overall) and arm.

    Returns
    -------
    numpy.ndarray
        Shape ``(S, 2, G + 1, A)``: outcome 0 visit, 1 conversion; the last
        segment index is the whole arm.
    """
    n_segments, n_arms = len(HISTORY_SEGMENTS), len(arm_sizes)
    rates = np.zeros((len(draws), len(OUTCOMES), n_segments + 1, n_arms))
    rng = np.random.default_rng(seed)
    for s, parameters in enumerate(draws.draws):
        tables = compile_tables(parameters, draws.assumptions)
        for arm, size in enumerate(arm_sizes):
            state = initial_population(tables, draw_reset_noise(rng, size))
            segment = state.segment.copy()
            visited = np.zeros(size, dtype=bool)
            converted = np.zeros(size, dtype=bool)
            for action in (arm, 0):
                outcome = step_population(state, np.full(size, action), tables, draw_step_noise(rng, size))
                visited |= outcome.visited
                converted |= outcome.purchased
            counts = np.bincount(segment, minlength=n_segments)
            for o, happened in enumerate((visited, converted)):
                hits = np.bincount(segment, weights=happened, minlength=n_segments)
                rates[s, o, :n_segments, arm] = hits / np.maximum(counts, 1)
                rates[s, o, n_segments, arm] = happened.mean()
    return rates


def observed_trial_rates(trial: pd.DataFrame) -> np.ndarray:
    """Observed rates in the layout of :func:`simulate_trial_rates` (without the draw axis)."""
    n_segments = len(HISTORY_SEGMENTS)
    n_arms = int(trial["arm"].max()) + 1
    rates = np.zeros((len(OUTCOMES), n_segments + 1, n_arms))
    for o, column in enumerate(OUTCOMES):
        by_cell = trial.groupby(["segment_idx", "arm"])[column].mean()
        for (segment, arm), value in by_cell.items():
            rates[o, int(segment), int(arm)] = value
        rates[o, n_segments] = trial.groupby("arm")[column].mean().reindex(range(n_arms)).to_numpy()
    return rates


def validation_table(observed: np.ndarray, simulated: np.ndarray, arm_names: Sequence[str]) -> pd.DataFrame:
    """One row per outcome x segment x arm: observed rate, simulated mean and 90% interval, inside or not."""
    low, high = np.quantile(simulated, INTERVAL, axis=0)
    mean = simulated.mean(axis=0)
    segments = [*HISTORY_SEGMENTS, "all"]
    rows = []
    for o, outcome in enumerate(OUTCOMES):
        for g, segment in enumerate(segments):
            for a, arm in enumerate(arm_names):
                rows.append(
                    {
                        "outcome": outcome,
                        "segment": segment,
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
