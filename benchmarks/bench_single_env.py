"""Single-customer env: median step time in microseconds (target: <= 20).

Measures ``CustomerJourneyEnv.step`` itself (``env.unwrapped``) and, for
information, through ``gymnasium.make``'s checker and order wrappers.
Run: ``python benchmarks/bench_single_env.py``.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

from _common import artifact_argument, header
import journeygym


def step_times(env: gym.Env, steps: int, seed: int) -> np.ndarray:
    """Seconds per ``step`` call over ``steps`` steps with random actions (resets not timed)."""
    actions = np.random.default_rng(seed).integers(0, 3, steps)
    times = np.empty(steps)
    env.reset(seed=seed)
    for i, action in enumerate(actions.tolist()):
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        times[i] = time.perf_counter() - start
        if terminated or truncated:
            env.reset()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=50_000)
    artifact_argument(parser)
    args = parser.parse_args()
    header("single env step time (target: median <= 20 us)")
    made = gym.make(journeygym.ENV_ID, artifact=args.artifact)
    for label, env in (("CustomerJourneyEnv.step", made.unwrapped), ("through gymnasium.make wrappers", made)):
        step_times(env, 2_000, seed=1)  # warm-up
        times = step_times(env, args.steps, seed=0) * 1e6
        print(f"{label:<34} median {np.median(times):6.2f} us   p90 {np.percentile(times, 90):6.2f} us")


if __name__ == "__main__":
    main()
