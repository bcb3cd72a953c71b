"""How the off-policy estimators degrade as the logging policy explores less.

Runs the runner's offline benchmark three times with an epsilon-greedy
version of the LTV-uplift seed baseline as the logging policy (epsilon 0.5,
0.2, 0.05), and once with the uniform logging policy, on the same candidate
policies, seed and draws, and prints each estimator's assessment per
behavior: relative error, Spearman rank correlation, regret@1 as a share of
the oracle's value, interval coverage, and how often the t lower bound is
below the truth.  Smaller logs than the ``offline`` preset (``--customers``,
default 5,000) keep it to minutes.

Usage: python docs/offline_exploration.py [--customers 5000] [--logs 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from journeygym.experiments.config import load_config
from journeygym.experiments.offline_report import offline_frame
from journeygym.experiments.runner import run_experiment
from journeygym.ope.assessment import assess_over_seeds

CANDIDATES = ("never", "random", "always_mens", "lookalike", "expected_ltv", "ltv_uplift", "fqi", "oracle")
BEHAVIORS: tuple[tuple[str, float], ...] = (("uniform", 0.0), ("ltv_uplift", 0.5), ("ltv_uplift", 0.2), ("ltv_uplift", 0.05))


def assessment(behavior: str, epsilon: float, customers: int, logs: int, out: Path) -> pd.DataFrame:
    """The offline benchmark's assessment with this logging policy."""
    config = load_config(
        {
            "name": f"offline-{behavior}-{epsilon:g}",
            "policies": list(CANDIDATES),
            "seeds": [0],
            "evaluation": {"customers": 2_000, "draws": 2},
            "logged_data": {"customers": 5_000, "tune_customers": 2_000},
            "offline": {"behavior": behavior, "epsilon": epsilon, "customers": customers, "logging_seeds": logs},
            "n_workers": 2,
        }
    )
    result = run_experiment(config, out / config.name, progress=False)
    long = offline_frame(result.table)
    reference = long[long["estimator"].isna()].set_index("logging_seed")["true_value"]
    estimated = long[long["estimator"].notna()].copy()
    estimated["reference_value"] = estimated["logging_seed"].map(reference)
    estimated["seed"] = estimated["logging_seed"]
    table = assess_over_seeds(estimated)
    label = "uniform" if behavior == "uniform" else f"{behavior} epsilon-greedy {epsilon:g}"
    ess = estimated.groupby("policy")["overlap_ess_per_decision_share"].mean().mean() if "overlap_ess_per_decision_share" in estimated else float("nan")
    return table.assign(behavior=label, per_decision_ess_share=ess)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--logs", type=int, default=2)
    parser.add_argument("--out", default=None, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.out or scratch)
        tables = [assessment(b, e, args.customers, args.logs, out) for b, e in BEHAVIORS]
    shown = ["behavior", "estimator", "relative_error_mean", "spearman_mean", "regret_at_1_normalized_mean",
             "coverage_mean", "lower_bound_t_below_truth_pooled", "per_decision_ess_share"]
    print(pd.concat(tables)[shown].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
