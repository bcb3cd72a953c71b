"""Shared fixtures: a small synthetic parameter set that needs no data files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.hillstrom import DATA_DIR_ENV, HILLSTROM_FILENAME
from journeygym.envs.parameters import ParameterDraws
from journeygym.testing import make_synthetic_draws


@pytest.fixture(scope="session")
def synthetic_draws() -> ParameterDraws:
    return make_synthetic_draws()


@pytest.fixture(scope="session")
def real_data_file():
    """``real_data_file(name)``: the path of a real data file, or skip the test saying where it was looked for.

    The directory is ``$JOURNEYGYM_DATA_DIR``, else ``../shared/data`` beside the checkout.
    """
    directory = Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).resolve().parents[1].parent / "shared" / "data")

    def find(name: str) -> Path:
        path = directory / name
        if not path.is_file():
            pytest.skip(f"{name} not found at {path}; set {DATA_DIR_ENV} to the directory that holds the real data")
        return path

    return find


@pytest.fixture(scope="session")
def data_dir(real_data_file) -> Path:
    """The real data directory (skips the test when it holds no hillstrom.csv)."""
    return real_data_file(HILLSTROM_FILENAME).parent


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
