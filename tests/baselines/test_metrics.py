"""Metrics: definitions, invariants (hypothesis) and a cross-check against scikit-uplift."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sklift.metrics as SKLIFT  # an independent reference, installed by the test extra

from journeygym.baselines.metrics import (
    auuc,
    classification_metrics,
    cross_validated_roc_auc,
    effect_errors,
    permutation_importances,
    qini_coefficient,
    qini_curve,
    regression_metrics,
    uplift_at_k,
    uplift_curve,
)


@st.composite
def trials(draw, min_size: int = 4, max_size: int = 60):
    """Binary outcomes and treatments with both groups present, plus distinct scores."""
    n = draw(st.integers(min_size, max_size))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=float)
    w = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=float)
    assume(0 < w.sum() < n)
    seed = draw(st.integers(0, 2**31 - 1))
    scores = np.random.default_rng(seed).permutation(n).astype(float)
    return y, w, scores


def _perfect_qini_score(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    return y * w - y * (1 - w)


@settings(max_examples=150, deadline=None)
@given(trials())
def test_perfect_ranking_qini_is_one_and_beats_an_uninformative_ranking(trial) -> None:
    y, w, _ = trial
    perfect = _perfect_qini_score(y, w)
    assume(qini_coefficient(y, perfect, w, normalize=False) != 0)
    assert qini_coefficient(y, perfect, w) == pytest.approx(1.0)
    # An uninformative (constant) ranking lies on the random diagonal: area 0.
    assert qini_coefficient(y, np.zeros_like(y), w, normalize=False) == pytest.approx(0.0, abs=1e-12)
    assert qini_coefficient(y, perfect, w, normalize=False) >= 0.0


@settings(max_examples=150, deadline=None)
@given(trials())
def test_uplift_metrics_ignore_row_order_and_monotone_transforms(trial) -> None:
    y, w, scores = trial
    scores = np.floor(scores / 3)  # with ties
    order = np.random.default_rng(int(scores.sum())).permutation(y.size)
    for metric in (qini_coefficient, auuc):
        value = metric(y, scores, w, normalize=False)
        assert metric(y[order], scores[order], w[order], normalize=False) == pytest.approx(value)
        assert metric(y, np.exp(scores / 10) + 5, w, normalize=False) == pytest.approx(value)


@settings(max_examples=100, deadline=None)
@given(trials())
def test_curve_end_points_and_uplift_at_full_share(trial) -> None:
    y, w, scores = trial
    observed = y[w == 1].mean() - y[w == 0].mean()
    x, q = qini_curve(y, scores, w)
    assert x[0] == 0 and q[0] == 0 and x[-1] == y.size
    assert q[-1] == pytest.approx(w.sum() * observed)
    _, u = uplift_curve(y, scores, w)
    assert u[-1] == pytest.approx(y.size * observed)
    assert uplift_at_k(y, scores, w, k=1.0) == pytest.approx(observed)


def test_ranking_by_the_true_effect_beats_random_on_a_large_trial() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    effect = rng.uniform(-0.05, 0.25, n)
    w = rng.integers(0, 2, n).astype(float)
    y = (rng.random(n) < 0.2 + effect * w).astype(float)
    # Normalized by the perfect ranking of realized outcomes, even the true effect scores far below 1.
    assert qini_coefficient(y, effect, w) > 0.08
    assert auuc(y, effect, w) > 0.07
    assert abs(qini_coefficient(y, rng.normal(size=n), w)) < 0.02
    assert abs(auuc(y, rng.normal(size=n), w)) < 0.02
    assert uplift_at_k(y, effect, w, 0.1) > 0.15 and uplift_at_k(y, effect, w, 0.1, "by_group") > 0.15


def _compare_with_scikit_uplift(y: np.ndarray, w: np.ndarray, scores: np.ndarray) -> list[str]:
    """Assert agreement with scikit-uplift wherever both define the metric; return what was compared."""
    compared = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if qini_coefficient(y, _perfect_qini_score(y, w), w, normalize=False) != 0:
            assert qini_coefficient(y, scores, w) == pytest.approx(SKLIFT.qini_auc_score(y, scores, w))
            compared.append("qini")
        if abs(auuc(y, scores, w, normalize=False)) > 0 and not np.isnan(auuc(y, scores, w)):
            assert auuc(y, scores, w) == pytest.approx(SKLIFT.uplift_auc_score(y, scores, w))
            compared.append("auuc")
        for strategy in ("overall", "by_group"):
            top = np.argsort(-scores)[: int(0.5 * y.size)]
            if strategy == "overall" and np.unique(w[top]).size < 2:
                continue  # scikit-uplift returns NaN where a group is empty in the top half; we raise
            theirs = SKLIFT.uplift_at_k(y, scores, w, strategy=strategy, k=0.5)
            if np.isfinite(theirs):
                assert uplift_at_k(y, scores, w, 0.5, strategy) == pytest.approx(theirs)
                compared.append(f"uplift_at_k/{strategy}")
    return compared


@settings(max_examples=60, deadline=None)
@given(trials(min_size=10, max_size=80))
def test_matches_scikit_uplift(trial) -> None:
    y, w, scores = trial
    assume(y.sum() > 0)
    _compare_with_scikit_uplift(y, w, scores)


def test_scikit_uplift_comparison_covers_every_metric_with_informative_values() -> None:
    """On realistic trials every metric is compared, and on values far from 0, so the check has teeth."""
    rng = np.random.default_rng(11)
    n = 400
    w = rng.integers(0, 2, n).astype(float)
    effect = rng.uniform(-0.2, 0.4, n)
    y = (rng.uniform(size=n) < 0.3 + w * effect).astype(float)
    scores = effect + rng.normal(0.0, 0.05, n)
    compared = _compare_with_scikit_uplift(y, w, scores)
    assert compared == ["qini", "auuc", "uplift_at_k/overall", "uplift_at_k/by_group"]
    assert _compare_with_scikit_uplift(y, w, -scores) == compared
    # An informative score gives clearly positive areas; a mis-signed one clearly negative.
    assert qini_coefficient(y, scores, w) > 0.1 and auuc(y, scores, w) > 0.1
    assert qini_coefficient(y, -scores, w) < -0.1
    # Uplift in the top half ("overall"), by hand: treated rate minus control rate among the top half.
    top = np.argsort(-scores)[: n // 2]
    treated, control = top[w[top] == 1], top[w[top] == 0]
    by_hand = y[treated].mean() - y[control].mean()
    assert by_hand > 0.1
    assert uplift_at_k(y, scores, w, 0.5) == pytest.approx(by_hand)


def test_uplift_input_errors() -> None:
    y, w = np.array([0, 1, 1]), np.array([1, 1, 1])
    with pytest.raises(ValueError, match="uplift metrics need both groups"):
        qini_coefficient(y, [0.1, 0.2, 0.3], w)
    with pytest.raises(ValueError, match="different lengths"):
        auuc([0, 1], [0.1], [0, 1])
    with pytest.raises(ValueError, match="expected 0/1"):
        qini_coefficient([0, 2], [0.1, 0.2], [0, 1])
    with pytest.raises(ValueError, match="strategy"):
        uplift_at_k([0, 1], [0.1, 0.2], [0, 1], 0.5, "top")
    with pytest.raises(ValueError, match="k="):
        uplift_at_k([0, 1], [0.1, 0.2], [0, 1], 0.0)


def test_classification_metrics() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.6, 0.7, 0.9, 0.2, 0.4])
    m = classification_metrics(y, p)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3) and m["roc_auc"] == pytest.approx(8 / 9)
    assert m["flagged_rate"] == pytest.approx(0.5) and m["positive_rate"] == pytest.approx(0.5)
    nobody = classification_metrics(y, p, threshold=0.95)
    assert nobody["precision"] == 0.0 and nobody["recall"] == 0.0
    assert np.isnan(classification_metrics([1, 1], [0.2, 0.3])["roc_auc"])
    with pytest.raises(ValueError, match="empty"):
        classification_metrics([], [])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(st.just(0.0), st.floats(0.01, 500)), min_size=2, max_size=40),
    st.integers(0, 2**31 - 1),
)
def test_regression_metric_invariants(actual, seed) -> None:
    y = np.array(actual)
    prediction = np.abs(y + np.random.default_rng(seed).normal(0, 20, y.size))
    m = regression_metrics(y, prediction)
    assert m["rmse"] >= m["mae"] - 1e-9 >= -1e-9
    assert 0.0 <= m["smape"] <= 2.0
    assert m["mape_excluded_share"] == pytest.approx(np.mean(y == 0))
    perfect = regression_metrics(y, y)
    assert perfect["rmse"] == perfect["mae"] == perfect["smape"] == 0.0


def test_percentage_errors_handle_zero_revenue() -> None:
    y = np.array([0.0, 0.0, 100.0, 50.0])
    prediction = np.array([0.0, 10.0, 80.0, 50.0])
    m = regression_metrics(y, prediction)
    assert m["mape"] == pytest.approx((0.2 + 0.0) / 2)  # on the non-zero actuals only
    assert m["mape_excluded_share"] == pytest.approx(0.5)
    assert m["smape"] == pytest.approx((0 + 2 + 40 / 180 + 0) / 4)  # 0/0 counts as perfect
    assert m["wape"] == pytest.approx(30 / 150)
    zeros = regression_metrics(np.zeros(3), np.ones(3))
    assert np.isnan(zeros["mape"]) and np.isnan(zeros["wape"]) and zeros["mape_excluded_share"] == 1.0
    with pytest.raises(ValueError, match="finite"):
        regression_metrics([1.0, np.nan], [1.0, 1.0])


def test_effect_errors() -> None:
    true = np.array([0.0, 0.1, 0.2, 0.3])
    m = effect_errors(true + 0.1, true)
    assert m["rmse"] == pytest.approx(0.1) and m["bias"] == pytest.approx(0.1)
    assert m["pearson"] == pytest.approx(1.0) and m["spearman"] == pytest.approx(1.0)
    assert np.isnan(effect_errors(np.zeros(4), true)["pearson"])


def test_cross_validated_auc_and_permutation_importance() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=1200), "noise": rng.normal(size=1200)})
    y = (rng.random(1200) < 1 / (1 + np.exp(-2 * X["signal"]))).astype(int)
    groups = np.repeat(np.arange(300), 4)
    cv = cross_validated_roc_auc(LogisticRegression(), X, y, n_splits=5, groups=groups)
    assert len(cv["folds"]) == 5 and 0.75 < cv["mean"] < 0.95
    model = LogisticRegression().fit(X, y)
    table = permutation_importances(model, X, y, n_repeats=3)
    assert list(table["feature"]) == ["signal", "noise"]
    assert table["importance_mean"].iloc[0] > 0.1 > abs(table["importance_mean"].iloc[1])
