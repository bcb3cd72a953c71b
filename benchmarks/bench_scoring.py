"""The seed baselines' weekly scoring: the compiled tree kernel against scikit-learn, in one run.

Fits the three seed baselines (look-alike, expected LTV, LTV uplift) on a
uniform campaign log of ``--log-customers`` customers (posterior draws 0-3),
then rolls each out on ``--customers`` customers x 52 weeks of posterior draw
0 twice: with the compiled kernel (``journeygym.baselines.tree_kernel``) and with
scikit-learn predicting every model.  Prints the wall and CPU seconds of each
rollout, the ratio, and checks that both give the same return and the same
e-mails to the customer (the predictions are equal bit for bit).

Run: ``python benchmarks/bench_scoring.py [--customers 20000] [--log-customers 20000] [--repeat 3]``
(one thread, as in a runner cell).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from _common import artifact_argument, header
from threadpoolctl import threadpool_limits

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.rollout import rollout


def _timed_rollout(policy: Any, customers: int, artifact: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    run = rollout(policy, n_customers=customers, seed=1, params=0, artifact=artifact)
    return time.perf_counter() - wall, time.process_time() - cpu, run


def _use_scikit_learn(policy: Any, compiled: bool) -> None:
    """Switch the policy's fitted models between the kernel and scikit-learn's own predict."""
    for name in ("response_", "ltv_", "t_learner_"):
        if hasattr(policy.models, name):
            kernel = policy.models._kernel(name)
            kernel.compiled = compiled and hasattr(kernel, "_tables")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--log-customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="rollouts per path (the median is reported)")
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"seed baselines' weekly scoring, {args.customers:,} customers x 52 weeks, one thread")
    with threadpool_limits(limits=1):
        log = simulate_logged_data(args.log_customers, 0, params=[0, 1, 2, 3], artifact=args.artifact)
        print(f"{'policy':<13} {'scikit-learn s':>15} {'kernel s':>9} {'ratio':>6} {'CPU s (sk / kernel)':>20}  same return")
        for name in ("lookalike", "expected_ltv", "ltv_uplift"):
            policy = make_policy(name)
            policy.fit(log)
            runs: dict[bool, list[tuple[float, float, Any]]] = {True: [], False: []}
            for _ in range(args.repeat):
                for compiled in (False, True):
                    _use_scikit_learn(policy, compiled)
                    runs[compiled].append(_timed_rollout(policy, args.customers, args.artifact))
            median = {k: sorted(v, key=lambda r: r[0])[len(v) // 2] for k, v in runs.items()}
            same = np.array_equal(median[True][2].returns, median[False][2].returns) and np.array_equal(
                median[True][2].contacts, median[False][2].contacts
            )
            print(
                f"{name:<13} {median[False][0]:>15.2f} {median[True][0]:>9.2f} {median[False][0] / median[True][0]:>6.2f} "
                f"{median[False][1]:>9.2f} / {median[True][1]:<8.2f}  {'yes' if same else 'NO'}"
            )


if __name__ == "__main__":
    main()
