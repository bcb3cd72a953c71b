"""The oracle: exact values agree with simulation, and nothing beats it."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.baselines.oracle import OraclePolicy, solve_oracle
from journeygym.baselines.simple import ConstantPolicy, RandomPolicy
from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.experiments.evaluation import rollout


def _population(draws, n, seed, params="mean", horizon=20):
    env = CustomerPopulationVectorEnv(num_envs=n, artifact=draws, params=params, horizon=horizon)
    env.reset(seed=seed)
    return env


@pytest.mark.parametrize("action", [0, 1, 2])
def test_exact_policy_evaluation_matches_simulation(synthetic_draws, action):
    env = _population(synthetic_draws, 20_000, seed=1)
    state = env.state
    exact = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit, fixed_action=action)
    belief = env.parameters.initial_state_by_recency[state.recency - 1]
    simulated = rollout(ConstantPolicy(action), n_customers=20_000, seed=1, artifact=synthetic_draws, horizon=20)
    difference = simulated.returns - exact.expected_values(belief)
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(difference.size)


@pytest.mark.parametrize("draw", [0, 1, 2])
def test_oracle_is_at_least_every_other_policy(synthetic_draws, draw):
    env = _population(synthetic_draws, 2_000, seed=draw, params=draw)
    state = env.state
    belief = env.parameters.initial_state_by_recency[state.recency - 1]
    optimal = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
    optimal_value = optimal.expected_values(belief)
    for action in range(3):
        fixed = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit, fixed_action=action)
        assert (optimal_value >= fixed.expected_values(belief) - 1e-9).all()
    # Simulated, on common random numbers: the oracle beats the simple policies.
    oracle_run = rollout(OraclePolicy(), n_customers=2_000, seed=draw, params=draw, artifact=synthetic_draws, horizon=20)
    for policy in (ConstantPolicy(0), ConstantPolicy(1), RandomPolicy(seed=draw)):
        other = rollout(policy, n_customers=2_000, seed=draw, params=draw, artifact=synthetic_draws, horizon=20)
        difference = oracle_run.returns - other.returns
        assert difference.mean() > -2 * difference.std() / np.sqrt(difference.size)


def test_oracle_never_emails_unsubscribed_and_refuses_observations(synthetic_draws):
    env = _population(synthetic_draws, 500, seed=0)
    env.state.subscribed[:250] = False
    actions = OraclePolicy().act_on_state(env.state, env.parameters, env.assumptions)
    assert (actions[:250] == 0).all()
    with pytest.raises(TypeError, match="act_on_state"):
        OraclePolicy().act(np.zeros((2, 23), dtype=np.float32))


def test_the_oracle_bounds_the_undiscounted_return_whatever_the_discount(synthetic_draws):
    # The discount only shapes agents' training; the oracle solves the reported, undiscounted problem.
    env = _population(synthetic_draws, 300, seed=4)
    state = env.state
    solutions = [
        solve_oracle(env.parameters, env.assumptions.replace(discount=discount), state.segment, state.purchase_covariate_logit)
        for discount in (env.assumptions.discount, 0.5)
    ]
    np.testing.assert_array_equal(solutions[0].state_values, solutions[1].state_values)
    np.testing.assert_array_equal(solutions[0].actions, solutions[1].actions)
