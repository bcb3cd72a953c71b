"""The three seed baselines as policies: decisions, operating points and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from journeygym.baselines.scoring import ScoringModels
from journeygym.baselines.targeting import (
    ExpectedLTVPolicy,
    LookAlikePolicy,
    LTVUpliftPolicy,
    ScorePolicy,
    operating_point_grid,
)
from journeygym.testing import default_observation_columns
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES, ScenarioAssumptions

COLUMNS = [c.name for c in default_observation_columns(DEFAULT_ACTION_NAMES)]
SUBSCRIBED = COLUMNS.index("subscribed")


@pytest.fixture(scope="module")
def observations(small_log: pd.DataFrame) -> np.ndarray:
    obs = small_log[COLUMNS].to_numpy(np.float32)[:1000].copy()
    obs[::7, SUBSCRIBED] = 0.0
    return obs


@pytest.fixture(params=[LookAlikePolicy, ExpectedLTVPolicy, LTVUpliftPolicy], ids=lambda c: c.name)
def policy(request, fitted_models: ScoringModels) -> ScorePolicy:
    return request.param(fitted_models)


def test_actions_are_valid_and_never_for_unsubscribed(policy: ScorePolicy, observations: np.ndarray) -> None:
    policy.set_operating_point(threshold=-math.inf)
    actions = policy.act(observations)
    assert actions.dtype == np.int64 and actions.shape == (1000,)
    unsubscribed = observations[:, SUBSCRIBED] < 0.5
    assert np.all(actions[unsubscribed] == 0)
    assert np.all(actions[~unsubscribed] > 0)  # no threshold, no budget: every reachable customer


def test_threshold_and_budget(policy: ScorePolicy, observations: np.ndarray) -> None:
    gain = policy.net_gain(observations).max(axis=1)
    reachable = observations[:, SUBSCRIBED] > 0.5
    middle = float(np.median(gain[reachable]))
    chosen = policy.set_operating_point(threshold=middle).act(observations) > 0
    np.testing.assert_array_equal(chosen, reachable & (gain > middle))
    assert not policy.set_operating_point(threshold=np.max(gain) + 1).act(observations).any()
    budgeted = policy.set_operating_point(threshold=-math.inf, budget=0.05).act(observations) > 0
    assert budgeted.sum() == math.ceil(0.05 * 1000)
    assert gain[budgeted].min() >= gain[reachable & ~budgeted].max()
    # Budget and threshold together: the tighter one binds.
    both = policy.set_operating_point(threshold=middle, budget=0.9).act(observations) > 0
    np.testing.assert_array_equal(both, chosen)


def test_default_rule_is_margin_gain_above_cost(fitted_models: ScoringModels, observations: np.ndarray) -> None:
    cheap = ExpectedLTVPolicy(fitted_models, assumptions=ScenarioAssumptions(action_costs=(0.0, 0.0, 0.0)))
    costly = ExpectedLTVPolicy(fitted_models, assumptions=ScenarioAssumptions(action_costs=(0.0, 1e6, 1e6)))
    assert cheap.threshold == 0.0 and cheap.budget is None
    reachable = observations[:, SUBSCRIBED] > 0.5
    value = fitted_models.predict_response(observations) * fitted_models.predict_ltv(observations)
    np.testing.assert_array_equal(cheap.act(observations) > 0, reachable & (0.30 * value > 0))
    assert not costly.act(observations).any()


def test_fixed_arm_policies_send_the_best_logged_arm(fitted_models: ScoringModels, observations: np.ndarray) -> None:
    for cls in (LookAlikePolicy, ExpectedLTVPolicy):
        actions = cls(fitted_models, threshold=-math.inf).act(observations)
        assert set(np.unique(actions)) <= {0, fitted_models.best_arm_}
        assert cls(fitted_models).get_params()["arm"] == DEFAULT_ACTION_NAMES[fitted_models.best_arm_]


def test_uplift_policy_sends_the_arm_with_the_highest_gain(
    fitted_models: ScoringModels, observations: np.ndarray
) -> None:
    policy = LTVUpliftPolicy(fitted_models, threshold=-math.inf)
    gain = policy.net_gain(observations)
    actions = policy.act(observations)
    reachable = observations[:, SUBSCRIBED] > 0.5
    np.testing.assert_array_equal(actions[reachable], gain[reachable].argmax(axis=1))
    ct = LTVUpliftPolicy(fitted_models, learner="class_transformation")
    assert ct.get_params()["learner"] == "class_transformation"
    with pytest.raises(ValueError, match="learner"):
        LTVUpliftPolicy(fitted_models, learner="s_learner")


def test_policies_used_before_fitting_raise(observations: np.ndarray) -> None:
    for cls in (LookAlikePolicy, ExpectedLTVPolicy, LTVUpliftPolicy):
        with pytest.raises(NotFittedError, match="fit\\(logged_data\\)"):
            cls().act(observations)


def test_fit_trains_only_the_needed_models(small_log: pd.DataFrame, observations: np.ndarray) -> None:
    policy = LookAlikePolicy().fit(small_log)
    assert hasattr(policy.models, "response_") and not hasattr(policy.models, "ltv_")
    assert policy.act(observations).shape == (1000,)


def test_operating_point_errors(fitted_models: ScoringModels) -> None:
    policy = LookAlikePolicy(fitted_models)
    with pytest.raises(ValueError, match="budget"):
        policy.set_operating_point(budget=1.5)
    with pytest.raises(ValueError, match="threshold"):
        policy.set_operating_point(threshold=float("nan"))


def test_operating_point_grid(fitted_models: ScoringModels, small_log: pd.DataFrame) -> None:
    policy = ExpectedLTVPolicy(fitted_models)
    grid = operating_point_grid(policy, small_log, (0.5, 0.1), (0.2,))
    assert grid[0] == {"threshold": 0.0, "budget": None, "contact_share": None}
    thresholds = [p["threshold"] for p in grid if p["contact_share"] is not None]
    assert thresholds == sorted(thresholds)  # a smaller share needs a higher threshold
    assert grid[-1] == {"threshold": -math.inf, "budget": 0.2, "contact_share": None}
    reachable = small_log[small_log["subscribed"] > 0.5]
    gain = policy.net_gain(reachable[COLUMNS].to_numpy(np.float32)).max(axis=1)
    assert np.mean(gain > thresholds[0]) == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError, match="contact share"):
        operating_point_grid(policy, small_log, (1.5,))
    policy.tuning_ = [{"threshold": 0.0, "budget": None, "mean_return": 1.0}]
    assert policy.get_params()["tuning"] == policy.tuning_
