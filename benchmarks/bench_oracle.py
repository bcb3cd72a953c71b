"""Oracle solve time: exact backward induction for 100,000 customers x 52 weeks (target: <= 10 s).

Run: ``python benchmarks/bench_oracle.py``.  It prints wall and CPU seconds per solve and the
number of threads the compiled loop ran on (``NUMBA_NUM_THREADS=1`` for one).  ``--finer-grid R`` also solves the same
customers on a fatigue grid R times finer (``fatigue_resolution``) and prints how much the
optimal value moves: the oracle is exact on the simulator's grid, and this says how much
that grid's rounding of the fatigue stock is worth.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from _common import artifact_argument, header
from journeygym.baselines.oracle import solve_oracle
from journeygym.envs import CustomerPopulationVectorEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--finer-grid", type=int, default=0, help="also solve at this fatigue_resolution and compare")
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"oracle backward induction, {args.customers:,} customers (target: <= 10 s for 100,000 x 52 weeks)")
    env = CustomerPopulationVectorEnv(num_envs=args.customers, artifact=args.artifact)
    env.reset(seed=0)
    state = env.state
    times, cpu_times = [], []
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        solution = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    belief = env.parameters.initial_state_by_recency[state.start]
    value = solution.expected_values(belief)
    print(f"horizon {env.assumptions.horizon} weeks, {env.assumptions.max_fatigue + 1} fatigue levels, "
          f"{numba.get_num_threads()} threads: wall best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s; "
          f"CPU median {sorted(cpu_times)[len(cpu_times) // 2]:.2f} s; mean optimal value ${value.mean():.3f} per customer")
    if args.finer_grid:
        finer = env.assumptions.replace(fatigue_resolution=args.finer_grid)
        start = time.perf_counter()
        fine = solve_oracle(env.parameters, finer, state.segment, state.purchase_covariate_logit).expected_values(belief)
        difference = fine - value
        print(f"fatigue_resolution {args.finer_grid} ({finer.max_fatigue + 1} levels, {time.perf_counter() - start:.1f} s): mean "
              f"optimal value ${fine.mean():.3f}; difference ${difference.mean():+.4f} per customer "
              f"({difference.mean() / value.mean():+.2%}), largest |difference| ${np.abs(difference).max():.3f}")


if __name__ == "__main__":
    main()
