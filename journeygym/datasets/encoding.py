"""Arm identifiers and the covariate design of a trial.

:func:`python_identifiers` turns arm labels (``"Mens E-Mail"``) into unique
lower-case Python identifiers (``"mens_e_mail"``) for names of parameters and
actions.  :func:`fit_encoding` learns how covariate columns become a design
matrix -- numeric columns standardized, categorical ones one-hot with a
reference level dropped -- and :class:`CovariateEncoding` applies it to any
frame with those columns (the trial, or a population drawn like it) and maps
standardized values back.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeygym.errors import DataValidationError

__all__ = ["CovariateEncoding", "MAX_LEVELS", "fit_encoding", "level_text", "python_identifiers"]

#: A categorical covariate may have at most this many levels (more is usually an id or free text).
MAX_LEVELS = 50
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def python_identifiers(labels: Sequence[object]) -> tuple[str, ...]:
    """Unique lower-case Python identifiers for ``labels``, in order.

    Runs of characters other than ASCII letters and digits become one ``_``
    (``"Mens E-Mail"`` -> ``"mens_e_mail"``); an identifier that would start
    with a digit or be empty gets the prefix ``arm_`` (``0`` -> ``"arm_0"``);
    a keyword gets a trailing ``_``.  When two labels give the same
    identifier, the later ones get ``_2``, ``_3``, ... (skipping identifiers
    already taken).
    """
    taken: set[str] = set()
    out = []
    for label in labels:
        base = _NOT_WORD.sub("_", str(label).lower()).strip("_")
        if not base or base[0].isdigit():
            base = f"arm_{base}".rstrip("_")
        if keyword.iskeyword(base):
            base += "_"
        name, suffix = base, 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        out.append(name)
    return tuple(out)


def level_text(value: object) -> str:
    """A category level as text: integral numbers without a decimal point (``1.0`` -> ``"1"``)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class CovariateEncoding:
    """How covariate columns become the design matrix.

    Attributes
    ----------
    numeric : tuple of str
        Numeric columns, standardized: ``(x - mean) / sd``.
    means, sds : tuple of float
        Mean and standard deviation (``ddof=0``) of each numeric column in the
        trial.
    categorical : tuple of str
        Categorical columns, one-hot encoded.
    levels : tuple of tuple of str
        Levels of each categorical column (as text, sorted: numerically when
        every level is a number); the first is the reference level and gets
        no column.
    columns : tuple of str
        Names of the design's columns: the numeric columns, then
        ``"column=level"`` for each non-reference level.
    """

    numeric: tuple[str, ...]
    means: tuple[float, ...]
    sds: tuple[float, ...]
    categorical: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        dummies = [f"{col}={level}" for col, levels in zip(self.categorical, self.levels) for level in levels[1:]]
        return (*self.numeric, *dummies)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The design matrix (float64, one row per row of ``frame``, :attr:`columns` in order).

        Raises
        ------
        DataValidationError
            If a column is missing, a numeric value is not a finite number, or
            a categorical value is not one of the trial's levels.
        """
        missing = [c for c in (*self.numeric, *self.categorical) if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"covariates: the column(s) {missing} are missing; received columns {list(map(str, frame.columns))}, "
                f"expected {[*self.numeric, *self.categorical]}."
            )
        parts = []
        if self.numeric:
            values = frame[list(self.numeric)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(values).all(axis=0)
            if bad.any():
                raise DataValidationError(
                    f"covariates: the numeric column(s) {[c for c, b in zip(self.numeric, bad) if b]} hold values that "
                    "are missing or not numbers; expected finite numbers."
                )
            parts.append((values - np.asarray(self.means)) / np.asarray(self.sds))
        for col, levels in zip(self.categorical, self.levels):
            text = frame[col].map(level_text)
            unknown = sorted(set(text) - set(levels))
            if unknown:
                raise DataValidationError(
                    f"covariates: column {col!r} holds the level(s) {unknown[:5]} that the trial did not have; "
                    f"expected one of {list(levels)}."
                )
            parts.append(np.stack([(text == level).to_numpy(dtype=np.float64) for level in levels[1:]], axis=1))
        if not parts:
            return np.zeros((len(frame), 0))
        return np.concatenate(parts, axis=1)

    def numeric_values(self, design: np.ndarray) -> pd.DataFrame:
        """The numeric columns in their original units, from a design matrix (the inverse of the standardization)."""
        design = np.asarray(design, dtype=np.float64)
        values = design[:, : len(self.numeric)] * np.asarray(self.sds) + np.asarray(self.means)
        return pd.DataFrame(values, columns=list(self.numeric))


def _sorted_levels(values: pd.Series) -> tuple[str, ...]:
    distinct = pd.unique(values.dropna())
    numbers = pd.to_numeric(pd.Series(distinct, dtype=object), errors="coerce")
    if len(distinct) and numbers.notna().all():
        order = np.argsort(numbers.to_numpy(dtype=np.float64), kind="stable")
        return tuple(level_text(distinct[i]) for i in order)
    return tuple(sorted({level_text(v) for v in distinct}))


def fit_encoding(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str], *, key: str) -> CovariateEncoding:
    """Learn the encoding of ``numeric`` and ``categorical`` columns of ``frame``.

    Parameters
    ----------
    frame
        The covariates, one row per customer.
    numeric, categorical
        Which columns to standardize and which to one-hot encode.
    key
        The spec key that names the columns, for messages (``"trial.covariates"``).

    Raises
    ------
    DataValidationError
        If a column has missing values or is constant, a numeric column holds
        values that are not numbers, or a categorical one has more than
        :data:`MAX_LEVELS` levels.
    """
    means, sds, levels = [], [], []
    for col in (*numeric, *categorical):
        missing = int(frame[col].isna().sum())
        if missing == len(frame):
            raise DataValidationError(
                f"{key}: column {col!r} is missing in every row, expected values; remove {col!r} from {key}."
            )
        if missing:
            rows = (np.flatnonzero(frame[col].isna().to_numpy())[:5] + 2).tolist()
            raise DataValidationError(
                f"{key}: column {col!r} has {missing} missing value(s) (e.g. at lines {rows}), expected a value in "
                f"every row. Fill or drop those rows, or remove {col!r} from {key}."
            )
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            examples = frame[col][~np.isfinite(values)].head(5).tolist()
            raise DataValidationError(
                f"{key}: numeric column {col!r} holds values that are not finite numbers, e.g. {examples}; expected "
                f"numbers. Clean the column, or list {col!r} in trial.categorical."
            )
        sd = float(values.std())
        if sd == 0.0:
            raise DataValidationError(
                f"{key}: column {col!r} is constant ({level_text(values[0])} in every row), expected a column that "
                f"varies; remove {col!r} from {key}."
            )
        means.append(float(values.mean()))
        sds.append(sd)
    for col in categorical:
        found = _sorted_levels(frame[col])
        if len(found) == 1:
            raise DataValidationError(
                f"{key}: column {col!r} is constant ({found[0]!r} in every row), expected a column that varies; "
                f"remove {col!r} from {key}."
            )
        if len(found) > MAX_LEVELS:
            raise DataValidationError(
                f"{key}: categorical column {col!r} has {len(found)} levels, expected at most {MAX_LEVELS}. Group its "
                f"levels, treat it as numeric (remove it from trial.categorical, if it is a number), or remove "
                f"{col!r} from {key}."
            )
        levels.append(found)
    return CovariateEncoding(tuple(numeric), tuple(means), tuple(sds), tuple(categorical), tuple(levels))
