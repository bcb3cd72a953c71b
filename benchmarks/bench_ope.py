"""Off-policy estimators' speed: every estimator with its bootstrap for 8 policies on a 20,000 x 52-week log.

Simulates a log (``simulate_logged_data(20000, 0, params=[0, 1, 2, 3])``, the
Hillstrom-like randomized behavior), reads it as episodes, and times, for each
of 8 target policies, ``estimate_all`` (dm, is, wis, pdis, wpdis, dr, wdr, magic, mis, mdr
with ``--bootstrap`` replicates and the concentration bounds) on a random Q-hat array
standing in for fitted-Q evaluation and random state ratios standing in for the ratio
learner (timed by ``bench_ope_marginal.py``), whose fitting is not timed here.  The
target policies' action probabilities are computed first and timed apart.
Target: all estimators except fitted-Q for the 8 policies in <= 30 s on 2 cores.
Then fitted-Q evaluation (the default regressor, one thread) is timed for the
first ``--fqe-policies`` policies; target: <= 60 s per policy.

Run: ``python benchmarks/bench_ope.py [--customers 20000] [--bootstrap 200] [--fqe-policies 2]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import artifact_argument, header
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.simple import RandomPolicy
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.ope import ESTIMATORS, episodes_from_frame, estimate_all, fit_q_evaluation, target_probabilities
from journeygym.ope.fitted_q import DEFAULT_MODEL

TARGET_SECONDS = 30.0
FQE_TARGET_SECONDS = 60.0
#: The smallest possible weekly reward: no purchase, the costliest action (default scenario).
REWARD_LOWER_BOUND = -max(ScenarioAssumptions().action_costs)


def _random_policy(name: str, probabilities: tuple[float, float, float]) -> RandomPolicy:
    policy = RandomPolicy(probabilities)
    policy.name = name
    return policy


def policies() -> list:
    """The 8 target policies: the registry's simple ones and four randomized variants."""
    return [
        make_policy("never"),
        make_policy("random"),
        make_policy("always_mens"),
        make_policy("always_womens"),
        _random_policy("mostly_none", (0.8, 0.1, 0.1)),
        _random_policy("mostly_mens", (0.2, 0.6, 0.2)),
        _random_policy("mostly_womens", (0.2, 0.2, 0.6)),
        _random_policy("email_always", (0.0, 0.5, 0.5)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--fqe-policies", type=int, default=2, help="policies whose fitted-Q evaluation is timed")
    artifact_argument(parser)
    args = parser.parse_args()
    header(
        f"off-policy estimators {', '.join(ESTIMATORS)} with {args.bootstrap} bootstrap replicates, 8 policies, "
        f"{args.customers:,} customers (target: <= {TARGET_SECONDS:.0f} s for 20,000 x 52 weeks)"
    )
    start = time.perf_counter()
    episodes = episodes_from_frame(simulate_logged_data(args.customers, 0, params=[0, 1, 2, 3], artifact=args.artifact))
    print(f"log: {episodes.n_customers:,} customers x {episodes.horizon} weeks, simulated and read in "
          f"{time.perf_counter() - start:.1f} s")
    rng = np.random.default_rng(0)
    q_values = rng.normal(size=(episodes.n_customers, episodes.horizon, episodes.n_actions))
    state_ratios = rng.exponential(size=(episodes.n_customers, episodes.horizon))
    total_estimators = total_targets = 0.0
    for policy in policies():
        start = time.perf_counter()
        target = target_probabilities(policy, episodes)
        targets_seconds = time.perf_counter() - start
        start = time.perf_counter()
        found = estimate_all(
            episodes, target, q_values, policy_name=policy.name, n_bootstrap=args.bootstrap, state_ratios=state_ratios,
            reward_lower_bound=REWARD_LOWER_BOUND,
        )
        seconds = time.perf_counter() - start
        total_estimators += seconds
        total_targets += targets_seconds
        print(f"{policy.name:<14} estimators {seconds:5.2f} s (target probabilities {targets_seconds:4.2f} s); "
              f"pdis {found['pdis'].value:8.3f} [{found['pdis'].low:.3f}, {found['pdis'].high:.3f}]")
    verdict = "met" if total_estimators <= TARGET_SECONDS else "NOT met"
    print(f"8 policies: estimators {total_estimators:.1f} s ({total_estimators / 8:.2f} s per policy), target "
          f"probabilities {total_targets:.1f} s; target <= {TARGET_SECONDS:.0f} s {verdict}")
    for policy in policies()[: args.fqe_policies]:
        target = target_probabilities(policy, episodes)
        start = time.perf_counter()
        fitted = fit_q_evaluation(episodes, target, model=DEFAULT_MODEL, seed=0)
        seconds = time.perf_counter() - start
        verdict = "met" if seconds <= FQE_TARGET_SECONDS else "NOT met"
        print(f"{policy.name:<14} fitted-Q evaluation ({DEFAULT_MODEL}) {seconds:5.1f} s, direct-method value "
              f"{fitted.state_values[:, 0].mean():.3f}; target <= {FQE_TARGET_SECONDS:.0f} s {verdict}")


if __name__ == "__main__":
    main()
