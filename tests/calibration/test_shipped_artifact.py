"""The shipped parameter artifact: calibrated, complete, and it passes validation on the real data."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.calibration.artifact import load_artifact
from journeygym.calibration.hillstrom import load_hillstrom
from journeygym.calibration.validation import (
    REQUIRED_COVERAGE,
    coverage,
    observed_trial_rates,
    simulate_trial_rates,
    validation_table,
)


def test_shipped_artifact_is_calibrated_with_provenance():
    draws = load_artifact()
    metadata = draws.metadata
    assert metadata.get("calibrated") is True, metadata.get("label")
    assert len(draws) >= 100
    for key in ("version", "config_hash", "seed", "data_sha256", "assumption_labels"):
        assert key in metadata
    assert set(metadata["data_sha256"]) == {"hillstrom.csv", "cdnow_master.txt"}
    assert all("ASSUMPTION" in metadata["assumption_labels"][name] for name in ("kappa", "u0", "u1"))


def test_draws_differ_and_effects_are_finite():
    draws = load_artifact()
    tilts = np.stack([d.engagement_tilt for d in draws.draws])
    assert np.isfinite(tilts).all() and tilts[:, 1:].std(axis=0).min() > 0


@pytest.mark.slow
def test_simulator_reproduces_the_trial_within_predictive_intervals(data_dir):
    draws = load_artifact()
    trial = load_hillstrom(data_dir)
    sizes = trial["arm"].value_counts().sort_index().to_numpy()
    table = validation_table(observed_trial_rates(trial), simulate_trial_rates(draws, sizes, seed=1), ("N", "M", "W"))
    assert coverage(table) >= REQUIRED_COVERAGE, table[~table["inside"]].to_string()
