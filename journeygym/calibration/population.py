"""The population model: who a new simulated customer is (docs/calibration.md).

Fitted on the Hillstrom table as the joint counts of the categorical
covariates and the quantiles of ``history`` within each history segment.  It
stores aggregates only, never rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeygym.envs.covariates import HISTORY_SEGMENTS
from journeygym.envs.parameters import POPULATION_CELL_SHAPE, PopulationModel

#: Number of evenly spaced quantile levels kept per history segment.
N_HISTORY_QUANTILES = 101
_CELL_COLUMNS = ("recency", "segment_idx", "mens", "womens", "newbie", "zip_idx", "channel_idx")


def fit_population_model(customers: pd.DataFrame, n_quantiles: int = N_HISTORY_QUANTILES) -> PopulationModel:
    """Fit the population model on a Hillstrom-style table.

    Parameters
    ----------
    customers
        Table with integer-coded columns ``recency`` (1..12), ``segment_idx``,
        ``mens``, ``womens``, ``newbie``, ``zip_idx``, ``channel_idx`` and the
        float column ``history`` (as produced by the Hillstrom loader).
    n_quantiles
        Quantile levels of history per segment.

    Returns
    -------
    PopulationModel
    """
    missing = [c for c in (*_CELL_COLUMNS, "history") if c not in customers.columns]
    if missing:
        raise ValueError(
            f"fit_population_model: missing columns {missing}; received {list(customers.columns)}. "
            "Load the table with journeygym.calibration.hillstrom.load_hillstrom."
        )
    codes = [customers[c].to_numpy(dtype=np.int64) for c in _CELL_COLUMNS]
    codes[0] = codes[0] - 1  # recency 1..12 -> 0..11
    flat = np.ravel_multi_index(tuple(codes), POPULATION_CELL_SHAPE)
    counts = np.bincount(flat, minlength=int(np.prod(POPULATION_CELL_SHAPE))).astype(np.float64)
    levels = np.linspace(0.0, 1.0, n_quantiles)
    history = customers["history"].to_numpy(dtype=np.float64)
    segment = codes[1]
    quantiles = np.stack(
        [np.quantile(history[segment == g], levels) for g in range(len(HISTORY_SEGMENTS))]
    )
    return PopulationModel(
        cell_probabilities=(counts / counts.sum()).reshape(POPULATION_CELL_SHAPE),
        history_quantiles=quantiles,
    )
