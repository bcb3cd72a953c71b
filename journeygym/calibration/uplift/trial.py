"""The randomized trial the uplift models are fitted to, and its validation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from journeygym.errors import DataValidationError

__all__ = ["UpliftTrial"]


@dataclass(frozen=True, eq=False)
class UpliftTrial:
    """A randomized trial with a binary outcome, ready for the uplift models.

    Parameters
    ----------
    outcome : array of {0, 1}, shape (n,)
        The binary outcome per customer.
    arm : array of int, shape (n,)
        Treatment arm per customer: 0 is the control, ``1..A`` the treatments.
    segment : array of int, shape (n,), optional
        Segment per customer, ``0..G-1``. ``None`` puts everyone in one segment.
    covariates : array of float, shape (n, p), optional
        Pre-treatment covariates; ``None`` means none.
    covariate_names : sequence of str
        One name per covariate column.
    arm_names : sequence of str, optional
        Names of the arms, control first (default ``control, arm 1, ...``).
    segment_names : sequence of str, optional
        Names of the segments (default ``segment 0, ...``; ``all`` for one).
    outcome_name : str
        Name of the outcome, used in reports.

    Raises
    ------
    DataValidationError
        Shapes disagree, values are missing or out of range, an arm or a
        segment has no customers, or a covariate is constant.
    """

    outcome: np.ndarray
    arm: np.ndarray
    segment: np.ndarray | None = None
    covariates: np.ndarray | None = None
    covariate_names: Sequence[str] = ()
    arm_names: Sequence[str] | None = None
    segment_names: Sequence[str] | None = None
    outcome_name: str = "outcome"

    def __post_init__(self) -> None:
        outcome = _as_binary(self.outcome, "outcome")
        n = outcome.shape[0]
        if n == 0:
            raise DataValidationError("UpliftTrial: received 0 customers; a trial needs at least one per arm.")
        arm = _as_codes(self.arm, "arm", n)
        segment = np.zeros(n, dtype=np.int64) if self.segment is None else _as_codes(self.segment, "segment", n)
        covariates, names = _as_covariates(self.covariates, self.covariate_names, n)
        n_arms = int(arm.max()) + 1
        n_segments = int(segment.max()) + 1
        arm_names = _names(self.arm_names, n_arms, "arm_names", ["control", *(f"arm {a}" for a in range(1, n_arms))])
        default_segments = ["all"] if n_segments == 1 else [f"segment {g}" for g in range(n_segments)]
        segment_names = _names(self.segment_names, n_segments, "segment_names", default_segments)
        _require_every_level(arm, arm_names, "arm")
        _require_every_level(segment, segment_names, "segment")
        if len(arm_names) < 2:
            raise DataValidationError(
                f"UpliftTrial: only one arm ({arm_names[0]!r}); an uplift model needs a control and at least one treatment."
            )
        _require_variation(covariates, names)
        for name, value in (
            ("outcome", outcome),
            ("arm", arm),
            ("segment", segment),
            ("covariates", covariates),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "covariate_names", names)
        object.__setattr__(self, "arm_names", arm_names)
        object.__setattr__(self, "segment_names", segment_names)

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self.outcome.shape[0])

    @property
    def n_treatments(self) -> int:
        """Number of treatment arms ``A`` (the control not counted)."""
        return len(self.arm_names) - 1

    @property
    def n_segments(self) -> int:
        """Number of segments ``G``."""
        return len(self.segment_names)

    def cell_counts(self) -> pd.DataFrame:
        """Customers and outcomes per segment x arm, with the observed rate."""
        frame = pd.DataFrame({"segment": self.segment, "arm": self.arm, "y": self.outcome})
        table = frame.groupby(["segment", "arm"])["y"].agg(n="size", events="sum")
        full = pd.MultiIndex.from_product([range(self.n_segments), range(len(self.arm_names))], names=["segment", "arm"])
        table = table.reindex(full, fill_value=0).reset_index()
        table["rate"] = table["events"] / table["n"].where(table["n"] > 0)
        return table


def _as_binary(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataValidationError(f"UpliftTrial: {name} must be one-dimensional; received shape {array.shape}.")
    if array.dtype == bool:
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number):
        raise DataValidationError(f"UpliftTrial: {name} must be 0/1 numbers; received dtype {array.dtype}.")
    if np.isnan(array.astype(np.float64)).any():
        raise DataValidationError(f"UpliftTrial: {name} has {int(np.isnan(array.astype(float)).sum())} missing value(s).")
    levels = np.unique(array)
    if not np.isin(levels, (0, 1)).all():
        raise DataValidationError(f"UpliftTrial: {name} must be binary (0/1); received levels {levels[:10].tolist()}.")
    return array.astype(np.int64)


def _as_codes(values: Any, name: str, n: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n,):
        raise DataValidationError(f"UpliftTrial: {name} must have shape ({n},) like the outcome; received {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or array.dtype == bool:
        raise DataValidationError(f"UpliftTrial: {name} must be integer codes; received dtype {array.dtype}.")
    as_float = array.astype(np.float64)
    if not np.isfinite(as_float).all() or (as_float != np.round(as_float)).any() or (as_float < 0).any():
        raise DataValidationError(f"UpliftTrial: {name} must hold whole numbers >= 0 (codes); received other values.")
    return array.astype(np.int64)


def _as_covariates(values: Any, names: Sequence[str], n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if values is None:
        if len(names):
            raise DataValidationError(f"UpliftTrial: covariate_names {list(names)} given without covariates.")
        return np.zeros((n, 0)), ()
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != n:
        raise DataValidationError(f"UpliftTrial: covariates must have shape ({n}, p); received {array.shape}.")
    names = tuple(str(name) for name in names)
    if len(names) != array.shape[1]:
        raise DataValidationError(
            f"UpliftTrial: {array.shape[1]} covariate column(s) but {len(names)} name(s) {list(names)}."
        )
    if len(set(names)) != len(names):
        raise DataValidationError(f"UpliftTrial: covariate names must be unique; received {list(names)}.")
    bad = ~np.isfinite(array)
    if bad.any():
        columns = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
        raise DataValidationError(f"UpliftTrial: covariates {columns} hold {int(bad.sum())} missing or infinite value(s).")
    return np.ascontiguousarray(array), names


def _names(given: Sequence[str] | None, count: int, what: str, default: list[str]) -> tuple[str, ...]:
    if given is None:
        return tuple(default)
    names = tuple(str(name) for name in given)
    if len(names) < count:
        raise DataValidationError(f"UpliftTrial: {what} has {len(names)} name(s) but the codes go up to {count - 1}.")
    return names


def _require_every_level(codes: np.ndarray, names: tuple[str, ...], what: str) -> None:
    counts = np.bincount(codes, minlength=len(names))
    empty = [names[k] for k in np.flatnonzero(counts == 0)]
    if empty:
        raise DataValidationError(f"UpliftTrial: no customers in {what}(s) {empty}; every {what} needs at least one.")


def _require_variation(covariates: np.ndarray, names: tuple[str, ...]) -> None:
    if covariates.shape[0] < 2:
        return
    constant = [names[j] for j in np.flatnonzero(covariates.std(axis=0) == 0)]
    if constant:
        raise DataValidationError(
            f"UpliftTrial: covariate(s) {constant} take a single value; a constant is not identifiable next to the "
            "intercept: drop it."
        )
