"""Cost of the contact rules: population env step time with and without a budget and a cap.

Four envs of N customers (default 100,000) are stepped side by side, one week
each in turn, so that a busy machine slows all of them alike:

* no rules;
* a budget of 10% of the subscribed customers, thinned at random;
* the same budget with the policy's priorities (pre-drawn random numbers, given
  with ``env.prioritize`` before each step, which is timed with the step);
* the budget with priorities and a frequency cap of 2 e-mails in 4 weeks.

The policy requests an e-mail for about half of the customers each week
(pre-drawn), so the budget binds.  Printed: the median step time of each and its
overhead over no rules (target: the budget adds at most 20% at N = 100,000).
Run: ``python benchmarks/bench_contact_rules.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _common import artifact_argument, header
from journeygym.envs import CustomerPopulationVectorEnv

#: label, scenario overrides, whether priorities are given.
CONDITIONS: tuple[tuple[str, dict[str, float], bool], ...] = (
    ("no rules", {}, False),
    ("budget 0.1, random thinning", {"contact_budget": 0.1}, False),
    ("budget 0.1, priorities", {"contact_budget": 0.1}, True),
    ("budget 0.1 + cap 2 in 4 weeks, priorities", {"contact_budget": 0.1, "cap_emails": 2, "cap_weeks": 4}, True),
)


def step_times(n_customers: int, weeks: int, repeats: int, artifact: str | None) -> dict[str, np.ndarray]:
    """Seconds of every timed step, by condition (``repeats`` episodes of ``weeks`` weeks)."""
    envs = {
        label: CustomerPopulationVectorEnv(num_envs=n_customers, artifact=artifact, scenario=rules, copy=False)
        for label, rules, _ in CONDITIONS
    }
    rng = np.random.default_rng(0)
    email = rng.random((weeks, n_customers)) < 0.5
    actions = np.where(email, rng.integers(1, 3, (weeks, n_customers)), 0)
    priorities = rng.random((weeks, n_customers))
    times = {label: np.empty((repeats, weeks)) for label in envs}
    for repeat in range(repeats):
        for env in envs.values():
            env.reset(seed=repeat)
        for week in range(weeks):
            for label, _, prioritized in CONDITIONS:
                env = envs[label]
                start = time.perf_counter()
                if prioritized:
                    env.prioritize(priorities[week])
                env.step(actions[week])
                times[label][repeat, week] = time.perf_counter() - start
    return {label: values.ravel() for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeats", type=int, default=5)
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"contact rules: population env step time at N = {args.customers:,} (target: a budget adds <= 20%)")
    times = step_times(args.customers, args.weeks, args.repeats, args.artifact)
    baseline = float(np.median(times[CONDITIONS[0][0]]))
    print(f"{'condition':<44} {'median ms':>10} {'p90 ms':>8} {'overhead':>9}")
    for label, values in times.items():
        median = float(np.median(values))
        print(
            f"{label:<44} {median * 1e3:>10.2f} {np.percentile(values, 90) * 1e3:>8.2f} "
            f"{median / baseline - 1.0:>+9.1%}"
        )


if __name__ == "__main__":
    main()
