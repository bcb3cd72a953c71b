"""Population env throughput: customer-steps per second at N = 1,000 / 10,000 / 100,000.

Observations included, random actions (pre-drawn so the timing is the env's).
Run: ``python benchmarks/bench_population_env.py`` (the shipped artifact), or with
``--synthetic 4,30`` a synthetic artifact of 4 arms and 30 other covariates
(:func:`journeygym.testing.make_synthetic_draws`).  numpy's element-wise
work is single-threaded, so the figure is per core; CPU seconds of the
process are printed next to the wall-clock time to show it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _common import artifact_argument, header
from journeygym.envs import CustomerPopulationVectorEnv


def measure(n_customers: int, weeks: int, repeats: int, artifact: object) -> tuple[float, float]:
    """Best-of-``repeats`` customer-steps per second by wall clock and by process CPU time."""
    env = CustomerPopulationVectorEnv(num_envs=n_customers, artifact=artifact)
    actions = np.random.default_rng(0).integers(0, env.n_actions, (weeks, n_customers))
    best_wall = best_cpu = 0.0
    for repeat in range(repeats):
        env.reset(seed=repeat)
        wall, cpu = time.perf_counter(), time.process_time()
        for week in range(weeks):
            env.step(actions[week])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best_wall = max(best_wall, n_customers * weeks / wall)
        best_cpu = max(best_cpu, n_customers * weeks / cpu)
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    artifact_argument(parser)
    parser.add_argument("--synthetic", default=None, metavar="ARMS,COVARIATES", help="a synthetic artifact instead, e.g. 4,30")
    args = parser.parse_args()
    artifact: object = args.artifact
    if args.synthetic:
        from journeygym.testing import make_synthetic_draws

        arms, covariates = (int(v) for v in args.synthetic.split(","))
        artifact = make_synthetic_draws(n_arms=arms, n_covariates=covariates)
    header("population env throughput (target: >= 10 million customer-steps/s per core at N = 100,000)")
    if args.synthetic:
        print(f"synthetic artifact: {arms} arms, {covariates} covariates")
    print(f"{'N':>9} {'customer-steps/s (wall)':>25} {'per CPU-second':>16}")
    for n in (1_000, 10_000, 100_000):
        wall, cpu = measure(n, args.weeks, args.repeats, artifact)
        print(f"{n:>9,} {wall:>25,.0f} {cpu:>16,.0f}")


if __name__ == "__main__":
    main()
