"""Budgeted oracle: time to minimize the Lagrangian dual of a weekly contact budget (target: a few seconds).

Each budget's search solves the priced dynamic program (with its expected
contacts) several times; the time and the number of solves are printed per
budget, with the time of one unpriced solve for scale.

Run: ``python benchmarks/bench_budgeted_oracle.py`` (5,000 customers x 52 weeks).
"""

from __future__ import annotations

import argparse
import time

from _common import artifact_argument, header
from journeygym.baselines.budgeted_oracle import solve_budgeted_oracle
from journeygym.baselines.oracle import solve_oracle
from journeygym.envs import CustomerPopulationVectorEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--budgets", type=float, nargs="+", default=[0.2, 0.1, 0.05, 0.01],
                        help="weekly budgets (share of subscribed customers)")
    parser.add_argument("--repeats", type=int, default=3)
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"budgeted oracle (Lagrangian dual of the weekly budget), {args.customers:,} customers")
    env = CustomerPopulationVectorEnv(num_envs=args.customers, artifact=args.artifact)
    env.reset(seed=0)
    state = env.state
    customers = (env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
    plain, with_contacts = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        solve_oracle(*customers)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        solve_oracle(*customers, contacts=True)
        with_contacts.append(time.perf_counter() - start)
    print(f"horizon {env.assumptions.horizon} weeks; one solve: {min(plain):.2f} s, with expected contacts "
          f"{min(with_contacts):.2f} s (best of {args.repeats})")
    for budget in args.budgets:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            result = solve_budgeted_oracle(*customers, state.hidden_state, weekly_share=budget)
            times.append(time.perf_counter() - start)
        print(f"budget {budget:g}/week: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s, "
              f"{result.solves} solves; price {result.email_price:.4f}, bound ${result.value_bound:.4f} "
              f"(unconstrained ${result.unconstrained_value:.4f}), e-mails {result.expected_contacts:.3f} "
              f"of {result.allowance:.3f} allowed, gap {result.gap:.1e}")


if __name__ == "__main__":
    main()
