"""Loading a spec's transaction log, and the trial and log together with their checksums.

:func:`load_log` reads the log that a spec names through
:func:`~journeygym.datasets.transactions.load_transactions`, which
validates it (missing values, unparsable dates or amounts, amounts <= 0,
outlying dates); its messages then name the spec's keys (``log.nonpositive:
drop``).  A file without a header row is read with the names of
``log.columns``.  :func:`load_dataset` loads both files, checks that a linked
trial's customers are in the log and records each file's SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from journeygym.arguments import command_options
from journeygym.datasets.transactions import load_transactions
from journeygym.datasets.reading import WHITESPACE, customer_ids, existing_file, file_sha256, resolve_separator
from journeygym.datasets.spec import DatasetSpec, LogSpec
from journeygym.datasets.trial import TrialData, load_trial
from journeygym.errors import DataValidationError

__all__ = ["Dataset", "MIN_LINKED_SHARE", "load_dataset", "load_log"]

#: A linked trial needs at least this share of its customers in the log before the trial date.
MIN_LINKED_SHARE = 0.5
#: How the transaction loader's messages name its options: the spec's keys.
SPEC_KEYS = {
    "customer_col": "log.customer_id:",
    "time_col": "log.timestamp:",
    "amount_col": "log.amount:",
    "time_format": "log.time_format:",
    "sep": "log.separator:",
    "nonpositive": "log.nonpositive:",
    "outlying_dates": "log.outlying_dates:",
}
_MAX_EXAMPLES = 5


def _first_line_is_header(path: Path, sep: str, log: LogSpec) -> bool:
    if log.header is not None:
        return log.header
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    fields = first.split() if sep == WHITESPACE else first.rstrip("\r\n").split(sep)
    position = log.columns.index(log.amount)  # type: ignore[union-attr]
    amount = fields[position].strip().strip("\"'") if position < len(fields) else ""
    try:
        float(amount)
    except ValueError:
        return True
    return False


def _read_named(path: Path, sep: str, log: LogSpec) -> pd.DataFrame:
    """A file read with the column names of ``log.columns`` (its header row, if any, skipped)."""
    skip = 1 if _first_line_is_header(path, sep, log) else 0
    try:
        return pd.read_csv(path, sep=sep, header=None, names=list(log.columns or []), skiprows=skip, dtype=str)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"log.path: {str(path)!r} is empty; expected one row per purchase.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"log.path: could not parse {str(path)!r} with the columns {log.columns}: {exc}. Expected "
            f"{len(log.columns or [])} fields per line; check log.columns and log.separator."
        ) from None


def _with_integer_ids(log: pd.DataFrame) -> pd.DataFrame:
    """Ids as integers when every id is one (``"00001"`` and ``"1"`` are one customer), days re-aggregated."""
    ids = customer_ids(log["customer_id"])
    if ids.dtype == object:
        return log
    log = log.assign(customer_id=ids)
    out = log.groupby(["customer_id", "date"], sort=True).agg(amount=("amount", "sum"), n_rows=("n_rows", "sum"))
    return out.reset_index()


def load_log(spec: DatasetSpec) -> pd.DataFrame:
    """Read and validate the transaction log that ``spec`` names.

    Parameters
    ----------
    spec
        The dataset spec.

    Returns
    -------
    pandas.DataFrame
        As :func:`~journeygym.datasets.transactions.load_transactions`:
        ``customer_id`` (int64 when every id is an integer, else text),
        ``date``, ``amount`` (the day's total) and ``n_rows``, one row per
        customer and day.

    Raises
    ------
    DataValidationError
        Naming the spec key: a missing file or column, missing or unparsable
        values, amounts <= 0 under ``log.nonpositive: error``, outlying dates
        under ``log.outlying_dates: error``.
    """
    log = spec.log
    path = existing_file(log.path, "log.path")
    sep = resolve_separator(log.separator, path, "log.path")
    options = {
        "customer_col": log.customer_id,
        "time_col": log.timestamp,
        "amount_col": log.amount,
        "time_format": log.time_format,
        "nonpositive": log.nonpositive,
        "outlying_dates": log.outlying_dates,
    }
    with command_options("dataset spec", SPEC_KEYS):
        if log.columns is None:
            out = load_transactions(path, sep=sep, **options)
        else:
            frame = _read_named(path, sep, log)
            try:
                out = load_transactions(frame, **options)
            except DataValidationError as exc:
                where = f"{str(path)!r} (read with log.columns; rows counted from 0 after any header line)"
                raise DataValidationError(str(exc).replace("the DataFrame", where)) from None
    return _with_integer_ids(out)


@dataclass(frozen=True)
class Dataset:
    """A spec's trial and log, loaded and checked together.

    Attributes
    ----------
    spec
        The spec they were loaded from.
    trial
        The trial (:class:`~journeygym.datasets.trial.TrialData`).
    log
        The log, one row per customer and day (:func:`load_log`).
    sha256
        SHA-256 of each file: ``{"trial": ..., "log": ...}``.
    choices
        The trial's choices and the log's, as human-readable lines.
    """

    spec: DatasetSpec
    trial: TrialData
    log: pd.DataFrame
    sha256: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[str, ...] = ()


def _check_linked(spec: DatasetSpec, trial: TrialData, log: pd.DataFrame) -> str:
    trial_date = pd.Timestamp(spec.trial_date)
    before = log.loc[log["date"] < trial_date]
    if before.empty:
        raise DataValidationError(
            f"trial_date: received {spec.trial_date}, but the log starts on {log['date'].min():%Y-%m-%d}; expected a "
            "send date after the log's first purchases, to read each customer's state before it. Correct trial_date."
        )
    ids, known = trial.customer_id, before["customer_id"].to_numpy()
    if ids.dtype.kind == "i" and known.dtype.kind == "i":
        found = np.isin(ids, known)
    else:  # text ids on either side: compare as text (integer ids were read as integers on both sides)
        found = np.isin(ids.astype(str), known.astype(str))
    share = float(found.mean())
    if share < MIN_LINKED_SHARE:
        raise DataValidationError(
            f"trial.customer_id: {int(found.sum())} of {len(ids)} trial customers ({share:.1%}) have a purchase in the "
            f"log before trial_date {spec.trial_date}, expected at least {MIN_LINKED_SHARE:.0%} in a linked trial. "
            f"Trial ids, e.g. {ids[~found][:_MAX_EXAMPLES].tolist()}; log ids, e.g. "
            f"{pd.unique(log['customer_id'])[:_MAX_EXAMPLES].tolist()}. Check that trial.customer_id and "
            "log.customer_id name the same ids, or set linked: false."
        )
    return (
        f"linked: {int(found.sum())} of {len(ids)} trial customers ({share:.1%}) have purchases in the log before "
        f"{spec.trial_date}; the start state comes from each one's log"
    )


def load_dataset(spec: DatasetSpec) -> Dataset:
    """Load the trial and the log of ``spec``, check them against each other and hash both files.

    Raises
    ------
    DataValidationError
        As :func:`~journeygym.datasets.trial.load_trial` and
        :func:`load_log`; and for a linked trial, when ``trial_date`` precedes
        the log or fewer than :data:`MIN_LINKED_SHARE` of the trial's
        customers have a purchase in the log before it.
    """
    trial = load_trial(spec)
    log = load_log(spec)
    choices = list(trial.choices)
    if spec.linked:
        choices.append(_check_linked(spec, trial, log))
    else:
        choices.append("unlinked: the log's customers are not the trial's; the log calibrates the purchase dynamics only")
    choices.append(
        f"log: {log['customer_id'].nunique()} customers, {log['date'].min():%Y-%m-%d} to {log['date'].max():%Y-%m-%d}, "
        f"{int(log['n_rows'].sum())} purchases on {len(log)} customer-days (amounts <= 0: {spec.log.nonpositive})"
    )
    return Dataset(
        spec=spec,
        trial=trial,
        log=log,
        sha256={"trial": trial.sha256, "log": file_sha256(spec.log.path)},
        choices=tuple(choices),
    )
