"""How well an off-policy estimator could rank the candidates on variance alone, and with how many customers.

Reads the offline records of a finished run (``journeygym run offline --out DIR``)
and, for each estimator, computes per log the Spearman correlation an unbiased
estimator with the estimator's own bootstrap standard errors would reach
(:func:`journeygym.ope.assessment.spearman_if_unbiased`), then again with the
standard errors divided by ``sqrt(k)``: the same estimator on a log ``k``
times larger.  Where even ``k = 1`` falls short of a target, no bias
correction can meet it on logs of this size.  (The bootstrap standard errors
of heavy-tailed importance-weighted terms tend to be too small, so these
figures are optimistic.)

Run: ``python benchmarks/bench_ope_variance_limit.py DIR [--estimators dr magic] [--scales 1 4 25 100] [--logging uniform]``.
"""

from __future__ import annotations

import argparse

import numpy as np
from journeygym.experiments.offline_report import offline_frame
from journeygym.experiments.runner import load_results
from journeygym.intervals import t_interval
from journeygym.ope.assessment import spearman_if_unbiased


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="output directory of a run with an offline section")
    parser.add_argument("--estimators", nargs="+", default=None, help="estimators (default: all in the run)")
    parser.add_argument("--scales", nargs="+", type=float, default=[1, 4, 11, 25, 44, 100], help="log size multipliers k")
    parser.add_argument("--logging", default=None, help="only the logs whose logging policy's label starts with this (e.g. uniform)")
    args = parser.parse_args()
    long = offline_frame(load_results(args.run))
    estimated = long[long["estimator"].notna()]
    if args.logging is not None and "logging" in estimated.columns:
        estimated = estimated[estimated["logging"].astype(str).str.startswith(args.logging)]
    if estimated.empty:
        raise SystemExit(f"{args.run}: no offline records; run a config with an offline: section first.")
    names = args.estimators or list(dict.fromkeys(estimated["estimator"]))
    print(f"{args.run}: mean Spearman over logs of an unbiased estimator with each estimator's standard errors / sqrt(k)")
    print(f"{'estimator':<10} " + "  ".join(f"{'k = ' + format(k, 'g'):<22}" for k in args.scales))
    for name in names:
        # One unit per log: a run with several logging policies has a log of each per logging seed.
        keys = ["setting", "seed", "logging_seed", *(["logging"] if "logging" in estimated.columns else [])]
        units = estimated[estimated["estimator"] == name].groupby(keys)
        cells = []
        for k in args.scales:
            scores = np.array(
                [
                    spearman_if_unbiased(group["true_value"].to_numpy(), group["standard_error"].to_numpy() / np.sqrt(k))
                    for _, group in units
                ]
            )
            interval = t_interval(float(scores.mean()), scores, 0.95)
            cells.append(f"{interval.mean:.3f} [{float(interval.low):.3f}, {float(interval.high):.3f}]")
        print(f"{name:<10} " + "  ".join(cells))


if __name__ == "__main__":
    main()
