"""The epsilon-greedy behavior policy: a deployed policy's log with exploration."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.baselines.base import Policy
from journeygym.baselines.logged_data import (
    EpsilonGreedyBehavior,
    propensity_columns,
    read_logged_data,
    simulate_logged_data,
    validate_logged_data,
    write_logged_data,
)
from journeygym.baselines.registry import make_policy
from journeygym.baselines.simple import RandomPolicy
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES


def test_propensities_mix_the_policy_with_uniform():
    behavior = EpsilonGreedyBehavior(make_policy("always_mens"), 0.2)
    behavior.bind_actions(DEFAULT_ACTION_NAMES)
    observations = np.zeros((3, 23), dtype=np.float32)
    out = behavior.propensities(observations, np.array([True, False, True]), 3)
    expected = np.array([[0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3], [1.0, 0.0, 0.0], [0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3]])
    np.testing.assert_allclose(out, expected)
    stochastic = EpsilonGreedyBehavior(RandomPolicy((0.5, 0.5, 0.0)), 0.3)
    np.testing.assert_allclose(stochastic.propensities(observations[:1], np.array([True]), 3), [[0.45, 0.45, 0.1]])


def test_epsilon_one_is_uniform_and_zero_is_the_policy():
    observations = np.zeros((2, 23), dtype=np.float32)
    uniform = EpsilonGreedyBehavior(make_policy("never"), 1.0).propensities(observations, np.array([True, True]), 3)
    np.testing.assert_allclose(uniform, 1 / 3)
    greedy = EpsilonGreedyBehavior(make_policy("never"), 0).propensities(observations, np.array([True, True]), 3)
    np.testing.assert_array_equal(greedy, [[1.0, 0.0, 0.0]] * 2)


def test_logged_epsilon_greedy_has_the_right_action_frequencies(tmp_path):
    behavior = EpsilonGreedyBehavior(make_policy("always_mens"), 0.2)
    behavior.bind_actions(DEFAULT_ACTION_NAMES)
    frame = simulate_logged_data(1_000, 0, behavior=behavior, horizon=10)
    validate_logged_data(frame)
    decisions = frame[frame["subscribed"] > 0.5]
    frequencies = np.bincount(decisions["action"], minlength=3) / len(decisions)
    expected = np.array([0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3])
    # About 9,900 decisions: binomial standard errors below 0.005.
    np.testing.assert_allclose(frequencies, expected, atol=0.02)
    logged = decisions[propensity_columns(DEFAULT_ACTION_NAMES)].to_numpy()
    np.testing.assert_allclose(logged, np.tile(expected, (len(decisions), 1)))
    assert (frame.loc[frame["subscribed"] < 0.5, "action"] == 0).all()
    recorded = frame.attrs["journeygym"]["behavior"]
    assert recorded == {
        "kind": "epsilon_greedy", "epsilon": 0.2, "policy": "always_mens", "policy_params": {"action": 1}
    }
    path = tmp_path / "log.parquet"
    write_logged_data(frame, path)
    assert read_logged_data(path).attrs["journeygym"]["behavior"] == recorded


class CountingPolicy(Policy):
    """E-mails (mens) on even calls, nothing on odd calls: a stateful policy."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def act(self, observations: np.ndarray) -> np.ndarray:
        self.calls += 1
        return np.full(observations.shape[0], 1 if self.calls % 2 else 0, dtype=np.int64)


def test_a_stateful_policy_is_asked_once_per_week_in_order():
    policy = CountingPolicy()
    frame = simulate_logged_data(200, 1, behavior=EpsilonGreedyBehavior(policy, 0.0), horizon=6)
    assert policy.calls == 6
    subscribed = frame["subscribed"] > 0.5
    expected = np.where(frame["week"] % 2 == 0, 1, 0)
    np.testing.assert_array_equal(frame.loc[subscribed, "action"], expected[subscribed.to_numpy()])


@pytest.mark.parametrize("epsilon", [-0.1, 1.5, float("nan"), "0.2", True])
def test_epsilon_outside_the_unit_interval_raises(epsilon):
    with pytest.raises(ValueError, match=r"epsilon: received .*expected a number in \[0, 1\]"):
        EpsilonGreedyBehavior(make_policy("never"), epsilon)


def test_policies_that_cannot_act_on_observations_raise():
    with pytest.raises(ValueError, match="hidden state"):
        EpsilonGreedyBehavior(make_policy("oracle"), 0.1)
    with pytest.raises(ValueError, match="expected a policy with act"):
        EpsilonGreedyBehavior(object(), 0.1)
