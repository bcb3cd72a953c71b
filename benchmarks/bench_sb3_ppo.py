"""JourneyVecEnv versus DummyVecEnv over single envs (n_envs = 64): rollout collection and PPO end to end.

Two ratios, both printed: rollout collection alone (``VecEnv.step`` with
pre-drawn random actions, the env's share of the work) and PPO training end
to end (same hyperparameters on both; the network's forward and backward
passes are the same work for both, so they shrink the ratio).
Run: ``python benchmarks/bench_sb3_ppo.py [--device auto|cpu|cuda]``; it prints the device torch used.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from _common import artifact_argument, header
from journeygym.agents.devices import DEVICES, check_device, resolve_device
from journeygym.envs import CustomerJourneyEnv, JourneyVecEnv

N_ENVS = 64
#: PPO settings of the benchmark: one 52-week episode per rollout and env, large
#: batches (the reward is noisy, many customers per update help).
PPO_SETTINGS = dict(n_steps=52, batch_size=832, n_epochs=4, learning_rate=3e-4, seed=0, verbose=0)


def steps_per_second(make_env, timesteps: int, device: str) -> float:
    """Environment steps per second of ``PPO.learn`` over ``timesteps`` on ``device``."""
    model = PPO("MlpPolicy", make_env(), device=device, **PPO_SETTINGS)
    model.learn(N_ENVS * PPO_SETTINGS["n_steps"])  # warm-up rollout and update
    start = time.perf_counter()
    model.learn(timesteps, reset_num_timesteps=False)
    return timesteps / (time.perf_counter() - start)


def rollout_steps_per_second(make_env, rollouts: int) -> float:
    """Env-steps per second of ``VecEnv.step`` alone, random actions drawn in advance."""
    venv = make_env()
    actions = np.random.default_rng(0).integers(0, venv.action_space.n, (rollouts * 52, N_ENVS))
    venv.reset()
    start = time.perf_counter()
    for week_actions in actions:
        venv.step(week_actions)
    return actions.size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rollouts", type=int, default=10, help="rollouts of 64 x 52 steps to time")
    parser.add_argument("--device", default="cpu", choices=DEVICES, help="torch device of PPO (default cpu)")
    artifact_argument(parser)
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = resolve_device(check_device(args.device, "bench_sb3_ppo"))
    header(f"steps/s with n_envs = {N_ENVS}; PPO {PPO_SETTINGS}; device {device} (--device {args.device})")
    timesteps = args.rollouts * N_ENVS * PPO_SETTINGS["n_steps"]

    def journey() -> JourneyVecEnv:
        return JourneyVecEnv(N_ENVS, artifact=args.artifact)

    def dummy() -> DummyVecEnv:
        return DummyVecEnv([lambda: CustomerJourneyEnv(artifact=args.artifact) for _ in range(N_ENVS)])

    rollout = {name: rollout_steps_per_second(make, args.rollouts) for name, make in (("journey", journey), ("dummy", dummy))}
    ppo = {name: steps_per_second(make, timesteps, device) for name, make in (("journey", journey), ("dummy", dummy))}
    print(f"{'':16}{'rollout only':>16}{'PPO end to end':>18}")
    print(f"{'JourneyVecEnv':16}{rollout['journey']:12,.0f} /s {ppo['journey']:14,.0f} /s")
    print(f"{'DummyVecEnv':16}{rollout['dummy']:12,.0f} /s {ppo['dummy']:14,.0f} /s")
    print(f"{'ratio':16}{rollout['journey'] / rollout['dummy']:13.2f}x {ppo['journey'] / ppo['dummy']:15.2f}x")


if __name__ == "__main__":
    main()
