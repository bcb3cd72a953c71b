"""Reading a spec's data files: existence, field separators, checksums and column lookups."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from journeygym.errors import DataValidationError
from journeygym.files import sha256_of_file
from journeygym.messages import did_you_mean

__all__ = ["WHITESPACE", "customer_ids", "existing_file", "file_sha256", "missing_columns_error", "resolve_separator"]

#: The separator of whitespace-separated files, as pandas takes it.
WHITESPACE = r"\s+"
_SNIFFED = ",;\t|"
_SAMPLE_BYTES = 1 << 16


def existing_file(path: Path, key: str) -> Path:
    """``path`` if it is a file, else an error naming the spec ``key`` that gave it."""
    if not path.is_file():
        state = "is a directory" if path.is_dir() else "does not exist"
        raise DataValidationError(
            f"{key}: received {str(path)!r}, which {state} (resolved to {str(path.resolve())!r}); expected a data file. "
            f"Correct {key} (relative paths are relative to the spec file), or download the file there."
        )
    return path


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a data file's bytes, to record which data a result came from.

    Raises
    ------
    DataValidationError
        If the file does not exist.
    """
    return sha256_of_file(existing_file(Path(path), "path"))


def resolve_separator(separator: str | None, path: Path, key: str) -> str:
    """The separator to read ``path`` with: ``separator`` (``"whitespace"`` -> :data:`WHITESPACE`), else detected.

    Detection tries comma, semicolon, tab and ``|`` on the file's first
    64 KiB; a file whose first line none of them splits but blanks do is
    whitespace-separated; otherwise comma.
    """
    if separator is not None:
        return WHITESPACE if separator.strip().lower() == "whitespace" or separator == WHITESPACE else separator
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    if not sample.strip():
        raise DataValidationError(f"{key}: {str(path)!r} is empty; expected a header row and one row per record.")
    if "\n" in sample.rstrip("\r\n"):
        sample = sample[: sample.rstrip("\r\n").rfind("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SNIFFED).delimiter
    except csv.Error:
        first = sample.strip().splitlines()[0]
        return WHITESPACE if len(first.split()) > 1 else ","


def missing_columns_error(problems: Sequence[tuple[str, str]], available: Sequence[str], path: Path) -> DataValidationError:
    """One error for the spec keys whose columns are not in the file: ``[(key, column), ...]``."""
    lines = [f"{key}: column {column!r} is not in the file{did_you_mean(column, available)}" for key, column in problems]
    single = len(available) == 1 and any(sep in available[0] for sep in (",", ";", "\t", " "))
    hint = " The header was read as one column: set the separator key (e.g. separator: ';')." if single else ""
    return DataValidationError(
        f"{str(path)!r}: {'; '.join(lines)}. Available columns: {list(available)}. Correct the spec's column "
        f"names.{hint}"
    )


def customer_ids(values: pd.Series) -> np.ndarray:
    """Customer ids as int64 when every id is an integer (so ``"00001"``, ``1`` and ``1.0`` agree), else as text."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all() and np.all(np.mod(numbers.to_numpy(dtype=np.float64), 1) == 0):
        return numbers.to_numpy(dtype=np.int64)
    return values.astype(str).str.strip().to_numpy(dtype=object)
