"""The artifact round-trips exactly and fails clearly; saves are atomic."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from journeygym.calibration.artifact import ArtifactError, load_artifact, save_artifact


def _assert_same_fields(original, restored, where="parameters"):
    """Every dataclass field equal, nested dataclasses (the population model) included."""
    for field in dataclasses.fields(original):
        a, b = getattr(original, field.name), getattr(restored, field.name)
        if dataclasses.is_dataclass(a):
            _assert_same_fields(a, b, f"{where}.{field.name}")
        else:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=f"{where}.{field.name}")


def test_round_trip_is_exact(synthetic_draws, tmp_path):
    path = save_artifact(synthetic_draws, tmp_path / "a.npz")
    loaded = load_artifact(path)
    assert len(loaded) == len(synthetic_draws)
    for original, restored in zip((synthetic_draws.mean, *synthetic_draws.draws), (loaded.mean, *loaded.draws)):
        assert restored.carryover_levels == original.carryover_levels
        for name in ("transition", "purchase_response", "visit_response", "engagement_tilt", "initial_state_by_recency", "covariate_means"):
            np.testing.assert_array_equal(getattr(original, name), getattr(restored, name))
        assert original.purchase_offset == restored.purchase_offset
        _assert_same_fields(original, restored)
    assert loaded.assumptions == synthetic_draws.assumptions
    assert loaded.metadata["source"] == "synthetic test fixture"


def test_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ArtifactError, match="no file at .*journeygym calibrate"):
        load_artifact(tmp_path / "missing.npz")


def test_not_an_artifact(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(ArtifactError, match="no metadata.json"):
        load_artifact(path)


def test_failed_save_keeps_the_existing_artifact(synthetic_draws, tmp_path, monkeypatch):
    path = save_artifact(synthetic_draws, tmp_path / "a.npz")
    before = path.read_bytes()

    def broken_replace(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("journeygym.calibration.artifact.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(synthetic_draws, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_draws_with_their_own_population_are_refused_not_dropped(synthetic_draws, tmp_path):
    other = dataclasses.replace(synthetic_draws.mean.population, history_quantiles=synthetic_draws.mean.population.history_quantiles * 2)
    draws = dataclasses.replace(
        synthetic_draws, draws=(dataclasses.replace(synthetic_draws.draws[0], population=other), *synthetic_draws.draws[1:])
    )
    with pytest.raises(ArtifactError, match=r"draws\[0\].population differs"):
        save_artifact(draws, tmp_path / "a.npz")
    assert not (tmp_path / "a.npz").exists()


def test_shipped_default_artifact_loads():
    draws = load_artifact()
    assert len(draws) >= 1
    assert draws.metadata["format"] == "journeygym-artifact/2"
