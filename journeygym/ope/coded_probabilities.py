"""A log's ``(N, H, A)`` behavior probabilities as a small table of distinct rows and ``(N, H)`` codes.

A deployed policy, uniform or epsilon-greedy, logs a handful of distinct
probability vectors (uniform logging: one for a subscribed customer and the
one-hot on ``no_action`` for an unsubscribed one), yet the dense array of a
million customers x 52 weeks x 3 actions is 1.2 GiB of float64.
:func:`encode_probabilities` keeps such probabilities as :class:`CodedProbabilities`
(``(K, A)`` rows and uint8 codes: 52 MB), exactly; probabilities with more
distinct rows (estimated by a model) stay a dense array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_CODED_ROWS", "CodedProbabilities", "encode_probabilities"]

#: Distinct rows a coded array may have by default (its codes are then uint8).
MAX_CODED_ROWS = 255


class CodedProbabilities:
    """``(N, H, A)`` probabilities ``rows[codes]``: few distinct rows, stored once.

    Parameters
    ----------
    rows
        ``(K, A)`` float64 the distinct probability vectors.
    codes
        ``(N, H)`` unsigned integers in ``[0, K)``: each customer-week's row.

    Notes
    -----
    It reads as the array ``rows[codes]`` (``np.asarray``, ``shape``, ``dtype``,
    ``ndim``) and answers without building it: ``[customers]`` (a slice, an
    index or a bool ``(N,)`` mask: coded), ``[:, :, a]`` (one action's ``(N, H)``
    probabilities), ``[mask]`` with a bool ``(N, H)`` mask (the ``(m, A)`` rows),
    :meth:`chosen`, :meth:`min` and :meth:`sum` over actions; any other key or
    numpy function builds the array.  :meth:`copy` returns the dense array.
    """

    __slots__ = ("codes", "rows")

    def __init__(self, rows: np.ndarray, codes: np.ndarray) -> None:
        rows, codes = np.asarray(rows, dtype=np.float64), np.asarray(codes)
        if rows.ndim != 2 or codes.ndim != 2 or codes.dtype.kind != "u":
            raise ValueError(
                f"CodedProbabilities: received rows of shape {rows.shape} and codes of shape {codes.shape} "
                f"(dtype {codes.dtype}); expected (K, A) rows and (N, H) unsigned integer codes."
            )
        if codes.size and int(codes.max()) >= rows.shape[0]:
            raise ValueError(f"CodedProbabilities: a code is {int(codes.max())}, expected codes below K = {rows.shape[0]}.")
        self.rows, self.codes = rows, codes

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, H, A)``."""
        return (*self.codes.shape, self.rows.shape[1])  # type: ignore[return-value]

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self) -> np.dtype:
        return self.rows.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the codes and the rows (not of the dense array)."""
        return int(self.rows.nbytes + self.codes.nbytes)

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def __repr__(self) -> str:
        return f"CodedProbabilities(shape={self.shape}, distinct rows={self.rows.shape[0]}, nbytes={self.nbytes})"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("CodedProbabilities: the dense array is built, so it cannot be returned without a copy.")
        dense = self.rows[self.codes]
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def copy(self) -> np.ndarray:
        """The dense ``(N, H, A)`` array (a new one)."""
        return np.asarray(self)

    def chosen(self, actions: np.ndarray) -> np.ndarray:
        """``(N, H)`` each week's probability of ``actions[n, h]``."""
        return self.rows[self.codes, actions]

    def min(self, axis: int | None = None) -> Any:
        """The smallest probability over actions (``axis=2`` or ``-1``: ``(N, H)``), else of the dense array."""
        if axis in (2, -1):
            return self.rows.min(axis=1)[self.codes]
        return np.asarray(self).min(axis=axis)

    def sum(self, axis: int | None = None) -> Any:
        """The sum over actions (``axis=2`` or ``-1``: ``(N, H)``), else of the dense array."""
        if axis in (2, -1):
            return self.rows.sum(axis=1)[self.codes]
        return np.asarray(self).sum(axis=axis)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        if isinstance(key, slice) or (isinstance(key, np.ndarray) and key.ndim == 1 and key.dtype.kind in "iub"):
            return CodedProbabilities(self.rows, self.codes[key])
        if isinstance(key, np.ndarray) and key.dtype == np.bool_ and key.ndim == 2:
            return self.rows[self.codes[key]]
        if (
            isinstance(key, tuple)
            and len(key) == 3
            and key[0] == slice(None)
            and key[1] == slice(None)
            and isinstance(key[2], (int, np.integer))
            and not isinstance(key[2], bool)
        ):
            return self.rows[:, key[2]][self.codes]
        return np.asarray(self)[key]


def encode_probabilities(probabilities: np.ndarray, max_rows: int = MAX_CODED_ROWS) -> CodedProbabilities | np.ndarray:
    """``probabilities`` as :class:`CodedProbabilities` when they have at most ``max_rows`` distinct rows, else as given.

    Rows are distinct by value (-0.0 equals 0.0, which gives the same probabilities); ``np.asarray`` of the
    result equals ``probabilities``.  Two hash passes per action (``pandas.factorize``), no sort.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 3 or probabilities.size == 0:
        return probabilities
    n, horizon, n_actions = probabilities.shape
    flat = probabilities.reshape(-1, n_actions)
    combined: np.ndarray | None = None
    for action in range(n_actions):
        codes, values = pd.factorize(flat[:, action])
        # The rows seen so far, numbered: at most max_rows of them, so the product below stays small.
        combined = codes if combined is None else pd.factorize(combined * values.size + codes)[0]
        if values.size > max_rows or int(combined.max()) >= max_rows:
            return probabilities
    assert combined is not None
    # pandas numbers values in order of first appearance: a row's first customer-week is where the running
    # maximum of the codes grows.
    first = np.flatnonzero(np.concatenate([[True], combined[1:] > np.maximum.accumulate(combined)[:-1]]))
    kind = next(k for k in (np.uint8, np.uint16, np.uint32, np.uint64) if first.size - 1 <= np.iinfo(k).max)
    return CodedProbabilities(flat[first], combined.astype(kind).reshape(n, horizon))
