"""Outlying dates in a transaction log: rows dated far outside the bulk of the log.

A row dated far outside the bulk of the log -- usually a mistyped year, such
as 2097 for 1997 -- stretches every customer's observation window to it: two
such rows in a CDNOW-sized log turn about 150,000 customer-weeks into ten
million empty ones, and the HMM fit still "converges".  The loaders refuse
them by default.

The rule: let q01 and q99 be the 1st and 99th percentiles of the rows' dates
(rounded inward to dates present in the log, so that the first and last row
never set them) and ``w = max(q99 - q01, 30 days)``, the span of the central
98% of the rows.  A row is outlying when more than ``3 w`` without any row
separates it from that central span (every row beyond such an empty stretch
is outlying).  So an outlying row lies more than ``3 w`` before q01 or after
q99, and a sparse but continuous tail of genuine early or late purchases is
never outlying.  For CDNOW (January 1997 to June 1998, w = 530 days, no empty
stretch) nothing is outlying; a year mistyped as 2097 or 1897 is, a year off
by one is not (it is within ``3 w``).  The rule finds outliers while they
are fewer than about 1% of the rows at either end; logs of fewer than
``OUTLYING_MIN_ROWS`` rows are not checked.  ``outlying_dates="drop"``
drops the outlying rows with a
:class:`~journeygym.errors.DataWarning`, ``"keep"`` keeps them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OUTLYING_GAP", "OUTLYING_MIN_ROWS", "OUTLYING_MIN_WIDTH_DAYS", "OUTLYING_QUANTILE", "outlying_date_range"]

#: Rows beyond an empty stretch of more than OUTLYING_GAP times the span between the
#: OUTLYING_QUANTILE and 1 - OUTLYING_QUANTILE quantiles of the dates are outlying.
OUTLYING_QUANTILE = 0.01
OUTLYING_GAP = 3.0
OUTLYING_MIN_WIDTH_DAYS = 30
#: Logs with fewer rows are not checked for outlying dates (too few to tell the bulk).
OUTLYING_MIN_ROWS = 20


def outlying_date_range(dates: pd.Series | np.ndarray) -> tuple[pd.Timestamp, pd.Timestamp, int] | None:
    """The dates of the bulk of a log and what separates outlying rows from it (this module's docstring).

    Parameters
    ----------
    dates
        The rows' dates (datetime64).

    Returns
    -------
    (pandas.Timestamp, pandas.Timestamp, int) or None
        The first and last date connected to the central 98% of the rows (a
        row dated outside them is outlying) and the longest empty stretch, in
        days, allowed inside; None for a log of fewer than ``OUTLYING_MIN_ROWS``
        rows (not checked).
    """
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    if days.size < OUTLYING_MIN_ROWS:
        return None
    low = int(np.quantile(days, OUTLYING_QUANTILE, method="higher"))
    high = int(np.quantile(days, 1.0 - OUTLYING_QUANTILE, method="lower"))
    gap = int(np.ceil(OUTLYING_GAP * max(high - low, OUTLYING_MIN_WIDTH_DAYS)))
    distinct = np.unique(days)
    later = distinct[distinct >= high]
    breaks = np.flatnonzero(np.diff(later) > gap)
    last = later[breaks[0]] if breaks.size else later[-1]
    earlier = distinct[distinct <= low][::-1]
    breaks = np.flatnonzero(-np.diff(earlier) > gap)
    first = earlier[breaks[0]] if breaks.size else earlier[-1]
    return _day(int(first)), _day(int(last)), gap


def _day(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(day, "D"))
