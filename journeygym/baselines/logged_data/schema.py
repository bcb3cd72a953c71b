"""The logged-data table: its schema, its validation and its Parquet storage.

A log is what :func:`~journeygym.baselines.logged_data.simulator.simulate_logged_data`
produces and what the seed baselines are trained on; :func:`validate_logged_data`
checks any such table, :func:`write_logged_data` / :func:`read_logged_data`
store it as Parquet.

Schema (version :data:`LOGGED_DATA_SCHEMA_VERSION` = 1)
--------------------------------------------------------
One row per customer and week, sorted by ``customer_id`` then ``week``:

=========================  ========  ==================================================
column                     dtype     meaning
=========================  ========  ==================================================
``customer_id``            int64     customer identifier, unique within the table
``week``                   int64     week t, 0 .. H-1
*observation columns*      float32   the observation before the week's action, one
                                     column per observation name of the env that
                                     simulated the log (its ``observation_names``), in
                                     that order: every column between ``week`` and
                                     ``action`` (23 on the default artifact)
``action``                 int64     the action delivered in week t (0 = no action)
``propensity_<action>``    float64   probability that the behavior policy delivers
                                     ``<action>`` given the observation; one column per
                                     action name, each row sums to 1
``visit``                  int8      1 if the customer visited in week t
``purchase``               int8      1 if the customer bought in week t
``spend``                  float64   dollars spent in week t (0 without a purchase)
``reward``                 float64   margin x spend - cost of the delivered action
``unsubscribed``           int8      1 if the customer unsubscribed in week t
``draw``                   int64     posterior draw of the parameters (-1 = the mean)
=========================  ========  ==================================================

With ``include_truth=True`` :func:`~journeygym.baselines.logged_data.simulator.simulate_logged_data`
appends the simulator's ground truth
(:mod:`~journeygym.baselines.logged_data.ground_truth`).  It is
never available in a real log and never a feature; it exists to score uplift
models against the true treatment effect:

* ``true_hidden_state`` (int64): the hidden engagement state z before the week's action.
* ``true_effect_<arm>`` (float64), one per e-mail arm: the exact increase of
  P(purchase in week t or t+1) from delivering ``<arm>`` in week t instead of
  nothing, with nothing in week t+1 -- the simulator's version of the
  Hillstrom two-week experiment (docs/calibration.md).
* ``true_logged_effect_<arm>`` (float64): the same difference with week t+1's
  action drawn from the behavior policy, which is what a model trained on
  the log estimates (an e-mail in week t raises fatigue, which weakens the
  behavior's e-mail in week t+1, so the two differ).

Both are 0 for unsubscribed customers (an e-mail cannot reach them).

The behavior policy never e-mails unsubscribed customers, so the logged action
is the delivered action and its propensity is the true probability of what
happened: ``(1, 0, ..., 0)`` for unsubscribed customers.

Under a scenario's contact rules (a weekly budget, a frequency cap) the env
delivers only part of the requests, and the log keeps the delivered action in
``action`` with the propensities of the delivered action after the rules
(:func:`~journeygym.baselines.logged_data.simulator.delivered_propensities`:
one-hot "no action" for a customer the cap bars, e-mail arms scaled by the
budget's keep rate ``k / m`` otherwise).  Two optional columns, which
validation does not require (logs without them stay valid, same schema version):

* ``requested_action`` (int64), after ``draw``: the action the behavior asked
  for, present when the scenario sets any contact rule;
* ``weeks_until_email_allowed`` (float32), after the other observation columns:
  the observation's frequency-cap column, present when the scenario sets a cap.

Parquet files carry, under the metadata key ``journeygym.logged_data``, a JSON
record with the schema version, package version, config hash, seed, horizon,
action names, observation names and the behavior policy.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import journeygym
from journeygym.envs.observation import CAP_COLUMN
from journeygym.files import atomic_write_bytes
from journeygym.records import config_hash

__all__ = [
    "LOGGED_DATA_SCHEMA_VERSION",
    "METADATA_KEY",
    "OUTCOME_COLUMNS",
    "LoggedDataError",
    "check_propensities",
    "log_observation_names",
    "logged_data_columns",
    "propensity_columns",
    "read_logged_data",
    "read_parquet_log",
    "validate_logged_data",
    "write_logged_data",
]

LOGGED_DATA_SCHEMA_VERSION = 1
METADATA_KEY = b"journeygym.logged_data"
#: The outcome columns, in the table's order.
OUTCOME_COLUMNS: tuple[str, ...] = ("visit", "purchase", "spend", "reward", "unsubscribed")
_PROPENSITY_TOLERANCE = 1e-6


class LoggedDataError(ValueError):
    """A logged-data table does not follow the schema; the message says what to fix."""


def propensity_columns(action_names: Sequence[str]) -> list[str]:
    """Names of the propensity columns, one per action."""
    return [f"propensity_{name}" for name in action_names]


def logged_data_columns(observation_names: Sequence[str], action_names: Sequence[str]) -> list[str]:
    """The required columns of a logged-data table, in order."""
    return [
        "customer_id",
        "week",
        *(name for name in observation_names if name != CAP_COLUMN.name),
        "action",
        *propensity_columns(action_names),
        *OUTCOME_COLUMNS,
        "draw",
    ]


def _action_names_of(frame: pd.DataFrame) -> list[str]:
    names = [c[len("propensity_") :] for c in frame.columns if isinstance(c, str) and c.startswith("propensity_")]
    if not names:
        meta = frame.attrs.get("journeygym", {})
        names = list(meta.get("action_names", []))
    return names


def log_observation_names(frame: pd.DataFrame) -> list[str]:
    """The observation columns of a log: as its metadata records them, else every column between ``week`` and ``action``.

    The frequency cap's ``weeks_until_email_allowed`` is not among them (the
    policies evaluated on a log see the columns without it).

    Raises
    ------
    LoggedDataError
        When the table has neither the record nor the ``week`` and ``action`` columns.
    """
    recorded = frame.attrs.get("journeygym", {}).get("observation_names")
    if recorded:
        return [name for name in recorded if name != CAP_COLUMN.name]
    columns = list(frame.columns)
    if "week" not in columns or "action" not in columns or columns.index("action") < columns.index("week"):
        raise LoggedDataError(
            f"logged data: cannot find the observation columns; received columns {columns[:8]}"
            f"{' ...' if len(columns) > 8 else ''}, expected the observation columns between 'week' and 'action' "
            "(customer_id, week, <observation columns>, action, ...), or the record of a log that journeygym wrote."
        )
    return [c for c in columns[columns.index("week") + 1 : columns.index("action")] if c != CAP_COLUMN.name]


def validate_logged_data(frame: Any, action_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Check that ``frame`` follows the logged-data schema; return it unchanged.

    Parameters
    ----------
    frame
        The table to check.
    action_names
        Expected action names; default: read from the ``propensity_*`` columns.

    Raises
    ------
    LoggedDataError
        If the table is not a DataFrame, is empty, misses columns (the message
        lists the expected ones), holds NaNs, has propensities that do not sum
        to 1 or lie outside [0, 1], actions out of range, or actions the
        behavior policy could not have taken (propensity 0).
    """
    if not isinstance(frame, pd.DataFrame):
        raise LoggedDataError(
            f"logged data: received {type(frame).__name__}, expected a pandas DataFrame "
            "(from simulate_logged_data or read_logged_data)."
        )
    if frame.empty:
        raise LoggedDataError(
            f"logged data: received an empty table (shape {frame.shape}); expected one row per customer and week. "
            "Simulate with n_customers >= 1."
        )
    names = list(action_names) if action_names is not None else _action_names_of(frame)
    if len(names) < 2:
        raise LoggedDataError(
            "logged data: found no propensity_<action> columns for at least two actions; expected one per action, "
            "e.g. propensity_no_action, propensity_mens_email, propensity_womens_email."
        )
    expected = logged_data_columns(log_observation_names(frame), names)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise LoggedDataError(
            f"logged data: missing columns {missing}; expected columns (schema version "
            f"{LOGGED_DATA_SCHEMA_VERSION}): {expected}."
        )
    values = frame[expected]
    numeric = values.select_dtypes(include="number").columns
    not_numeric = [c for c in expected if c not in numeric]
    if not_numeric:
        raise LoggedDataError(
            f"logged data: columns {not_numeric} are not numeric (dtypes "
            f"{[str(frame[c].dtype) for c in not_numeric]}); expected numbers in every schema column."
        )
    nan_counts = pd.Series({column: int(values[column].isna().sum()) for column in expected})  # a column at a time
    if nan_counts.any():
        bad = nan_counts[nan_counts > 0]
        raise LoggedDataError(
            f"logged data: missing values (NaN) in {dict(bad.astype(int))}; expected none. "
            "Drop or repair those rows before fitting."
        )
    duplicated = frame.duplicated(["customer_id", "week"])
    if duplicated.any():
        first = frame.loc[duplicated, ["customer_id", "week"]].iloc[0].tolist()
        raise LoggedDataError(
            f"logged data: {int(duplicated.sum())} rows repeat a (customer_id, week) pair, e.g. {first}; expected one "
            "row per customer and week. Give concatenated logs distinct customer ids."
        )
    action = values["action"].to_numpy()
    if np.any(action != np.round(action)) or action.min() < 0 or action.max() >= len(names):
        bad = action[(action != np.round(action)) | (action < 0) | (action >= len(names))][:5]
        raise LoggedDataError(
            f"logged data: actions out of range, e.g. {bad.tolist()}; expected integers in [0, {len(names) - 1}] "
            f"for the actions {names}."
        )
    columns = propensity_columns(names)
    for start in range(0, len(frame), _CHECK_ROWS):  # a block of rows at a time: a large log is not copied whole
        rows = slice(start, start + _CHECK_ROWS)
        block = np.stack([values[c].to_numpy()[rows] for c in columns], axis=1).astype(np.float64, copy=False)
        check_propensities(block, action[rows].astype(np.int64), names, first_row=start)
    return frame


#: Rows whose propensities :func:`validate_logged_data` checks at once.
_CHECK_ROWS = 1 << 20


def check_propensities(
    propensities: np.ndarray, actions: np.ndarray, action_names: Sequence[str], *, first_row: int = 0
) -> None:
    """Check ``(n, A)`` logged propensities against the ``(n,)`` logged actions.

    ``first_row`` is the number of the first row in the messages (for a check done block by block).

    Raises
    ------
    LoggedDataError
        If a propensity is not a finite probability, a row does not sum to 1, or
        a row logs an action whose propensity is 0 (the propensities then cannot
        be those of the policy that chose the actions).
    """
    names = propensity_columns(action_names)
    finite = np.isfinite(propensities)
    if not finite.all() or np.any(propensities < 0) or np.any(propensities > 1):
        row, column = np.argwhere(~finite | (propensities < 0) | (propensities > 1))[0]
        raise LoggedDataError(
            f"logged data: {names[column]} is {propensities[row, column]!r} at row {first_row + int(row)}; expected probabilities "
            "in [0, 1]."
        )
    sums = propensities.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1.0) > _PROPENSITY_TOLERANCE)
    if off.size:
        raise LoggedDataError(
            f"logged data: propensities of {off.size} rows do not sum to 1 (first at row {first_row + int(off[0])}: "
            f"{sums[off[0]]:.6f}); expected each row of {names} to sum to 1."
        )
    taken = propensities[np.arange(len(actions)), actions]
    impossible = np.flatnonzero(taken <= 0)
    if impossible.size:
        first = int(impossible[0])
        raise LoggedDataError(
            f"logged data: {impossible.size} rows log an action whose propensity is 0 (first at row {first_row + first}: action "
            f"{int(actions[first])} ({action_names[int(actions[first])]!r}) with {names[int(actions[first])]} = 0); "
            "the propensities must be those of the policy that chose the actions."
        )


def write_logged_data(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Path:
    """Validate ``frame`` and write it to Parquet atomically (temporary file, then rename).

    Parameters
    ----------
    frame
        A logged-data table.
    path
        Destination ``.parquet`` file; its folder is created if needed.
    config
        The settings that produced the log; its hash is recorded.  Default: the
        table's own ``attrs`` record.
    seed
        The seed recorded; default the one in the table's ``attrs``.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    validate_logged_data(frame)
    path = Path(path)
    attrs = dict(frame.attrs.get("journeygym", {}))
    settings = dict(config) if config is not None else attrs
    chosen_seed = seed if seed is not None else attrs.get("seed")
    record = {
        **attrs,
        "version": journeygym.__version__,
        "config_hash": config_hash(settings),
        "seed": chosen_seed,
        "schema_version": LOGGED_DATA_SCHEMA_VERSION,
        "action_names": _action_names_of(frame),
        "observation_names": log_observation_names(frame),
    }
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[METADATA_KEY] = json.dumps(record, sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(metadata)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def read_parquet_log(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """A Parquet log as a frame and its journeygym metadata record (None for a log written elsewhere).

    The record, when there is one, is also in ``frame.attrs["journeygym"]``.  Nothing is validated.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    # Each column's Arrow memory is freed as it is converted: a log of 52 million customer-weeks is then
    # not held twice (about 7 GiB each) while it becomes a frame.
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    record = None if raw is None else json.loads(raw)
    if record is not None:
        frame.attrs["journeygym"] = record
    return frame, record


def read_logged_data(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a log written by :func:`write_logged_data`.

    The metadata record is returned in ``frame.attrs["journeygym"]``.

    Raises
    ------
    LoggedDataError
        If the file is missing, has no journeygym metadata, or has another schema version.
    """
    path = Path(path)
    if not path.is_file():
        raise LoggedDataError(f"logged data: no file at {str(path)!r}; expected a Parquet file from write_logged_data.")
    frame, record = read_parquet_log(path)
    if record is None:
        raise LoggedDataError(
            f"logged data: {str(path)!r} has no {METADATA_KEY.decode()!r} metadata; expected a file written by "
            "write_logged_data."
        )
    if record.get("schema_version") != LOGGED_DATA_SCHEMA_VERSION:
        raise LoggedDataError(
            f"logged data: {str(path)!r} has schema version {record.get('schema_version')!r}, expected "
            f"{LOGGED_DATA_SCHEMA_VERSION}; re-create it with this version of journeygym."
        )
    return validate_logged_data(frame, record.get("action_names"))
