"""A Parquet log read as episodes a column at a time: the same episodes as through a table, compact observations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.logged_data.schema import log_observation_names, read_parquet_log, write_logged_data
from journeygym.ope import OPEInputError, episodes_from_frame
from journeygym.ope.observation_store import WeeklyObservations
from journeygym.ope.parquet_log import episodes_from_parquet

ARRAYS = ("actions", "rewards", "behavior_probabilities", "mask", "customer_ids")


@pytest.fixture(scope="module")
def frame():
    return simulate_logged_data(60, 2, horizon=5)


def _write(frame, path, row_group_size=None):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def _assert_same(found, expected):
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(found, name), getattr(expected, name), err_msg=name)
        assert getattr(found, name).dtype == getattr(expected, name).dtype, name
    np.testing.assert_array_equal(np.asarray(found.observations), np.asarray(expected.observations))
    assert found.observation_names == expected.observation_names and found.action_names == expected.action_names


def test_a_written_log_reads_as_the_episodes_of_its_table(frame, tmp_path):
    path = tmp_path / "log.parquet"
    write_logged_data(frame, path)
    found = episodes_from_parquet(path)
    _assert_same(found, episodes_from_frame(read_parquet_log(path)[0]))
    assert found.metadata == read_parquet_log(path)[1] and found.metadata["n_customers"] == 60


@pytest.mark.parametrize("rows", ["shuffled", "ragged"])
def test_any_row_order_and_row_groups_read_the_same(frame, tmp_path, rows):
    log = frame.sample(frac=1.0, random_state=3) if rows == "shuffled" else frame[~((frame["customer_id"] == 4) & (frame["week"] >= 2))]
    path = _write(log, tmp_path / "log.parquet", row_group_size=37)
    _assert_same(episodes_from_parquet(path), episodes_from_frame(log))


def test_observations_keep_the_customer_attributes_once_per_customer(frame):
    episodes = episodes_from_frame(frame)
    observations = episodes.observations
    assert isinstance(observations, WeeklyObservations)
    names = log_observation_names(frame)
    rows = frame.sort_values(["customer_id", "week"])
    full = np.stack([rows[name].to_numpy() for name in names], axis=1).reshape(60, 5, len(names))
    np.testing.assert_array_equal(np.asarray(observations), full)
    constant = [names[i] for i in observations.customer_columns]
    assert "recency" in constant and "fatigue" not in constant and "week_fraction" not in constant
    assert observations.nbytes < full.nbytes
    # A customer attribute that changes in one week is stored per week, and read back exactly.
    changed = frame.copy()
    changed.loc[(changed["customer_id"] == 7) & (changed["week"] == 3), "recency"] += 1.0
    again = episodes_from_frame(changed).observations
    assert names.index("recency") in again.week_columns
    assert again[7, 3, names.index("recency")] == observations[7, 3, names.index("recency")] + 1.0


def test_bad_parquet_logs_are_named(frame, tmp_path):
    with pytest.raises(OPEInputError, match="no file at"):
        episodes_from_parquet(tmp_path / "missing.parquet")
    with pytest.raises(OPEInputError, match="has no rows"):
        episodes_from_parquet(_write(frame.iloc[0:0], tmp_path / "empty.parquet"))
    with pytest.raises(OPEInputError, match=r"columns \['week'\] are not numeric"):
        episodes_from_parquet(_write(frame.assign(week=frame["week"].astype(str)), tmp_path / "text.parquet"))
    with pytest.raises(OPEInputError, match="'fatigue' has 1 non-finite"):
        bad = frame.assign(fatigue=frame["fatigue"].where(frame.index != 11, np.nan))
        episodes_from_parquet(_write(bad, tmp_path / "nan.parquet"))
    with pytest.raises(OPEInputError, match="missing columns"):
        episodes_from_parquet(_write(frame.drop(columns=["reward"]), tmp_path / "no_reward.parquet"))


def test_the_ope_command_reads_a_parquet_log_without_its_table(frame, tmp_path, monkeypatch):
    import journeygym.cli.ope as ope_cli

    path = tmp_path / "log.parquet"
    write_logged_data(frame, path)

    def no_table(_path):
        raise AssertionError("the table was read")

    monkeypatch.setattr(ope_cli, "read_log", no_table)
    _assert_same(ope_cli.read_episodes(path), episodes_from_frame(frame))
