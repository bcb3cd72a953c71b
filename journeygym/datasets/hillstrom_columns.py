"""The built-in Hillstrom trial's covariates: its columns, its design vector and its population model.

The covariate design is shared by the calibration (the Bayesian models fit their
covariate effects on it) and the simulator (the effects act on it, centred on
the population mean), so both sides agree on what each coefficient means.  The
simulator itself knows none of these names: it reads the
:class:`~journeygym.envs.population.PopulationModel` that
:func:`hillstrom_population` builds (and the artifact stores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeygym.envs.population import WEEKS_PER_MONTH, PopulationModel, StaticColumn

HISTORY_SEGMENTS: tuple[str, ...] = (
    "1) $0 - $100",
    "2) $100 - $200",
    "3) $200 - $350",
    "4) $350 - $500",
    "5) $500 - $750",
    "6) $750 - $1,000",
    "7) $1,000 +",
)
ZIP_CODES: tuple[str, ...] = ("Urban", "Surburban", "Rural")  # the source spells it so
CHANNELS: tuple[str, ...] = ("Phone", "Web", "Multichannel")
RECENCY_MONTHS: tuple[int, ...] = tuple(range(1, 13))

#: Columns of the covariate design vector x (before centring).  Surburban and
#: Multichannel are the reference levels of the one-hot groups.
COVARIATE_NAMES: tuple[str, ...] = (
    "recency",
    "log_history",
    "mens",
    "womens",
    "newbie",
    "zip_urban",
    "zip_rural",
    "channel_phone",
    "channel_web",
)


def design_matrix(
    recency: np.ndarray,
    history: np.ndarray,
    mens: np.ndarray,
    womens: np.ndarray,
    newbie: np.ndarray,
    zip_code: np.ndarray,
    channel: np.ndarray,
) -> np.ndarray:
    """Build the covariate design matrix, one row per customer.

    Parameters
    ----------
    recency : array of int
        Months since last purchase, 1 to 12.
    history : array of float
        Dollars spent in the past year.
    mens, womens, newbie : array of {0, 1}
        Hillstrom indicator columns.
    zip_code : array of int
        Index into :data:`ZIP_CODES`.
    channel : array of int
        Index into :data:`CHANNELS`.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(n, len(COVARIATE_NAMES))`` in the column
        order of :data:`COVARIATE_NAMES`.
    """
    zip_code = np.asarray(zip_code)
    channel = np.asarray(channel)
    columns = (
        np.asarray(recency, dtype=np.float64),
        np.log1p(np.asarray(history, dtype=np.float64)),
        np.asarray(mens, dtype=np.float64),
        np.asarray(womens, dtype=np.float64),
        np.asarray(newbie, dtype=np.float64),
        (zip_code == ZIP_CODES.index("Urban")).astype(np.float64),
        (zip_code == ZIP_CODES.index("Rural")).astype(np.float64),
        (channel == CHANNELS.index("Phone")).astype(np.float64),
        (channel == CHANNELS.index("Web")).astype(np.float64),
    )
    return np.stack(columns, axis=1)


#: The columns of a table coded as :func:`~journeygym.datasets.hillstrom.load_hillstrom` codes it that
#: :func:`design_matrix` reads, in its argument order.
DESIGN_COLUMNS: tuple[str, ...] = ("recency", "history", "mens", "womens", "newbie", "zip_idx", "channel_idx")
#: The seed notebook's conversion-model covariates (its first two z-scored on the whole table), and its arms.
SEED_NOTEBOOK_STANDARDIZED: tuple[str, ...] = ("recency", "history")
SEED_NOTEBOOK_COVARIATES: tuple[str, ...] = (*SEED_NOTEBOOK_STANDARDIZED, "mens", "womens", "newbie")
SEED_NOTEBOOK_ARMS: tuple[str, str] = ("No E-Mail", "Any E-Mail")


def table_design(table: pd.DataFrame) -> np.ndarray:
    """:func:`design_matrix` of a table with the coded columns of :data:`DESIGN_COLUMNS`."""
    return design_matrix(*(table[column] for column in DESIGN_COLUMNS))


#: Shape of the joint table of the categorical covariates (recency 1..12, history segment, mens, womens,
#: newbie, zip_code, channel): the population's profiles, in C order.
POPULATION_CELL_SHAPE: tuple[int, ...] = (len(RECENCY_MONTHS), len(HISTORY_SEGMENTS), 2, 2, 2, len(ZIP_CODES), len(CHANNELS))
#: Dollar amount at which the observation's log-scaled history column reaches 1 (it is clipped there).
HISTORY_SCALE = 10_000.0


def _static_columns() -> tuple[StaticColumn, ...]:
    index = {name: j for j, name in enumerate(COVARIATE_NAMES)}
    zips = (index["zip_urban"], index["zip_rural"])
    channels = (index["channel_phone"], index["channel_web"])
    return (
        StaticColumn("recency", "months since last purchase before week 0, divided by 12", "design", (index["recency"],), 0.0, 12.0),
        StaticColumn("log_history", f"log(1 + past-year spend) / log(1 + {HISTORY_SCALE:,.0f}), clipped to 1", "design",
                     (index["log_history"],), 0.0, float(np.log1p(HISTORY_SCALE))),
        StaticColumn("mens", "bought men's merchandise last year (0/1)", "design", (index["mens"],)),
        StaticColumn("womens", "bought women's merchandise last year (0/1)", "design", (index["womens"],)),
        StaticColumn("newbie", "new customer in the past twelve months (0/1)", "design", (index["newbie"],)),
        StaticColumn("zip_urban", "zip_code is Urban (one-hot)", "design", (index["zip_urban"],)),
        StaticColumn("zip_surburban", "zip_code is Surburban (one-hot)", "reference", zips),
        StaticColumn("zip_rural", "zip_code is Rural (one-hot)", "design", (index["zip_rural"],)),
        StaticColumn("channel_phone", "purchase channel is Phone (one-hot)", "design", (index["channel_phone"],)),
        StaticColumn("channel_web", "purchase channel is Web (one-hot)", "design", (index["channel_web"],)),
        StaticColumn("channel_multichannel", "purchase channel is Multichannel (one-hot)", "reference", channels),
        StaticColumn("history_segment", f"history segment ordinal 0..{len(HISTORY_SEGMENTS) - 1}, divided by {len(HISTORY_SEGMENTS) - 1}",
                     "segment", (), 0.0, float(len(HISTORY_SEGMENTS) - 1)),
    )


def hillstrom_population(cell_probabilities: np.ndarray, history_quantiles: np.ndarray) -> PopulationModel:
    """The population model of the Hillstrom trial: one profile per cell of :data:`POPULATION_CELL_SHAPE`.

    Parameters
    ----------
    cell_probabilities
        Joint probability of the categorical covariates, shape :data:`POPULATION_CELL_SHAPE`.
    history_quantiles
        ``(7, Q)`` quantiles of past-year spend (dollars) within each history segment; a
        customer's ``log_history`` is drawn from them.
    """
    cells = np.asarray(cell_probabilities, dtype=np.float64)
    if cells.shape != POPULATION_CELL_SHAPE:
        raise ValueError(f"cell_probabilities: received shape {cells.shape}, expected {POPULATION_CELL_SHAPE}.")
    recency_idx, segment, mens, womens, newbie, zip_code, channel = np.unravel_index(np.arange(cells.size), POPULATION_CELL_SHAPE)
    recency = recency_idx + 1
    design = design_matrix(recency, np.zeros(cells.size), mens, womens, newbie, zip_code, channel)
    months = np.asarray(RECENCY_MONTHS)
    return PopulationModel(
        weights=cells.ravel(),
        design=design,
        segment=segment.astype(np.int64),
        start=recency_idx.astype(np.int64),
        covariate_names=COVARIATE_NAMES,
        segment_labels=HISTORY_SEGMENTS,
        start_labels=tuple(f"recency {m} month{'s' if m > 1 else ''}" for m in months),
        start_weeks_since_purchase=np.rint(months * WEEKS_PER_MONTH).astype(np.int64),
        static_columns=_static_columns(),
        continuous_column=COVARIATE_NAMES.index("log_history"),
        continuous_quantiles=history_quantiles,
        segment_column=11,
        start_column=0,
        start_base=1,
    )


def cell_covariates(profile: np.ndarray) -> dict[str, np.ndarray]:
    """The categorical covariates of each profile of :func:`hillstrom_population` (recency in months 1..12).

    Keys: ``recency``, ``segment``, ``mens``, ``womens``, ``newbie``, ``zip_code`` (index into
    :data:`ZIP_CODES`), ``channel`` (index into :data:`CHANNELS`).
    """
    recency_idx, segment, mens, womens, newbie, zip_code, channel = np.unravel_index(np.asarray(profile), POPULATION_CELL_SHAPE)
    return {"recency": recency_idx + 1, "segment": segment, "mens": mens, "womens": womens, "newbie": newbie,
            "zip_code": zip_code, "channel": channel}


#: Number of evenly spaced quantile levels kept per history segment.
N_HISTORY_QUANTILES = 101
_CELL_COLUMNS = ("recency", "segment_idx", "mens", "womens", "newbie", "zip_idx", "channel_idx")


def fit_hillstrom_population(customers: pd.DataFrame, n_quantiles: int = N_HISTORY_QUANTILES) -> PopulationModel:
    """Fit the population model on the Hillstrom table.

    Parameters
    ----------
    customers
        Table with integer-coded columns ``recency`` (1..12), ``segment_idx``,
        ``mens``, ``womens``, ``newbie``, ``zip_idx``, ``channel_idx`` and the
        float column ``history`` (as produced by the Hillstrom loader).
    n_quantiles
        Quantile levels of history per segment.
    """
    missing = [c for c in (*_CELL_COLUMNS, "history") if c not in customers.columns]
    if missing:
        raise ValueError(
            f"fit_hillstrom_population: missing columns {missing}; received {list(customers.columns)}. "
            "Load the table with journeygym.datasets.hillstrom.load_hillstrom."
        )
    codes = [customers[c].to_numpy(dtype=np.int64) for c in _CELL_COLUMNS]
    codes[0] = codes[0] - 1  # recency 1..12 -> 0..11
    flat = np.ravel_multi_index(tuple(codes), POPULATION_CELL_SHAPE)
    counts = np.bincount(flat, minlength=int(np.prod(POPULATION_CELL_SHAPE))).astype(np.float64)
    levels = np.linspace(0.0, 1.0, n_quantiles)
    history = customers["history"].to_numpy(dtype=np.float64)
    segment = codes[1]
    quantiles = np.stack([np.quantile(history[segment == g], levels) for g in range(len(HISTORY_SEGMENTS))])
    return hillstrom_population((counts / counts.sum()).reshape(POPULATION_CELL_SHAPE), quantiles)
