"""The compiled scoring kernel predicts what scikit-learn predicts, bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression

from journeygym.baselines.scoring import ScoringModels, make_classifier, make_regressor
from journeygym.baselines.tree_kernel import TreeEnsembleKernel
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.testing import default_observation_columns

COLUMNS = [c.name for c in default_observation_columns(DEFAULT_ACTION_NAMES)]


def test_scoring_models_match_scikit_learn_bit_for_bit(fitted_models: ScoringModels, small_log: pd.DataFrame) -> None:
    X = small_log[COLUMNS].to_numpy(np.float32)
    t_learner = fitted_models.t_learner_
    expected_response = np.column_stack([t_learner.models_[int(a)].predict_proba(X)[:, 1] for a in t_learner.actions_])
    expected_uplift = expected_response - expected_response[:, [0]]
    assert np.array_equal(fitted_models.predict_uplift(X)[:, t_learner.actions_], expected_uplift)
    assert np.array_equal(fitted_models.predict_response(X), fitted_models.response_.predict_proba(X)[:, 1])
    assert np.array_equal(fitted_models.predict_ltv(X), fitted_models.ltv_.predict(X))
    assert np.array_equal(fitted_models.predict_churn(X), fitted_models.churn_.predict_proba(X)[:, 1])
    # A table goes through the same feature step.
    assert np.array_equal(fitted_models.predict_ltv(small_log.head(50)), fitted_models.ltv_.predict(X[:50]))


def test_a_pickled_bundle_rebuilds_its_kernels(fitted_models: ScoringModels, small_log: pd.DataFrame) -> None:
    X = small_log[COLUMNS].to_numpy(np.float32)[:100]
    before = fitted_models.predict_ltv(X)
    state = fitted_models.__getstate__()
    assert "_kernels" not in state
    restored = pickle.loads(pickle.dumps(fitted_models))
    assert np.array_equal(restored.predict_ltv(X), before)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), with_nan=st.booleans(), float32=st.booleans())
def test_random_ensembles_match_bit_for_bit(seed: int, with_nan: bool, float32: bool) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 4))
    X[:, 2] = rng.integers(0, 3, size=600)  # ties at the thresholds
    y = (X[:, 0] + X[:, 2] + rng.normal(size=600) > 1).astype(int)
    amount = np.exp(X[:, 1].clip(-3, 3))
    if with_nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    classifier = make_classifier(seed, early_stopping=False, max_iter=7).fit(X, y)
    regressor = make_regressor(seed, early_stopping=False, max_iter=5).fit(X, amount)
    kernel = TreeEnsembleKernel([classifier, regressor])
    assert kernel.compiled
    test = rng.normal(size=(300, 4))
    test[:, 2] = rng.integers(-1, 4, size=300)
    if with_nan:
        test[rng.random(test.shape) < 0.1] = np.nan
    if float32:
        test = test.astype(np.float32)
    out = kernel.predict(test)
    assert np.array_equal(out[:, 0], classifier.predict_proba(test)[:, 1], equal_nan=True)
    assert np.array_equal(out[:, 1], regressor.predict(test), equal_nan=True)


def test_models_outside_the_kernel_are_predicted_by_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    logistic = LogisticRegression().fit(X, y)
    categorical = HistGradientBoostingClassifier(categorical_features=[2], max_iter=3).fit(
        np.column_stack([X[:, :2], rng.integers(0, 4, 300)]), y
    )
    three_classes = HistGradientBoostingClassifier(max_iter=3).fit(X, rng.integers(0, 3, 300))
    for model, data in ((logistic, X), (categorical, np.column_stack([X[:, :2], rng.integers(0, 4, 300)]))):
        kernel = TreeEnsembleKernel([model])
        assert not kernel.compiled
        assert np.array_equal(kernel.predict(data)[:, 0], model.predict_proba(data)[:, 1])
    assert not TreeEnsembleKernel([three_classes]).compiled
    regressor = HistGradientBoostingRegressor(max_iter=3).fit(X, X[:, 0])
    assert TreeEnsembleKernel([regressor]).compiled
    with pytest.raises(ValueError, match="at least one fitted pipeline"):
        TreeEnsembleKernel([])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), with_nan=st.booleans(), float32=st.booleans(), n_actions=st.integers(1, 4))
def test_per_action_predictions_are_those_of_the_one_hot_rows(seed: int, with_nan: bool, float32: bool, n_actions: int) -> None:
    rng = np.random.default_rng(seed)
    observations = rng.normal(size=(500, 3))
    observations[:, 1] = rng.integers(0, 3, size=500)  # ties at the thresholds
    actions = rng.integers(0, n_actions, size=500)
    target = observations[:, 0] + 2.0 * (actions == n_actions - 1) + rng.normal(size=500)
    if with_nan:
        observations[rng.random(observations.shape) < 0.1] = np.nan
    if float32:
        observations = observations.astype(np.float32)
    one_hot = np.eye(n_actions)[actions]
    regressor = HistGradientBoostingRegressor(max_iter=6, max_leaf_nodes=7, random_state=seed).fit(
        np.hstack([observations.astype(np.float64), one_hot]), target
    )
    kernel = TreeEnsembleKernel([regressor])
    out = kernel.predict_per_action(observations, n_actions)
    for action in range(n_actions):
        rows = np.hstack([observations.astype(np.float64), np.tile(np.eye(n_actions)[action], (500, 1))])
        assert np.array_equal(out[:, action], regressor.predict(rows))


def test_per_action_predictions_need_one_bare_compiled_model() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    regressor = HistGradientBoostingRegressor(max_iter=2).fit(X, X[:, 0])
    with pytest.raises(ValueError, match=r"received 2 model\(s\), compiled=True"):
        TreeEnsembleKernel([regressor, regressor]).predict_per_action(X[:, :2], 1)
