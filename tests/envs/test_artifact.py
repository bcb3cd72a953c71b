"""The artifact round-trips exactly and fails clearly; saves are atomic."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from journeygym.envs.artifact import ArtifactError, load_artifact, save_artifact


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

    monkeypatch.setattr("journeygym.envs.artifact.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(synthetic_draws, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_draws_with_their_own_population_are_refused_not_dropped(synthetic_draws, tmp_path):
    other = dataclasses.replace(synthetic_draws.mean.population, continuous_quantiles=synthetic_draws.mean.population.continuous_quantiles * 2)
    draws = dataclasses.replace(
        synthetic_draws, draws=(dataclasses.replace(synthetic_draws.draws[0], population=other), *synthetic_draws.draws[1:])
    )
    with pytest.raises(ArtifactError, match=r"draws\[0\].population differs"):
        save_artifact(draws, tmp_path / "a.npz")
    assert not (tmp_path / "a.npz").exists()


def test_shipped_default_artifact_loads():
    draws = load_artifact()
    assert len(draws) >= 1
    assert draws.metadata["format"] == "journeygym-artifact/3"


@pytest.fixture
def artifact_file(synthetic_draws, tmp_path):
    return save_artifact(synthetic_draws, tmp_path / "good.npz")


def _damaged(artifact_file, how: str):
    path = artifact_file.with_name(f"{how}.npz")
    data = artifact_file.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "text":
        path.write_text("customer_id,date,amount\n1,19970101,29.33\n")
    elif how == "directory":
        path.mkdir()
    return path


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("empty", "is empty \\(0 bytes\\)"),
        ("truncated", "damaged or truncated"),
        ("text", "not a journeygym artifact: expected a .npz \\(zip\\) archive, found a file starting with b'cust'"),
        ("directory", "a directory at"),
    ],
)
def test_unreadable_artifacts_get_one_clear_error(artifact_file, how, expected):
    with pytest.raises(ArtifactError, match=expected) as caught:
        load_artifact(_damaged(artifact_file, how))
    assert "allow_pickle" not in str(caught.value)
    assert "journeygym calibrate" in str(caught.value)


def test_gym_make_with_a_truncated_artifact_raises_the_artifact_error(artifact_file):
    import gymnasium as gym

    import journeygym

    with pytest.raises(ArtifactError, match="damaged or truncated"):
        gym.make(journeygym.ENV_ID, artifact=str(_damaged(artifact_file, "truncated")))


def test_an_invalid_value_names_its_draw(synthetic_draws, tmp_path):
    path = save_artifact(synthetic_draws, tmp_path / "a.npz")
    with np.load(path) as data:
        contents = {key: data[key] for key in data.files}
    contents["draws/purchase_prob"] = contents["draws/purchase_prob"].copy()
    contents["draws/purchase_prob"][1, 2] = np.nan
    np.savez_compressed(path, **contents)
    with pytest.raises(ArtifactError, match=r"draw 1 \(of 3\) holds invalid parameters: .*purchase_prob"):
        load_artifact(path)


@pytest.mark.parametrize("command", ["validate", "evaluate", "compare"])
def test_commands_exit_4_on_an_unreadable_artifact(artifact_file, command, capsys):
    from journeygym.cli import main

    damaged = str(_damaged(artifact_file, "truncated"))
    argv = ["validate", damaged] if command == "validate" else [command, "--artifact", damaged]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "damaged or truncated" in err and "Traceback" not in err


def _with_recorded_assumptions(path, change):
    """Rewrite the artifact at ``path`` with its recorded assumptions passed through ``change``."""
    import json

    with np.load(path) as data:
        contents = {key: data[key] for key in data.files}
    metadata = json.loads(str(contents["metadata.json"]))
    change(metadata["assumptions"])
    contents["metadata.json"] = np.array(json.dumps(metadata, sort_keys=True))
    np.savez_compressed(path, **contents)
    return path


def test_an_artifact_recording_the_old_fatigue_counter_says_to_recalibrate(artifact_file):
    """An older artifact's ``max_fatigue`` (the fatigue counter's cap) is refused with one clear error, not a TypeError."""

    def old_fatigue(assumptions):
        for name in ("fatigue_memory", "fatigue_power", "trial_fatigue"):
            assumptions.pop(name)
        assumptions["max_fatigue"] = 5

    with pytest.raises(ArtifactError, match=r"records the assumptions \['max_fatigue'\].*journeygym calibrate"):
        load_artifact(_with_recorded_assumptions(artifact_file, old_fatigue))


def test_invalid_recorded_assumptions_are_an_artifact_error(artifact_file):
    """A recorded assumption that breaks its rule (a fatigue memory of 1.5) is named in an ArtifactError."""
    path = _with_recorded_assumptions(artifact_file, lambda assumptions: assumptions.update(fatigue_memory=1.5))
    with pytest.raises(ArtifactError, match=r"records invalid assumptions: .*fatigue_memory"):
        load_artifact(path)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{not json", r"metadata\.json entry that is not JSON \(Expecting property name"),
        ("[1, 2]", r"metadata\.json entry holding a JSON list, expected a JSON object"),
        ('{"format": "journeygym-artifact/3"}', r"metadata\.json without the key\(s\) \['state_names'"),
    ],
)
def test_metadata_that_is_not_the_json_object_is_an_artifact_error_naming_the_file(artifact_file, capsys, entry, expected):
    """metadata.json that is not JSON answered "Expecting value: line 1 column 1" with exit 2, naming no file."""
    from journeygym.cli import main

    with np.load(artifact_file) as data:
        contents = {key: data[key] for key in data.files}
    contents["metadata.json"] = np.array(entry)
    path = artifact_file.with_name("bad_metadata.npz")
    np.savez_compressed(path, **contents)
    with pytest.raises(ArtifactError, match=expected) as caught:
        load_artifact(path)
    assert str(path) in str(caught.value) and "journeygym calibrate" in str(caught.value)
    assert main(["validate", str(path)]) == 4
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
