"""Shared fixtures: a small synthetic parameter set that needs no data files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journeygym.calibration.hillstrom import DATA_DIR_ENV, HILLSTROM_FILENAME
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
