"""MAGIC (Thomas & Brunskill 2016): truncated doubly robust estimators and their blend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ope_estimators import exact_q_table, q_values_from
from tiny_mdp import HORIZON, simulate, true_value

from journeygym.ope.estimators import estimate_all
from journeygym.ope.formulas import estimator_terms, magic_weights, reweighted_log, truncated_doubly_robust
from journeygym.ope.target import target_probabilities


def _log(tiny_target, n: int, seed: int, q_shift: float, gamma: float = 1.0):
    episodes = simulate(n, seed=seed)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, gamma) + q_shift, episodes)
    return episodes, target, q_values, reweighted_log(episodes, target, q_values, gamma)


def test_the_first_truncation_is_the_direct_method_and_the_last_the_doubly_robust(tiny_target) -> None:
    _, _, _, log = _log(tiny_target, 300, seed=21, q_shift=0.8, gamma=0.9)
    truncated = truncated_doubly_robust(log)
    assert truncated.shape == (300, HORIZON + 1)
    np.testing.assert_allclose(truncated[:, 0], estimator_terms("dm", log).per_customer, rtol=1e-12)
    np.testing.assert_allclose(truncated[:, -1], estimator_terms("dr", log).per_customer, rtol=1e-12)


def test_one_week_of_correction_by_hand(tiny_target) -> None:
    episodes, target, q_values, log = _log(tiny_target, 50, seed=22, q_shift=-0.4)
    rho = np.take_along_axis(target, episodes.actions[:, :, None], 2)[:, 0, 0] / episodes.logged_propensities[:, 0]
    value = np.einsum("nha,nha->nh", target, q_values)  # (N, H) V-hat under the target
    logged_q = np.take_along_axis(q_values[:, 0], episodes.actions[:, :1], 1)[:, 0]
    by_hand = value[:, 0] + rho * (episodes.rewards[:, 0] - logged_q) + rho * value[:, 1]
    np.testing.assert_allclose(truncated_doubly_robust(log)[:, 1], by_hand, rtol=1e-12)


def test_a_biased_precise_truncation_loses_its_weight_to_an_unbiased_noisy_one() -> None:
    rng = np.random.default_rng(0)
    noisy = rng.normal(10.0, 1.0, size=2_000)  # mean 10, standard error ~0.022
    close = np.full(2_000, noisy.mean() + 0.01)  # inside the interval of the last column
    far = np.full(2_000, noisy.mean() + 1.0)  # a bias far beyond it
    np.testing.assert_allclose(magic_weights(np.column_stack([close, noisy])), [1.0, 0.0], atol=1e-6)
    weights = magic_weights(np.column_stack([far, noisy]))
    assert weights[1] > 0.99


@settings(max_examples=40, deadline=None)
@given(
    columns=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([1e-6, 1.0, 1e4]),
)
def test_magic_weights_lie_on_the_simplex(columns: int, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    data = scale * (rng.normal(size=(200, 1)) + rng.normal(size=(200, columns)) * rng.uniform(0, 3, columns))
    weights = magic_weights(data)
    assert weights.shape == (columns,)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0, abs=1e-9)


def test_magic_with_the_exact_model_averages_to_the_true_value(tiny_target) -> None:
    estimates = []
    for seed in range(150):
        episodes, target, q_values, _ = _log(tiny_target, 400, seed=2_000 + seed, q_shift=0.0)
        estimates.append(
            estimate_all(episodes, target, q_values, policy_name="t", estimators=["magic"], n_bootstrap=2)["magic"].value
        )
    estimates = np.asarray(estimates)
    standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
    assert abs(estimates.mean() - true_value(tiny_target.table)) < 3 * standard_error


def test_magic_leaves_a_wrong_model_for_the_importance_weights_when_overlap_is_good(tiny_target) -> None:
    episodes, target, q_values, _ = _log(tiny_target, 20_000, seed=23, q_shift=2.0)
    found = estimate_all(episodes, target, q_values, policy_name="t", estimators=["dm", "dr", "magic"], n_bootstrap=50)
    truth = true_value(tiny_target.table)
    assert abs(found["dm"].value - truth) > 1.0  # the shifted model is off by about 2
    assert abs(found["magic"].value - truth) < 4 * found["dr"].standard_error + 0.05
    assert found["magic"].lower_bound_t is not None and found["magic"].low <= found["magic"].value <= found["magic"].high
