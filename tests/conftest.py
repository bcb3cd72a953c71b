"""Shared fixtures: a small synthetic parameter set that needs no data files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journeygym.envs.parameters import ParameterDraws
from journeygym.testing import make_synthetic_draws


@pytest.fixture(scope="session")
def synthetic_draws() -> ParameterDraws:
    return make_synthetic_draws()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data directory (JOURNEYGYM_DATA_DIR, else ../shared/data beside the checkout)."""
    path = Path(os.environ.get("JOURNEYGYM_DATA_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    if not (path / "hillstrom.csv").is_file():
        pytest.skip(f"real data not found in {path}; set JOURNEYGYM_DATA_DIR")
    return path
