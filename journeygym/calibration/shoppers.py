"""Loader of the UCI Online Shoppers Purchasing Intention data (one row per e-commerce session).

:func:`load_shoppers` reads ``online_shoppers_intention.csv`` from a data
directory (or the file itself), detects the field separator (the UCI original
uses commas, the copy shipped to this project semicolons), and validates it
strictly: every column of :data:`SHOPPERS_COLUMNS` present (a misspelt one is
named with the closest match), no missing values, every value of the
expected type and range.  Extra columns are dropped.

The returned table has:

* the page counts (``Administrative``, ``Informational``, ``ProductRelated``)
  as int64 >= 0 and their durations (seconds) as float64 >= 0;
* ``BounceRates``, ``ExitRates``, ``SpecialDay`` as float64 in [0, 1], ``PageValues`` float64 >= 0;
* ``Month`` as an ordered categorical Jan..Dec (the UCI file writes "June";
  "Jun" and "June" are both read as June);
* ``OperatingSystems``, ``Browser``, ``Region``, ``TrafficType`` as int64 codes >= 1;
* ``VisitorType`` as a categorical of Returning_Visitor, New_Visitor, Other;
* ``Weekend`` and ``Revenue`` as bool (TRUE/FALSE in any case, True/False or 1/0).
"""

from __future__ import annotations

import csv
import difflib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from journeygym.errors import DataValidationError
from journeygym.schemas import SHOPPERS_COLUMNS

__all__ = ["SHOPPERS_COLUMNS", "SHOPPERS_FILENAME", "load_shoppers"]

SHOPPERS_FILENAME = "online_shoppers_intention.csv"
DATA_DIR_ENV = "JOURNEYGYM_DATA_DIR"
_COUNTS = ("Administrative", "Informational", "ProductRelated")
_DURATIONS = ("Administrative_Duration", "Informational_Duration", "ProductRelated_Duration")
_RATES = ("BounceRates", "ExitRates", "SpecialDay")
_CODES = ("OperatingSystems", "Browser", "Region", "TrafficType")
_BOOLEANS = ("Weekend", "Revenue")
MONTHS: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VISITOR_TYPES: tuple[str, ...] = ("Returning_Visitor", "New_Visitor", "Other")
_MAX_EXAMPLES = 5
_HEADER_LINE = 1


def _hint() -> str:
    return (
        f"Pass the data directory or the file, or set {DATA_DIR_ENV}; the file is the UCI 'Online Shoppers "
        "Purchasing Intention Dataset' (comma- or semicolon-separated)."
    )


def _resolve(path: Path) -> Path:
    if path.is_dir():
        path = path / SHOPPERS_FILENAME
    if not path.is_file():
        raise DataValidationError(f"online shoppers: no file at {str(path)!r}. {_hint()}")
    return path


def _detect_separator(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        header = handle.readline()
        sample = header + "".join(handle.readline() for _ in range(20))
    if not header.strip():
        raise DataValidationError(
            f"online shoppers: {str(path)!r} is empty; expected a header row and one row per session."
        )
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
        best = max(counts, key=counts.get)
        if counts[best] == 0:
            raise DataValidationError(
                f"online shoppers: cannot find the field separator of {str(path)!r} (header {header.strip()[:80]!r}); "
                "expected a comma-, semicolon- or tab-separated file."
            ) from None
        return best


def _lines(positions: np.ndarray) -> list[int]:
    # File line numbers of data rows (line 1 is the header).
    return [int(p) + 1 + _HEADER_LINE for p in positions[:_MAX_EXAMPLES]]


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    present = [str(c) for c in frame.columns]
    missing = [c for c in SHOPPERS_COLUMNS if c not in present]
    if not missing:
        return
    unexpected = [c for c in present if c not in SHOPPERS_COLUMNS]
    notes = []
    for name in missing:
        close = (
            difflib.get_close_matches(name, unexpected, n=1, cutoff=0.6)
            or [c for c in unexpected if c.lower().replace(" ", "_") == name.lower()][:1]
        )
        notes.append(f"{name!r} (found {close[0]!r}: misspelt?)" if close else repr(name))
    raise DataValidationError(
        f"online shoppers: {source} lacks the columns {', '.join(notes)}; expected all of {list(SHOPPERS_COLUMNS)}. "
        "Rename the columns or use the UCI file."
    )


def _numeric(
    frame: pd.DataFrame, column: str, source: str, *, integer: bool, low: float, high: float | None
) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if bad.size:
        examples = raw.iloc[bad[:_MAX_EXAMPLES]].tolist()
        raise DataValidationError(
            f"online shoppers: column {column!r} of {source} has {bad.size} non-numeric values, e.g. {examples} on "
            f"lines {_lines(bad)}; expected {'integers' if integer else 'numbers'}."
        )
    array = values.to_numpy(dtype=np.float64)
    if integer and np.any(array != np.round(array)):
        bad = np.flatnonzero(array != np.round(array))
        raise DataValidationError(
            f"online shoppers: column {column!r} of {source} has non-integer values, e.g. {array[bad[:_MAX_EXAMPLES]].tolist()} "
            f"on lines {_lines(bad)}; expected integers."
        )
    out_of_range = (array < low) | (array > high if high is not None else False)
    if np.any(out_of_range):
        bad = np.flatnonzero(out_of_range)
        bounds = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise DataValidationError(
            f"online shoppers: column {column!r} of {source} has values outside {bounds}, e.g. "
            f"{array[bad[:_MAX_EXAMPLES]].tolist()} on lines {_lines(bad)}."
        )
    return pd.Series(array.astype(np.int64) if integer else array, index=frame.index, name=column)


def _boolean(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    raw = frame[column]
    if raw.dtype == bool:
        return raw.astype(bool)
    text = raw.astype(str).str.strip().str.lower()
    mapping = {"true": True, "false": False, "1": True, "0": False}
    bad = np.flatnonzero(~text.isin(list(mapping)).to_numpy())
    if bad.size:
        raise DataValidationError(
            f"online shoppers: column {column!r} of {source} has values {raw.iloc[bad[:_MAX_EXAMPLES]].tolist()} on lines "
            f"{_lines(bad)}; expected TRUE/FALSE (or True/False, 1/0)."
        )
    return text.map(mapping).astype(bool).rename(column)


def _categorical(
    frame: pd.DataFrame, column: str, source: str, allowed: tuple[str, ...], aliases: dict[str, str]
) -> pd.Series:
    text = frame[column].astype(str).str.strip().replace(aliases)
    bad = np.flatnonzero(~text.isin(allowed).to_numpy())
    if bad.size:
        examples = frame[column].iloc[bad[:_MAX_EXAMPLES]].tolist()
        raise DataValidationError(
            f"online shoppers: column {column!r} of {source} has values {examples} on lines {_lines(bad)}; "
            f"expected one of {list(allowed)}."
        )
    return pd.Series(
        pd.Categorical(text, categories=list(allowed), ordered=column == "Month"), index=frame.index, name=column
    )


def load_shoppers(data_dir_or_file: str | os.PathLike[str], sep: str | None = None) -> pd.DataFrame:
    """Load and validate the online shoppers sessions.

    Parameters
    ----------
    data_dir_or_file
        The data directory holding ``online_shoppers_intention.csv``, or the file.
    sep
        Field separator; None detects it (comma, semicolon or tab).

    Returns
    -------
    pandas.DataFrame
        The 18 columns of :data:`SHOPPERS_COLUMNS` with the types of the module docstring.

    Raises
    ------
    DataValidationError
        If the file is missing or empty, a column is missing (with the closest
        name found), or a value is missing, of the wrong type or out of range
        (with examples and line numbers).
    """
    path = _resolve(Path(data_dir_or_file))
    source = repr(str(path))
    separator = sep if sep is not None else _detect_separator(path)
    try:
        raw = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=True)
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"online shoppers: {source} is empty; expected a header row and one row per session."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"online shoppers: cannot parse {source} with separator {separator!r}: {exc}."
        ) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    _check_columns(raw, source)
    raw = raw[list(SHOPPERS_COLUMNS)]
    if raw.empty:
        raise DataValidationError(f"online shoppers: {source} has a header but no rows; expected one row per session.")
    missing = raw.isna()
    if missing.to_numpy().any():
        counts = missing.sum()
        counts = counts[counts > 0]
        first = np.flatnonzero(missing.any(axis=1).to_numpy())
        raise DataValidationError(
            f"online shoppers: {source} has missing values in {dict(counts.astype(int))} (first on lines {_lines(first)}); "
            "expected none. Repair or drop those rows."
        )
    out = {}
    for column in SHOPPERS_COLUMNS:
        if column in _COUNTS:
            out[column] = _numeric(raw, column, source, integer=True, low=0, high=None)
        elif column in _DURATIONS or column == "PageValues":
            out[column] = _numeric(raw, column, source, integer=False, low=0, high=None)
        elif column in _RATES:
            out[column] = _numeric(raw, column, source, integer=False, low=0, high=1)
        elif column in _CODES:
            out[column] = _numeric(raw, column, source, integer=True, low=1, high=None)
        elif column in _BOOLEANS:
            out[column] = _boolean(raw, column, source)
        elif column == "Month":
            out[column] = _categorical(raw, column, source, MONTHS, {"June": "Jun", "Sept": "Sep"})
        else:
            out[column] = _categorical(raw, column, source, VISITOR_TYPES, {})
    return pd.DataFrame(out)
