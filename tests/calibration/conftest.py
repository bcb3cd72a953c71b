"""Fixtures for the calibration tests that read the real CDNOW log.

The data never live in the repository; the root conftest's ``real_data_file``
finds them (``$JOURNEYGYM_DATA_DIR``, else ``../shared/data`` beside the
checkout) and skips a test whose file is missing, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeygym.calibration.transactions import CDNOW_FILENAME, load_cdnow
from journeygym.calibration.weekly import weekly_observations


@pytest.fixture(scope="session")
def cdnow_path(real_data_file) -> Path:
    return real_data_file(CDNOW_FILENAME)


@pytest.fixture(scope="session")
def cdnow(cdnow_path):
    return load_cdnow(cdnow_path)


@pytest.fixture(scope="session")
def cdnow_weekly(cdnow):
    """Weekly sequences from the week after each first purchase to 1998-06-30."""
    return weekly_observations(cdnow, start="after_first_purchase", end_date="1998-06-30")


@pytest.fixture(scope="session")
def cdnow_hmm(cdnow_weekly):
    from journeygym.calibration.hmm import PurchaseHMM

    return PurchaseHMM(n_states=5).fit(cdnow_weekly)


#: Rows of ``cdnow_like_log`` whose year ``mistyped_log`` turns into 2097.
MISTYPED_ROWS = (5, 40)


@pytest.fixture
def cdnow_like_log() -> pd.DataFrame:
    """A small synthetic log like CDNOW: 200 first purchases in Q1 1997, repeat purchases until mid-1998.

    Columns customer_id, date (``YYYYMMDD`` text), amount.
    """
    rng = np.random.default_rng(0)
    start = pd.Timestamp("1997-01-01")
    rows = []
    for customer in range(200):
        first = int(rng.integers(0, 84))
        days = [0, *np.sort(rng.integers(7, 540 - first, size=rng.integers(0, 4)))]
        for day in days:
            date = start + pd.Timedelta(days=first + int(day))
            rows.append({"customer_id": customer, "date": f"{date:%Y%m%d}", "amount": round(float(rng.gamma(2.0, 15.0)) + 1.0, 2)})
    return pd.DataFrame(rows)


@pytest.fixture
def mistyped_log(cdnow_like_log) -> pd.DataFrame:
    """``cdnow_like_log`` with the year of the rows ``MISTYPED_ROWS`` typed as 2097."""
    log = cdnow_like_log.copy()
    for row in MISTYPED_ROWS:
        log.loc[row, "date"] = "2097" + log.loc[row, "date"][4:]
    return log
