"""The bootstrap over customers: multinomial counts as small integers, replicates of means and of ratios, by blocks."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.ope import bootstrap
from journeygym.ope.bootstrap import bootstrap_values, percentile_interval, resample_counts
from journeygym.ope.formulas import EstimatorTerms


def test_counts_resample_every_customer_n_times_as_small_integers() -> None:
    counts = resample_counts(50, 10, np.random.default_rng(0))
    assert counts.shape == (10, 50) and counts.dtype == np.uint8
    np.testing.assert_array_equal(counts.sum(axis=1, dtype=np.int64), 50)


def test_counts_are_drawn_a_fixed_number_at_a_time(monkeypatch) -> None:
    # Draws of 3 rows: the counts are those of np.bincount on each call's uniform indices.
    monkeypatch.setattr(bootstrap, "DRAW_ELEMENTS", 3 * 50)
    counts = resample_counts(50, 10, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    by_hand = np.concatenate(
        [[np.bincount(row, minlength=50) for row in rng.integers(0, 50, size=(rows, 50))] for rows in (3, 3, 3, 1)]
    )
    np.testing.assert_array_equal(counts, by_hand)


def test_counts_that_would_overflow_are_counted_again_in_a_wider_type(monkeypatch) -> None:
    expected = resample_counts(60, 7, np.random.default_rng(6))
    count_draws = bootstrap._count_draws

    def overflowing_uint8(draws, counts, largest):  # type: ignore[no-untyped-def]
        return False if counts.dtype == np.uint8 else count_draws(draws, counts, largest)

    monkeypatch.setattr(bootstrap, "_count_draws", overflowing_uint8)
    wider = resample_counts(60, 7, np.random.default_rng(6))
    assert wider.dtype == np.uint16
    np.testing.assert_array_equal(wider, expected)


def test_the_customer_block_changes_no_replicate_beyond_rounding(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    terms = {
        "mean": EstimatorTerms(rng.normal(size=(101, 1)), None),
        "ratio": EstimatorTerms(rng.normal(size=(101, 5)), rng.exponential(size=(101, 5))),
    }
    whole = bootstrap_values(terms, 20, np.random.default_rng(8))
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 20 * 7)  # blocks of 7 customers, the last of 3
    assert [b.stop - b.start for b in bootstrap.customer_blocks(101, 20)][-2:] == [7, 3]
    blocked = bootstrap_values(terms, 20, np.random.default_rng(8))
    for name in terms:
        np.testing.assert_allclose(blocked[name], whole[name], rtol=1e-12)


def test_counts_have_the_multinomial_moments() -> None:
    counts = resample_counts(40, 5_000, np.random.default_rng(1)).astype(np.float64)
    assert counts.mean() == pytest.approx(1.0)
    assert counts.var() == pytest.approx(1 - 1 / 40, rel=0.03)
    # Two customers' counts are negatively correlated: -1/N in covariance.
    assert np.cov(counts[:, 0], counts[:, 1])[0, 1] == pytest.approx(-1 / 40, abs=0.01)


def test_bootstrap_standard_error_of_a_mean_matches_the_formula() -> None:
    terms = np.random.default_rng(2).exponential(size=(2_000, 1))
    replicates = bootstrap_values({"mean": EstimatorTerms(terms, None)}, 2_000, np.random.default_rng(3))["mean"]
    standard_error = terms.std() / np.sqrt(2_000)
    assert replicates.std(ddof=1) == pytest.approx(standard_error, rel=0.05)
    # The replicates centre on the estimate: their mean is within 4 of its Monte Carlo errors.
    assert replicates.mean() == pytest.approx(terms.mean(), abs=4 * standard_error / np.sqrt(2_000))


def test_ratio_replicates_are_count_weighted_ratios_per_column() -> None:
    rng = np.random.default_rng(4)
    numerators, normalizers = rng.normal(size=(30, 4)), rng.exponential(size=(30, 4))
    normalizers[:, 3] = 0.0  # a column nobody reaches contributes 0
    numerators[:, 3] = 0.0
    terms = EstimatorTerms(numerators, normalizers)
    replicates = bootstrap_values({"ratio": terms}, 5, np.random.default_rng(5))["ratio"]
    counts = resample_counts(30, 5, np.random.default_rng(5)).astype(np.float64)
    by_hand = ((counts @ numerators[:, :3]) / (counts @ normalizers[:, :3])).sum(axis=1)
    np.testing.assert_allclose(replicates, by_hand, rtol=1e-12)
    assert terms.value() == pytest.approx((numerators[:, :3].sum(0) / normalizers[:, :3].sum(0)).sum(), rel=1e-12)


def test_percentile_interval() -> None:
    low, high = percentile_interval(np.arange(1001, dtype=float), 0.9)
    assert (low, high) == pytest.approx((50.0, 950.0))
