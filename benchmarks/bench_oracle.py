"""Oracle solve time: exact backward induction for 100,000 customers x 52 weeks (target: <= 10 s).

Run: ``python benchmarks/bench_oracle.py``.
"""

from __future__ import annotations

import argparse
import time

from _common import artifact_argument, header
from journeygym.baselines.oracle import solve_oracle
from journeygym.envs import CustomerPopulationVectorEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"oracle backward induction, {args.customers:,} customers (target: <= 10 s for 100,000 x 52 weeks)")
    env = CustomerPopulationVectorEnv(num_envs=args.customers, artifact=args.artifact)
    env.reset(seed=0)
    state = env.state
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        solution = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
        times.append(time.perf_counter() - start)
    belief = env.parameters.initial_state_by_recency[state.recency - 1]
    print(f"horizon {env.assumptions.horizon} weeks: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s; "
          f"mean optimal value ${solution.expected_values(belief).mean():.3f} per customer")


if __name__ == "__main__":
    main()
