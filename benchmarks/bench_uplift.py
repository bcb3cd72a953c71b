"""Speed and convergence of the Bayesian uplift models on the full Hillstrom trial.

Fits the pooled and the hierarchical model, for conversion and for visit, on
all 64,000 customers (default 4 chains x 1,000 draws after 600 tuning
iterations, target acceptance 0.95) and prints, per fit: wall seconds including compilation, the
compile and sampling seconds, CPU seconds used by the process, leapfrog steps
per draw, max R-hat, min bulk and tail ESS and divergences, then whether the
targets are met (wall <= 90 s on 2 cores; R-hat <= 1.01; bulk and tail
ESS >= 400; no divergences).

Wall time depends on what else runs on the machine: the one-minute load
average is printed next to each fit, and the CPU seconds divided by the cores
used estimate the wall time on an idle machine.

Usage: python benchmarks/bench_uplift.py [--data-dir DIR] [--models pooled:conversion,...]
The data directory defaults to $JOURNEYGYM_DATA_DIR, else ../shared/data
beside the repository.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

from _common import default_data_dir
from journeygym.datasets.hillstrom import load_hillstrom
from journeygym.calibration.uplift import ESS_MIN, RHAT_MAX, BayesianUpliftModel, ConvergenceWarning, trial_from_hillstrom

TARGET_WALL_SECONDS = 90.0
DEFAULT_MODELS = ("pooled:conversion", "hierarchical:conversion", "pooled:visit", "hierarchical:visit")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated kind:outcome pairs")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=600)
    parser.add_argument("--target-accept", type=float, default=0.95)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=None, help="parallel chains (default: min(chains, CPUs))")
    return parser.parse_args()


def bench_one(table, kind: str, outcome: str, args: argparse.Namespace) -> dict[str, object]:
    trial = trial_from_hillstrom(table, outcome=outcome)
    model = BayesianUpliftModel(
        kind, draws=args.draws, tune=args.tune, chains=args.chains, seed=args.seed, cores=args.cores,
        target_accept=args.target_accept,
    )
    cpu_before = os.times()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported below instead
        model.fit(trial)
    wall = time.perf_counter() - start
    cpu_after = os.times()
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    diagnostics = model.diagnostics_
    steps = float(model.idata_.sample_stats["n_steps"].mean()) if "n_steps" in model.idata_.sample_stats else float("nan")
    return {
        "model": f"{kind}:{outcome}",
        "wall": wall,
        "compile": diagnostics["compile_seconds"],
        "sampling": diagnostics["sampling_seconds"],
        "cpu": cpu,
        "cores": model.cores or min(args.chains, os.cpu_count() or 1),
        "steps": steps,
        "rhat": diagnostics["max_rhat"],
        "ess_bulk": diagnostics["min_ess_bulk"],
        "ess_tail": diagnostics["min_ess_tail"],
        "divergences": diagnostics["divergences"],
        "converged": diagnostics["passed"],
        "load": os.getloadavg()[0],
        "rows": diagnostics["likelihood_rows"],
    }


def main() -> int:
    args = parse_args()
    table = load_hillstrom(args.data_dir)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"Hillstrom: {len(table)} customers; {args.chains} chains x {args.draws} draws (tune {args.tune}), "
        f"seed {args.seed}; {cpus} CPU(s) available"
    )
    header = (
        f"{'model':<24} {'wall s':>7} {'compile':>7} {'sample':>7} {'cpu s':>7} {'idle est':>8} {'steps':>6} "
        f"{'R-hat':>6} {'ESS bulk':>8} {'ESS tail':>8} {'div':>4} {'load':>5}  verdict"
    )
    print(header)
    for entry in args.models.split(","):
        kind, _, outcome = entry.strip().partition(":")
        result = bench_one(table, kind, outcome, args)
        idle_estimate = result["cpu"] / result["cores"]
        fast = result["wall"] <= TARGET_WALL_SECONDS
        verdict = ("converged" if result["converged"] else "NOT CONVERGED") + (
            ", time target met" if fast else f", over {TARGET_WALL_SECONDS:.0f} s"
        )
        print(
            f"{result['model']:<24} {result['wall']:7.1f} {result['compile']:7.1f} {result['sampling']:7.1f} "
            f"{result['cpu']:7.1f} {idle_estimate:8.1f} {result['steps']:6.1f} {result['rhat']:6.3f} "
            f"{result['ess_bulk']:8.0f} {result['ess_tail']:8.0f} {result['divergences']:4d} {result['load']:5.1f}  {verdict}",
            flush=True,
        )
    print(
        f"targets: wall <= {TARGET_WALL_SECONDS:.0f} s on 2 cores, R-hat <= {RHAT_MAX}, bulk and tail ESS >= {ESS_MIN}, "
        "0 divergences; 'idle est' = CPU seconds / cores used"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
