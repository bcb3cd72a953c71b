"""A compact, array-like store of a log's ``(N, H, D)`` observations.

Most columns of a journeygym observation are customer attributes (recency,
channel, zip...) that do not change over a customer's weeks: at a million
customers x 52 weeks, 12 of the 23 float32 columns are 2.5 of its 4.5 GiB.
:class:`WeeklyObservations` keeps those columns once per customer and the
others per week, and answers the indexing the off-policy estimators use (one
week, one column, a subset of customers, the logged rows) with what numpy
gives on the full array, without building it; any other key builds the full
array (``np.asarray``) and indexes it.  Use it as
``replace(episodes, observations=WeeklyObservations.from_array(episodes.observations, episodes.mask))``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["WeeklyObservations"]

#: Column runs ``(destination, source)``: consecutive positions copied with one slice assignment.
_Runs = tuple[tuple[slice, slice], ...]


def _runs(positions: Sequence[int]) -> _Runs:
    """``positions`` (increasing) cut into runs of consecutive positions, each with its source slice."""
    runs, start = [], 0
    for i in range(1, len(positions) + 1):
        if i == len(positions) or positions[i] != positions[i - 1] + 1:
            runs.append((slice(positions[start], positions[i - 1] + 1), slice(start, i)))
            start = i
    return tuple(runs)


def _is_int(value: Any) -> bool:
    """An integer index (Python or numpy), not a boolean."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_customer_index(key: Any) -> bool:
    """A slice, a 1-D integer array or a 1-D bool array: an index over the customers."""
    return isinstance(key, slice) or (isinstance(key, np.ndarray) and key.ndim == 1 and key.dtype.kind in "iub")


def _is_whole(key: Any) -> bool:
    """``slice(None)``: every position of an axis."""
    return isinstance(key, slice) and key == slice(None)


def _normalized(index: Any, size: int, axis: int) -> int:
    """``index`` in ``[0, size)`` (negative counts from the end), else numpy's IndexError."""
    position = operator.index(index)
    if not -size <= position < size:
        raise IndexError(f"index {position} is out of bounds for axis {axis} with size {size}")
    return position + size if position < 0 else position


def _same_bits(values: np.ndarray) -> np.ndarray:
    """``values`` viewed as unsigned integers when floating (-0.0 and 0.0 differ, a NaN equals itself)."""
    if values.dtype.kind in "fc" and values.dtype.itemsize in (2, 4, 8):
        return values.view(f"u{values.dtype.itemsize}")
    return values


class WeeklyObservations:
    """``(N, H, D)`` observations whose per-customer columns are stored once per customer.

    Parameters
    ----------
    per_customer
        ``(N, S)`` the values of the S columns constant over each customer's weeks.
    per_week
        ``(N, H, D - S)`` the other columns, in order; the same dtype as ``per_customer``.
    customer_columns
        The S positions among the D columns of the ``per_customer`` ones: sorted, distinct, in ``[0, D)``.
        The other positions, in order, are the ``per_week`` columns.

    Raises
    ------
    ValueError
        For arrays of the wrong number of dimensions, different customer counts
        or dtypes, or positions that are not sorted, distinct integers in
        ``[0, D)``, one per per-customer column.

    Notes
    -----
    It behaves as the read-only array ``np.asarray(self)`` for ``shape``,
    ``ndim``, ``dtype``, ``size``, ``len`` and these keys, which give exactly
    what numpy gives (values and dtype) without building the full array:

    * ``[:, w]`` and ``[rows, w]``, ``w`` an integer: :meth:`week`;
    * ``[:, :, c]``, ``c`` an integer: :meth:`column`;
    * ``[customers]`` (a slice, an integer array or a bool ``(N,)`` mask): a
      :class:`WeeklyObservations` of those customers (views for a slice);
    * ``[mask]``, a bool ``(N, H)`` mask: the ``(m, D)`` rows where it is True,
      customer-major.

    Other keys index ``np.asarray(self)`` (only the customers of a leading slice are built).
    :attr:`nbytes` is that of the two stored arrays.
    """

    __slots__ = ("_customer_columns", "_customer_runs", "_per_customer", "_per_week", "_week_columns", "_week_runs")

    def __init__(self, per_customer: np.ndarray, per_week: np.ndarray, customer_columns: Sequence[int]) -> None:
        per_customer, per_week = np.asarray(per_customer), np.asarray(per_week)
        if per_customer.ndim != 2 or per_week.ndim != 3:
            raise ValueError(
                f"WeeklyObservations: received per_customer of shape {per_customer.shape} and per_week of shape "
                f"{per_week.shape}; expected (N, S) and (N, H, D - S)."
            )
        if per_customer.shape[0] != per_week.shape[0]:
            raise ValueError(
                f"WeeklyObservations: received per_customer for {per_customer.shape[0]} customers and per_week for "
                f"{per_week.shape[0]}; expected the same N customers."
            )
        if per_customer.dtype != per_week.dtype:
            raise ValueError(
                f"WeeklyObservations: received per_customer of dtype {per_customer.dtype} and per_week of dtype "
                f"{per_week.dtype}; expected the same dtype."
            )
        columns = list(customer_columns)
        width = per_customer.shape[1] + per_week.shape[2]
        if (
            len(columns) != per_customer.shape[1]
            or not all(_is_int(c) and 0 <= c < width for c in columns)
            or any(a >= b for a, b in zip(columns, columns[1:]))
        ):
            raise ValueError(
                f"WeeklyObservations: received customer_columns {columns}; expected {per_customer.shape[1]} sorted, "
                f"distinct integers in [0, {width}), one per column of per_customer (D = {per_customer.shape[1]} "
                f"per-customer + {per_week.shape[2]} per-week columns)."
            )
        chosen = {int(c) for c in columns}
        self._per_customer, self._per_week = per_customer, per_week
        self._customer_columns = tuple(int(c) for c in columns)
        self._week_columns = tuple(c for c in range(width) if c not in chosen)
        self._customer_runs, self._week_runs = _runs(self._customer_columns), _runs(self._week_columns)

    @classmethod
    def from_array(cls, observations: np.ndarray, mask: np.ndarray | None = None) -> WeeklyObservations:
        """The compact form of ``(N, H, D)`` observations, the columns constant over each customer's weeks once.

        Parameters
        ----------
        observations
            ``(N, H, D)`` the observations.
        mask
            ``(N, H)`` bool, True where a week is logged: a column is per-customer when it is constant (bit for
            bit) over every customer's logged weeks; all weeks when None.  A customer without a logged week
            constrains no column.

        Returns
        -------
        WeeklyObservations
            Whose per-customer columns take each customer's value at its first logged week (week 0 when it
            has none), also in the padding weeks (mask False), which may have held another value; everywhere
            else ``np.asarray(result)`` is ``observations`` exactly.

        Raises
        ------
        ValueError
            For observations that are not 3-D, or a mask that is not a bool ``(N, H)`` array.
        """
        values = np.asarray(observations)
        if values.ndim != 3:
            raise ValueError(
                f"WeeklyObservations.from_array: received observations of shape {values.shape}; expected (N, H, D)."
            )
        n, horizon, width = values.shape
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_ or mask.shape != (n, horizon):
                raise ValueError(
                    f"WeeklyObservations.from_array: received a mask of dtype {mask.dtype} and shape {mask.shape}; "
                    f"expected bool of shape {(n, horizon)} (customers, weeks)."
                )
        if horizon == 0:
            first_values = np.zeros((n, width), dtype=values.dtype)
        else:
            first = np.zeros(n, dtype=np.intp) if mask is None else np.argmax(mask, axis=1)
            first_values = values[np.arange(n), first]
        bits, first_bits = _same_bits(values), _same_bits(first_values)
        constant = []
        for column in range(width):  # one (N, H) comparison at a time, not an (N, H, D) temporary
            same = bits[:, :, column] == first_bits[:, column, None]
            constant.append(bool(same.all() if mask is None else (same | ~mask).all()))
        per_customer = np.flatnonzero(constant)
        per_week = np.flatnonzero(~np.asarray(constant, dtype=bool))
        per_week_values = np.ascontiguousarray(values[:, :, per_week])
        return cls(np.ascontiguousarray(first_values[:, per_customer]), per_week_values, per_customer.tolist())

    @property
    def per_customer(self) -> np.ndarray:
        """``(N, S)`` the stored per-customer columns."""
        return self._per_customer

    @property
    def per_week(self) -> np.ndarray:
        """``(N, H, D - S)`` the stored per-week columns."""
        return self._per_week

    @property
    def customer_columns(self) -> tuple[int, ...]:
        """The positions of the per-customer columns among the D."""
        return self._customer_columns

    @property
    def week_columns(self) -> tuple[int, ...]:
        """The positions of the per-week columns among the D."""
        return self._week_columns

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, H, D)``."""
        n, horizon, _ = self._per_week.shape
        return n, horizon, len(self._customer_columns) + len(self._week_columns)

    @property
    def ndim(self) -> int:
        """3."""
        return 3

    @property
    def dtype(self) -> np.dtype:
        """The stored dtype."""
        return self._per_week.dtype

    @property
    def size(self) -> int:
        """``N * H * D``."""
        n, horizon, width = self.shape
        return n * horizon * width

    @property
    def nbytes(self) -> int:
        """Bytes of the two stored arrays (not of the full array)."""
        return int(self._per_customer.nbytes + self._per_week.nbytes)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (
            f"WeeklyObservations(shape={self.shape}, dtype={self.dtype}, customer_columns={self._customer_columns}, "
            f"nbytes={self.nbytes})"
        )

    def _assemble(self, customer: np.ndarray, week: np.ndarray) -> np.ndarray:
        """A new array of ``week``'s leading shape and D columns from the two parts (``customer`` broadcast)."""
        out = np.empty((*week.shape[:-1], self.shape[2]), dtype=self.dtype)
        for destination, source in self._customer_runs:
            out[..., destination] = customer[..., source]
        for destination, source in self._week_runs:
            out[..., destination] = week[..., source]
        return out

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The full ``(N, H, D)`` array (always a new one: ``copy=False`` raises ValueError)."""
        if copy is False:
            raise ValueError("WeeklyObservations: the full array is built, so it cannot be returned without a copy.")
        full = self._assemble(self._per_customer[:, None, :], self._per_week)
        return full if dtype is None else full.astype(dtype, copy=False)

    def week(self, week: int, rows: Any = None) -> np.ndarray:
        """``(n, D)`` the observations of one week, a new C-contiguous array of the stored dtype.

        Parameters
        ----------
        week
            The week, in ``[-H, H)`` (negative counts from the end).
        rows
            The customers: all when None, else a slice, a 1-D integer array or a bool ``(N,)`` mask.

        Returns
        -------
        numpy.ndarray
            ``np.asarray(self)[rows, week]``, built from the stored columns only.
        """
        position = _normalized(week, self.shape[1], 1)
        rows = slice(None) if rows is None else rows
        return self._assemble(self._per_customer[rows], self._per_week[rows, position])

    def column(self, index: int) -> np.ndarray:
        """``(N, H)`` the values of column ``index`` (negative counts from the end).

        A view of the stored array for a per-week column; a read-only broadcast of the customers' values
        for a per-customer one.
        """
        position = _normalized(index, self.shape[2], 2)
        if position in self._customer_columns:
            values = self._per_customer[:, self._customer_columns.index(position)]
            return np.broadcast_to(values[:, None], self.shape[:2])
        return self._per_week[:, :, self._week_columns.index(position)]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if _is_customer_index(key):
            return WeeklyObservations(self._per_customer[key], self._per_week[key], self._customer_columns)
        if _is_int(key):  # one customer: (H, D)
            position = _normalized(key, self.shape[0], 0)
            return np.asarray(self[position : position + 1])[0]
        if isinstance(key, np.ndarray) and key.dtype == np.bool_ and key.ndim == 2:
            week = self._per_week[key]  # numpy's IndexError for a mask of the wrong shape
            return self._assemble(self._per_customer[np.nonzero(key)[0]], week)
        if isinstance(key, tuple) and len(key) == 2 and _is_customer_index(key[0]) and _is_int(key[1]):
            return self.week(key[1], key[0])
        if isinstance(key, tuple) and len(key) == 3 and _is_whole(key[0]) and _is_whole(key[1]) and _is_int(key[2]):
            return self.column(key[2])
        if isinstance(key, tuple) and len(key) > 1 and isinstance(key[0], slice):
            return np.asarray(self[key[0]])[(slice(None), *key[1:])]  # only the sliced customers are built
        return np.asarray(self)[key]
