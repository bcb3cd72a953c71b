"""Training throughput of PPO and DQN with their defaults, and the simulator's share of it.

Each agent trains on the shipped artifact (a posterior draw per episode, 52 weeks) as an
experiment cell does: torch, numba and BLAS on ``--threads`` threads (1 in the runner,
which runs one cell per core).  Printed per agent: env-steps per second by wall clock and
per CPU-second, and the share of the training's wall time spent in the simulator
(``JourneyVecEnv.step_wait``: the kernel, the observations and the contact rules).
Run: ``python benchmarks/bench_agents.py [--ppo-steps N] [--dqn-steps N] [--threads T] [--device cpu|auto|cuda]``
(the device torch used is printed first).
"""

from __future__ import annotations

import argparse
import time

from _common import artifact_argument, header


def measure(agent_name: str, steps: int, threads: int, artifact: str | None, device: str) -> tuple[float, float, float]:
    """(env-steps/s wall, env-steps/s per CPU-second, simulator share of the wall time) of one training run."""
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    from journeygym.agents.sb3_agents import DQNAgent, PPOAgent
    from journeygym.envs.sb3_adapter import JourneyVecEnv

    spent = [0.0]
    original = JourneyVecEnv.step_wait

    def timed(self):  # the simulator's part of each training step
        start = time.perf_counter()
        result = original(self)
        spent[0] += time.perf_counter() - start
        return result

    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    agent = {"ppo": PPOAgent, "dqn": DQNAgent}[agent_name](device=device)
    JourneyVecEnv.step_wait = timed
    try:
        with threadpool_limits(limits=threads):
            wall, cpu = time.perf_counter(), time.process_time()
            agent.fit(lambda n: JourneyVecEnv(n, params="sample", artifact=artifact), steps, seed=0)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        JourneyVecEnv.step_wait = original
    return steps / wall, steps / cpu, spent[0] / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ppo-steps", type=int, default=3_000_000, help="default: the presets' PPO budget")
    parser.add_argument("--dqn-steps", type=int, default=1_000_000, help="default: the presets' DQN budget")
    parser.add_argument("--threads", type=int, default=1, help="torch/numba/BLAS threads (the runner: 1 per cell)")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default), auto (a GPU when torch sees one), cuda")
    artifact_argument(parser)
    args = parser.parse_args()
    from journeygym.agents.devices import check_device, resolve_device

    device = check_device(args.device, "bench_agents")
    header("agent training throughput (targets: PPO >= 100,000 and DQN >= 50,000 env-steps/s)")
    print(f"# torch device: {resolve_device(device)} (--device {device})")
    print(f"{'agent':>5} {'env-steps':>10} {'env-steps/s (wall)':>19} {'per CPU-second':>15} {'simulator share':>16}")
    for name, steps in (("ppo", args.ppo_steps), ("dqn", args.dqn_steps)):
        wall, cpu, share = measure(name, steps, args.threads, args.artifact, device)
        print(f"{name:>5} {steps:>10,} {wall:>19,.0f} {cpu:>15,.0f} {share:>16.1%}")


if __name__ == "__main__":
    main()
