"""Transaction-log loading: one validated row per customer and day.

A transaction log is one row per purchase: who bought, when, and for how much.
:func:`load_transactions` reads any such log (a file or a DataFrame), validates
it strictly and returns one row per customer and day. :func:`load_cdnow` reads
the CDNOW log of Fader and Hardie in its published format.
:func:`~journeygym.calibration.weekly.weekly_observations` turns a log into
the weekly sequences the purchase HMM is fitted on.

Outlying dates
--------------
A row dated far outside the bulk of the log -- usually a mistyped year, such
as 2097 for 1997 -- stretches every customer's observation window to it.  The
loaders refuse such rows by default (the rule is in
:mod:`journeygym.datasets.outlying_dates`); ``outlying_dates="drop"`` drops
them with a :class:`~journeygym.errors.DataWarning`, ``"keep"`` keeps them.

Exact duplicate rows
--------------------
A row equal in every column to an earlier row is an *exact duplicate*: usually
a log exported or appended twice, which counts a purchase twice and moves the
median weekly amount that separates small from large purchase weeks.
:func:`load_transactions` counts them; ``duplicates="drop"`` drops them with a
:class:`~journeygym.errors.DataWarning` that gives the count (``journeygym
fit-hmm`` does so by default), ``"keep"`` (the default of the function) keeps
them as separate purchases.  Rows that repeat a customer on one day with other
amounts are separate purchases and never duplicates.  :func:`load_cdnow` keeps
the CDNOW file's 255 exact duplicates: the published log lists each order on
its own line, and a customer may place two orders of the same value on one
day, so they are kept as in the analyses of this file.

Time zones
----------
One rule: a time written with a UTC offset (``2017-03-12T23:30:00-05:00``)
counts on its own local clock -- the offset is dropped, not applied -- so a
purchase falls on the day written, the customer's day.  Times with different
offsets in one column (daylight saving time, stores in several zones, some
times without an offset) are read the same way, with a
:class:`~journeygym.errors.DataWarning` that names the file, the column and
the offsets found.  To count days in one zone instead, convert the column
before loading (``pd.to_datetime(column, utc=True).dt.tz_convert(ZONE)``).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from journeygym.arguments import option_name, option_setting
from journeygym.errors import DataValidationError, DataWarning
from journeygym.datasets.outlying_dates import OUTLYING_MIN_ROWS, outlying_date_range
from journeygym.files import not_utf8_error

__all__ = [
    "CDNOW_COLUMNS",
    "CDNOW_FILENAME",
    "DATA_DIR_ENV",
    "OUTLYING_MIN_ROWS",
    "load_cdnow",
    "load_transactions",
    "outlying_date_range",
    "check_columns",
]

NonPositive = Literal["error", "drop", "keep"]
OutlyingDates = Literal["error", "drop", "keep"]
Duplicates = Literal["drop", "keep"]

DATA_DIR_ENV = "JOURNEYGYM_DATA_DIR"
CDNOW_FILENAME = "cdnow_master.txt"
CDNOW_COLUMNS = ("customer_id", "date", "number_of_cds", "dollar_value")

_NONPOSITIVE_OPTIONS = ("error", "drop", "keep")
_OUTLYING_OPTIONS = ("error", "drop", "keep")
_DUPLICATES_OPTIONS = ("drop", "keep")
_MAX_EXAMPLES = 5
_WHITESPACE = r"\s+"
_DAYS_PER_WEEK = 7


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------


def load_transactions(
    path_or_df: str | os.PathLike[str] | pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    time_col: str = "date",
    amount_col: str = "amount",
    time_format: str | None = None,
    sep: str | None = None,
    nonpositive: NonPositive = "error",
    outlying_dates: OutlyingDates = "error",
    duplicates: Duplicates = "keep",
) -> pd.DataFrame:
    """Load and validate a transaction log, one row per customer and day.

    Parameters
    ----------
    path_or_df
        A delimited text file with a header row, or a DataFrame.
    customer_col, time_col, amount_col
        Names of the customer identifier, purchase time and purchase amount
        columns in the input. Other columns are ignored.
    time_format
        ``strftime`` format of the time column, e.g. ``"%Y%m%d"``. ``None``
        lets pandas infer it (value by value where the values are written in
        different ways); an integer time column is then read as
        ``YYYYMMDD``. Times are truncated to the day. A time with a UTC
        offset counts on the day written (the offset is dropped, not
        applied); see "Time zones" in the module docstring.
    sep
        Field separator of a file. ``None`` detects it from the file (comma,
        semicolon, tab, ...); pass ``r"\\s+"`` for whitespace-separated files.
        Ignored for DataFrames.
    nonpositive
        What to do with rows whose amount is zero or negative (free items,
        refunds, cancellations). ``"error"`` (default) refuses them, so that
        the choice is always made on purpose; ``"drop"`` removes those rows
        before aggregation; ``"keep"`` keeps them as purchase events with their
        amount (a zero-amount purchase still counts as a purchase; a negative
        amount lowers that day's total).
    outlying_dates
        What to do with rows dated far outside the bulk of the log (the rule is in
        :mod:`journeygym.datasets.outlying_dates`), usually mistyped years. ``"error"``
        (default) refuses them, naming the rows; ``"drop"`` removes them with
        a :class:`~journeygym.errors.DataWarning`; ``"keep"``
        keeps them.
    duplicates
        What to do with rows equal in every column to an earlier row (see
        "Exact duplicate rows" in the module docstring). ``"keep"`` (default)
        keeps them as separate purchases; ``"drop"`` drops them with a
        :class:`~journeygym.errors.DataWarning` that gives their count.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (as in the input), ``date`` (datetime64 at
        midnight), ``amount`` (float64, the day's total) and ``n_rows``
        (int64, how many input rows were aggregated into that day), sorted by
        customer and date, with a fresh RangeIndex.

    Raises
    ------
    DataValidationError
        If the file is missing or empty, a column is missing, a value is
        missing or cannot be parsed, amounts are non-positive under
        ``nonpositive="error"``, or dates are outlying under
        ``outlying_dates="error"``.
    """
    _check_nonpositive_option(nonpositive)
    _check_outlying_option(outlying_dates)
    _check_duplicates_option(duplicates)
    if isinstance(path_or_df, pd.DataFrame):
        frame, line_offset, source = path_or_df, None, "the DataFrame"
    else:
        path = _existing_file(Path(path_or_df), what="transaction log")
        frame = _read_delimited(path, sep=sep)
        line_offset, source = 2, str(path)  # 1-based lines after the header line
    return _validate_and_aggregate(
        frame,
        customer_col=customer_col,
        time_col=time_col,
        amount_col=amount_col,
        time_format=time_format,
        nonpositive=nonpositive,
        outlying_dates=outlying_dates,
        duplicates=duplicates,
        line_offset=line_offset,
        source=source,
    )


def load_cdnow(
    data_dir_or_file: str | os.PathLike[str],
    nonpositive: NonPositive = "keep",
    outlying_dates: OutlyingDates = "error",
) -> pd.DataFrame:
    """Load the CDNOW transaction log (Fader and Hardie).

    The file is whitespace-separated with the fields customer_id, date
    (``YYYYMMDD``), number_of_cds and dollar_value. The published file has
    no header row; a copy with a header row is accepted too.

    Parameters
    ----------
    data_dir_or_file
        The data directory holding ``cdnow_master.txt``, or the file itself.
    nonpositive
        Treatment of the rows with $0 spend, see :func:`load_transactions`.
        The default keeps them as purchase events (a purchase happened; it
        was free).
    outlying_dates
        Treatment of rows dated far outside the bulk of the log, see
        :func:`load_transactions`. The published file has none.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_transactions`, with integer ``customer_id``; ``amount``
        is the dollar value. Rows that repeat an earlier row exactly are kept
        (255 in the published file; see "Exact duplicate rows" in the module
        docstring).
    """
    _check_nonpositive_option(nonpositive)
    _check_outlying_option(outlying_dates)
    path = _resolve_data_file(Path(data_dir_or_file), CDNOW_FILENAME)
    header_lines = 1 if _first_line_is_header(path) else 0
    try:
        raw = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            names=list(CDNOW_COLUMNS),
            skiprows=header_lines,
            dtype=str,
        )
    except pd.errors.EmptyDataError:
        raise _empty_file_error(path) from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except pd.errors.ParserError as exc:
        raise DataValidationError(
            f"Could not parse {path} as the CDNOW log: {exc}. Expected 4 "
            f"whitespace-separated fields per line ({', '.join(CDNOW_COLUMNS)}). "
            "Check that the file is the original cdnow_master.txt."
        ) from None
    line_offset = 1 + header_lines
    # Ids are zero-padded in the file ("00001"); as integers, "1" and "00001"
    # are the same customer.
    ids = pd.to_numeric(raw["customer_id"], errors="coerce").astype("Int64")
    bad = np.flatnonzero((ids.isna() & raw["customer_id"].notna()).to_numpy())
    if len(bad):
        examples = raw["customer_id"].iloc[bad[:_MAX_EXAMPLES]].tolist()
        raise DataValidationError(
            f"{path}: customer ids must be integers; {len(bad)} are not, at "
            f"{_row_refs(bad, line_offset)}: {examples}. Check that the file is "
            "the original cdnow_master.txt."
        )
    raw["customer_id"] = ids
    out = _validate_and_aggregate(
        raw,
        customer_col="customer_id",
        time_col="date",
        amount_col="dollar_value",
        time_format="%Y%m%d",
        nonpositive=nonpositive,
        outlying_dates=outlying_dates,
        duplicates="keep",
        line_offset=line_offset,
        source=str(path),
    )
    out["customer_id"] = out["customer_id"].astype(np.int64)
    return out


def _validate_and_aggregate(
    frame: pd.DataFrame,
    *,
    customer_col: str,
    time_col: str,
    amount_col: str,
    time_format: str | None,
    nonpositive: NonPositive,
    outlying_dates: OutlyingDates,
    duplicates: Duplicates,
    line_offset: int | None,
    source: str,
) -> pd.DataFrame:
    """Validate the three columns of a raw log and aggregate to days."""
    wanted = {"customer_id": customer_col, "date": time_col, "amount": amount_col}
    if len(set(wanted.values())) != len(wanted):
        roles = ("customer_col", "time_col", "amount_col")
        received = ", ".join(option_setting(role, column) for role, column in zip(roles, wanted.values()))
        raise DataValidationError(
            f"{option_name('customer_col')}, {option_name('time_col')} and {option_name('amount_col')} must name "
            f"three different columns; received {received}."
        )
    check_columns(frame, list(wanted.values()), source)
    if len(frame) == 0:
        raise DataValidationError(
            f"{source} has a header but no transactions (0 rows). Expected one "
            "row per purchase; check that the right file was given."
        )
    repeated = _exact_duplicates(frame, list(wanted.values()))
    raw = frame[list(wanted.values())].reset_index(drop=True)
    _check_missing(raw, line_offset, source)

    dates = _parse_dates(raw[time_col], time_format, line_offset, source)
    amounts = _parse_amounts(raw[amount_col], line_offset, source)
    tidy = pd.DataFrame(
        {"customer_id": raw[customer_col], "date": dates, "amount": amounts}
    )
    tidy = _apply_nonpositive(tidy, nonpositive, line_offset, source)
    tidy = _apply_duplicates(tidy, repeated, duplicates, line_offset, source)
    tidy = _apply_outlying_dates(tidy, outlying_dates, line_offset, source)
    grouped = tidy.groupby(["customer_id", "date"], sort=True)
    out = grouped.agg(amount=("amount", "sum"), n_rows=("amount", "size"))
    out = out.reset_index()
    out["n_rows"] = out["n_rows"].astype(np.int64)
    out["amount"] = out["amount"].astype(np.float64)
    return out


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _check_nonpositive_option(nonpositive: str) -> None:
    if nonpositive not in _NONPOSITIVE_OPTIONS:
        raise DataValidationError(
            f"nonpositive must be one of {_NONPOSITIVE_OPTIONS}; received "
            f"{nonpositive!r}."
        )


def _check_outlying_option(outlying_dates: str) -> None:
    if outlying_dates not in _OUTLYING_OPTIONS:
        raise DataValidationError(
            f"{option_name('outlying_dates')} must be one of {_OUTLYING_OPTIONS}; received {outlying_dates!r}."
        )


def _check_duplicates_option(duplicates: str) -> None:
    if duplicates not in _DUPLICATES_OPTIONS:
        raise DataValidationError(
            f"{option_name('duplicates')} must be one of {_DUPLICATES_OPTIONS}; received {duplicates!r}."
        )


def _data_dir_hint() -> str:
    return (
        "Pass the data directory (or the file itself); the tests and scripts "
        f"read the directory from the {DATA_DIR_ENV} environment variable, "
        f"e.g. `export {DATA_DIR_ENV}=/path/to/data`."
    )


def _existing_file(path: Path, *, what: str) -> Path:
    if not path.exists():
        raise DataValidationError(
            f"The {what} {str(path)!r} does not exist (resolved to "
            f"{str(path.resolve())!r}). {_data_dir_hint()}"
        )
    if not path.is_file():
        raise DataValidationError(
            f"Expected the {what} {str(path)!r} to be a file, but it is a "
            f"directory or special file. {_data_dir_hint()}"
        )
    return path


def _resolve_data_file(path: Path, filename: str) -> Path:
    if path.is_dir():
        candidate = path / filename
        if not candidate.exists():
            present = sorted(p.name for p in path.iterdir())[:20]
            raise DataValidationError(
                f"The data directory {str(path)!r} has no {filename!r}; it "
                f"holds {present}. Download {filename} into it, or pass the "
                f"file's path. {_data_dir_hint()}"
            )
        return candidate
    return _existing_file(path, what=f"data file ({filename})")


def _first_line_is_header(path: Path) -> bool:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            fields = line.split()
            if fields:
                return not fields[0].isdigit()
    return False


def _empty_file_error(path: Path) -> DataValidationError:
    return DataValidationError(
        f"{str(path)!r} is empty. Expected a transaction log with one row per "
        "purchase; check the download or the path."
    )


def _read_delimited(path: Path, *, sep: str | None) -> pd.DataFrame:
    with path.open("rb") as fh:
        if not fh.read(4096).strip():
            raise _empty_file_error(path)
    kwargs: dict[str, object] = {"dtype": str}
    if sep is None:
        kwargs.update(sep=None, engine="python")  # sniff the delimiter
    else:
        kwargs["sep"] = sep
    try:
        return pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise _empty_file_error(path) from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataValidationError(
            f"Could not parse {str(path)!r} as a delimited text file: {exc}. "
            f"Expected a header row and one row per purchase; pass {option_setting('sep')} if the "
            f"delimiter is unusual (e.g. {option_setting('sep', _WHITESPACE)} for whitespace)."
        ) from None


def _not_utf8(path: Path) -> DataValidationError:
    error = not_utf8_error(path, "The transaction log")
    return DataValidationError(str(error) if error is not None else f"{str(path)!r} does not decode as UTF-8 text.")


def check_columns(frame: pd.DataFrame, expected: Sequence[str], source: str) -> None:
    received = [str(c) for c in frame.columns]
    missing = [c for c in expected if c not in frame.columns]
    if not missing:
        return
    hints = []
    for name in missing:
        by_case = [c for c in received if c.lower() == name.lower()]
        close = by_case or difflib.get_close_matches(name, received, n=1, cutoff=0.6)
        if close:
            hints.append(f"{name!r} -> did you mean {close[0]!r}?")
        else:
            hints.append(f"{name!r} -> no similar column")
    raise DataValidationError(
        f"{source} is missing the column(s) {missing}. Received columns: "
        f"{received}; expected: {list(expected)}. Suggestions: "
        f"{'; '.join(hints)}. Rename the columns or pass {option_setting('customer_col')}, "
        f"{option_setting('time_col')}, {option_setting('amount_col')} (and {option_setting('sep')} if the columns "
        "were not split)."
    )


def _row_refs(positions: np.ndarray, line_offset: int | None) -> str:
    shown = positions[:_MAX_EXAMPLES]
    more = " ..." if len(positions) > _MAX_EXAMPLES else ""
    if line_offset is None:
        return f"rows at positions {shown.tolist()}{more} (0-based)"
    return f"lines {(shown + line_offset).tolist()}{more}"


def _check_missing(raw: pd.DataFrame, line_offset: int | None, source: str) -> None:
    problems = []
    for col in raw.columns:
        missing = np.flatnonzero(raw[col].isna().to_numpy())
        if len(missing):
            problems.append(
                f"column {col!r}: {len(missing)} missing value(s) at "
                f"{_row_refs(missing, line_offset)}"
            )
    if problems:
        raise DataValidationError(
            f"{source} has missing values (NaN or empty): "
            f"{'; '.join(problems)}. Expected every transaction to have a "
            "customer, a date and an amount; fill or remove those rows first."
        )


def _parse_dates(
    raw: pd.Series, time_format: str | None, line_offset: int | None, source: str
) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        values = raw
        fmt = time_format
        if fmt is None and pd.api.types.is_integer_dtype(raw):
            values, fmt = raw.astype(str), "%Y%m%d"
        try:
            parsed = pd.to_datetime(values, format=fmt, errors="coerce")
            if fmt is None and parsed.isna().any():
                # pandas infers one format from the first value; parse the values
                # written differently (e.g. with and without a time) one by one.
                retry = parsed.isna()
                parsed[retry] = pd.to_datetime(values[retry], format="mixed", errors="coerce")
        except (ValueError, TypeError):
            # pandas refuses times with different UTC offsets (or with and without one) in one column.
            parsed = _local_times(values, fmt, source)
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            examples = raw.iloc[bad[:_MAX_EXAMPLES]].tolist()
            expected = f"format {fmt!r}" if fmt else "a date pandas can infer"
            raise DataValidationError(
                f"{source}: {len(bad)} date(s) in column {raw.name!r} could not "
                f"be parsed, at {_row_refs(bad, line_offset)}: {examples}. "
                f"Expected {expected}; pass {option_setting('time_format', '%Y-%m-%d')} (or the format "
                "that matches the file, e.g. '%Y%m%d')."
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()


def _local_time(value: object, fmt: str | None) -> tuple[pd.Timestamp | None, dt.timedelta | None]:
    """One time on its local clock (the offset dropped) and its UTC offset; (None, None) if it does not parse."""
    try:
        if isinstance(value, str):
            stamp = pd.Timestamp(dt.datetime.strptime(value, fmt) if fmt else value)
        elif isinstance(value, (dt.datetime, np.datetime64)):
            stamp = pd.Timestamp(value)
        else:
            return None, None
    except (ValueError, TypeError, OverflowError):
        return None, None
    if stamp is pd.NaT:
        return None, None
    offset = stamp.utcoffset()
    return (stamp.tz_localize(None) if stamp.tzinfo is not None else stamp), offset


def _format_offset(offset: dt.timedelta | None) -> str:
    if offset is None:
        return "no offset"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _local_times(values: pd.Series, fmt: str | None, source: str) -> pd.Series:
    """Times with different UTC offsets, each on its own local clock (module docstring, "Time zones")."""
    parsed: dict[object, tuple[pd.Timestamp | None, dt.timedelta | None]] = {}
    for value in values.unique():
        parsed[value] = _local_time(value, fmt)
    times = pd.Series(
        pd.to_datetime([parsed[v][0] for v in values], errors="coerce"), index=values.index, name=values.name
    )
    offsets = {offset for stamp, offset in parsed.values() if stamp is not None}
    if len(offsets) > 1:
        shown = sorted(offsets, key=lambda o: (o is not None, o or dt.timedelta(0)))
        listed = ", ".join(_format_offset(o) for o in shown[:_MAX_EXAMPLES])
        more = f" and {len(shown) - _MAX_EXAMPLES} more" if len(shown) > _MAX_EXAMPLES else ""
        warnings.warn(
            f"{source}: column {values.name!r} holds times with different UTC offsets ({listed}{more}); each time is "
            "read on its own local clock, the offset dropped (not converted to UTC), so every purchase falls on the "
            "day written. To count days in one time zone instead, convert the column to that zone before loading.",
            DataWarning,
            stacklevel=5,
        )
    return times


def _parse_amounts(raw: pd.Series, line_offset: int | None, source: str) -> pd.Series:
    parsed = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(parsed.to_numpy()))
    if len(bad):
        examples = raw.iloc[bad[:_MAX_EXAMPLES]].tolist()
        raise DataValidationError(
            f"{source}: {len(bad)} amount(s) in column {raw.name!r} are not "
            f"finite numbers, at {_row_refs(bad, line_offset)}: {examples}. "
            "Expected plain numbers such as 12.5 (no currency symbols or "
            "thousands separators); clean the column or convert it first."
        )
    return parsed


def _apply_nonpositive(
    tidy: pd.DataFrame, nonpositive: NonPositive, line_offset: int | None, source: str
) -> pd.DataFrame:
    amounts = tidy["amount"].to_numpy()
    bad = np.flatnonzero(amounts <= 0)
    if not len(bad) or nonpositive == "keep":
        return tidy
    if nonpositive == "drop":
        return tidy.loc[amounts > 0]
    n_zero = int(np.sum(amounts[bad] == 0))
    examples = tidy.iloc[bad[:_MAX_EXAMPLES]].to_dict("records")
    raise DataValidationError(
        f"{source}: {len(bad)} row(s) have an amount <= 0 ({n_zero} zero, "
        f"{len(bad) - n_zero} negative), at {_row_refs(bad, line_offset)}; "
        f"examples: {examples}. Expected positive purchase amounts. Zero "
        "amounts are usually free or promotional purchases and negative ones "
        f"refunds or cancellations: pass {option_setting('nonpositive', 'drop')} to remove those "
        f"rows, or {option_setting('nonpositive', 'keep')} to keep them as purchase events."
    )


def _exact_duplicates(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Boolean mask of the rows equal in every column to an earlier row (by position)."""
    try:
        return frame.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable cells (lists, dicts) in a DataFrame: compare the log's three columns
        return frame[columns].duplicated(keep="first").to_numpy()


def _apply_duplicates(
    tidy: pd.DataFrame, repeated: np.ndarray, duplicates: Duplicates, line_offset: int | None, source: str
) -> pd.DataFrame:
    """Drop (with a warning that counts them) or keep the exact duplicate rows; ``tidy``'s index is the row position."""
    if duplicates == "keep" or not repeated.any():
        return tidy
    positions = np.flatnonzero(repeated)
    positions = positions[np.isin(positions, tidy.index.to_numpy())]  # rows still there (not dropped before)
    if not len(positions):
        return tidy
    warnings.warn(
        f"{source}: dropped {len(positions)} exact duplicate row(s) -- rows equal in every column to an earlier row -- "
        f"at {_row_refs(positions, line_offset)}; each purchase is counted once. Exact duplicates are usually a log "
        "exported or appended twice; if these are genuine repeat purchases, pass "
        f"{option_setting('duplicates', 'keep')} to keep them.",
        DataWarning,
        stacklevel=4,
    )
    return tidy.drop(index=positions)


def _apply_outlying_dates(
    tidy: pd.DataFrame, outlying_dates: OutlyingDates, line_offset: int | None, source: str
) -> pd.DataFrame:
    bulk = None if outlying_dates == "keep" else outlying_date_range(tidy["date"])
    if bulk is None:
        return tidy
    earliest, latest, gap = bulk
    outside = ((tidy["date"] < earliest) | (tidy["date"] > latest)).to_numpy()
    if not outside.any():
        return tidy
    rows = tidy.loc[outside]
    positions = rows.index.to_numpy()  # positions in the input: rows dropped earlier keep their numbers
    shown = [
        f"{_row_label(int(p), line_offset)}: {d:%Y-%m-%d} (customer {c})"
        for p, d, c in zip(positions[:_MAX_EXAMPLES], rows["date"], rows["customer_id"])
    ]
    more = f" and {len(rows) - _MAX_EXAMPLES} more" if len(rows) > _MAX_EXAMPLES else ""
    where = f"{'; '.join(shown)}{more}"
    if outlying_dates == "drop":
        warnings.warn(
            f"{source}: dropped {len(rows)} row(s) dated far outside the bulk of the log ({earliest:%Y-%m-%d} to "
            f"{latest:%Y-%m-%d}): {where}.",
            DataWarning,
            stacklevel=4,
        )
        return tidy.loc[~outside]
    span = (tidy["date"].max() - tidy["date"].min()).days // _DAYS_PER_WEEK
    bulk_span = (latest - earliest).days // _DAYS_PER_WEEK
    raise DataValidationError(
        f"{source}: {len(rows)} row(s) dated far outside the bulk of the log: {where}. The other rows run from "
        f"{earliest:%Y-%m-%d} to {latest:%Y-%m-%d}, and more than {gap} days without any row separate these from "
        "them (three times the span of the central 98% of the rows). Such rows are refused because one mistyped year "
        f"stretches every customer's observation window to it (here to {span} weeks instead of {bulk_span}). Correct "
        f"those dates, or pass {option_setting('outlying_dates', 'drop')} to drop those rows "
        f"({option_setting('outlying_dates', 'keep')} keeps them, if they are genuine)."
    )


def _row_label(position: int, line_offset: int | None) -> str:
    return f"row {position} (0-based)" if line_offset is None else f"line {position + line_offset}"
