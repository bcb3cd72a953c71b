"""Weekly purchase sequences: a validated transaction log turned into the HMM's observations.

:func:`weekly_observations` turns a log (from
:func:`~journeygym.datasets.transactions.load_transactions`) into padded
weekly observation sequences, one row per customer, that the purchase HMM is
fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from journeygym.arguments import current_command
from journeygym.errors import DataValidationError
from journeygym.datasets.transactions import check_columns

__all__ = ["WeeklySequences", "weekly_observations"]

_DAYS_PER_WEEK = 7


@dataclass(frozen=True, eq=False)
class WeeklySequences:
    """Padded weekly purchase observations, one row per customer.

    Attributes
    ----------
    obs
        int8 array (n_customers, T): 0 = no purchase that week, 1 = purchase
        total <= ``median_amount``, 2 = purchase total > ``median_amount``,
        -1 = beyond the customer's observation window (padding, always a
        suffix of the row).
    lengths
        int64 array (n_customers,): number of observed weeks per customer.
    customer_ids
        Customer identifiers, aligned with the rows.
    median_amount
        The weekly-total threshold that separates observation 1 from 2.
    week0
        datetime64[D] array (n_customers,): first day of each customer's
        week 0.
    """

    obs: np.ndarray
    lengths: np.ndarray
    customer_ids: np.ndarray
    median_amount: float
    week0: np.ndarray

    n_symbols: ClassVar[int] = 3  # no purchase, small week, large week

    def __post_init__(self) -> None:
        n = len(self.lengths)
        if self.obs.ndim != 2 or self.obs.shape[0] != n:
            raise DataValidationError(
                f"obs must have shape (n_customers, T) with n_customers = "
                f"len(lengths) = {n}; received {self.obs.shape}."
            )
        if len(self.customer_ids) != n or len(self.week0) != n:
            raise DataValidationError(
                "customer_ids, week0 and lengths must have one entry per "
                f"customer; received {len(self.customer_ids)}, "
                f"{len(self.week0)}, {n}."
            )
        for name in ("obs", "lengths", "customer_ids", "week0"):
            view = np.asarray(getattr(self, name)).view()  # the caller's array stays writable
            view.setflags(write=False)
            object.__setattr__(self, name, view)

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def mask(self) -> np.ndarray:
        """Boolean (n_customers, T): True inside each observation window."""
        return self.obs >= 0


def weekly_observations(
    transactions: pd.DataFrame,
    *,
    start: str | pd.Timestamp = "first_purchase",
    n_weeks: int | None = None,
    end_date: str | pd.Timestamp | None = None,
    median_amount: float | None = None,
) -> WeeklySequences:
    """Weekly purchase observations per customer.

    Week k of a customer covers the days ``week0 + 7k .. week0 + 7k + 6``.
    Only complete weeks that end on or before ``end_date`` are observed, so
    every observed week has seven days of data; purchases after the last
    complete week are ignored.

    Parameters
    ----------
    transactions
        Output of :func:`load_transactions` (columns customer_id, date,
        amount).
    start
        ``"first_purchase"``: each customer's week 0 starts on the day of
        their first purchase, so week 0 always holds a purchase.
        ``"after_first_purchase"``: week 0 is the week after that first
        purchase week. A log that lists customers because they bought (such
        as CDNOW, a cohort of first-time buyers) makes the first week a
        purchase by construction; leaving it out keeps the HMM from spending
        a state on "the week the customer entered the data". A date: week 0
        starts on that date for every customer. Purchases before week 0 are
        ignored.
    n_weeks
        Keep at most this many weeks per customer; the arrays then have
        exactly ``n_weeks`` columns. ``None`` keeps every complete week.
    end_date
        Last day of the observation window; default: the last date in
        ``transactions``.
    median_amount
        Threshold between a small (1) and a large (2) purchase week. ``None``
        uses the median of the weekly purchase totals in this window; pass the
        value of a training window to code a test window the same way.

    Returns
    -------
    WeeklySequences
        Rows in ascending customer-id order.
    """
    _check_transactions_frame(transactions)
    if n_weeks is not None and (int(n_weeks) != n_weeks or n_weeks < 1):
        raise DataValidationError(
            f"n_weeks must be a positive integer or None; received {n_weeks!r}."
        )

    codes, customer_ids = pd.factorize(transactions["customer_id"], sort=True)
    day = transactions["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    amount = transactions["amount"].to_numpy(dtype=np.float64)
    end = _as_day(transactions["date"].max() if end_date is None else end_date, "end_date")

    week0 = _week0(codes, day, len(customer_ids), start)
    lengths = np.maximum((end - week0 + 1) // _DAYS_PER_WEEK, 0)
    if n_weeks is not None:
        lengths = np.minimum(lengths, int(n_weeks))
    n_cols = int(n_weeks) if n_weeks is not None else int(lengths.max(initial=0))

    week = (day - week0[codes]) // _DAYS_PER_WEEK
    inside = (day >= week0[codes]) & (week < lengths[codes])
    flat = codes[inside].astype(np.int64) * n_cols + week[inside]
    cells, inverse = np.unique(flat, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=amount[inside], minlength=len(cells))

    if median_amount is None:
        if not len(totals):
            fix = (
                "check start/end_date, or pass median_amount=."
                if current_command() is None
                else "the log needs purchases at least a week after a customer's first purchase; check the time "
                "column and its dates."
            )
            raise DataValidationError(
                "No purchases fall inside the observation window, so the "
                f"median weekly amount is undefined; {fix}"
            )
        median_amount = float(np.median(totals))
    elif not np.isfinite(median_amount):
        raise DataValidationError(f"median_amount must be finite; received {median_amount!r}.")

    obs = np.full((len(customer_ids), n_cols), -1, dtype=np.int8)
    obs[np.arange(n_cols) < lengths[:, None]] = 0
    obs.reshape(-1)[cells] = np.where(totals <= median_amount, 1, 2)
    return WeeklySequences(
        obs=obs,
        lengths=lengths.astype(np.int64),
        customer_ids=np.asarray(customer_ids),
        median_amount=float(median_amount),
        week0=week0.astype("datetime64[D]"),
    )


def _check_transactions_frame(transactions: pd.DataFrame) -> None:
    expected = ["customer_id", "date", "amount"]
    if not isinstance(transactions, pd.DataFrame):
        raise DataValidationError(
            f"Expected a DataFrame from load_transactions(); received "
            f"{type(transactions).__name__}."
        )
    check_columns(transactions, expected, "transactions")
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise DataValidationError(
            f"transactions['date'] must be datetime64; received dtype "
            f"{transactions['date'].dtype}. Load the log with load_transactions()."
        )
    if len(transactions) == 0:
        raise DataValidationError("transactions is empty; expected at least one purchase.")


def _as_day(value: object, name: str) -> np.int64:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataValidationError(
            f"{name} must be a date such as '1998-06-30'; received {value!r}."
        ) from None
    return np.datetime64(ts.normalize(), "D").astype(np.int64)


def _week0(codes: np.ndarray, day: np.ndarray, n: int, start: object) -> np.ndarray:
    if isinstance(start, str) and start in ("first_purchase", "after_first_purchase"):
        first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, codes, day)
        return first if start == "first_purchase" else first + _DAYS_PER_WEEK
    try:
        return np.full(n, _as_day(start, "start"), dtype=np.int64)
    except DataValidationError:
        raise DataValidationError(
            "start must be 'first_purchase', 'after_first_purchase' or a date "
            f"such as '1997-01-01'; received {start!r}."
        ) from None
