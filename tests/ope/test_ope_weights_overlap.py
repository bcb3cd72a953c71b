"""Importance ratios, cumulative weights, effective sample size and overlap diagnostics on hand-made logs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from journeygym.testing import default_observation_names
from journeygym.baselines.simple import ConstantPolicy
from journeygym.testing import default_observation_columns, default_observation_index
from journeygym.ope import (
    LoggedEpisodes,
    OPEInputError,
    cumulative_weights,
    effective_sample_size,
    importance_ratios,
    overlap_diagnostics,
)

NAMES = ("no_action", "email")


def make_episodes(actions, behavior, mask=None, subscribed=None) -> LoggedEpisodes:
    """Episodes of ``(N, H)`` actions with ``(N, H, A)`` behavior probabilities (A = 2)."""
    actions = np.asarray(actions, dtype=np.int64)
    n, horizon = actions.shape
    columns = default_observation_index(NAMES)
    observations = np.zeros((n, horizon, len(default_observation_columns(NAMES))), dtype=np.float32)
    observations[:, :, columns["subscribed"]] = 1.0 if subscribed is None else np.asarray(subscribed, dtype=np.float32)
    observations[:, :, columns["week_fraction"]] = np.arange(horizon) / horizon
    return LoggedEpisodes(
        observations=observations,
        actions=actions,
        rewards=np.ones((n, horizon)),
        behavior_probabilities=np.asarray(behavior, dtype=np.float64),
        mask=np.ones((n, horizon), dtype=bool) if mask is None else np.asarray(mask, dtype=bool),
        action_names=NAMES,
        observation_names=default_observation_names(NAMES),
        customer_ids=np.arange(n, dtype=np.int64),
    )


def hand_log() -> LoggedEpisodes:
    """Three customers, two weeks; customer 2 has one logged week (week 1 is padding)."""
    actions = [[1, 0], [0, 0], [1, 0]]
    behavior = np.array(
        [
            [[0.5, 0.5], [0.8, 0.2]],
            [[0.5, 0.5], [0.8, 0.2]],
            [[0.995, 0.005], [1.0, 0.0]],
        ]
    )
    return make_episodes(actions, behavior, mask=[[True, True], [True, True], [True, False]])


def test_ratios_and_cumulative_weights_by_hand():
    episodes = hand_log()
    email = np.zeros((3, 2, 2))
    email[:, :, 1] = 1.0  # always e-mail
    ratios = importance_ratios(episodes, email)
    # pi(a|s) / mu(a|s): e-mail logged -> 1 / mu(email); no e-mail logged -> 0; padding -> 1.
    np.testing.assert_allclose(ratios, [[2.0, 0.0], [0.0, 0.0], [200.0, 1.0]])
    np.testing.assert_allclose(cumulative_weights(ratios), [[2.0, 0.0], [0.0, 0.0], [200.0, 200.0]])


def test_effective_sample_size_formula_and_mask():
    assert effective_sample_size(np.array([1.0, 1.0, 1.0, 1.0])) == pytest.approx(4.0)
    assert effective_sample_size(np.array([2.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert effective_sample_size(np.array([1.0, 3.0])) == pytest.approx(16.0 / 10.0)
    assert effective_sample_size(np.zeros(5)) == 0.0
    weights = np.array([[1.0, 1e200], [1.0, 1e200], [5.0, 1.0]])
    mask = np.array([[True, True], [True, True], [True, False]])
    np.testing.assert_allclose(effective_sample_size(weights, mask), [49.0 / 27.0, 2.0])


@settings(max_examples=60, deadline=None)
# Weights are 0 or normal floats: a subnormal weight times a scale below 1 rounds to 0 and is no test of scale.
@given(
    arrays(np.float64, st.integers(1, 30), elements=st.one_of(st.just(0.0), st.floats(1e-300, 1e6))),
    st.floats(1e-3, 1e3),
)
def test_effective_sample_size_is_scale_free_and_at_most_n(weights, scale):
    ess = effective_sample_size(weights)
    assert 0.0 <= ess <= weights.size * (1 + 1e-9)
    assert effective_sample_size(weights * scale) == pytest.approx(ess, rel=1e-9, abs=1e-12)


def test_overlap_diagnostics_by_hand():
    episodes = hand_log()
    email = np.zeros((3, 2, 2))
    email[:, :, 1] = 1.0
    diagnostics = overlap_diagnostics(episodes, email)
    # Trajectory weights (0, 0, 200): ESS 1.
    assert diagnostics.n_customers == 3 and diagnostics.n_decisions == 5
    assert diagnostics.ess_trajectory == pytest.approx(1.0)
    assert diagnostics.ess_trajectory_share == pytest.approx(1 / 3)
    # Week 0: weights (2, 0, 200) over 3 customers; week 1: (0, 0) over the 2 logged ones.
    week0 = 202.0**2 / (4.0 + 40_000.0)
    assert diagnostics.ess_per_decision == pytest.approx(week0 / 2)
    assert diagnostics.ess_per_decision_share == pytest.approx(week0 / 3 / 2)
    assert diagnostics.ess_per_decision_min_share == 0.0
    assert diagnostics.max_trajectory_weight == pytest.approx(200.0)
    assert diagnostics.max_ratio == pytest.approx(200.0)
    assert diagnostics.mean_trajectory_weight == pytest.approx(200.0 / 3)
    # Logged propensities 0.5, 0.8, 0.5, 0.8, 0.005: one of five below 0.01.
    assert diagnostics.low_propensity_share == pytest.approx(1 / 5)
    # Customer 2's week 0 gives e-mail 0.005 > 0; week 1 is padding: no violation.
    assert diagnostics.support_violation_share == 0.0
    assert diagnostics.propensities_estimated is False
    assert diagnostics.as_dict()["ess_trajectory"] == diagnostics.ess_trajectory


def test_support_violation_counts_decisions_only():
    behavior = np.array([[[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0], [1.0, 0.0]]])
    unsubscribed_second = [[1.0, 1.0], [1.0, 0.0]]
    episodes = make_episodes([[0, 1], [0, 0]], behavior, subscribed=unsubscribed_second)
    email = np.zeros((2, 2, 2))
    email[:, :, 1] = 1.0
    diagnostics = overlap_diagnostics(episodes, email)
    # Decisions: (0,0), (0,1), (1,0); behavior gives e-mail 0 at (0,0) and (1,0).
    assert diagnostics.n_decisions == 3
    assert diagnostics.support_violation_share == pytest.approx(2 / 3)


def test_overlap_diagnostics_accepts_a_policy_and_matches_its_probabilities():
    episodes = hand_log()
    policy = ConstantPolicy(1, "always_email")
    email = np.zeros((3, 2, 2))
    email[:, :, 1] = 1.0
    assert overlap_diagnostics(episodes, policy) == overlap_diagnostics(episodes, email)


def test_behavior_equal_to_target_gives_unit_weights():
    episodes = hand_log()
    diagnostics = overlap_diagnostics(episodes, episodes.behavior_probabilities)
    assert diagnostics.ess_trajectory_share == pytest.approx(1.0)
    assert diagnostics.max_ratio == pytest.approx(1.0)


def test_bad_target_shapes_and_missing_propensities_raise():
    episodes = hand_log()
    with pytest.raises(OPEInputError, match=r"received shape \(3, 2\), expected \(3, 2, 2\)"):
        importance_ratios(episodes, np.ones((3, 2)))
    with pytest.raises(OPEInputError, match="non-finite or negative"):
        importance_ratios(episodes, np.full((3, 2, 2), -0.5))
    for bad in (np.nan, np.inf, -np.inf):
        target = np.full((3, 2, 2), 0.5)
        target[2, 1, 0] = bad
        with pytest.raises(OPEInputError, match="non-finite or negative"):
            importance_ratios(episodes, target)
    summing_to_one = np.full((3, 2, 2), 0.5)
    summing_to_one[1, 0] = [1.5, -0.5]  # its week sums to 1: only the sign gives it away
    with pytest.raises(OPEInputError, match="non-finite or negative"):
        importance_ratios(episodes, summing_to_one)
    bare = make_episodes([[0, 0]], np.full((1, 2, 2), 0.5))
    from dataclasses import replace

    with pytest.raises(OPEInputError, match="no behavior propensities"):
        importance_ratios(replace(bare, behavior_probabilities=None), np.full((1, 2, 2), 0.5))
    with pytest.raises(OPEInputError, match=r"expected \(N, H\)"):
        cumulative_weights(np.ones(3))
