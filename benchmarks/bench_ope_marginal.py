"""The marginal estimators (mis, mdr) against dm, dr and magic on uniform logs, scored against the truth.

Simulates ``--logs`` uniform logs (every action equally likely each week, as the
``offline`` preset) of ``--customers`` customers x 52 weeks over five posterior
draws, and a Hillstrom-like campaign log of ``--train-customers`` customers the
learning candidates train on (the offline preset's candidates but PPO and cql,
which train for many minutes).  Each candidate is estimated on each log by
``dm``, ``dr`` and ``magic`` (one fitted-Q evaluation per policy and log) and by
``mis`` and ``mdr`` with the state ratios of every ``--learners`` x ``--clips``;
its true value is its rollout on the log's own customers.  Prints, per estimator
(and ratio learner and clip), the means over the logs of Spearman's rank
correlation with the truth, regret@1 as a share of the oracle's value, relative
error and the ratios' weekly effective sample size; and the seconds the ratios took.

Run: ``python benchmarks/bench_ope_marginal.py [--customers 2000] [--logs 2] [--first-seed 0] [--clips 10 50]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _common import artifact_argument, header
from journeygym.agents.registry import resolve, training_mode
from journeygym.baselines.agent_protocol import as_policy
from journeygym.baselines.logged_data import RandomizedBehavior, simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.ope import (
    assess,
    episodes_from_frame,
    estimate_all,
    fit_q_evaluation,
    fit_state_ratios,
    target_probabilities,
    true_values_of_log,
)
from journeygym.ope.ratios import RATIO_LEARNERS, belief_state

#: The offline preset's candidates without PPO and cql (their training takes many minutes).
CANDIDATES = ("never", "random", "always_mens", "lookalike", "expected_ltv", "ltv_uplift", "fqi")
DRAWS = [0, 10, 20, 30, 40]


def candidates(train_customers: int, artifact: str | None) -> dict:
    """The candidate policies, the learning ones fitted on one campaign log."""
    train = simulate_logged_data(train_customers, 1_000, params=DRAWS, artifact=artifact)
    policies = {}
    for name in CANDIDATES:
        policy = resolve(name).create()
        policy.name = name
        if training_mode(policy) == "logged_data":
            policy.fit(train)
        policies[name] = as_policy(policy)
    return policies


def one_log(seed: int, policies: dict, args: argparse.Namespace) -> tuple[list[dict], float, dict]:
    """Every estimate on one uniform log, the oracle's true value, and the ratios' diagnostics and seconds."""
    n_actions = 3
    behavior = RandomizedBehavior(email_probability=(n_actions - 1) / n_actions)
    frame = simulate_logged_data(args.customers, seed, behavior=behavior, params=DRAWS, artifact=args.artifact)
    episodes = episodes_from_frame(frame)
    truth = true_values_of_log({**policies, "oracle": make_policy("oracle")}, frame, artifact=args.artifact)
    state = belief_state(episodes, args.artifact) if "binned" in args.learners else None
    rows, diagnostics = [], {}
    for name, policy in policies.items():
        target = target_probabilities(policy, episodes)
        q_values = fit_q_evaluation(episodes, target, seed=seed).q_values
        options = dict(policy_name=name, n_bootstrap=args.bootstrap, seed=seed)
        for estimator, found in estimate_all(episodes, target, q_values, estimators=["dm", "dr", "magic"], **options).items():
            rows.append({"estimator": estimator, "policy": name, "value": found.value, "true": truth[name].mean})
        for learner in args.learners:
            for clip in args.clips:
                started = time.perf_counter()
                ratios = fit_state_ratios(
                    episodes, target, learner=learner, clip=clip, seed=seed,
                    state_features=state if learner == "binned" else None,
                )
                seconds = time.perf_counter() - started
                label = f"{learner} clip {clip:g}"
                entry = diagnostics.setdefault(label, {"seconds": 0.0, "ess_share": [], "clipped_share": []})
                entry["seconds"] += seconds
                entry["ess_share"].append(ratios.ess_share)
                entry["clipped_share"].append(ratios.clipped_share)
                found = estimate_all(episodes, target, q_values, estimators=["mis", "mdr"], state_ratios=ratios, **options)
                for estimator, estimate in found.items():
                    rows.append({"estimator": f"{estimator} ({label})", "policy": name, "value": estimate.value,
                                 "true": truth[name].mean})
    return rows, truth["oracle"].mean, diagnostics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--logs", type=int, default=2, help="uniform logs (seeds first-seed, first-seed + 1, ...)")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first uniform log")
    parser.add_argument("--train-customers", type=int, default=2_000, help="campaign log the learning candidates train on")
    parser.add_argument("--learners", nargs="+", choices=RATIO_LEARNERS, default=list(RATIO_LEARNERS))
    parser.add_argument("--clips", nargs="+", type=float, default=[50.0])
    parser.add_argument("--bootstrap", type=int, default=20)
    artifact_argument(parser)
    args = parser.parse_args()
    header(
        f"mis and mdr against dm, dr and magic: {args.logs} uniform log(s) of {args.customers:,} customers x 52 weeks, "
        f"candidates {', '.join(CANDIDATES)} (trained on {args.train_customers:,} customers)"
    )
    started = time.perf_counter()
    policies = candidates(args.train_customers, args.artifact)
    print(f"candidates trained in {time.perf_counter() - started:.0f} s")
    scores, diagnostics = [], {}
    for seed in range(args.first_seed, args.first_seed + args.logs):
        started = time.perf_counter()
        rows, oracle, found = one_log(seed, policies, args)
        estimates = pd.DataFrame(rows)
        table = assess(estimates, dict(zip(estimates["policy"], estimates["true"])), reference_value=oracle)
        scores.append(table.assign(log=seed))
        for label, entry in found.items():
            total = diagnostics.setdefault(label, {"seconds": 0.0, "ess_share": [], "clipped_share": []})
            total["seconds"] += entry["seconds"]
            total["ess_share"] += entry["ess_share"]
            total["clipped_share"] += entry["clipped_share"]
        truths = estimates.drop_duplicates("policy").set_index("policy")["true"]
        print(f"log {seed}: {time.perf_counter() - started:.0f} s; true values "
              + ", ".join(f"{p} {v:.2f}" for p, v in truths.items()) + f", oracle {oracle:.2f}")
    combined = pd.concat(scores, ignore_index=True)
    summary = combined.groupby("estimator", sort=False)[["spearman", "regret_at_1_normalized", "relative_error"]].agg(["mean", "min", "max"])
    pd.set_option("display.width", 200)
    print("\nmeans over the logs (min, max):")
    print(summary.round(3).to_string())
    print("\nstate ratios (per policy and log): mean weekly effective sample share, share of rows clipped, seconds in all")
    for label, entry in diagnostics.items():
        print(f"{label:<24} ess {np.mean(entry['ess_share']):.3f}  clipped {np.mean(entry['clipped_share']):.4f}  "
              f"{entry['seconds']:.1f} s")


if __name__ == "__main__":
    main()
