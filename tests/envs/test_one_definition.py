"""The env, the oracle, the logged-data simulator and the exact expectations agree on what a week is.

Every consumer reads :mod:`journeygym.envs.response`; these tests hold them
against each other on random states, actions and scenarios, the carryover, the
fatigue multiplier and the trial's starting fatigue at the ends of their sweeps
included.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.baselines.logged_data import two_week_purchase_effects
from journeygym.baselines.oracle import solve_oracle
from journeygym.envs.expectations import expected_schedule_outcome
from journeygym.envs.kernel import compile_tables, draw_reset_noise, draw_step_noise, initial_population, step_population
from journeygym.envs.parameters import DEFAULT_KAPPA, ScenarioAssumptions
from journeygym.testing import SYNTHETIC_CARRYOVER_LEVELS, make_synthetic_draws

DRAWS = make_synthetic_draws(seed=11, n_draws=2)


def _kernel_week(tables, segment, action, fatigue, state, purchase_cov, visit_cov):
    """The kernel's own tables, read as probabilities: P(z'), P(visit | z'), P(purchase | z'), per customer."""
    key = segment * tables.segment_stride + action * tables.action_stride + fatigue * tables.n_states
    cdf = tables.transition_cdf[key + state][:, : tables.n_states - 1]
    bounds = np.concatenate([np.zeros((cdf.shape[0], 1)), cdf, np.ones((cdf.shape[0], 1))], axis=1)
    next_state = np.diff(bounds, axis=1)
    landing = key[:, None] + np.arange(tables.n_states)[None, :]
    purchase = 1.0 / (1.0 + np.exp(-(tables.purchase_logit[landing] + purchase_cov[:, None])))
    visit = 1.0 / (1.0 + np.exp(-(tables.visit_logit[landing] + visit_cov[:, None])))
    return next_state, visit, purchase


def _scenario(carryover: float, kappa: float, trial_fatigue: float = 0.0, resolution: int = 1) -> ScenarioAssumptions:
    return DRAWS.assumptions.replace(carryover=carryover, kappa=kappa, trial_fatigue=trial_fatigue, fatigue_resolution=resolution)


#: Fatigue scales from none to the anchored default (whose grid has about 40 levels).
KAPPAS = [0.0, 1.0, DEFAULT_KAPPA]
#: The trial's starting fatigue: rested, and one e-mail about 12 weeks before the trial (the sensitivity sweep).
TRIAL_FATIGUES = [0.0, 0.07]


@settings(max_examples=25, deadline=None)
@given(
    carryover=st.sampled_from(SYNTHETIC_CARRYOVER_LEVELS),
    kappa=st.sampled_from(KAPPAS),
    trial_fatigue=st.sampled_from(TRIAL_FATIGUES),
    resolution=st.sampled_from([1, 2]),
    draw=st.integers(0, 1),
    seed=st.integers(0, 2**16),
)
def test_oracle_and_exact_expectations_see_the_kernels_week(carryover, kappa, trial_fatigue, resolution, draw, seed):
    """Week 0 from the starting fatigue: oracle values and exact expectations equal the kernel's tables."""
    params, scenario = DRAWS.draws[draw], _scenario(carryover, kappa, trial_fatigue, resolution)
    tables = compile_tables(params, scenario)
    rng = np.random.default_rng(seed)
    n = 40
    customers = initial_population(tables, draw_reset_noise(rng, n))
    action = rng.integers(0, params.n_actions, n)
    state = rng.integers(0, params.n_states, n)
    # Customers start at the level whose stock is nearest the trial's fatigue F0.
    start = int(np.argmin(np.abs(scenario.fatigue_stocks - trial_fatigue)))
    np.testing.assert_array_equal(customers.fatigue, start)
    next_state, visit, purchase = _kernel_week(
        tables, customers.segment, action, customers.fatigue, state, customers.purchase_covariate_logit, customers.visit_covariate_logit
    )
    spend = np.exp(params.spend_log_mean + 0.5 * params.spend_log_sd**2)[customers.segment]
    kernel_reward = scenario.margin * spend * np.sum(next_state * purchase, axis=1) - np.asarray(scenario.action_costs)[action]

    one_week = scenario.replace(horizon=1)
    for a in range(params.n_actions):
        rows = action == a
        if rows.any():
            oracle = solve_oracle(params, one_week, customers.segment[rows], customers.purchase_covariate_logit[rows], fixed_action=a)
            np.testing.assert_allclose(oracle.state_values[np.arange(rows.sum()), state[rows]], kernel_reward[rows], rtol=1e-10, atol=1e-12)

    belief = np.eye(params.n_states)[state]
    exact = expected_schedule_outcome(params, one_week, customers, action[None, :], initial_belief=belief)
    np.testing.assert_allclose(exact.visits[0], np.sum(next_state * visit, axis=1), rtol=1e-10)
    np.testing.assert_allclose(exact.purchases[0], np.sum(next_state * purchase, axis=1), rtol=1e-10)
    np.testing.assert_allclose(exact.reward[0], kernel_reward, rtol=1e-10, atol=1e-12)


def _next_level(scenario: ScenarioAssumptions, level: np.ndarray, emailed: np.ndarray) -> np.ndarray:
    """The grid rule by hand: a quiet week one factor lambda (r levels) down, to 0 below level 1; an e-mail to the
    level nearest lambda F + 1 in log scale."""
    stocks, r = scenario.fatigue_stocks, scenario.fatigue_resolution
    target = scenario.fatigue_memory * stocks[level] + 1.0
    nearest = 1 + np.argmin(np.abs(np.log(stocks[1:])[None, :] - np.log(target)[:, None]), axis=1)
    return np.where(emailed, nearest, np.where(level > r, level - r, 0))


@settings(max_examples=25, deadline=None)
@given(
    carryover=st.sampled_from(SYNTHETIC_CARRYOVER_LEVELS),
    kappa=st.sampled_from(KAPPAS),
    trial_fatigue=st.sampled_from(TRIAL_FATIGUES),
    resolution=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_logged_data_two_week_effects_follow_the_kernels_tables(carryover, kappa, trial_fatigue, resolution, seed):
    """The logged data's two-week purchase effects equal two weeks read off the kernel's tables, at any fatigue level."""
    params, scenario = DRAWS.draws[0], _scenario(carryover, kappa, trial_fatigue, resolution)
    tables = compile_tables(params, scenario)
    rng = np.random.default_rng(seed)
    n = 30
    customers = initial_population(tables, draw_reset_noise(rng, n))
    customers.hidden_state = rng.integers(0, params.n_states, n)
    customers.fatigue = rng.integers(0, scenario.max_fatigue + 1, n)
    customers.subscribed = rng.random(n) < 0.8
    effects = two_week_purchase_effects(customers, params, scenario)

    def no_purchase_in_two_weeks(action: np.ndarray) -> np.ndarray:
        delivered = np.where(customers.subscribed, action, 0)
        first, _, buy_first = _kernel_week(
            tables, customers.segment, delivered, customers.fatigue, customers.hidden_state,
            customers.purchase_covariate_logit, customers.visit_covariate_logit,
        )
        fatigue_after = _next_level(scenario, customers.fatigue, delivered != 0)
        total = np.zeros(n)
        for z in range(params.n_states):
            second, _, buy_second = _kernel_week(
                tables, customers.segment, np.zeros(n, dtype=np.int64), fatigue_after, np.full(n, z),
                customers.purchase_covariate_logit, customers.visit_covariate_logit,
            )
            total += first[:, z] * (1.0 - buy_first[:, z]) * np.sum(second * (1.0 - buy_second), axis=1)
        return total

    baseline = no_purchase_in_two_weeks(np.zeros(n, dtype=np.int64))
    for a in range(params.n_actions):
        np.testing.assert_allclose(effects[:, a], baseline - no_purchase_in_two_weeks(np.full(n, a)), atol=1e-12)


@pytest.mark.parametrize(
    ("carryover", "kappa", "trial_fatigue", "resolution"),
    [(1.0, 0.0, 0.0, 1), (2.5, 1.0, 0.0, 1), (1.5, DEFAULT_KAPPA, 0.07, 1), (1.5, DEFAULT_KAPPA, 0.07, 2)],
)
def test_sampled_weeks_match_the_exact_expectation(carryover, kappa, trial_fatigue, resolution):
    """Monte Carlo through the kernel agrees with the exact schedule expectation (within 4 standard errors)."""
    params, scenario = DRAWS.draws[1], _scenario(carryover, kappa, trial_fatigue, resolution)
    tables = compile_tables(params, scenario)
    rng = np.random.default_rng(3)
    n = 200_000
    customers = initial_population(tables, draw_reset_noise(rng, n))
    schedule = np.array([1, 1, 0, 2, 1, 1, 1, 0])
    exact = expected_schedule_outcome(params, scenario, customers, schedule)
    state = customers.copy()
    for week, action in enumerate(schedule):
        outcome = step_population(state, np.full(n, action), tables, draw_step_noise(rng, n))
        for sampled, expected in ((outcome.visited, exact.visits[week]), (outcome.purchased, exact.purchases[week])):
            p = expected.mean()
            assert abs(sampled.mean() - p) < 4 * np.sqrt(p * (1 - p) / n), week
        assert abs(state.subscribed.mean() - exact.subscribed[week].mean()) < 4 * np.sqrt(0.01 / n) + 1e-4
