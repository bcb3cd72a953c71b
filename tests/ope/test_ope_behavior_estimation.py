"""Estimating the behavior policy of a log without propensities."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from journeygym.testing import default_observation_names
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.testing import default_observation_columns, default_observation_index
from journeygym.ope import (
    BehaviorModel,
    LoggedEpisodes,
    OPEInputError,
    behavior_probabilities,
    episodes_from_frame,
    estimate_behavior_policy,
    fit_behavior_model,
)
from journeygym.ope.behavior import DEFAULT_MIN_PROPENSITY

NAMES = ("no_action", "mens", "womens")
#: mu(a | state): the behavior e-mails customers in state 1 more, mostly with the "mens" arm.
BEHAVIOR = np.array([[0.6, 0.2, 0.2], [0.1, 0.7, 0.2]])


def state_log(
    n: int, horizon: int, seed: int, behavior: np.ndarray = BEHAVIOR, unsubscribed: float = 0.0
) -> LoggedEpisodes:
    """Customers with a binary state in ``recency`` whose action follows ``behavior[state]``; no propensities."""
    rng = np.random.default_rng(seed)
    columns = default_observation_index(NAMES)
    observations = np.zeros((n, horizon, len(default_observation_columns(NAMES))), dtype=np.float32)
    state = rng.integers(0, 2, size=(n, horizon))
    subscribed = rng.random((n, horizon)) >= unsubscribed
    observations[:, :, columns["recency"]] = state
    observations[:, :, columns["subscribed"]] = subscribed
    observations[:, :, columns["week_fraction"]] = np.arange(horizon) / horizon
    cumulative = np.cumsum(behavior[state], axis=2)[:, :, :-1]
    actions = (rng.random((n, horizon))[:, :, None] >= cumulative).sum(axis=2)
    actions[~subscribed] = 0
    return LoggedEpisodes(
        observations=observations,
        actions=actions.astype(np.int64),
        rewards=np.zeros((n, horizon)),
        behavior_probabilities=None,
        mask=np.ones((n, horizon), dtype=bool),
        action_names=NAMES,
        observation_names=default_observation_names(NAMES),
        customer_ids=np.arange(n, dtype=np.int64),
    )


def test_recovers_a_state_dependent_behavior():
    episodes = state_log(6_000, 3, seed=0, unsubscribed=0.2)
    estimated = estimate_behavior_policy(episodes)
    assert estimated.propensities_estimated
    state = episodes.observations[:, :, default_observation_index(NAMES)["recency"]].astype(int)
    decisions = episodes.subscribed
    # 14,400 decisions, about 7,200 per state: each probability within ~4 standard errors (0.006).
    np.testing.assert_allclose(estimated.behavior_probabilities[decisions], BEHAVIOR[state[decisions]], atol=0.025)
    # Unsubscribed customers: exactly one-hot on action 0, not estimated.
    one_hot = np.zeros((int((~decisions).sum()), 3))
    one_hot[:, 0] = 1.0
    np.testing.assert_array_equal(estimated.behavior_probabilities[~decisions], one_hot)
    assert estimated.metadata["behavior_model"]["actions_seen"] == [0, 1, 2]


def test_estimation_is_reproducible_bit_for_bit():
    episodes = state_log(1_000, 3, seed=1)
    first = estimate_behavior_policy(episodes, seed=3).behavior_probabilities
    second = estimate_behavior_policy(episodes, seed=3).behavior_probabilities
    np.testing.assert_array_equal(first, second)


def test_floor_keeps_rare_actions_and_unseen_actions_stay_zero():
    # Actions 0 and 1 only; action 1 almost never in state 0.
    behavior = np.array([[0.999, 0.001, 0.0], [0.3, 0.7, 0.0]])
    episodes = state_log(4_000, 2, seed=2, behavior=behavior)
    model = fit_behavior_model(episodes, C=1e4)
    probabilities = behavior_probabilities(model, episodes)
    decisions = episodes.subscribed
    assert np.all(probabilities[decisions][:, 2] == 0.0)  # never logged: no data speaks for it
    seen = probabilities[decisions][:, :2]
    assert seen.min() >= DEFAULT_MIN_PROPENSITY / (1 + DEFAULT_MIN_PROPENSITY) - 1e-15
    np.testing.assert_allclose(probabilities.sum(axis=2), 1.0)
    strict = fit_behavior_model(episodes, C=1e4, min_propensity=0.05)
    assert behavior_probabilities(strict, episodes)[decisions][:, :2].min() >= 0.05 / 1.05 - 1e-12


def test_single_logged_action_gives_a_deterministic_model():
    episodes = state_log(50, 2, seed=3, behavior=np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    model = fit_behavior_model(episodes)
    assert model.pipeline_ is None
    np.testing.assert_array_equal(model.predict_proba(episodes.observations[:, 0]), np.tile([0.0, 1.0, 0.0], (50, 1)))


def test_behavior_model_follows_scikit_learn_conventions():
    model = BehaviorModel(3, C=0.5, max_iter=50, min_propensity=0.01, random_state=4)
    expected = {"n_actions": 3, "C": 0.5, "max_iter": 50, "min_propensity": 0.01, "random_state": 4}
    assert clone(model).get_params() == expected
    with pytest.raises(NotFittedError):
        model.predict_proba(np.zeros((2, 23)))
    episodes = state_log(300, 2, seed=5)
    fitted = model.fit(episodes.observations[:, 0], episodes.actions[:, 0])
    assert fitted is model and model.n_features_in_ == 23 and model.n_iter_ > 0
    with pytest.raises(OPEInputError, match=r"expected \(n, 23\)"):
        model.predict_proba(np.zeros((2, 5)))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="min_propensity.*expected a number in"):
        BehaviorModel(3, min_propensity=0.5).fit(np.zeros((2, 1)), np.array([0, 1]))
    with pytest.raises(ValueError, match="n_actions.*expected an integer >= 2"):
        BehaviorModel(1).fit(np.zeros((2, 1)), np.array([0, 0]))
    with pytest.raises(OPEInputError, match=r"received actions \[0, 5\]"):
        BehaviorModel(3).fit(np.zeros((2, 1)), np.array([0, 5]))
    episodes = state_log(20, 2, seed=6, unsubscribed=1.0)
    with pytest.raises(OPEInputError, match="no decision was logged"):
        estimate_behavior_policy(episodes)
    emailed = state_log(20, 2, seed=7, unsubscribed=0.5)
    actions = emailed.actions.copy()
    actions[~emailed.subscribed] = 2
    with pytest.raises(OPEInputError, match="give an unsubscribed customer action 2"):
        estimate_behavior_policy(replace(emailed, actions=actions))


def test_simulated_uniform_log_without_propensities():
    frame = simulate_logged_data(1_500, 0, horizon=8)
    logged = episodes_from_frame(frame)
    bare = episodes_from_frame(frame.drop(columns=[c for c in frame.columns if c.startswith("propensity_")]))
    assert bare.behavior_probabilities is None
    estimated = estimate_behavior_policy(bare)
    decisions = logged.mask & logged.subscribed
    error = np.abs(estimated.behavior_probabilities - logged.behavior_probabilities)[decisions]
    # About 12,000 decisions and 24 coefficients per action: the estimate stays close to the uniform 1/3.
    assert error.mean() < 0.02
    np.testing.assert_array_equal(
        estimated.behavior_probabilities[~decisions], logged.behavior_probabilities[~decisions]
    )
