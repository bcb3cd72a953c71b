"""Scoring models: labels, the feature builder, the uplift learners and the fitted bundle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from journeygym.baselines.scoring import (
    ClassTransformationLearner,
    ObservationFeatures,
    ScoringModels,
    TLearner,
    churn_labels,
    ltv_labels,
    response_labels,
)
from journeygym.testing import default_observation_columns
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES

COLUMNS = [c.name for c in default_observation_columns(DEFAULT_ACTION_NAMES)]


def _tiny_log() -> pd.DataFrame:
    # Two customers, 5 weeks; customer 7 buys in weeks 1 and 4, customer 3 never.
    frame = pd.DataFrame(
        {
            "customer_id": [7] * 5 + [3] * 5,
            "week": list(range(5)) * 2,
            "purchase": [0, 1, 0, 0, 1] + [0] * 5,
            "spend": [0, 10.0, 0, 0, 30.0] + [0.0] * 5,
        }
    )
    frame.attrs["journeygym"] = {"horizon": 5}
    return frame


def test_labels_use_only_windows_inside_the_horizon() -> None:
    frame = _tiny_log()
    np.testing.assert_array_equal(response_labels(frame, 2).to_numpy()[:5], [1, 1, 0, 1, np.nan])
    np.testing.assert_array_equal(churn_labels(frame, 3).to_numpy()[:5], [0, 0, 0, np.nan, np.nan])
    np.testing.assert_array_equal(ltv_labels(frame).to_numpy()[:5], [40, 40, 30, 30, 30])
    np.testing.assert_array_equal(ltv_labels(frame).to_numpy()[5:], [0] * 5)


def test_labels_do_not_depend_on_row_order() -> None:
    frame = _tiny_log()
    shuffled = frame.sample(frac=1.0, random_state=1)
    shuffled.attrs = frame.attrs
    for label in (response_labels, churn_labels, ltv_labels):
        pd.testing.assert_series_equal(label(shuffled).sort_index(), label(frame), check_names=True)


def test_ltv_label_is_missing_for_truncated_customers() -> None:
    frame = _tiny_log().iloc[:-1]  # customer 3 lacks the last week
    frame.attrs["journeygym"] = {"horizon": 5}
    labels = ltv_labels(frame).to_numpy()
    assert np.all(np.isnan(labels[5:])) and not np.any(np.isnan(labels[:5]))


def test_observation_features_accepts_tables_and_arrays(small_log: pd.DataFrame) -> None:
    features = ObservationFeatures(["fatigue", "recency"], COLUMNS).fit()
    from_table = features.transform(small_log.head(20))
    from_array = features.transform(small_log[COLUMNS].head(20).to_numpy(np.float32))
    np.testing.assert_array_equal(from_table, from_array)
    np.testing.assert_array_equal(from_table[:, 0], small_log["fatigue"].head(20))
    assert list(features.get_feature_names_out()) == ["fatigue", "recency"]
    with pytest.raises(ValueError, match="expected \\(n, 23\\)"):
        features.transform(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="unknown or no columns"):
        ObservationFeatures(["recency", "hidden_state"], COLUMNS).fit()
    with pytest.raises(NotFittedError):
        ObservationFeatures(None, COLUMNS).transform(np.zeros((1, 23)))


def test_fitted_models_predict_in_range(fitted_models: ScoringModels, small_log: pd.DataFrame) -> None:
    X = small_log[COLUMNS].to_numpy(np.float32)[:500]
    for predict in (fitted_models.predict_response, fitted_models.predict_churn):
        p = predict(X)
        assert p.shape == (500,) and np.all((p >= 0) & (p <= 1))
    assert np.all(fitted_models.predict_ltv(X) >= 0)
    for learner in ("t_learner", "class_transformation"):
        uplift = fitted_models.predict_uplift(X, learner)
        assert uplift.shape == (500, 3) and np.all(uplift[:, 0] == 0) and np.all(np.abs(uplift) <= 1)
    np.testing.assert_allclose(fitted_models.predict_response(small_log.head(500)), fitted_models.predict_response(X))
    assert fitted_models.best_arm_ in (1, 2)
    assert fitted_models.average_order_value_ > 0
    assert fitted_models.n_rows_["ltv"] == len(small_log)
    assert fitted_models.n_rows_["response"] == 400 * 15  # the last week has no 2-week label


@pytest.mark.parametrize("method", ["predict_response", "predict_ltv", "predict_churn", "predict_uplift"])
def test_models_used_before_fitting_raise(method: str) -> None:
    with pytest.raises(NotFittedError, match="fit\\(logged_data\\)"):
        getattr(ScoringModels(), method)(np.zeros((1, 23), dtype=np.float32))


def test_missing_component_raises(small_log: pd.DataFrame) -> None:
    models = ScoringModels(components=("response",)).fit(small_log)
    with pytest.raises(NotFittedError, match="'ltv' model was not fitted"):
        models.predict_ltv(small_log.head(3))
    with pytest.raises(ValueError, match="components"):
        ScoringModels(components=("lookalike",)).fit(small_log)
    with pytest.raises(ValueError, match="learner"):
        models.predict_uplift(small_log.head(3), "x_learner")


def _rct(n: int, seed: int, treated_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    treated = (rng.random(n) < treated_share).astype(int)
    effect = 0.3 * (x[:, 0] > 0)
    y = (rng.random(n) < 0.2 + effect * treated).astype(int)
    return x, y, treated, effect


def test_t_learner_recovers_a_known_effect() -> None:
    x, y, action, effect = _rct(8000, 0, 0.5)
    learner = TLearner(LogisticRegression()).fit(x, y, action)
    uplift = learner.predict_uplift(x)
    assert uplift.shape == (8000, 2) and np.all(uplift[:, 0] == 0)
    assert uplift[effect > 0, 1].mean() - uplift[effect == 0, 1].mean() > 0.15
    with pytest.raises(NotFittedError):
        TLearner().predict_uplift(x)
    with pytest.raises(ValueError, match="control action 0"):
        TLearner().fit(x, y, np.ones_like(action))


def test_class_transformation_uses_the_propensities() -> None:
    """With 80% treated, unweighted class transformation is biased; the propensity weights remove the bias."""
    x, y, action, effect = _rct(40_000, 1, 0.8)
    propensity = np.column_stack([np.full(x.shape[0], 0.2), np.full(x.shape[0], 0.8)])
    learner = ClassTransformationLearner(DummyClassifier(strategy="prior")).fit(x, y, action, propensity)
    estimate = learner.predict_uplift(x[:1])[0, 1]
    assert abs(estimate - effect.mean()) < 0.02
    naive = 2 * np.mean(y * action + (1 - y) * (1 - action)) - 1
    assert abs(naive - effect.mean()) > 0.2  # what ignoring the propensities would give
    with pytest.raises(NotFittedError):
        ClassTransformationLearner().predict_uplift(x)
    with pytest.raises(ValueError, match="expected \\(n,\\), \\(n,\\) and \\(n, A\\)"):
        ClassTransformationLearner().fit(x, y, action, propensity[:, 0])


def test_class_transformation_leaves_out_rows_without_overlap() -> None:
    x, y, action, _ = _rct(2000, 2, 0.5)
    propensity = np.column_stack([np.full(2000, 0.5), np.full(2000, 0.5)])
    propensity[:1000] = [1.0, 0.0]  # unsubscribed: the arm was impossible
    action[:1000] = 0
    learner = ClassTransformationLearner(DummyClassifier(strategy="prior")).fit(x, y, action, propensity)
    expected = 2 * np.mean(y[1000:] * action[1000:] + (1 - y[1000:]) * (1 - action[1000:])) - 1
    assert learner.predict_uplift(x[:1])[0, 1] == pytest.approx(expected)
