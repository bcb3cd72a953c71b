"""Matching recovers known parameters from the exact two-week experiment."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.calibration.matching import BRACKET, match_level, match_uplift, two_week_uplift
from journeygym.calibration.two_week import tilted_transition, two_week_event_probability
from journeygym.envs.kernel import compile_tables, draw_reset_noise, draw_step_noise, initial_population, step_population
from journeygym.envs.parameters import ScenarioAssumptions


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


def test_match_uplift_recovers_tilt_then_effect(chain):
    belief, transition, event_logit = chain
    logits = np.broadcast_to(event_logit, (2, *event_logit.shape))
    true_tilt, true_effect = np.array([0.4, -0.2]), np.array([0.6, 0.1])
    visit_uplift = two_week_uplift(belief, transition, logits, true_tilt, np.zeros(2))
    tilt = match_uplift(belief, transition, logits, visit_uplift, solve_for="tilt")
    np.testing.assert_allclose(tilt.values, true_tilt, atol=1e-7)
    purchase_uplift = two_week_uplift(belief, transition, logits, true_tilt, true_effect)
    effect = match_uplift(belief, transition, logits, purchase_uplift, solve_for="effect", tilt=tilt.values)
    np.testing.assert_allclose(effect.values, true_effect, atol=1e-6)


def test_unreachable_target_is_reported_as_clipped(chain):
    belief, transition, event_logit = chain
    result = match_uplift(belief, transition, event_logit[None], np.array([0.99]), solve_for="tilt")
    assert result.clipped.all() and result.values[0] == BRACKET[1]
    with pytest.raises(ValueError, match="solve_for='effect' needs the tilt"):
        match_uplift(belief, transition, event_logit[None], np.array([0.0]), solve_for="effect")


def test_exact_two_week_probability_agrees_with_the_kernel(synthetic_draws):
    """The formula used for matching is the kernel's own two-week experiment."""
    params, scenario = synthetic_draws.mean, ScenarioAssumptions()
    tables = compile_tables(params, scenario)
    rng = np.random.default_rng(4)
    n = 200_000
    state = initial_population(tables, draw_reset_noise(rng, n))
    segment, covariate_logit = state.segment.copy(), state.purchase_covariate_logit.copy()
    belief = params.initial_state_by_recency[state.recency - 1]
    converted = np.zeros(n, dtype=bool)
    for action in (1, 0):
        converted |= step_population(state, np.full(n, action), tables, draw_step_noise(rng, n)).purchased
    logit = params.purchase_offset + np.log(params.purchase_prob) - np.log1p(-params.purchase_prob)
    exact = sum(
        two_week_event_probability(
            belief[segment == g], params.transition, logit + covariate_logit[segment == g, None],
            tilt=params.engagement_tilt[1, g], effect=params.purchase_uplift[1, g],
        ).sum()
        for g in range(7)
    ) / n
    assert abs(converted.mean() - exact) < 4 * np.sqrt(exact * (1 - exact) / n)
