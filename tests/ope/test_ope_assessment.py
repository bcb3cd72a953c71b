"""Scoring estimators against the ground truth: hand-computed examples and invariants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from journeygym.ope import OPEInputError, TrueValue, assess, assess_over_seeds

TRUTH = {"A": 10.0, "B": 20.0, "C": 30.0, "D": 40.0}


@dataclass(frozen=True)
class Estimate:
    """Duck-typed like journeygym.ope.estimators.Estimate."""

    estimator: str
    policy: str
    value: float
    low: float | None = None
    high: float | None = None
    lower_bound_t: float | None = None
    lower_bound_concentration: float | None = None


def hand_estimates() -> list:
    good = [
        Estimate("good", "A", 12.0, 11.0, 13.0, 9.0),
        Estimate("good", "B", 18.0, 15.0, 21.0, 21.0),
        Estimate("good", "C", 33.0, 25.0, 35.0, None),
        Estimate("good", "D", 40.0, 40.0, 41.0, 40.0),
    ]
    bad = [{"estimator": "bad", "policy": p, "value": v} for p, v in zip("ABCD", (45.0, 30.0, 20.0, 10.0))]
    ties = [{"estimator": "ties", "policy": p, "value": 5.0, "lower_bound_concentration": 0.0} for p in "ABCD"]
    return [*good, *bad, *ties]


def test_hand_computed_scores():
    table = assess(hand_estimates(), TRUTH, reference_value=50.0).set_index("estimator")
    assert list(table.index) == ["good", "bad", "ties"]
    good, bad, ties = table.loc["good"], table.loc["bad"], table.loc["ties"]

    assert good["relative_error"] == pytest.approx((0.2 + 0.1 + 0.1 + 0.0) / 4)
    assert good["mse"] == pytest.approx((4 + 4 + 9 + 0) / 4)
    assert good["spearman"] == pytest.approx(1.0)
    assert good["regret_at_1"] == 0.0 and good["regret_at_3"] == 0.0
    assert good["coverage"] == pytest.approx(0.75)  # A's true 10 lies outside [11, 13]
    assert good["lower_bound_t_below_truth"] == pytest.approx(2 / 3)  # 9 <= 10, 21 > 20, 40 <= 40
    assert np.isnan(good["lower_bound_concentration_below_truth"])

    assert bad["relative_error"] == pytest.approx((3.5 + 0.5 + 1 / 3 + 0.75) / 4)
    assert bad["mse"] == pytest.approx((35**2 + 10**2 + 10**2 + 30**2) / 4)
    assert bad["spearman"] == pytest.approx(-1.0)
    assert bad["regret_at_1"] == pytest.approx(30.0)  # picks A
    assert bad["regret_at_3"] == pytest.approx(10.0)  # picks A, B, C
    assert bad["regret_at_1_normalized"] == pytest.approx(0.6)
    assert bad["regret_at_3_normalized"] == pytest.approx(0.2)
    assert np.isnan(bad["coverage"])

    # Constant estimates: no rank correlation, and ties are broken against the estimator.
    assert np.isnan(ties["spearman"]) and "constant" in ties["note"]
    assert ties["regret_at_1"] == pytest.approx(30.0) and ties["regret_at_3"] == pytest.approx(10.0)
    assert ties["lower_bound_concentration_below_truth"] == 1.0
    assert table["n_policies"].tolist() == [4, 4, 4]


def test_truth_as_true_values_and_no_reference():
    truth = {name: TrueValue(name, value, 0.1, np.array([value])) for name, value in TRUTH.items()}
    table = assess(hand_estimates(), truth)
    expected = assess(hand_estimates(), TRUTH)
    pd.testing.assert_frame_equal(table, expected)
    assert table["regret_at_1_normalized"].isna().all()


def test_spearman_needs_three_policies():
    estimates = [{"estimator": "e", "policy": p, "value": v} for p, v in (("A", 1.0), ("B", 2.0))]
    row = assess(estimates, TRUTH).iloc[0]
    assert np.isnan(row["spearman"]) and "at least 3 policies, got 2" in row["note"]
    assert row["regret_at_3"] == 0.0  # both policies are in the top 3


def test_zero_true_values_are_left_out_of_the_relative_error():
    estimates = [{"estimator": "e", "policy": p, "value": v} for p, v in (("Z", 1.0), ("A", 11.0))]
    row = assess(estimates, {"Z": 0.0, "A": 10.0}).iloc[0]
    assert row["relative_error"] == pytest.approx(0.1)
    assert "true value is 0" in row["note"]


def test_non_finite_estimates_make_value_scores_nan():
    estimates = [{"estimator": "e", "policy": p, "value": v} for p, v in zip("ABC", (1.0, np.nan, 3.0))]
    row = assess(estimates, TRUTH).iloc[0]
    assert np.isnan(row["mse"]) and np.isnan(row["regret_at_1"]) and "not finite" in row["note"]


#: Distinct non-zero true values, at least 1 apart (so a scaled copy keeps their order exactly).
truths_strategy = st.lists(st.integers(-1000, 1000).filter(bool), min_size=3, max_size=8, unique=True).map(
    lambda values: [float(v) for v in values]
)


@settings(max_examples=40, deadline=None)
@given(truths_strategy, st.floats(0.1, 10.0), st.floats(-100.0, 100.0))
def test_perfect_and_monotone_estimates_score_perfectly(values, scale, shift):
    truth = {f"p{i}": v for i, v in enumerate(values)}
    perfect = [{"estimator": "perfect", "policy": p, "value": v} for p, v in truth.items()]
    monotone = [{"estimator": "monotone", "policy": p, "value": scale * v + shift} for p, v in truth.items()]
    table = assess(perfect + monotone, truth, reference_value=1.0).set_index("estimator")
    assert table.loc["perfect", "relative_error"] == 0.0 and table.loc["perfect", "mse"] == 0.0
    for name in ("perfect", "monotone"):
        assert table.loc[name, "spearman"] == pytest.approx(1.0)
        assert table.loc[name, "regret_at_1"] == 0.0 and table.loc[name, "regret_at_3"] == 0.0


@settings(max_examples=40, deadline=None)
@given(truths_strategy, st.data())
def test_scores_do_not_depend_on_the_order_of_the_estimates(values, data):
    truth = {f"p{i}": v for i, v in enumerate(values)}
    estimates = [
        {"estimator": "e", "policy": p, "value": data.draw(st.sampled_from([0.0, 1.0, 2.0, v])), "low": v - 1,
         "high": v + 1}
        for p, v in truth.items()
    ]
    shuffled = data.draw(st.permutations(estimates))
    first, second = assess(estimates, truth), assess(shuffled, truth)
    pd.testing.assert_frame_equal(first, second)
    row = first.iloc[0]
    assert 0.0 <= row["regret_at_3"] <= row["regret_at_1"]
    assert row["coverage"] == 1.0


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(OPEInputError, match=r"no true value for the policies \['E'\]"):
        assess([{"estimator": "e", "policy": "E", "value": 1.0}], TRUTH)
    with pytest.raises(OPEInputError, match="more than one estimate of policy 'A'"):
        assess([{"estimator": "e", "policy": "A", "value": 1.0}] * 2, TRUTH)
    with pytest.raises(OPEInputError, match=r"missing \['value'\]"):
        assess([{"estimator": "e", "policy": "A"}], TRUTH)
    with pytest.raises(OPEInputError, match="reference_value"):
        assess([{"estimator": "e", "policy": "A", "value": 1.0}], TRUTH, reference_value=0.0)
    with pytest.raises(OPEInputError, match="not finite"):
        assess([{"estimator": "e", "policy": "A", "value": 1.0}], {"A": np.inf})
    with pytest.raises(OPEInputError, match="received no estimates"):
        assess([], TRUTH)


def seed_rows() -> pd.DataFrame:
    """Two estimators, three seeds, three policies (true values differ by seed)."""
    rows = []
    for seed, offset in zip((0, 1, 2), (0.0, 1.0, -1.0)):
        truth = {"A": 10.0 + offset, "B": 20.0 + offset, "C": 30.0 + offset}
        for policy, true in truth.items():
            rows.append(dict(seed=seed, estimator="exact", policy=policy, value=true, true_value=true,
                             low=true - 1, high=true + 1, lower_bound_t=true - 2, lower_bound_concentration=None,
                             reference_value=40.0))
            error = {"A": 2.0 * (seed + 1), "B": 0.0, "C": -1.0}[policy]
            rows.append(dict(seed=seed, estimator="noisy", policy=policy, value=true + error, true_value=true,
                             low=true + error - 0.5, high=true + error + 0.5, lower_bound_t=true + error,
                             lower_bound_concentration=true - 5,
                             reference_value=40.0))
    return pd.DataFrame(rows)


def test_assess_over_seeds_by_hand():
    table = assess_over_seeds(seed_rows()).set_index("estimator")
    exact, noisy = table.loc["exact"], table.loc["noisy"]
    assert exact["n_seeds"] == 3 and exact["mse_mean"] == 0.0 and exact["mse_low"] == 0.0
    assert exact["spearman_mean"] == 1.0 and exact["coverage_mean"] == 1.0
    # noisy's squared errors per seed: (4 + 0 + 1) / 3, (16 + 0 + 1) / 3, (36 + 0 + 1) / 3.
    mse = np.array([5.0, 17.0, 37.0]) / 3
    half = stats.t.ppf(0.975, 2) * mse.std(ddof=1) / np.sqrt(3)
    assert noisy["mse_mean"] == pytest.approx(mse.mean())
    assert noisy["mse_low"] == pytest.approx(mse.mean() - half)
    assert noisy["mse_high"] == pytest.approx(mse.mean() + half)
    # A's estimate never tops C's (29 + offset): regret 0; the +-0.5 intervals cover B only.
    assert noisy["regret_at_1_mean"] == 0.0
    assert noisy["coverage_mean"] == pytest.approx(1 / 3)
    # Lower bounds: the "t" bound equals value (above truth for A, at truth for B, below for C): 2 of 3 per seed.
    assert noisy["lower_bound_t_below_truth_pooled"] == pytest.approx(2 / 3)
    assert noisy["lower_bound_concentration_below_truth_pooled"] == 1.0
    assert np.isnan(exact["lower_bound_concentration_below_truth_pooled"])
    assert exact["lower_bound_t_below_truth_pooled"] == 1.0


def test_assess_over_seeds_single_seed_and_errors():
    one = assess_over_seeds(seed_rows().query("seed == 0"))
    assert one["n_seeds"].tolist() == [1, 1] and one["mse_low"].isna().all()
    with pytest.raises(OPEInputError, match=r"missing columns \['true_value'\]"):
        assess_over_seeds(seed_rows().drop(columns="true_value"))
    inconsistent = seed_rows()
    inconsistent.loc[0, "true_value"] = 99.0
    with pytest.raises(OPEInputError, match="more than one true_value"):
        assess_over_seeds(inconsistent)
    mixed = seed_rows()
    mixed.loc[0, "reference_value"] = 1.0
    with pytest.raises(OPEInputError, match="expected one per seed"):
        assess_over_seeds(mixed)


def test_spearman_if_unbiased_is_one_without_noise_and_falls_with_it() -> None:
    from journeygym.ope.assessment import spearman_if_unbiased

    truths = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman_if_unbiased(truths, np.zeros(5)) == pytest.approx(1.0)
    precise, noisy = spearman_if_unbiased(truths, np.full(5, 0.3)), spearman_if_unbiased(truths, np.full(5, 3.0))
    assert 1.0 > precise > noisy > 0.0
    assert abs(spearman_if_unbiased(truths, np.full(5, 1e6))) < 0.05
    assert spearman_if_unbiased(truths, np.full(5, 0.3)) == precise  # fixed draws: the same number again
    assert np.isnan(spearman_if_unbiased(truths[:2], np.zeros(2)))


def test_assess_reports_the_spearman_an_unbiased_estimator_would_reach() -> None:
    estimates = [
        {"estimator": "e", "policy": p, "value": v, "standard_error": 0.0} for p, v in (("a", 3.0), ("b", 1.0), ("c", 2.0))
    ]
    scores = assess(estimates, {"a": 1.0, "b": 2.0, "c": 3.0}).iloc[0]
    assert scores["spearman"] == pytest.approx(-0.5) and scores["spearman_if_unbiased"] == pytest.approx(1.0)
    without = assess([{k: v for k, v in e.items() if k != "standard_error"} for e in estimates], {"a": 1.0, "b": 2.0, "c": 3.0})
    assert np.isnan(without.iloc[0]["spearman_if_unbiased"])
