"""The bootstrap over customers: multinomial counts in chunks, replicates of means and of ratios."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.ope import bootstrap
from journeygym.ope.bootstrap import bootstrap_values, percentile_interval, resample_counts
from journeygym.ope.formulas import EstimatorTerms


def test_counts_resample_every_customer_n_times_in_blocks_of_whole_draws(monkeypatch) -> None:
    monkeypatch.setattr(bootstrap, "DRAW_ELEMENTS", 3 * 50)
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 7 * 50)  # two draws of 3 rows a block
    blocks = list(resample_counts(50, 10, np.random.default_rng(0)))
    assert [block.shape for block in blocks] == [(6, 50), (4, 50)]
    counts = np.concatenate(blocks)
    np.testing.assert_array_equal(counts.sum(axis=1), 50)
    assert counts.min() >= 0 and np.all(counts == np.round(counts))
    # The counts are those of one draw at a time, whatever the block: the block size changes no number.
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 1)
    singles = list(resample_counts(50, 10, np.random.default_rng(0)))
    assert [block.shape[0] for block in singles] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(singles), counts)


def test_counts_have_the_multinomial_moments() -> None:
    counts = np.concatenate(list(resample_counts(40, 5_000, np.random.default_rng(1))))
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
    counts = np.concatenate(list(resample_counts(30, 5, np.random.default_rng(5))))
    by_hand = ((counts @ numerators[:, :3]) / (counts @ normalizers[:, :3])).sum(axis=1)
    np.testing.assert_allclose(replicates, by_hand, rtol=1e-12)
    assert terms.value() == pytest.approx((numerators[:, :3].sum(0) / normalizers[:, :3].sum(0)).sum(), rel=1e-12)


def test_percentile_interval() -> None:
    low, high = percentile_interval(np.arange(1001, dtype=float), 0.9)
    assert (low, high) == pytest.approx((50.0, 950.0))
