"""JourneyVecEnv: SB3 trains on the vectorized kernel."""

from __future__ import annotations

import numpy as np
from stable_baselines3 import PPO

from journeygym.envs import JourneyVecEnv
from journeygym.testing import default_observation_index


def test_terminal_observation_and_truncation_flags(synthetic_draws):
    venv = JourneyVecEnv(4, artifact=synthetic_draws, horizon=2)
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (4, venv.observation_space.shape[0])
    venv.step(np.zeros(4, dtype=int))
    obs, rewards, dones, infos = venv.step(np.zeros(4, dtype=int))
    assert dones.all() and rewards.dtype == np.float32
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert all(info["terminal_observation"].shape == obs.shape[1:] for info in infos)
    week_fraction = default_observation_index(venv.population.parameters.action_names)["week_fraction"]
    np.testing.assert_allclose(obs[:, week_fraction], 0.0)  # the reset that followed the truncation


def test_seeded_reset_is_reproducible(synthetic_draws):
    observations = []
    for _ in range(2):
        venv = JourneyVecEnv(8, artifact=synthetic_draws)
        venv.seed(3)
        observations.append(venv.reset())
    np.testing.assert_array_equal(*observations)


def test_ppo_learns_through_the_adapter(synthetic_draws):
    venv = JourneyVecEnv(16, artifact=synthetic_draws, horizon=8)
    model = PPO("MlpPolicy", venv, n_steps=8, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=16 * 8 * 2)
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (16,)
    assert venv.get_attr("n_actions") == [3] * 16
