"""Matching recovers known parameters from the exact two-week experiment."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.calibration.matching import (
    BRACKET,
    carryover_ratio,
    match_level,
    PURCHASE_RESPONSE_BRACKET,
    match_uplift,
    match_visit_response,
    two_week_uplift,
)
from journeygym.calibration.two_week import CarryoverExperiment, TwoWeekExperiment, two_week_event_probability
from journeygym.envs.expectations import expected_schedule_outcome
from journeygym.envs.kernel import compile_tables, draw_reset_noise, draw_step_noise, initial_population, step_population
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.response import tilted_transition


@pytest.fixture()
def chain(synthetic_draws):
    params = synthetic_draws.mean
    rng = np.random.default_rng(0)
    belief = rng.dirichlet(np.ones(params.n_states), size=300)
    logit = np.log(params.purchase_prob) - np.log1p(-params.purchase_prob)
    event_logit = np.broadcast_to(logit + rng.normal(0, 0.3, (300, 1)), (300, params.n_states))
    return belief, params.transition, event_logit


def test_tilted_transition_rows_sum_to_one_and_move_mass_up(synthetic_draws):
    transition = synthetic_draws.mean.transition
    tilted = tilted_transition(transition, 1.0)
    np.testing.assert_allclose(tilted.sum(axis=1), 1.0)
    assert (np.triu(tilted, 1).sum(axis=1)[:-1] > np.triu(transition, 1).sum(axis=1)[:-1]).all()


def test_match_level_recovers_a_known_offset(chain):
    belief, transition, event_logit = chain
    true_offsets = np.array([-2.0, -0.5, 0.7])
    targets = np.array([
        two_week_event_probability(belief, transition, event_logit + d).mean() for d in true_offsets
    ])
    result = match_level(belief, transition, np.broadcast_to(event_logit, (3, *event_logit.shape)), targets)
    np.testing.assert_allclose(result.values, true_offsets, atol=1e-8)
    assert not result.clipped.any()


def test_match_uplift_recovers_the_direct_effect_given_the_tilt(chain):
    belief, transition, event_logit = chain
    logits = np.broadcast_to(event_logit, (2, *event_logit.shape))
    true_tilt, true_effect = np.array([0.4, 0.0]), np.array([0.6, -0.3])
    uplift = two_week_uplift(belief, transition, logits, true_tilt, true_effect)
    effect = match_uplift(TwoWeekExperiment(belief, transition, logits), uplift, tilt=true_tilt)
    np.testing.assert_allclose(effect.values, true_effect, atol=1e-6)


@pytest.mark.parametrize("carryover", [1.0, 1.5, 2.5])
def test_match_visit_response_hits_the_uplift_and_the_carryover(chain, carryover):
    belief, transition, event_logit = chain
    logits = np.broadcast_to(event_logit, (3, *event_logit.shape)) + np.array([-1.0, 0.0, 0.5])[:, None, None]
    target = np.array([0.02, 0.05, 0.08])
    result = match_visit_response(
        TwoWeekExperiment(belief, transition, logits), CarryoverExperiment(belief, transition, logits), target, carryover
    )
    assert not result.clipped.any()
    np.testing.assert_allclose(two_week_uplift(belief, transition, logits, result.tilt, result.visit_effect), target, atol=1e-8)
    np.testing.assert_allclose(result.ratio, carryover, rtol=1e-5)
    # Recomputed independently of the solver's own bookkeeping:
    np.testing.assert_allclose(
        carryover_ratio(CarryoverExperiment(belief, transition, logits), result.tilt, result.visit_effect), carryover, rtol=1e-5
    )
    if carryover == 1.0:
        assert (result.tilt == 0.0).all()
    else:
        assert (result.tilt > 0.0).all()


def test_carryover_counts_agree_with_the_exact_schedule_of_the_simulator(synthetic_draws):
    """The calibration's carryover experiment and the env's exact schedule expectations give the same counts."""
    params = synthetic_draws.mean
    scenario = ScenarioAssumptions(kappa=0.0)
    customers = initial_population(compile_tables(params, scenario), draw_reset_noise(np.random.default_rng(2), 500))
    eta, alpha, _ = params.response_at(scenario.carryover)
    g = 3
    members = customers.segment == g
    belief = params.initial_state_by_recency[customers.start[members]]
    visit_logit = np.log(params.visit_prob) - np.log1p(-params.visit_prob) + customers.visit_covariate_logit[members, None]
    short, long = CarryoverExperiment(belief, params.transition, visit_logit[None]).incremental(np.array([eta[1, g]]), np.array([alpha[1, g]]))
    never = expected_schedule_outcome(params, scenario, customers, np.zeros(52, dtype=np.int64))
    once = expected_schedule_outcome(params, scenario, customers, np.r_[1, np.zeros(51, dtype=np.int64)])
    extra = (once.visits - never.visits)[:, members].mean(axis=1)
    np.testing.assert_allclose([short[0], long[0]], [extra[:2].sum(), extra.sum()], rtol=1e-9)


def test_unreachable_targets_are_reported_as_clipped(chain):
    belief, transition, event_logit = chain
    experiments = TwoWeekExperiment(belief, transition, event_logit[None]), CarryoverExperiment(belief, transition, event_logit[None])
    result = match_uplift(experiments[0], np.array([0.99]), tilt=0.0)
    assert result.clipped.all() and result.values[0] == BRACKET[1]
    # A visit uplift no e-mail response inside the brackets can reach is reported as clipped, never silently.
    far = match_visit_response(*experiments, np.array([0.99]), 1.5)
    assert far.clipped.all()
    with pytest.raises(ValueError, match="carryover: received 0.5, expected a finite ratio >= 1"):
        match_visit_response(*experiments, np.array([0.01]), 0.5)


def test_the_purchase_response_stops_at_its_floor_and_says_so(chain):
    belief, transition, event_logit = chain
    logits = np.broadcast_to(event_logit, (2, *event_logit.shape))
    tilt = np.array([0.8, 0.8])
    # One uplift reachable above the floor, one that needs a direct effect far below it.
    uplift = two_week_uplift(belief, transition, logits, tilt, np.array([-0.5, -4.0]))
    result = match_uplift(TwoWeekExperiment(belief, transition, logits), uplift, tilt=tilt)
    np.testing.assert_allclose(result.values[0], -0.5, atol=1e-6)
    assert result.values[1] == PURCHASE_RESPONSE_BRACKET[0] == -1.0
    assert result.clipped.tolist() == [False, True] and result.residual[1] > 0
    free = match_uplift(TwoWeekExperiment(belief, transition, logits), uplift, tilt=tilt, bracket=BRACKET)
    np.testing.assert_allclose(free.values, [-0.5, -4.0], atol=1e-6)


def test_a_draw_without_visit_uplift_gets_no_persistence(chain):
    belief, transition, event_logit = chain
    logits = np.broadcast_to(event_logit, (2, *event_logit.shape))
    experiments = TwoWeekExperiment(belief, transition, logits), CarryoverExperiment(belief, transition, logits)
    result = match_visit_response(*experiments, np.array([-0.01, 0.03]), 1.5)
    assert result.undefined.tolist() == [True, False]
    assert result.tilt[0] == 0.0 and result.visit_effect[0] < 0.0
    assert np.isnan(result.ratio[0]) and abs(result.ratio[1] - 1.5) < 1e-5


def test_exact_two_week_probability_agrees_with_the_kernel(synthetic_draws):
    """The formula used for matching is the kernel's own two-week experiment."""
    params, scenario = synthetic_draws.mean, ScenarioAssumptions()
    tables = compile_tables(params, scenario)
    rng = np.random.default_rng(4)
    n = 200_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    segment, covariate_logit = state.segment.copy(), state.purchase_covariate_logit.copy()
    belief = params.initial_state_by_recency[state.start]
    converted = np.zeros(n, dtype=bool)
    for action in (1, 0):
        converted |= step_population(state, np.full(n, action), tables, draw_step_noise(rng, n)).purchased
    logit = params.purchase_offset + np.log(params.purchase_prob) - np.log1p(-params.purchase_prob)
    eta, _, beta = params.response_at(scenario.carryover)
    exact = sum(
        two_week_event_probability(
            belief[segment == g], params.transition, logit + covariate_logit[segment == g, None],
            tilt=eta[1, g], effect=beta[1, g],
        ).sum()
        for g in range(7)
    ) / n
    assert abs(converted.mean() - exact) < 4 * np.sqrt(exact * (1 - exact) / n)
