"""CustomerPopulationVectorEnv: Gymnasium vector API, autoreset, seeding, agreement with the single env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import journeygym
from journeygym.envs import ActionError, CustomerJourneyEnv, CustomerPopulationVectorEnv
from journeygym.testing import default_observation_index


def _week_fraction(envs: CustomerPopulationVectorEnv, observations: np.ndarray) -> np.ndarray:
    return observations[:, default_observation_index(envs.parameters.action_names)["week_fraction"]]


def test_make_vec_returns_the_population_env(synthetic_draws):
    envs = gym.make_vec(journeygym.ENV_ID, num_envs=16, vectorization_mode="vector_entry_point", artifact=synthetic_draws)
    assert isinstance(envs, CustomerPopulationVectorEnv)
    obs, info = envs.reset(seed=0)
    assert obs.shape == (16, envs.single_observation_space.shape[0]) and obs.dtype == np.float32
    assert envs.observation_space.contains(obs)
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    assert reward.shape == terminated.shape == truncated.shape == (16,)
    assert info["purchase_prob"].shape == (16,) and info["_purchase_prob"].all()


def test_same_seed_bit_identical_different_seed_differs(synthetic_draws):
    def run(seed):
        envs = CustomerPopulationVectorEnv(num_envs=64, artifact=synthetic_draws, params="sample")
        obs, _ = envs.reset(seed=seed)
        actions = np.random.default_rng(1).integers(0, 3, (60, 64))
        trace = [obs]
        for a in actions:
            obs, reward, *_ = envs.step(a)
            trace += [obs, reward]
        return trace

    first, second, other = run(5), run(5), run(6)
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0], other[0])


def test_next_step_autoreset(synthetic_draws):
    envs = CustomerPopulationVectorEnv(num_envs=8, artifact=synthetic_draws, horizon=3)
    envs.reset(seed=0)
    for _ in range(2):
        assert not envs.step(np.zeros(8, dtype=int))[3].any()
    obs, reward, terminated, truncated, _ = envs.step(np.ones(8, dtype=int))
    assert truncated.all() and not terminated.any()
    obs, reward, terminated, truncated, _ = envs.step(np.ones(8, dtype=int))
    assert not truncated.any() and (reward == 0).all()
    assert (envs.state.week == 0).all() and (_week_fraction(envs, obs) == 0).all()


def test_same_step_autoreset_reports_final_observation(synthetic_draws):
    envs = CustomerPopulationVectorEnv(num_envs=8, artifact=synthetic_draws, horizon=2, autoreset_mode="SameStep")
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    envs.reset(seed=0)
    envs.step(np.zeros(8, dtype=int))
    obs, _, _, truncated, info = envs.step(np.zeros(8, dtype=int))
    assert truncated.all() and info["_final_obs"].all()
    np.testing.assert_allclose(_week_fraction(envs, info["final_obs"]), 1.0)
    np.testing.assert_allclose(_week_fraction(envs, obs), 0.0)


def test_reset_mask_resets_only_those_customers(synthetic_draws):
    envs = CustomerPopulationVectorEnv(num_envs=6, artifact=synthetic_draws)
    envs.reset(seed=0)
    for _ in range(4):
        envs.step(np.zeros(6, dtype=int))
    mask = np.array([True, False, True, False, False, False])
    obs, _ = envs.reset(options={"reset_mask": mask})
    np.testing.assert_array_equal(envs.state.week, np.where(mask, 0, 4))
    with pytest.raises(ValueError, match="reset_mask received dtype int64"):
        envs.reset(options={"reset_mask": np.zeros(6, dtype=int)})


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.zeros(5, dtype=int), "received shape \\(5,\\), expected \\(4,\\)"),
        (np.array([0, 1, 2, 3]), "received 3, expected integers in \\[0, 2\\]"),
        (np.array([0.0, 0.5, 1.0, 1.0]), "received dtype float64"),
        (np.array(["a", "b", "c", "d"]), "received dtype <U1"),
    ],
)
def test_invalid_action_batches(synthetic_draws, actions, message):
    envs = CustomerPopulationVectorEnv(num_envs=4, artifact=synthetic_draws)
    envs.reset(seed=0)
    with pytest.raises(ActionError, match=message):
        envs.step(actions)


def test_bad_constructor_arguments(synthetic_draws):
    with pytest.raises(ValueError, match="num_envs: received 0"):
        CustomerPopulationVectorEnv(num_envs=0, artifact=synthetic_draws)
    with pytest.raises(ValueError, match="autoreset_mode: received 'Later'"):
        CustomerPopulationVectorEnv(num_envs=2, artifact=synthetic_draws, autoreset_mode="Later")


@pytest.mark.parametrize("action", [0, 1])
def test_returns_agree_with_single_env_within_sampling_error(synthetic_draws, action):
    """Never and always-e-mail returns of the vector env match those of independent single envs."""
    horizon, n = 20, 4000
    envs = CustomerPopulationVectorEnv(num_envs=n, artifact=synthetic_draws, horizon=horizon)
    envs.reset(seed=100)
    vector_returns = np.zeros(n)
    for _ in range(horizon):
        vector_returns += envs.step(np.full(n, action))[1]
    env = CustomerJourneyEnv(artifact=synthetic_draws, horizon=horizon)
    single_returns = np.zeros(1500)
    for i in range(single_returns.size):
        env.reset(seed=10_000 + i)
        for _ in range(horizon):
            single_returns[i] += env.step(action)[1]
    difference = vector_returns.mean() - single_returns.mean()
    standard_error = np.sqrt(vector_returns.var() / n + single_returns.var() / single_returns.size)
    assert abs(difference) < 4 * standard_error
