"""Fixtures for the calibration tests that read the real CDNOW log.

The data never live in the repository. The directory comes from the
JOURNEYGYM_DATA_DIR environment variable, else ``../shared/data`` relative to
the repository root; tests that need a missing file are skipped with the
reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journeygym.calibration.transactions import (
    CDNOW_FILENAME,
    DATA_DIR_ENV,
    load_cdnow,
    weekly_observations,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def find_data_dir() -> Path:
    """The data directory named by JOURNEYGYM_DATA_DIR, else the default one."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


def require_data_file(name: str) -> Path:
    """Path of a data file, or skip the test saying where it was looked for."""
    path = find_data_dir() / name
    if not path.is_file():
        pytest.skip(
            f"{name} not found at {path}; set {DATA_DIR_ENV} to the directory "
            "that holds the real data files to run this test"
        )
    return path


@pytest.fixture(scope="session")
def cdnow_path() -> Path:
    return require_data_file(CDNOW_FILENAME)


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
