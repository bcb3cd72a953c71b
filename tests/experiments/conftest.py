"""Fixtures for the experiment tests: a small synthetic artifact and tiny configs."""

from __future__ import annotations

from typing import Any

import pytest

from journeygym.envs.artifact import save_artifact


@pytest.fixture(scope="session")
def artifact_path(synthetic_draws, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three synthetic posterior draws written as an artifact (independent of the shipped one)."""
    return str(save_artifact(synthetic_draws, tmp_path_factory.mktemp("artifact") / "synthetic.npz"))


@pytest.fixture
def tiny(artifact_path: str):
    """Factory of configs that run in seconds (6-week horizon, a few hundred customers).

    ``tiny(**changes)`` replaces top-level keys.
    """

    def make(**changes: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": "tiny",
            "scenario": {"artifact": artifact_path, "horizon": 6},
            "policies": ["never", "random", "oracle"],
            "seeds": [0, 1],
            "evaluation": {"customers": 200, "draws": 2},
            "logged_data": {"customers": 150, "tune_customers": 100},
            "n_workers": 1,
        }
        config.update(changes)
        return config

    return make


@pytest.fixture
def comparable():
    """Drop the columns that legitimately differ between two runs (timings, paths, process ids)."""
    from journeygym.experiments.runner import NONDETERMINISTIC_COLUMNS

    def strip(frame):
        return frame.drop(columns=[c for c in NONDETERMINISTIC_COLUMNS if c in frame.columns]).reset_index(drop=True)

    return strip
