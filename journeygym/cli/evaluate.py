"""``journeygym evaluate`` and ``journeygym compare``: policies compared on common random numbers.

A thin front over the experiments runner: the flags become an experiment
config of one setting and one seed, the runner's cells do the work (seed
baselines are trained on a logged campaign and tuned on validation rollouts,
every policy is evaluated on the same draws and customers), and the table is
the runner's summary.  So ``journeygym evaluate`` and ``journeygym run`` on
the same policies, seed and draws print the same returns and intervals.

Seeds are derived from ``--seed`` as in every run (see
:mod:`journeygym.experiments.cells`); the draws are ``--draws`` spread evenly
over the artifact, as a config's ``evaluation.draws`` count.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeygym.agents.registry import UnknownAgentError, resolve
from journeygym.arguments import positive_int
from journeygym.baselines.registry import POLICY_NAMES, policy_names
from journeygym.experiments.config import ConfigError, ExperimentConfig, load_config
from journeygym.experiments.interrupts import RunInterrupted
from journeygym.experiments.runner import ResultsDiskFullError, RunResult, plan_cells, run_experiment, stored_cells_text
from journeygym.experiments.store import ResultsLockedError, results_warnings_as_lines
from journeygym.experiments.summary import SettingSummary, format_summary, summarize, summary_frame
from journeygym.files import OutputPathError
from journeygym.records import to_jsonable

__all__ = ["SIMPLE_POLICIES", "EvaluationRun", "compare_command", "evaluate", "evaluate_command"]

#: The policies ``journeygym compare`` evaluates by default: no training, no logged data.
SIMPLE_POLICIES: tuple[str, ...] = ("never", "random", "always_mens", "always_womens")


@dataclass
class EvaluationRun:
    """What ``evaluate`` measured: the runner's result, its summary, the tuned operating points and metrics."""

    run: RunResult
    summary: SettingSummary
    tuning: dict[str, dict[str, Any]]
    metrics: dict[str, Any] | None
    seconds: float


def _config(args: argparse.Namespace, names: Sequence[str]) -> ExperimentConfig:
    draws: Any = {"at_most": 5} if args.draws is None else args.draws
    return load_config(
        {
            "name": args.command_name,
            "scenario": {"artifact": args.artifact},
            "policies": list(names),
            "seeds": [args.seed],
            "evaluation": {"customers": args.customers, "draws": draws},
            "logged_data": {"customers": args.train_customers, "tune_customers": args.tune_customers},
            "n_workers": args.workers,
        }
    )


def evaluate(
    config: ExperimentConfig,
    output_dir: str | Path,
    *,
    reference: str | None = None,
    metrics_customers: int | None = None,
    progress: bool = False,
) -> EvaluationRun:
    """Run ``config`` (one setting, one seed) into ``output_dir`` and summarize it against ``reference``.

    ``metrics_customers`` (when given) also measures the scoring models on a
    held-out log of that many customers
    (:func:`~journeygym.experiments.model_metrics.logged_model_metrics`).
    """
    started = time.perf_counter()
    result = run_experiment(config, output_dir, progress=progress, report=False)
    order = [p.name for p in config.policies]
    (summary,) = summarize(result.table, order, reference=reference)
    tuning = {}
    for policy, rows in result.table.groupby("policy", sort=False):
        tuned = json.loads(rows["tuning"].iloc[0] or "{}")
        if tuned:
            tuning[str(policy)] = tuned
    metrics = None
    if metrics_customers is not None:
        from journeygym.experiments.model_metrics import logged_model_metrics

        metrics = logged_model_metrics(plan_cells(config, output_dir)[0], metrics_customers)
    return EvaluationRun(result, summary, tuning, metrics, time.perf_counter() - started)


def _describe_point(tuned: Mapping[str, Any]) -> str:
    parts = []
    threshold, budget = float(tuned["threshold"]), tuned.get("budget")
    if math.isfinite(threshold):
        parts.append(f"net gain > ${threshold:.4g}")
    if budget is not None:
        parts.append(f"top {budget:.2%} per week")
    return " and ".join(parts) or "everyone"


def _format_tuning(tuning: Mapping[str, Mapping[str, Any]]) -> str:
    lines = ["tuned operating points (best mean return on validation customers; default rule = net gain > $0):"]
    for name, tuned in tuning.items():
        lines.append(f"  {name:<14} {_describe_point(tuned):<34} validation return {tuned['validation_return']:.3f}")
    return "\n".join(lines)


def _format_metrics(metrics: Mapping[str, Any]) -> str:
    lines = ["scoring-model metrics on a held-out log:"]
    for name in ("response", "churn"):
        if name in metrics:
            m = metrics[name]
            p = m["at_prevalence"]
            lines.append(
                f"  {name:<9} ROC-AUC {p['roc_auc']:.3f}  CV ROC-AUC {m['cv_roc_auc_mean']:.3f} +- {m['cv_roc_auc_std']:.3f}  "
                f"at prevalence-matched threshold: accuracy {p['accuracy']:.3f} precision {p['precision']:.3f} "
                f"recall {p['recall']:.3f} F1 {p['f1']:.3f}  (at 0.5: F1 {m['at_0.5']['f1']:.3f}, flagged {m['at_0.5']['flagged_rate']:.2%})"
            )
    if "ltv" in metrics:
        m = metrics["ltv"]
        lines.append(
            f"  ltv       RMSE {m['rmse']:.2f}  MAE {m['mae']:.2f}  R2 {m['r2']:.4f}  MAPE(non-zero) {m['mape']:.1%} "
            f"({m['mape_excluded_share']:.1%} zero rows excluded)  sMAPE {m['smape']:.3f}  WAPE {m['wape']:.3f}"
        )
    for key, m in metrics.get("uplift", {}).items():
        line = (
            f"  {key:<33} Qini {m['qini']:+.3f}  AUUC {m['auuc']:+.3f}  uplift@10% {m['uplift_at_10']:+.4f}  "
            f"uplift@30% {m['uplift_at_30']:+.4f}"
        )
        for truth in ("true_effect", "true_logged_effect"):
            if f"vs_{truth}" in m:
                e = m[f"vs_{truth}"]
                line += f"  vs {truth}: RMSE {e['rmse']:.4f} r {e['pearson']:.3f}"
        lines.append(line)
    return "\n".join(lines)


def _print(outcome: EvaluationRun, config: ExperimentConfig, args: argparse.Namespace) -> None:
    table = outcome.run.table
    head = table.iloc[0]
    record = {
        "version": str(head["version"]),
        "config_hash": str(head["config_hash"]),
        "seed": int(args.seed),
        "artifact_sha256": str(head["artifact_sha256"]),
        "draws": sorted(int(d) for d in set(table["draw"])),
        "customers": int(config.customers),
        "horizon": int(head["horizon"]),
        "config": config.result_dict(),
    }
    if args.json:
        payload = {
            "record": record,
            "summary": summary_frame([outcome.summary]).to_dict("records"),
            "tuning": outcome.tuning,
            "metrics": outcome.metrics,
            "output_dir": str(outcome.run.output_dir) if args.out else None,
            "wall_seconds": outcome.seconds,
        }
        print(json.dumps(to_jsonable(payload, nonfinite_as_none=True), indent=2, default=str))
        return
    print(f"journeygym {record['version']}  config {record['config_hash']}  seed {record['seed']}")
    print(
        f"{config.customers} customers x {len(record['draws'])} posterior draw(s) {record['draws']} x {record['horizon']} weeks; "
        "undiscounted dollars per customer; paired differences on common random numbers"
    )
    print(format_summary([outcome.summary]))
    if outcome.tuning:
        print()
        print(_format_tuning(outcome.tuning))
    if outcome.metrics:
        print()
        print(_format_metrics(outcome.metrics))
    print()
    where = f"; results in {outcome.run.output_dir}/" if args.out else ""
    print(f"wall time: {outcome.seconds:.1f} s{where}")


def build_parser(prog: str, default_policies: Sequence[str], description: str) -> argparse.ArgumentParser:
    """The options of ``evaluate`` (and of ``compare``, which differs only in its default policies).

    ``default_policies`` are the default artifact's; with ``--artifact`` its arms replace
    ``always_mens`` and ``always_womens`` (:func:`_artifact_defaults`).
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--policies",
        default=None,
        help=f"comma-separated policy names (default: {','.join(default_policies)}, with always_<arm> for each arm of "
        "the artifact); any name a run config accepts",
    )
    parser.set_defaults(default_policies=tuple(default_policies))
    parser.add_argument(
        "--reference",
        default=None,
        help="the policy the paired differences are taken against (added when not listed); default: the rule of "
        "`journeygym run` (the best seed baseline, else the best policy that neither sees the hidden state nor trains)",
    )
    parser.add_argument("--customers", type=positive_int, default=20_000, help="customers per draw (default 20000)")
    parser.add_argument(
        "--draws", type=positive_int, default=None, help="posterior draws, spread over the artifact (default: up to 5)"
    )
    parser.add_argument("--seed", type=int, default=0, help="experiment seed (default 0)")
    parser.add_argument("--artifact", default=None, help="parameter artifact (default: the shipped one)")
    parser.add_argument(
        "--train-customers", type=positive_int, default=5_000, help="customers in the seed baselines' logged campaign (default 5000)"
    )
    parser.add_argument(
        "--tune-customers", type=positive_int, default=5_000, help="validation customers per tuning candidate (default 5000)"
    )
    parser.add_argument("--metrics", action="store_true", help="also report the scoring models' metrics on a held-out log")
    parser.add_argument(
        "--holdout-customers", type=positive_int, default=5_000, help="customers in that held-out log (default 5000)"
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=os.cpu_count() or 1,
        help=f"worker processes, one cell each at a time (default: the CPU count, {os.cpu_count() or 1} here); "
        "the table does not depend on it",
    )
    parser.add_argument("--out", default=None, help="keep the results directory here (default: a temporary one, removed)")
    parser.add_argument("--json", action="store_true", help="print JSON (with provenance) instead of tables")
    parser.set_defaults(command_name=prog.split()[-1])
    return parser


def _artifact_defaults(defaults: Sequence[str], artifact: str | None) -> list[str]:
    """The default policies on ``artifact``: its own arm policies in place of the default artifact's."""
    if artifact is None:
        return list(defaults)
    from journeygym.envs.artifact import load_parameters

    try:
        action_names = load_parameters(artifact).mean.action_names
    except (ValueError, OSError):
        return list(defaults)  # the run reports the unreadable artifact itself
    arms = [name for name in policy_names(action_names) if name.startswith("always_")]
    kept = [name for name in defaults if not name.startswith(("always_", "biweekly_"))]
    return kept[:2] + arms + kept[2:]


def _run(argv: Sequence[str] | None, parser: argparse.ArgumentParser) -> int:
    args = parser.parse_args(argv)
    command = parser.prog
    listed = args.policies if args.policies is not None else ",".join(_artifact_defaults(args.default_policies, args.artifact))
    names = list(dict.fromkeys(n.strip() for n in listed.split(",") if n.strip()))
    if not names:
        print(f"{command}: error: --policies: received no policy names; expected e.g. never,random,lookalike.", file=sys.stderr)
        return 2
    reference = args.reference.strip() if args.reference else None
    if reference and reference not in names:
        try:
            resolve(reference)
        except UnknownAgentError as exc:
            print(f"{command}: error: --reference: {exc}", file=sys.stderr)
            return 2
        names.insert(0, reference)
    try:
        config = _config(args, names)
    except ConfigError as exc:
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="journeygym-evaluate-") as scratch:
        output = Path(args.out) if args.out else Path(scratch) / "results"
        try:
            with results_warnings_as_lines(command):
                outcome = evaluate(
                    config,
                    output,
                    reference=reference,
                    metrics_customers=args.holdout_customers if args.metrics else None,
                    progress=not args.json,
                )
        except OutputPathError as exc:
            print(f"{command}: error: --out: {exc}", file=sys.stderr)
            return 2
        except (FileExistsError, ResultsLockedError) as exc:
            print(f"{command}: error: --out: {exc}", file=sys.stderr)
            return 2
        except RunInterrupted as exc:
            kept = f"{stored_cells_text(exc.stored, exc.total)} in {str(output)!r}" if args.out else "nothing was kept"
            print(f"\n{command}: interrupted ({exc.signal_name}); {kept}.", file=sys.stderr)
            return exc.exit_status
        except ResultsDiskFullError as exc:
            rerun = f" Free space and rerun the same command (the stored cells in {str(output)!r} are reused)." if args.out else (
                " Free space, or pass --out DIR on a disk with room, and rerun."
            )
            print(f"{command}: error: {exc}{rerun}", file=sys.stderr)
            return 1
        _print(outcome, config, args)
    return 0


def evaluate_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym evaluate ...``: returns the exit status (2 on input errors)."""
    parser = build_parser(
        "journeygym evaluate",
        POLICY_NAMES,
        "Train the seed baselines on a logged campaign, tune them, and compare every policy on common random numbers.",
    )
    return _run(argv, parser)


def compare_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym compare ...``: ``evaluate`` with the simple policies as default."""
    parser = build_parser("journeygym compare", SIMPLE_POLICIES, "Compare policies (by default the simple ones) on common random numbers.")
    return _run(argv, parser)
