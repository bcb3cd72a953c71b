"""PPO training steps per second: JourneyVecEnv versus DummyVecEnv over single envs (n_envs = 64).

Same PPO hyperparameters on both; the only difference is how the 64
customers are simulated.  Target: JourneyVecEnv >= 3x DummyVecEnv.
Run: ``python benchmarks/bench_sb3_ppo.py``.
"""

from __future__ import annotations

import argparse
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from _common import artifact_argument, header
from journeygym.envs import CustomerJourneyEnv, JourneyVecEnv

N_ENVS = 64
#: PPO settings of the benchmark: one 52-week episode per rollout and env, large
#: batches (the reward is noisy, many customers per update help).
PPO_SETTINGS = dict(n_steps=52, batch_size=832, n_epochs=4, learning_rate=3e-4, device="cpu", seed=0, verbose=0)


def steps_per_second(make_env, timesteps: int) -> float:
    """Environment steps per second of ``PPO.learn`` over ``timesteps``."""
    model = PPO("MlpPolicy", make_env(), **PPO_SETTINGS)
    model.learn(N_ENVS * PPO_SETTINGS["n_steps"])  # warm-up rollout and update
    start = time.perf_counter()
    model.learn(timesteps, reset_num_timesteps=False)
    return timesteps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollouts", type=int, default=10, help="rollouts of 64 x 52 steps to time")
    artifact_argument(parser)
    args = parser.parse_args()
    torch.set_num_threads(1)
    header(f"PPO steps/s with n_envs = {N_ENVS}, {PPO_SETTINGS} (target: JourneyVecEnv >= 3x DummyVecEnv)")
    timesteps = args.rollouts * N_ENVS * PPO_SETTINGS["n_steps"]
    vectorized = steps_per_second(lambda: JourneyVecEnv(N_ENVS, artifact=args.artifact), timesteps)
    dummy = steps_per_second(
        lambda: DummyVecEnv([lambda: CustomerJourneyEnv(artifact=args.artifact) for _ in range(N_ENVS)]), timesteps
    )
    print(f"JourneyVecEnv  {vectorized:10,.0f} steps/s")
    print(f"DummyVecEnv    {dummy:10,.0f} steps/s")
    print(f"ratio          {vectorized / dummy:10.2f}x")


if __name__ == "__main__":
    main()
