"""A log read as episodes, and the target's probabilities on it: shapes, padding, and every bad input named."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.baselines.base import Policy
from journeygym.baselines.logged_data import LoggedDataError, RandomizedBehavior, simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.ope import OPEInputError, check_support, episodes_from_frame, target_probabilities


@pytest.fixture(scope="module")
def frame():
    return simulate_logged_data(40, 1, horizon=6)


def test_a_simulated_log_reads_as_full_episodes(frame):
    episodes = episodes_from_frame(frame)
    assert episodes.observations.shape == (40, 6, 23) and episodes.mask.all()
    assert not episodes.propensities_estimated
    np.testing.assert_allclose(episodes.behavior_probabilities.sum(axis=2), 1.0)
    rows = frame.sort_values(["customer_id", "week"])
    np.testing.assert_array_equal(episodes.actions.reshape(-1), rows["action"].to_numpy())
    np.testing.assert_array_equal(episodes.rewards.reshape(-1), rows["reward"].to_numpy())


def test_shorter_episodes_are_padded_and_masked(frame):
    short = frame[~((frame["customer_id"] == 3) & (frame["week"] >= 4))].sample(frac=1.0, random_state=0)
    episodes = episodes_from_frame(short)
    assert episodes.mask[3].tolist() == [True] * 4 + [False] * 2
    assert episodes.rewards[3, 4:].tolist() == [0.0, 0.0] and episodes.actions[3, 4:].tolist() == [0, 0]
    np.testing.assert_array_equal(episodes.observations[3, 5], episodes.observations[3, 3])


def _arrays(episodes):
    return {name: getattr(episodes, name) for name in ("observations", "actions", "rewards", "behavior_probabilities", "mask", "customer_ids")}


@pytest.mark.parametrize("ragged", [False, True])
def test_any_row_order_and_block_size_read_to_the_same_compact_episodes(frame, monkeypatch, ragged):
    import journeygym.ope.episodes as episodes_module

    log = frame[~((frame["customer_id"] == 3) & (frame["week"] >= 4))] if ragged else frame
    expected = _arrays(episodes_from_frame(log))
    assert expected["actions"].dtype == np.int8 and expected["observations"].dtype == np.float32
    monkeypatch.setattr(episodes_module, "CHUNK_ROWS", 7)  # blocks of 7 rows: every block boundary inside a customer
    for rows in (log, log.sample(frac=1.0, random_state=2), log.iloc[::-1]):
        found = _arrays(episodes_from_frame(rows.astype({"week": np.int8, "action": np.int16})))
        for name, array in expected.items():
            np.testing.assert_array_equal(found[name], array, err_msg=name)
            assert found[name].dtype == array.dtype, name


def test_a_bad_propensity_is_named_by_its_row_when_checked_in_blocks(frame, monkeypatch):
    import journeygym.ope.episodes as episodes_module

    monkeypatch.setattr(episodes_module, "CHUNK_ROWS", 12)  # two customers of 6 weeks per block
    bad = frame.copy()
    bad.loc[(bad["customer_id"] == 5) & (bad["week"] == 2), "propensity_no_action"] = 0.9
    with pytest.raises(LoggedDataError, match="first at row 32:"):  # customer 5, week 2: row 5 * 6 + 2
        episodes_from_frame(bad)


def test_a_log_without_propensities_has_none(frame):
    episodes = episodes_from_frame(frame.drop(columns=[c for c in frame.columns if c.startswith("propensity_")]))
    assert episodes.behavior_probabilities is None
    with pytest.raises(OPEInputError, match="estimate_behavior_policy"):
        episodes.logged_propensities


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda f: f.drop(columns=["reward"]), r"missing columns \['reward'\]"),
        (lambda f: f[f["week"] != 2], "skips or starts late at week 3"),
        (lambda f: f.assign(reward=f["reward"].where(f.index != 7, np.nan)), "'reward' has 1 non-finite"),
        (lambda f: f.assign(recency=f["recency"].where(f.index != 7, np.inf)), "'recency' has 1 non-finite"),
        (lambda f: f.assign(propensity_no_action=f["propensity_no_action"] + 0.1), "do not sum to 1"),
        (lambda f: f.assign(action=f["action"].where(f.index != 0, 5)), r"holds \[5\]"),
        (lambda f: f.assign(week=f["week"].astype(str)), "not numeric"),
        (lambda f: f.iloc[0:0], "empty table"),
    ],
)
def test_bad_logs_name_the_column_or_value(frame, change, needle):
    with pytest.raises(LoggedDataError, match=needle):  # OPEInputError is a LoggedDataError
        episodes_from_frame(change(frame.copy()))


def test_zero_propensity_for_the_logged_action_is_refused(frame):
    bad = frame.copy()
    emailed = bad.index[bad["action"] == 1][0]
    bad.loc[emailed, ["propensity_no_action", "propensity_mens_email"]] = [bad.loc[emailed, "propensity_no_action"] + bad.loc[emailed, "propensity_mens_email"], 0.0]
    with pytest.raises(LoggedDataError, match="propensity is 0"):
        episodes_from_frame(bad)


def test_a_log_from_another_action_set_is_refused(frame):
    with pytest.raises(OPEInputError, match="another action set"):
        episodes_from_frame(frame, action_names=("no_action", "email"))
    renamed = frame.rename(columns={"propensity_womens_email": "propensity_sms"})
    with pytest.raises(OPEInputError, match=r"lack \['last_action_sms'\]"):
        episodes_from_frame(renamed)


def test_a_target_action_the_log_never_has_is_refused():
    no_womens = simulate_logged_data(30, 2, horizon=4, behavior=RandomizedBehavior(arm_weights=(1.0, 0.0)))
    episodes = episodes_from_frame(no_womens)
    target = target_probabilities(make_policy("always_womens"), episodes)
    with pytest.raises(OPEInputError, match=r"womens_email.*never has"):
        check_support("always_womens", target, episodes)
    check_support("always_mens", target_probabilities(make_policy("always_mens"), episodes), episodes)


class _Broken(Policy):
    name = "broken"

    def __init__(self, output):
        self.output = output

    def act(self, observations):
        return np.zeros(len(observations), dtype=np.int64)

    def action_probabilities(self, observations, n_actions):
        return self.output(len(observations), n_actions)


@pytest.mark.parametrize(
    "output, needle",
    [
        (lambda n, a: np.full((n, a + 1), 1.0 / (a + 1)), "returned shape"),
        (lambda n, a: np.full((n, a), np.nan), "finite non-negative probabilities"),
        (lambda n, a: np.full((n, a), 0.5), "summing to 1"),
    ],
)
def test_a_target_with_bad_probabilities_is_refused(frame, output, needle):
    with pytest.raises(OPEInputError, match=needle):
        target_probabilities(_Broken(output), episodes_from_frame(frame))


def test_unsubscribed_customers_get_action_zero_and_the_oracle_is_refused(frame):
    episodes = episodes_from_frame(frame)
    target = target_probabilities(make_policy("always_mens"), episodes)
    unsubscribed = ~episodes.subscribed
    assert np.all(target[unsubscribed, 0] == 1.0) and np.all(target[~unsubscribed, 1] == 1.0)
    with pytest.raises(OPEInputError, match="hidden state"):
        target_probabilities(make_policy("oracle"), episodes)
