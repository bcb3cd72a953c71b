"""The one kernel: exact rules of docs/architecture.md, "The week of a customer", and the same customer whatever N is."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.envs.kernel import (
    compile_tables,
    draw_reset_noise,
    draw_step_noise,
    initial_population,
    step_population,
)
from journeygym.envs.parameters import ScenarioAssumptions


@pytest.fixture()
def tables(synthetic_draws):
    return compile_tables(synthetic_draws.mean, ScenarioAssumptions())


def _state_fields(state):
    return {name: getattr(state, name).copy() for name in state.__dataclass_fields__}


def _multiplier(scenario, level):
    """``m(F) = ((1 + kappa F) / (1 + kappa F0))^-p`` at the stock of each level, written out."""
    stock = scenario.fatigue_stocks[level]
    return ((1.0 + scenario.kappa * stock) / (1.0 + scenario.kappa * scenario.trial_fatigue)) ** -scenario.fatigue_power


def _next_level(scenario, level, emailed):
    """The grid rule by hand: a quiet week one factor lambda (r levels) down, to 0 below level 1; an e-mail to the
    level nearest lambda F + 1 in log scale."""
    stocks, r = scenario.fatigue_stocks, scenario.fatigue_resolution
    target = scenario.fatigue_memory * stocks[level] + 1.0
    nearest = 1 + np.argmin(np.abs(np.log(stocks[1:])[None, :] - np.log(target)[:, None]), axis=1)
    return np.where(emailed, nearest, np.where(level > r, level - r, 0))


def test_population_of_k_equals_k_single_customers_with_aligned_noise(tables):
    rng = np.random.default_rng(3)
    k, weeks = 7, 30
    reset_noise = draw_reset_noise(rng, k)
    batch = initial_population(tables, reset_noise)
    singles = [initial_population(tables, reset_noise[:, [i]]) for i in range(k)]
    for week in range(weeks):
        actions = rng.integers(0, 3, k)
        noise = draw_step_noise(rng, k)
        outcome = step_population(batch, actions, tables, noise)
        for i, single in enumerate(singles):
            single_outcome = step_population(single, actions[[i]], tables, noise[:, [i]])
            assert single_outcome.reward[0] == outcome.reward[i]
            assert single_outcome.purchase_prob[0] == outcome.purchase_prob[i]
    for i, single in enumerate(singles):
        for name, values in _state_fields(single).items():
            assert values[0] == getattr(batch, name)[i], name


def test_transition_sampler_is_inverse_cdf_of_the_tilted_row(synthetic_draws, tables):
    """For each key, the sampled next state equals searchsorted on that row's CDF."""
    params = synthetic_draws.mean
    rng = np.random.default_rng(0)
    n = 20_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    scenario = ScenarioAssumptions()
    state.fatigue = rng.integers(0, scenario.max_fatigue + 1, n)
    actions = rng.integers(0, 3, n)
    segment, fatigue, hidden = state.segment.copy(), state.fatigue.copy(), state.hidden_state.copy()
    noise = draw_step_noise(rng, n)
    step_population(state, actions, tables, noise)
    eta, _, _ = params.response_at(scenario.carryover)
    tilt = eta[actions, segment] * _multiplier(scenario, fatigue)
    # Written out here, independently of the response module: A[z, z'] exp(tilt [z' > z]), renormalized.
    upward = np.arange(params.n_states)[None, :] > np.arange(params.n_states)[:, None]
    weights = params.transition[hidden] * np.exp(tilt[:, None] * upward[hidden])
    rows = weights / weights.sum(axis=1, keepdims=True)
    expected = (noise[1][:, None] >= np.cumsum(rows, axis=1)[:, :-1]).sum(axis=1)
    np.testing.assert_array_equal(state.hidden_state, expected)


def test_purchase_probability_follows_the_formula(synthetic_draws, tables):
    """Purchase and visit probabilities carry the e-mail effects times m(F) at the customer's fatigue stock."""
    params, scenario = synthetic_draws.mean, ScenarioAssumptions()
    rng = np.random.default_rng(1)
    n = 5_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    state.fatigue = rng.integers(0, scenario.max_fatigue + 1, n)
    fatigue, segment = state.fatigue.copy(), state.segment.copy()
    actions = rng.integers(0, 3, n)
    outcome = step_population(state, actions, tables, draw_step_noise(rng, n))
    m = _multiplier(scenario, fatigue)
    assert m.min() < 0.5 and m.max() == 1.0  # levels from rested to weekly e-mail: the multiplier matters
    _, alpha, beta = params.response_at(scenario.carryover)
    logit_pi = np.log(params.purchase_prob) - np.log1p(-params.purchase_prob)
    logit = (
        params.purchase_offset
        + logit_pi[state.hidden_state]
        + state.purchase_covariate_logit
        + beta[actions, segment] * m
    )
    np.testing.assert_allclose(outcome.purchase_prob, 1 / (1 + np.exp(-logit)), rtol=1e-12)
    # The direct visit response: + alpha[a, g] m(F) on the visit logit of the next state, this week only.
    logit_nu = np.log(params.visit_prob) - np.log1p(-params.visit_prob)
    visit_logit = logit_nu[state.hidden_state] + state.visit_covariate_logit + alpha[actions, segment] * m
    np.testing.assert_allclose(outcome.visit_prob, 1 / (1 + np.exp(-visit_logit)), rtol=1e-12)


def test_fatigue_unsubscribe_and_cost_rules(tables):
    """Fatigue moves on its grid (a factor lambda down without delivery, nearest lambda F + 1 with it); costs, unsubscribes."""
    scenario = ScenarioAssumptions()
    rng = np.random.default_rng(2)
    n = 50_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    assert (state.fatigue == 0).all()  # customers start rested (trial fatigue 0)
    state.subscribed[: n // 2] = False
    # The first quarter of each half at random levels, the rest rested.
    state.fatigue[: n // 4] = rng.integers(0, scenario.max_fatigue + 1, n // 4)
    state.fatigue[n // 2 : 3 * n // 4] = rng.integers(0, scenario.max_fatigue + 1, n // 4)
    before = state.fatigue.copy()
    actions = np.ones(n, dtype=np.int64)
    outcome = step_population(state, actions, tables, draw_step_noise(rng, n))
    assert not outcome.delivered[: n // 2].any()
    assert outcome.delivered[n // 2 :].all()
    np.testing.assert_array_equal(state.fatigue[: n // 2], _next_level(scenario, before[: n // 2], False))
    np.testing.assert_array_equal(state.fatigue[n // 2 :], _next_level(scenario, before[n // 2 :], True))
    # A rested customer's e-mail lands on the stock 1.
    np.testing.assert_array_equal(scenario.fatigue_stocks[state.fatigue[3 * n // 4 :]], 1.0)
    assert not outcome.unsubscribed[: n // 2].any()
    np.testing.assert_array_equal(outcome.reward[: n // 2], 0.3 * outcome.spend[: n // 2])
    np.testing.assert_allclose(outcome.reward[n // 2 :], 0.3 * outcome.spend[n // 2 :] - 0.05)
    # Unsubscribe rate of the rested customers (fatigue 0) is sigmoid(u0) = 0.1%.
    rate = outcome.unsubscribed[3 * n // 4 :].mean()
    assert 0.0002 < rate < 0.0024
    assert not state.subscribed[n // 2 :][outcome.unsubscribed[n // 2 :]].any()


def test_unsubscribes_rise_with_fatigue_as_the_slope_u1_says(tables):
    """Observed unsubscribe rates at rested, stock-1 and top levels match sigmoid(u0 + u1 F) of the stock F."""
    scenario = ScenarioAssumptions()
    rng = np.random.default_rng(8)
    per_level = 250_000
    stocks = scenario.fatigue_stocks
    levels = np.array([0, int(np.flatnonzero(stocks == 1.0)[0]), scenario.max_fatigue])
    state = initial_population(tables, draw_reset_noise(rng, per_level * levels.size))
    state.fatigue = np.repeat(levels, per_level)
    outcome = step_population(state, np.ones(state.n_customers, dtype=np.int64), tables, draw_step_noise(rng, state.n_customers))
    observed = outcome.unsubscribed.reshape(levels.size, per_level).mean(axis=1)
    # Written out, not read from the module: the slope applies to the stock, not to the level index.
    expected = 1.0 / (1.0 + np.exp(-(scenario.u0 + scenario.u1 * stocks[levels])))
    standard_error = np.sqrt(expected * (1.0 - expected) / per_level)
    np.testing.assert_array_less(np.abs(observed - expected), 4.0 * standard_error)
    # High against low fatigue: the difference has the size the slope predicts (0.2 points), not zero.
    predicted_rise = expected[-1] - expected[0]
    rise = observed[-1] - observed[0]
    rise_error = np.hypot(standard_error[-1], standard_error[0])
    assert abs(rise - predicted_rise) < 4.0 * rise_error
    assert rise > 8.0 * rise_error  # u1 = 0 would give a rise of about 0


def test_initial_population_matches_the_population_model(synthetic_draws, tables):
    rng = np.random.default_rng(5)
    n = 200_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    population = synthetic_draws.mean.population
    expected_segment = np.bincount(population.segment, weights=population.weights, minlength=7)
    observed = np.bincount(state.segment, minlength=7) / n
    np.testing.assert_allclose(observed, expected_segment, atol=4 * np.sqrt(0.25 / n))
    quantiles = population.continuous_quantiles
    for g in range(7):
        history = state.continuous[state.segment == g]
        assert quantiles[g, 0] <= history.min() and history.max() <= quantiles[g, -1]
        assert abs(np.median(history) - quantiles[g, 5]) < 0.05 * (quantiles[g, -1] - quantiles[g, 0])


def test_static_logits_carry_the_segment_and_recency_offsets(synthetic_draws):
    """Each customer's static logit is gamma . x~ plus its segment's and its recency month's offsets."""
    rng = np.random.default_rng(8)
    params = synthetic_draws.mean.replace(
        purchase_segment_offset=rng.normal(0, 0.5, 7),
        visit_segment_offset=rng.normal(0, 0.5, 7),
        purchase_recency_offset=rng.normal(0, 0.5, 12),
        visit_recency_offset=rng.normal(0, 0.5, 12),
    )
    state = initial_population(compile_tables(params, ScenarioAssumptions()), draw_reset_noise(rng, 2000))
    centred = params.population.design_of(state.profile, state.continuous) - params.covariate_means
    for logits, effects, by_segment, by_recency in (
        (state.purchase_covariate_logit, params.purchase_covariate_effects, params.purchase_segment_offset, params.purchase_recency_offset),
        (state.visit_covariate_logit, params.visit_covariate_effects, params.visit_segment_offset, params.visit_recency_offset),
    ):
        expected = centred @ effects + by_segment[state.segment] + by_recency[state.start]
        np.testing.assert_allclose(logits, expected, rtol=1e-12, atol=1e-12)
