"""Fixtures for the calibration tests that read the real CDNOW log.

The data never live in the repository; the root conftest's ``real_data_file``
finds them (``$JOURNEYGYM_DATA_DIR``, else ``../shared/data`` beside the
checkout) and skips a test whose file is missing, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from journeygym.datasets.transactions import CDNOW_FILENAME, load_cdnow
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
