"""BeliefTracker: the forward filter moves with what the customer does, as Bayes' rule says it should.

The expected posteriors are written out here by hand from the raw parameters
(transition matrix, per-state visit and purchase probabilities, e-mail effects,
covariate logits), independently of :mod:`journeygym.envs.response`, which the
tracker reads.  A filter that ignored visits and purchases would return the
predicted distribution for every customer and fail these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.envs.belief import BeliefTracker
from journeygym.envs.kernel import WEEKS_SINCE_CAP
from journeygym.testing import default_observation_index
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

HORIZON = 12
#: Buyer and Engaged and everything between them: states 2.. of the ordered K = 5 states.
ENGAGED_OR_MORE = slice(2, None)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _log_odds(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _multiplier(scenario: ScenarioAssumptions, fatigue: int) -> float:
    """What fatigue level f leaves of the e-mail's effect: ((1 + kappa F) / (1 + kappa F0))^-p at its stock F."""
    stock = scenario.fatigue_stocks[fatigue]
    return float(((1.0 + scenario.kappa * stock) / (1.0 + scenario.kappa * scenario.trial_fatigue)) ** -scenario.fatigue_power)


def _bayes_week(
    prior: np.ndarray,
    params: DynamicsParameters,
    scenario: ScenarioAssumptions,
    *,
    segment: int,
    action: int,
    fatigue: int,
    visit_covariate_logit: float,
    purchase_covariate_logit: float,
    visited: bool,
    purchased: bool,
) -> np.ndarray:
    """One week of the forward filter by hand: predict with P_a(z'|z) at fatigue f, then weigh by P(visit, purchase | z')."""
    _, visit_effect, purchase_effect = (effect[action, segment] for effect in params.response_at(scenario.carryover))
    share = _multiplier(scenario, fatigue)
    predicted = prior @ _transition_at(params, scenario, segment, action, fatigue)
    p_visit = _sigmoid(_log_odds(params.visit_prob) + visit_effect * share + visit_covariate_logit)
    p_purchase = _sigmoid(
        params.purchase_offset + _log_odds(params.purchase_prob) + purchase_effect * share + purchase_covariate_logit
    )
    likelihood = (p_visit if visited else 1.0 - p_visit) * (p_purchase if purchased else 1.0 - p_purchase)
    joint = predicted * likelihood
    return joint / joint.sum()


def _transition_at(params: DynamicsParameters, scenario: ScenarioAssumptions, segment: int, action: int, fatigue: int) -> np.ndarray:
    """P_a(z'|z) at fatigue f, by hand: moves to more engaged states weighted by exp(eta m(F)), rows renormalized."""
    tilt = params.response_at(scenario.carryover)[0][action, segment] * _multiplier(scenario, fatigue)
    k = params.n_states
    weights = np.array([[params.transition[z, w] * (np.exp(tilt) if w > z else 1.0) for w in range(k)] for z in range(k)])
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.fixture()
def population(synthetic_draws):
    env = CustomerPopulationVectorEnv(num_envs=64, artifact=synthetic_draws, params="mean", horizon=HORIZON)
    observations, _ = env.reset(seed=0)
    return env, observations


def _second_week(env, first: np.ndarray, *, action: int, visited: bool, purchased: bool) -> np.ndarray:
    """The week-1 observation of a customer whose week 0 is ``first``, written column by column."""
    names = env.parameters.action_names
    column = default_observation_index(names)
    row = first.copy()
    row[column["week_fraction"]] = 1.0 / HORIZON
    for event, happened in (("purchase", purchased), ("visit", visited)):
        since = column[f"weeks_since_{event}"]
        row[since] = 0.0 if happened else min(first[since] + 1.0 / WEEKS_SINCE_CAP, 1.0)
        row[column[f"{event}s_last_4_weeks"]] = 0.25 if happened else 0.0
    # A rested customer's e-mail lands on the stock 1; the column is the stock over the top level's stock.
    row[column["fatigue"]] = (1.0 if action else 0.0) / env.assumptions.fatigue_stocks[-1]
    for i, name in enumerate(names):
        row[column[f"last_action_{name}"]] = float(i == action)
    return row


@pytest.mark.parametrize("action", [0, 1])
def test_a_purchase_week_raises_and_a_silent_week_lowers_the_engaged_states(population, action):
    env, observations = population
    params, scenario, state = env.parameters, env.assumptions, env.state
    customer = 0
    first = observations[customer]
    weeks = {
        (visited, purchased): _second_week(env, first, action=action, visited=visited, purchased=purchased)
        for visited, purchased in ((True, True), (False, False))
    }
    tracker = BeliefTracker(params, scenario)
    n = len(weeks)
    start = tracker.observe(np.repeat(first[None, :], n, axis=0))
    prior = params.initial_state_by_recency[state.start[customer]]
    np.testing.assert_allclose(start, np.repeat(prior[None, :], n, axis=0), rtol=1e-12)

    belief = tracker.observe(np.stack(list(weeks.values())))
    by_hand = {
        key: _bayes_week(
            prior, params, scenario, segment=int(state.segment[customer]), action=action, fatigue=0,
            visit_covariate_logit=float(state.visit_covariate_logit[customer]),
            purchase_covariate_logit=float(state.purchase_covariate_logit[customer]),
            visited=key[0], purchased=key[1],
        )
        for key in weeks
    }
    # The tracker rebuilds the covariate logits from float32 observation columns: agreement to ~1e-7.
    np.testing.assert_allclose(belief, np.stack(list(by_hand.values())), atol=1e-6)

    purchase_week, silent_week = belief
    engaged_after_purchase = purchase_week[ENGAGED_OR_MORE].sum()
    engaged_after_silence = silent_week[ENGAGED_OR_MORE].sum()
    assert engaged_after_purchase > engaged_after_silence + 0.2
    assert purchase_week[-1] > silent_week[-1]  # the Buyer state itself
    assert silent_week[0] > purchase_week[0]  # and the silent week points to Dormant
    # Both differ from the prediction alone, which is what a filter ignoring the week would report.
    predicted = prior @ _transition_at(params, scenario, int(state.segment[customer]), action, 0)
    assert engaged_after_purchase > predicted[ENGAGED_OR_MORE].sum() + 0.1
    assert engaged_after_silence < predicted[ENGAGED_OR_MORE].sum()


def test_the_filter_follows_a_simulated_sequence_week_by_week(population):
    """Every customer, six weeks of random e-mails: the tracker equals the hand-written filter fed the same events."""
    env, observations = population
    params, scenario = env.parameters, env.assumptions
    n = observations.shape[0]
    tracker = BeliefTracker(params, scenario)
    state = env.state
    by_hand = params.initial_state_by_recency[state.start].copy()
    np.testing.assert_allclose(tracker.observe(observations), by_hand, rtol=1e-12)
    segment = state.segment.copy()
    visit_logit, purchase_logit = state.visit_covariate_logit.copy(), state.purchase_covariate_logit.copy()
    rng = np.random.default_rng(4)
    moved = 0.0
    for _ in range(6):
        actions = rng.integers(0, params.n_actions, n)
        delivered = actions * env.state.subscribed
        fatigue = env.state.fatigue.copy()
        observations, _, _, _, info = env.step(actions)
        predicted_only = np.stack([by_hand[i] @ _transition_at(params, scenario, segment[i], delivered[i], fatigue[i]) for i in range(n)])
        by_hand = np.stack(
            [
                _bayes_week(
                    by_hand[i], params, scenario, segment=int(segment[i]), action=int(delivered[i]), fatigue=int(fatigue[i]),
                    visit_covariate_logit=float(visit_logit[i]), purchase_covariate_logit=float(purchase_logit[i]),
                    visited=bool(info["visited"][i]), purchased=bool(info["purchased"][i]),
                )
                for i in range(n)
            ]
        )
        np.testing.assert_allclose(tracker.observe(observations), by_hand, atol=1e-6)
        moved = max(moved, float(np.abs(by_hand - predicted_only).max()))
    assert moved > 0.1  # the events of these weeks moved some belief a long way from the prediction


def test_every_fatigue_level_is_read_back_from_the_observation(population):
    """Each level's fatigue column (stock / top stock, float32) gives the filter that level's m(F), on every level."""
    env, observations = population
    params, scenario, state = env.parameters, env.assumptions, env.state
    customer, action = 0, 1
    column = default_observation_index(params.action_names)
    stocks = scenario.fatigue_stocks
    levels = np.arange(scenario.max_fatigue + 1)
    first = np.repeat(observations[customer][None, :], levels.size, axis=0)
    first[:, column["fatigue"]] = (stocks / stocks[-1]).astype(np.float32)
    second = np.repeat(_second_week(env, observations[customer], action=action, visited=True, purchased=True)[None, :], levels.size, axis=0)
    tracker = BeliefTracker(params, scenario)
    tracker.observe(first)
    belief = tracker.observe(second)
    prior = params.initial_state_by_recency[state.start[customer]]
    by_hand = np.stack(
        [
            _bayes_week(
                prior, params, scenario, segment=int(state.segment[customer]), action=action, fatigue=int(level),
                visit_covariate_logit=float(state.visit_covariate_logit[customer]),
                purchase_covariate_logit=float(state.purchase_covariate_logit[customer]),
                visited=True, purchased=True,
            )
            for level in levels
        ]
    )
    np.testing.assert_allclose(belief, by_hand, atol=1e-6)
    # The low levels lie within 1e-3 of each other in the column, yet every level is read apart; and it matters.
    assert np.abs(by_hand[0] - by_hand[-1]).max() > 1e-3
