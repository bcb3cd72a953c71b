"""The Hillstrom e-mail trial: download, checksum and a strictly validated loader.

Kevin Hillstrom's MineThatData e-mail analytics challenge (2008) is a
randomized trial on 64,000 customers who bought in the last twelve months: one
third received a Mens e-mail, one third a Womens e-mail and one third nothing;
visits, conversions and spend were recorded over the following two weeks.

:func:`load_hillstrom` reads the CSV (from a data directory or a file path),
checks every column and value, and adds the integer codes the models use.
:func:`download_hillstrom` fetches the public CSV into a cache directory and
verifies its SHA-256 checksum with :func:`verify_sha256`.

Line endings and the checksum
-----------------------------
:data:`HILLSTROM_SHA256` is the SHA-256 of the reference copy, whose lines end
in ``\\n`` and whose last line has no line terminator. A copy downloaded or
saved on another system may end its lines in ``\\r\\n`` or carry a final
newline, so its checksum differs although every value is the same.
:func:`verify_sha256` therefore compares the file's bytes first and then the
bytes with line endings normalized (``\\r\\n`` and ``\\r`` to ``\\n``, trailing
newlines removed); the returned :class:`ChecksumResult` says which one matched
(``"exact"`` or ``"line-endings"``), and a file that matches neither raises
:class:`ChecksumMismatchError` with both checksums.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from journeygym.datasets.hillstrom_columns import CHANNELS, HISTORY_SEGMENTS, RECENCY_MONTHS, ZIP_CODES, cell_covariates
from journeygym.errors import DataValidationError
from journeygym.files import sha256_of_file

__all__ = [
    "ARMS",
    "ChecksumMismatchError",
    "ChecksumResult",
    "DATA_DIR_ENV",
    "HILLSTROM_COLUMNS",
    "HILLSTROM_FILENAME",
    "HILLSTROM_SHA256",
    "HILLSTROM_URL",
    "download_hillstrom",
    "load_hillstrom",
    "verify_sha256",
]

DATA_DIR_ENV = "JOURNEYGYM_DATA_DIR"
HILLSTROM_FILENAME = "hillstrom.csv"
HILLSTROM_URL = (
    "http://www.minethatdata.com/Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv"
)
HILLSTROM_SHA256 = "ff9e59285e9dc3f5fa3e0975419e6631ea5bdccd65d818991473d2367e02979c"

#: Levels of the ``segment`` column (the trial arm); the position is the arm code.
ARMS: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")

#: Columns of the published CSV, in its order.
HILLSTROM_COLUMNS: tuple[str, ...] = (
    "recency",
    "history_segment",
    "history",
    "mens",
    "womens",
    "zip_code",
    "newbie",
    "channel",
    "segment",
    "visit",
    "conversion",
    "spend",
)

_INTEGER_COLUMNS = ("recency", "mens", "womens", "newbie", "visit", "conversion")
_BINARY_COLUMNS = ("mens", "womens", "newbie", "visit", "conversion")
_FLOAT_COLUMNS = ("history", "spend")
_LEVELS: dict[str, tuple[str, ...]] = {
    "history_segment": HISTORY_SEGMENTS,
    "zip_code": ZIP_CODES,
    "channel": CHANNELS,
    "segment": ARMS,
}
_CODE_COLUMNS = {"history_segment": "segment_idx", "zip_code": "zip_idx", "channel": "channel_idx", "segment": "arm"}
_MAX_EXAMPLES = 5
#: A data row's line in the file: the header is line 1.
_FIRST_DATA_LINE = 2


# --------------------------------------------------------------------------
# checksums and download
# --------------------------------------------------------------------------


class ChecksumMismatchError(DataValidationError):
    """A file's SHA-256 differs from the expected one, also after normalizing line endings."""


@dataclass(frozen=True)
class ChecksumResult:
    """Outcome of :func:`verify_sha256`.

    Attributes
    ----------
    path : pathlib.Path
        The file that was checked.
    sha256 : str
        Checksum of the file's bytes.
    normalized_sha256 : str
        Checksum of the bytes with line endings normalized to ``\\n`` and
        trailing newlines removed.
    match : {"exact", "line-endings"}
        ``"exact"`` when the bytes match; ``"line-endings"`` when only the
        normalized bytes match (same content, other line endings).
    """

    path: Path
    sha256: str
    normalized_sha256: str
    match: Literal["exact", "line-endings"]


def _normalize_line_endings(content: bytes) -> bytes:
    return content.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n")


def verify_sha256(path: str | os.PathLike[str], expected: str = HILLSTROM_SHA256) -> ChecksumResult:
    """Check a file against an expected SHA-256, tolerating line-ending differences.

    Parameters
    ----------
    path
        The file to check.
    expected
        Expected hex digest of the reference copy (``\\n`` line endings, no
        final newline).

    Returns
    -------
    ChecksumResult
        Which form of the file matched.

    Raises
    ------
    ChecksumMismatchError
        Neither the bytes nor the normalized bytes match; the message gives
        both checksums and the expected one.
    """
    path = Path(path)
    expected = expected.strip().lower()
    actual = sha256_of_file(path)
    normalized = hashlib.sha256(_normalize_line_endings(path.read_bytes())).hexdigest()
    if actual == expected:
        return ChecksumResult(path, actual, normalized, "exact")
    if normalized == expected:
        return ChecksumResult(path, actual, normalized, "line-endings")
    raise ChecksumMismatchError(
        f"SHA-256 of {str(path)!r} is {actual} (after normalizing line endings: {normalized}); "
        f"expected {expected}. The file is incomplete, altered or a different version: delete it and download it "
        "again, or pass sha256= with the checksum of the copy you trust."
    )


def download_hillstrom(
    cache_dir: str | os.PathLike[str],
    url: str = HILLSTROM_URL,
    sha256: str = HILLSTROM_SHA256,
    *,
    timeout: float = 60.0,
) -> Path:
    """Download the public Hillstrom CSV into a cache directory and verify it.

    A cached copy that passes the checksum is reused without a download. A
    download that matches only after normalizing line endings is kept and a
    :class:`UserWarning` says so (the values are the same as the reference).

    Parameters
    ----------
    cache_dir
        Directory to hold ``hillstrom.csv``; created if missing.
    url
        Where to download from.
    sha256
        Expected SHA-256 of the reference copy.
    timeout
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path
        Path of the verified ``hillstrom.csv``.

    Raises
    ------
    ChecksumMismatchError
        The downloaded file does not match (it is deleted).
    urllib.error.URLError
        The server could not be reached.
    """
    directory = Path(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / HILLSTROM_FILENAME
    if target.is_file():
        try:
            verify_sha256(target, sha256)
            return target
        except ChecksumMismatchError:
            pass  # a stale or partial copy: download a fresh one below
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".hillstrom-", suffix=".part")
    os.close(handle)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temporary, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        result = verify_sha256(temporary, sha256)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if result.match == "line-endings":
        warnings.warn(
            f"{url} was saved with other line endings than the reference copy (SHA-256 {result.sha256}); "
            "after normalizing line endings it matches the expected checksum, so the values are the same.",
            UserWarning,
            stacklevel=2,
        )
    return target


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------


def load_hillstrom(source: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load and validate the Hillstrom trial.

    Parameters
    ----------
    source
        The data directory holding ``hillstrom.csv``, or the CSV file itself.
        ``None`` reads the directory from the ``JOURNEYGYM_DATA_DIR``
        environment variable.

    Returns
    -------
    pandas.DataFrame
        The twelve published columns (header names stripped and lower-cased,
        surrounding spaces of text values removed) with integer columns as
        ``int64`` and ``history``/``spend`` as ``float64``, plus integer codes
        ``segment_idx`` (position in ``HISTORY_SEGMENTS``), ``zip_idx``
        (``ZIP_CODES``), ``channel_idx`` (``CHANNELS``) and ``arm`` (0 No
        E-Mail, 1 Mens E-Mail, 2 Womens E-Mail). Columns not in the published
        file are dropped.

    Raises
    ------
    FileNotFoundError
        No file at the given place; the message says how to name the data
        directory and where to download the file.
    DataValidationError
        The file is empty, a column is missing, or a value is missing, of the
        wrong type or out of range; the message names the column, what was
        received and what was expected.
    """
    path = _resolve_path(source)
    raw = _read_csv(path)
    table = _check_columns(raw, path)
    _check_missing_values(table)
    table = _coerce_numeric(table)
    table = _coerce_text(table)
    _check_ranges(table)
    return _add_codes(table)


def _resolve_path(source: str | os.PathLike[str] | None) -> Path:
    if source is None:
        configured = os.environ.get(DATA_DIR_ENV)
        if not configured:
            raise FileNotFoundError(
                f"No Hillstrom data given: pass the data directory or the CSV path, or set {DATA_DIR_ENV} "
                f"to the directory that holds {HILLSTROM_FILENAME}. {_download_hint()}"
            )
        source = configured
    path = Path(source)
    if path.is_dir():
        path = path / HILLSTROM_FILENAME
    if not path.is_file():
        raise FileNotFoundError(
            f"Hillstrom CSV not found at {str(path)!r}. Pass the directory that holds {HILLSTROM_FILENAME} "
            f"(or the file itself), or set {DATA_DIR_ENV}, e.g. `export {DATA_DIR_ENV}=/path/to/data`. "
            f"{_download_hint()}"
        )
    return path


def _download_hint() -> str:
    return (
        "To get the file, call journeygym.datasets.hillstrom.download_hillstrom(cache_dir) "
        f"or download {HILLSTROM_URL}."
    )


def _read_csv(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DataValidationError(f"{str(path)!r} is empty (0 bytes); expected a CSV with a header and 64,000 rows.")
    try:
        raw = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise DataValidationError(f"{str(path)!r} holds no CSV header or data: {error}.") from error
    except pd.errors.ParserError as error:
        raise DataValidationError(f"{str(path)!r} is not a well-formed CSV: {error}") from error
    raw.columns = [str(column).strip().lower() for column in raw.columns]
    return raw


def _check_columns(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    received = list(raw.columns)
    missing = [column for column in HILLSTROM_COLUMNS if column not in received]
    if missing:
        unexpected = [column for column in received if column not in HILLSTROM_COLUMNS]
        hints = []
        for column in missing:
            close = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.6)
            if close:
                hints.append(f"{close[0]!r} looks like {column!r}")
        hint = f" ({'; '.join(hints)}: rename it.)" if hints else ""
        raise DataValidationError(
            f"{str(path)!r} lacks the column(s) {missing}.{hint} Received columns: {received}; "
            f"expected: {list(HILLSTROM_COLUMNS)}."
        )
    if len(raw) == 0:
        raise DataValidationError(f"{str(path)!r} has a header but no data rows; expected 64,000 rows.")
    return raw.loc[:, list(HILLSTROM_COLUMNS)].copy()


def _lines(positions: np.ndarray) -> list[int]:
    return [int(p) + _FIRST_DATA_LINE for p in positions[:_MAX_EXAMPLES]]


def _check_missing_values(table: pd.DataFrame) -> None:
    problems = []
    for column in HILLSTROM_COLUMNS:
        missing = table[column].isna().to_numpy()
        if missing.any():
            problems.append(
                f"{column!r}: {int(missing.sum())} missing value(s), first at file line(s) {_lines(np.flatnonzero(missing))}"
            )
    if problems:
        raise DataValidationError(
            "Missing values (empty cells or NA) in the Hillstrom table: " + "; ".join(problems)
            + ". Every cell must hold a value; fix or drop those rows."
        )


def _coerce_numeric(table: pd.DataFrame) -> pd.DataFrame:
    for column in _INTEGER_COLUMNS + _FLOAT_COLUMNS:
        if pd.api.types.is_bool_dtype(table[column]) or not pd.api.types.is_numeric_dtype(table[column]):
            values = pd.to_numeric(table[column].astype(str).str.strip(), errors="coerce")
        else:
            values = table[column]
        bad = values.isna().to_numpy()
        if bad.any():
            examples = table[column].to_numpy()[bad][:_MAX_EXAMPLES].tolist()
            raise DataValidationError(
                f"Column {column!r} must be numeric; {int(bad.sum())} value(s) are not, e.g. {examples} "
                f"at file line(s) {_lines(np.flatnonzero(bad))}."
            )
        numbers = values.to_numpy(dtype=np.float64)
        if column in _INTEGER_COLUMNS:
            fractional = numbers != np.round(numbers)
            if fractional.any():
                raise DataValidationError(
                    f"Column {column!r} must hold whole numbers; {int(fractional.sum())} value(s) do not, e.g. "
                    f"{numbers[fractional][:_MAX_EXAMPLES].tolist()} at file line(s) {_lines(np.flatnonzero(fractional))}."
                )
            table[column] = numbers.astype(np.int64)
        else:
            table[column] = numbers
    return table


def _coerce_text(table: pd.DataFrame) -> pd.DataFrame:
    for column in _LEVELS:
        table[column] = table[column].astype(str).str.strip()
    return table


def _check_ranges(table: pd.DataFrame) -> None:
    _check_allowed(table, "recency", RECENCY_MONTHS, "whole months since the last purchase")
    for column in _BINARY_COLUMNS:
        _check_allowed(table, column, (0, 1), "an indicator")
    for column in _FLOAT_COLUMNS:
        values = table[column].to_numpy()
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise DataValidationError(
                f"Column {column!r} holds dollars and must be finite and >= 0; {int(bad.sum())} value(s) are not, "
                f"e.g. {values[bad][:_MAX_EXAMPLES].tolist()} at file line(s) {_lines(np.flatnonzero(bad))}."
            )
    for column, levels in _LEVELS.items():
        _check_levels(table, column, levels)


def _check_allowed(table: pd.DataFrame, column: str, allowed: Sequence[int], meaning: str) -> None:
    values = table[column].to_numpy()
    bad = ~np.isin(values, np.asarray(allowed))
    if bad.any():
        allowed_text = f"{min(allowed)}..{max(allowed)}" if len(allowed) > 2 else f"{set(allowed)}"
        raise DataValidationError(
            f"Column {column!r} ({meaning}) must be in {allowed_text}; {int(bad.sum())} value(s) are not, "
            f"e.g. {values[bad][:_MAX_EXAMPLES].tolist()} at file line(s) {_lines(np.flatnonzero(bad))}."
        )


def _check_levels(table: pd.DataFrame, column: str, levels: Sequence[str]) -> None:
    values = table[column].to_numpy(dtype=object)
    bad = ~np.isin(values, np.asarray(levels, dtype=object))
    if not bad.any():
        return
    unknown, counts = np.unique(values[bad].astype(str), return_counts=True)
    described = []
    for level, count in zip(unknown[:_MAX_EXAMPLES], counts[:_MAX_EXAMPLES], strict=True):
        close = difflib.get_close_matches(level, list(levels), n=1, cutoff=0.6)
        suggestion = f", did you mean {close[0]!r}?" if close else ""
        described.append(f"{level!r} ({int(count)} row(s){suggestion})")
    raise DataValidationError(
        f"Column {column!r} has unknown level(s): {', '.join(described)}; first at file line(s) "
        f"{_lines(np.flatnonzero(bad))}. Expected one of {list(levels)}."
    )


def _add_codes(table: pd.DataFrame) -> pd.DataFrame:
    for column, code in _CODE_COLUMNS.items():
        lookup = {level: index for index, level in enumerate(_LEVELS[column])}
        table[code] = table[column].map(lookup).astype(np.int64)
    return table.reset_index(drop=True)


def _labels(levels: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(levels, dtype=object)[codes]).astype(str)


def coded_table(
    profile: np.ndarray, segment: np.ndarray, history: np.ndarray, arm: np.ndarray,
    visit: np.ndarray, conversion: np.ndarray, spend: np.ndarray,
) -> pd.DataFrame:
    """A table with the columns, codings and dtypes of :func:`load_hillstrom`, from simulated customers.

    Parameters
    ----------
    profile, segment, history
        Each customer's profile of the built-in population (its covariate cell), history segment and
        past-year spend (``PopulationState.profile``, ``.segment``, ``.continuous``).
    arm
        Each customer's arm, an index into :data:`ARMS`.
    visit, conversion, spend
        The outcomes over the trial's window.

    Returns
    -------
    pandas.DataFrame
        The twelve published columns, then ``segment_idx``, ``zip_idx``, ``channel_idx`` and ``arm``.
    """
    cells = cell_covariates(profile)
    columns = {
        "recency": cells["recency"], "history_segment": _labels(HISTORY_SEGMENTS, segment),
        "history": history, "mens": cells["mens"], "womens": cells["womens"],
        "zip_code": _labels(ZIP_CODES, cells["zip_code"]), "newbie": cells["newbie"],
        "channel": _labels(CHANNELS, cells["channel"]), "segment": _labels(ARMS, arm),
        "visit": np.asarray(visit).astype(np.int64), "conversion": np.asarray(conversion).astype(np.int64), "spend": spend,
    }
    table = pd.DataFrame({name: columns[name] for name in HILLSTROM_COLUMNS})
    codes = {"segment_idx": segment, "zip_idx": cells["zip_code"], "channel_idx": cells["channel"], "arm": arm}
    for name, values in codes.items():
        table[name] = np.asarray(values, dtype=np.int64)
    return table
