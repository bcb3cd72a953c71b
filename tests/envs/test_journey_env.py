"""CustomerJourneyEnv: Gymnasium and SB3 checks, seeding, bad input."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import journeygym
from journeygym.envs import ActionError, CustomerJourneyEnv, CustomerPopulationVectorEnv, ParameterError


def _rollout(env, seed, actions):
    observations, rewards, infos = [], [], []
    obs, info = env.reset(seed=seed)
    observations.append(obs)
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        rewards.append(reward)
        infos.append(info["hidden_state"])
        if truncated:
            break
    return np.array(observations), np.array(rewards), np.array(infos)


def test_gymnasium_and_sb3_checkers_pass_without_warnings(synthetic_draws):
    env = gym.make(journeygym.ENV_ID, artifact=synthetic_draws)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped)
        sb3_check_env(CustomerJourneyEnv(artifact=synthetic_draws), warn=True)


def test_registered_on_import():
    assert journeygym.ENV_ID == "journeygym/CustomerJourney-v0"
    assert journeygym.ENV_ID in gym.registry


def test_same_seed_is_bit_identical_and_different_seeds_differ(synthetic_draws):
    actions = np.random.default_rng(0).integers(0, 3, 52)
    a = _rollout(CustomerJourneyEnv(artifact=synthetic_draws, params="sample"), 11, actions)
    b = _rollout(CustomerJourneyEnv(artifact=synthetic_draws, params="sample"), 11, actions)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    different = [_rollout(CustomerJourneyEnv(artifact=synthetic_draws), seed, actions) for seed in range(12, 16)]
    assert any(not np.array_equal(a[0], other[0]) for other in different)


def test_episode_truncates_at_the_horizon_and_then_requires_reset(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws, horizon=5)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(5)]
    assert flags == [False, False, False, False, True]
    with pytest.raises(RuntimeError, match="call reset\\(\\)"):
        env.step(0)


def test_hidden_state_is_in_info_not_in_observation(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws)
    obs, info = env.reset(seed=0)
    assert {"hidden_state", "hidden_state_name", "draw"} <= set(info)
    _, _, _, _, info = env.step(1)
    assert {"purchase_prob", "visit_prob", "purchased", "spend", "delivered", "unsubscribed"} <= set(info)
    assert obs.shape == env.observation_space.shape


def test_params_choice_per_episode(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws, params=1)
    assert env.reset(seed=0)[1]["draw"] == 1
    assert env.reset(options={"params": "mean"})[1]["draw"] == -1
    assert env.reset()[1]["draw"] == 1
    draws = {CustomerJourneyEnv(artifact=synthetic_draws, params="sample").reset(seed=s)[1]["draw"] for s in range(30)}
    assert draws == {0, 1, 2}


@pytest.mark.parametrize("action", [3, -1, 1.0, "1", np.array([1, 2]), np.array([0.5]), None, True])
def test_invalid_actions_raise_a_clear_error(synthetic_draws, action):
    env = CustomerJourneyEnv(artifact=synthetic_draws)
    env.reset(seed=0)
    with pytest.raises(ActionError, match="action: received .*expected"):
        env.step(action)


def test_numpy_integer_actions_are_accepted(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws)
    env.reset(seed=0)
    env.step(np.int64(2))
    env.step(np.array(1))
    env.step(env.action_space.sample())


def test_unknown_reset_option_and_bad_arguments(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws)
    with pytest.raises(ValueError, match="unknown option 'param' \\(did you mean 'params'\\?\\)"):
        env.reset(options={"param": 1})
    with pytest.raises(ParameterError, match="params: received 'avg'"):
        CustomerJourneyEnv(artifact=synthetic_draws, params="avg")
    with pytest.raises(ParameterError, match="draw index in \\[0, 2\\]"):
        CustomerJourneyEnv(artifact=synthetic_draws, params=3)
    with pytest.raises(ParameterError, match="unknown assumption 'kapa'"):
        CustomerJourneyEnv(artifact=synthetic_draws, scenario={"kapa": 1.0})
    with pytest.raises(ParameterError, match="horizon: received -3"):
        CustomerJourneyEnv(artifact=synthetic_draws, horizon=-3)
    with pytest.raises(ParameterError, match="action_costs: received 2 costs, expected one per action"):
        CustomerJourneyEnv(artifact=synthetic_draws, scenario={"action_costs": (0.0, 0.05)})
    with pytest.raises(ValueError, match="render_mode: received 'human'"):
        CustomerJourneyEnv(artifact=synthetic_draws, render_mode="human")


def test_step_before_reset(synthetic_draws):
    with pytest.raises(RuntimeError, match="call reset\\(\\) before step"):
        CustomerJourneyEnv(artifact=synthetic_draws).step(0)


def test_ansi_render(synthetic_draws):
    env = CustomerJourneyEnv(artifact=synthetic_draws, render_mode="ansi")
    env.reset(seed=0)
    env.step(1)
    assert env.render().startswith("week   1")


def test_single_env_equals_the_population_env_of_one_customer(synthetic_draws):
    """The single env's scalar step and the vector kernel give the same episode, bit for bit."""
    actions = np.random.default_rng(1).integers(0, 3, 52)
    single = CustomerJourneyEnv(artifact=synthetic_draws, params="sample")
    vector = CustomerPopulationVectorEnv(num_envs=1, artifact=synthetic_draws, params="sample")
    for seed in (0, 5, 9):
        obs, info = single.reset(seed=seed)
        vector_obs, vector_info = vector.reset(seed=seed)
        np.testing.assert_array_equal(obs, vector_obs[0])
        assert info["draw"] == vector.draw_index
        for action in actions:
            obs, reward, _, truncated, info = single.step(int(action))
            vector_obs, vector_reward, _, vector_truncated, _ = vector.step(np.array([action]))
            np.testing.assert_array_equal(obs, vector_obs[0])
            assert reward == vector_reward[0]
            assert truncated == vector_truncated[0]
        state = single.state
        for name in state.__dataclass_fields__:
            assert getattr(state, name)[0] == getattr(vector.state, name)[0], name
