"""A campaign log exported to a Minari dataset reads back to the same episodes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.testing import default_observation_names
from journeygym import ENV_ID
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.logged_data.schema import propensity_columns
from journeygym.envs.observation import observation_space
from journeygym.testing import default_observation_columns
from journeygym.ope import LoggedEpisodes, OPEInputError, episodes_from_frame, export_minari, load_minari
from journeygym.ope.minari_io import DATASETS_PATH_ENV, METADATA_KEY

minari = pytest.importorskip("minari", reason="the optional 'offline' extra is not installed")

PROVENANCE = {"author": "journeygym tests", "author_email": "dev@journeygym.invalid", "code_permalink": "tests/ope"}
ARRAYS = ("observations", "actions", "rewards", "behavior_probabilities", "mask", "customer_ids")


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    """Minari's default root for every test: a temporary folder, never the user's home."""
    root = tmp_path / "default-root"
    monkeypatch.setenv(DATASETS_PATH_ENV, str(root))
    return root


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return simulate_logged_data(200, 0, horizon=10)


def variable_length(frame: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """Each customer keeps its first L weeks, L drawn in 1..H; customer ids shifted so they differ from positions."""
    rng = np.random.default_rng(seed)
    customers = frame["customer_id"].unique()
    lengths = pd.Series(rng.integers(1, frame["week"].max() + 2, size=customers.size), index=customers)
    kept = frame[frame["week"].to_numpy() < lengths.loc[frame["customer_id"]].to_numpy()].copy()
    kept["customer_id"] += 1000
    kept.attrs = frame.attrs
    return kept


def assert_same_episodes(back: LoggedEpisodes, expected: LoggedEpisodes) -> None:
    for name in ARRAYS:
        left, right = getattr(back, name), getattr(expected, name)
        if right is None:
            assert left is None, name
        else:
            np.testing.assert_array_equal(left, right, err_msg=name)
            # Actions come back in the smallest integer type that holds them, whatever type they were built with.
            assert left.dtype == right.dtype or (name == "actions" and left.dtype.kind == right.dtype.kind == "i"), name
    assert back.action_names == expected.action_names
    assert back.propensities_estimated == expected.propensities_estimated
    assert back.metadata == expected.metadata


def test_round_trip_with_logged_propensities(log, tmp_path):
    expected = episodes_from_frame(log)
    path = export_minari(log, "journeygym/hillstrom-log-v0", data_path=tmp_path, **PROVENANCE)

    assert path == tmp_path / "journeygym" / "hillstrom-log-v0"
    back = load_minari("journeygym/hillstrom-log-v0", data_path=tmp_path)
    assert back.behavior_probabilities is not None
    assert_same_episodes(back, expected)
    assert back.metadata["seed"] == 0 and back.metadata["horizon"] == 10


def test_round_trip_without_propensity_columns(log, tmp_path, monkeypatch):
    frame = log.drop(columns=propensity_columns(episodes_from_frame(log).action_names))
    expected = episodes_from_frame(frame)
    assert expected.behavior_probabilities is None

    monkeypatch.setenv(DATASETS_PATH_ENV, str(tmp_path))
    export_minari(frame, "journeygym/no-propensities-v0", **PROVENANCE)
    back = load_minari("journeygym/no-propensities-v0", data_path=tmp_path)
    assert_same_episodes(back, expected)
    dataset = minari.load_dataset("journeygym/no-propensities-v0")
    assert set(dataset[0].infos) == {"customer_id"}
    assert dataset.storage.metadata[METADATA_KEY]["propensities"] == "absent"


def test_round_trip_of_variable_length_episodes(log, tmp_path):
    frame = variable_length(log)
    expected = episodes_from_frame(frame)
    assert len(set(expected.mask.sum(axis=1).tolist())) > 5

    export_minari(frame, "journeygym/ragged-v0", data_path=tmp_path, **PROVENANCE)
    assert_same_episodes(load_minari("journeygym/ragged-v0", data_path=tmp_path), expected)


def test_estimated_propensities_are_flagged(log, tmp_path):
    expected = episodes_from_frame(log)
    expected = expected.with_behavior(expected.behavior_probabilities, estimated=True)

    export_minari(expected, "estimated-v0", data_path=tmp_path, **PROVENANCE)
    back = load_minari("estimated-v0", data_path=tmp_path)
    assert back.propensities_estimated
    assert_same_episodes(back, expected)


def test_minari_sees_one_truncated_episode_per_customer(log, tmp_path, monkeypatch):
    frame = variable_length(log)
    episodes = episodes_from_frame(frame)
    export_minari(frame, "journeygym/layout-v0", data_path=tmp_path, **PROVENANCE)

    monkeypatch.setenv(DATASETS_PATH_ENV, str(tmp_path))
    dataset = minari.load_dataset("journeygym/layout-v0")
    assert dataset.total_episodes == episodes.n_customers
    assert dataset.total_steps == int(episodes.mask.sum())
    assert dataset.observation_space == observation_space(default_observation_columns(episodes.action_names))
    assert dataset.action_space == spaces.Discrete(3)
    record = dataset.storage.metadata[METADATA_KEY]
    assert record["action_names"] == list(episodes.action_names)
    assert record["propensities"] == "logged" and record["propensities_estimated"] is False
    assert record["observation_columns"] == [c.name for c in default_observation_columns(episodes.action_names)]
    for i in (0, 7, 199):
        episode, length = dataset[i], int(episodes.mask[i].sum())
        assert episode.observations.shape == (length + 1, 23)
        np.testing.assert_array_equal(episode.observations[:length], episodes.observations[i, :length])
        np.testing.assert_array_equal(episode.observations[length], episode.observations[length - 1])
        assert not episode.terminations.any()
        assert episode.truncations.tolist() == [False] * (length - 1) + [True]
        assert episode.infos["propensity"].shape == (length + 1, 3)
        assert np.isnan(episode.infos["propensity"][length]).all()
        assert (episode.infos["customer_id"] == episodes.customer_ids[i]).all()


def test_a_simulated_log_records_its_environment_without_warnings(tmp_path, monkeypatch):
    frame = simulate_logged_data(20, 0, horizon=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_minari(frame, "journeygym/simulated-v0", data_path=tmp_path, env_spec=ENV_ID, **PROVENANCE)

    monkeypatch.setenv(DATASETS_PATH_ENV, str(tmp_path))
    dataset = minari.load_dataset("journeygym/simulated-v0")
    assert dataset.env_spec.id == ENV_ID
    assert dataset.storage.metadata["algorithm_name"] == "journeygym behavior policy (randomized)"


@settings(max_examples=12, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=8),
    with_propensities=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_any_ragged_log_round_trips(lengths, with_propensities, seed):
    rng = np.random.default_rng(seed)
    names = ("no_action", "email")
    n, horizon = len(lengths), max(lengths)
    mask = np.arange(horizon)[None, :] < np.array(lengths)[:, None]
    probabilities = rng.dirichlet(np.ones(2), size=(n, horizon))
    actions = np.where(mask, (rng.random((n, horizon)) < probabilities[:, :, 1]).astype(np.int64), 0)
    probabilities[~mask] = [1.0, 0.0]
    observations = rng.random((n, horizon, len(default_observation_columns(names)))).astype(np.float32)
    fill = np.minimum(np.arange(horizon)[None, :], np.array(lengths)[:, None] - 1)
    episodes = LoggedEpisodes(
        observations=np.take_along_axis(observations, fill[:, :, None], axis=1),
        actions=actions,
        rewards=np.where(mask, rng.normal(size=(n, horizon)), 0.0),
        behavior_probabilities=None,
        mask=mask,
        action_names=names,
        observation_names=default_observation_names(names),
        customer_ids=rng.permutation(10 * n)[:n].astype(np.int64),
        metadata={"seed": seed},
    )
    if with_propensities:
        episodes = episodes.with_behavior(probabilities, estimated=False)
    with tempfile.TemporaryDirectory() as root:
        export_minari(episodes, "prop/ragged-v0", data_path=root, **PROVENANCE)
        assert_same_episodes(load_minari("prop/ragged-v0", data_path=root), episodes)


def test_an_existing_dataset_is_replaced_only_with_overwrite(log, tmp_path):
    export_minari(log, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)
    smaller = episodes_from_frame(log).subset(np.arange(50))

    with pytest.raises(OPEInputError, match=r"already exists .* overwrite=True"):
        export_minari(smaller, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)
    assert load_minari("journeygym/log-v0", data_path=tmp_path).n_customers == 200

    export_minari(smaller, "journeygym/log-v0", data_path=tmp_path, overwrite=True, **PROVENANCE)
    assert_same_episodes(load_minari("journeygym/log-v0", data_path=tmp_path), smaller)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journeygym"]


def test_overwrite_never_deletes_a_folder_that_is_not_a_dataset(log, tmp_path):
    stranger = tmp_path / "journeygym" / "notes-v0"
    stranger.mkdir(parents=True)
    (stranger / "keep.txt").write_text("mine")

    with pytest.raises(OPEInputError, match="holds no Minari dataset"):
        export_minari(log, "journeygym/notes-v0", data_path=tmp_path, overwrite=True, **PROVENANCE)
    assert (stranger / "keep.txt").read_text() == "mine"


def test_a_failed_export_leaves_nothing_behind(log, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(minari, "create_dataset_from_buffers", fail)
        with pytest.raises(RuntimeError, match="disk full"):
            export_minari(log, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)
    assert list(tmp_path.iterdir()) == []
    export_minari(log, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)


def test_the_default_root_is_minaris_and_data_path_does_not_leak(log, tmp_path, minari_root):
    export_minari(log, "journeygym/log-v0", **PROVENANCE)
    assert (minari_root / "journeygym" / "log-v0" / "data" / "metadata.json").is_file()

    export_minari(log, "journeygym/log-v0", data_path=tmp_path / "elsewhere", **PROVENANCE)
    assert os.environ[DATASETS_PATH_ENV] == str(minari_root)
    assert load_minari("journeygym/log-v0").n_customers == 200


def test_a_missing_dataset_or_malformed_id_is_named(log, tmp_path):
    export_minari(log, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)

    with pytest.raises(OPEInputError, match=r"no Minari dataset 'journeygym/log-v1' .*found \['journeygym/log-v0'\]"):
        load_minari("journeygym/log-v1", data_path=tmp_path)
    for bad in ("log", "x/log-v0", "journeygym/log-vx", 3):
        with pytest.raises(OPEInputError, match="expected 'namespace/name-v<version>'"):
            export_minari(log, bad, data_path=tmp_path, **PROVENANCE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journeygym"]


def test_a_dataset_of_another_action_set_or_observation_is_refused(log, tmp_path, monkeypatch):
    export_minari(log, "journeygym/log-v0", data_path=tmp_path, **PROVENANCE)
    with pytest.raises(OPEInputError, match=r"holds the actions \['no_action', 'mens_email', 'womens_email'\]"):
        load_minari("journeygym/log-v0", data_path=tmp_path, action_names=("no_action", "email"))

    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv(DATASETS_PATH_ENV, str(tmp_path))
    cartpole = EpisodeBuffer(
        observations=np.zeros((4, 4), np.float32),
        actions=np.zeros(3, np.int64),
        rewards=np.ones(3),
        terminations=np.array([False, False, True]),
        truncations=np.zeros(3, bool),
    )
    with pytest.warns(UserWarning):
        minari.create_dataset_from_buffers(
            "other/cartpole-v0",
            [cartpole],
            observation_space=spaces.Box(-1, 1, (4,), np.float32),
            action_space=spaces.Discrete(2),
        )
    with pytest.raises(OPEInputError, match="no 'journeygym' record .* pass action_names"):
        load_minari("other/cartpole-v0", data_path=tmp_path)
    with pytest.raises(OPEInputError, match="no 'journeygym' record naming its observation columns"):
        load_minari("other/cartpole-v0", data_path=tmp_path, action_names=("no_action", "email"))
    names = default_observation_names(("no_action", "email"))
    wrong_dimension = r"observation space Box\(-1.0, 1.0, \(4,\), float32\); expected a Box of shape \(22,\)"
    with pytest.raises(OPEInputError, match=wrong_dimension):
        load_minari("other/cartpole-v0", data_path=tmp_path, action_names=("no_action", "email"), observation_names=names)


def test_bad_export_input_is_refused(log, tmp_path):
    episodes = episodes_from_frame(log)
    with pytest.raises(OPEInputError, match="received ndarray; expected LoggedEpisodes or a pandas DataFrame"):
        export_minari(episodes.actions, "journeygym/log-v0", data_path=tmp_path)
    with pytest.raises(OPEInputError, match=r"does not fit the log's 23 observation columns"):
        export_minari(episodes, "log-v0", data_path=tmp_path, observation_space=observation_space(default_observation_columns(("a", "b"))))
    with pytest.raises(OPEInputError, match=r"expected Discrete\(3\)"):
        export_minari(episodes, "journeygym/log-v0", data_path=tmp_path, action_space=spaces.Discrete(2))
    gap = episodes.mask.copy()
    gap[3, 4] = False
    holed = replace(episodes, mask=gap)
    with pytest.raises(OPEInputError, match=r"customer_id 3 has mask \[1, 1, 1, 1, 0, 1"):
        export_minari(holed, "journeygym/log-v0", data_path=tmp_path)
    assert not (tmp_path / "journeygym").exists()


def test_importing_ope_does_not_import_minari():
    code = "import sys, journeygym.ope as ope; ope.LoggedEpisodes; assert 'minari' not in sys.modules; ope.load_minari"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_minari_the_error_names_the_extra(log, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "minari", None)
    with pytest.raises(ImportError, match=r"pip install 'journeygym\[offline\]'"):
        export_minari(log, "journeygym/log-v0", data_path=tmp_path)
