"""``journeygym ope``: estimate from a campaign log what target policies would earn.

The log is a Parquet or CSV table in the logged-data schema (propensity
columns optional: without them the behavior policy is estimated from the log
and the output says so).  Policies are named as in configs; those that learn
from logs (the seed baselines, ``fqi``, ``cql``) are trained on ``--train-log``,
or on the evaluated log itself with a warning that the estimates are then
optimistic.  A saved agent is given as ``NAME=PATH`` (e.g. ``ppo=results/full/models/.../agent``).

With ``--truth`` (a log simulated by journeygym, whose metadata records its
seed, draws and scenario) every policy is also rolled out on the log's own
customers in the simulator, and the assessment table scores each estimator
against those true values; the oracle's value is the reference of the regret.

Exit status: 0 done; 1 the estimates were printed but ``--out`` could not be
written (a full disk); 2 bad input (a log or policy that cannot be evaluated,
unknown names, an ``--out`` that cannot be written: checked before any work);
4 an artifact that cannot be read.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from journeygym.agents.registry import UnknownAgentError, resolve, training_mode
from journeygym.arguments import positive_int, positive_int_or_all
from journeygym.baselines.logged_data.schema import LoggedDataError, read_parquet_log
from journeygym.files import NotUTF8Error, OutputPathError, check_output_file, is_disk_full, not_utf8_error
from journeygym.records import to_jsonable

__all__ = ["ope_command", "read_log"]


def _parser() -> argparse.ArgumentParser:
    from journeygym.ope.estimators import ESTIMATORS
    from journeygym.ope.fitted_q import MAX_FIT_ROWS
    from journeygym.ope.ratios import DEFAULT_RATIO_CLIP, DEFAULT_RATIO_LEARNER, RATIO_LEARNERS

    parser = argparse.ArgumentParser(
        prog="journeygym ope",
        description="Off-policy evaluation: estimate each policy's return per customer from a campaign log.",
    )
    parser.add_argument("log", help="the log: a .parquet or .csv table in the logged-data schema")
    parser.add_argument("--policies", nargs="+", required=True, help="policy names, 'module:Class', or NAME=PATH of a saved agent")
    parser.add_argument("--estimators", nargs="+", default=None, help=f"estimators (default all: {' '.join(ESTIMATORS)})")
    parser.add_argument("--truth", action="store_true", help="a simulated log: roll every policy out on its customers and assess the estimators")
    parser.add_argument("--train-log", default=None, help="log the learning policies are trained on (default: the evaluated log)")
    parser.add_argument("--artifact", default=None, help="artifact of the simulator (default: the shipped one)")
    parser.add_argument("--gamma", type=float, default=1.0, help="discount in (0, 1] (default 1.0: the undiscounted return)")
    parser.add_argument("--bootstrap", type=positive_int, default=200, help="bootstrap resamples of customers (default 200)")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of intervals and lower bounds (default 0.95)")
    parser.add_argument("--reward-lower-bound", type=float, default=None, help="smallest possible weekly reward (default: the smallest logged one)")
    parser.add_argument("--fqe-model", default=None, help="regressor of fitted-Q evaluation (default: the measured choice)")
    parser.add_argument(
        "--fqe-features", choices=("observation", "belief"), default="observation",
        help="fitted-Q on the observation (default), or on it and the artifact model's belief over the hidden state",
    )
    parser.add_argument(
        "--fqe-max-rows", type=positive_int_or_all, default=MAX_FIT_ROWS,
        help=f"rows each week's fitted-Q regressor is fitted on, at most: a random subset of a bigger week "
        f"(default {MAX_FIT_ROWS:,}; 'all' for every row)",
    )
    parser.add_argument(
        "--ratio-learner", choices=RATIO_LEARNERS, default=DEFAULT_RATIO_LEARNER,
        help=f"learner of the per-week state ratios of mis and mdr (default {DEFAULT_RATIO_LEARNER}: boosted trees on the "
        "observation; binned: the belief's expected state and the fatigue, binned)",
    )
    parser.add_argument(
        "--ratio-clip", type=float, default=DEFAULT_RATIO_CLIP,
        help=f"largest state ratio kept before each week's normalization to mean 1 (default {DEFAULT_RATIO_CLIP:g}; inf: none)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--out", default=None, help="also write the JSON record to this file")
    return parser


def read_episodes(path: str | Path) -> Any:
    """A log's episodes: a Parquet file read a column at a time (never as a whole table), a CSV file through pandas."""
    from journeygym.ope.episodes import episodes_from_frame
    from journeygym.ope.parquet_log import episodes_from_parquet

    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".parquet", ".pq"):
        return episodes_from_parquet(path)
    return episodes_from_frame(read_log(path))


def read_log(path: str | Path) -> pd.DataFrame:
    """A log from a Parquet file (its journeygym metadata in ``attrs``) or a CSV file."""
    path = Path(path)
    if not path.is_file():
        raise LoggedDataError(f"log: no file at {str(path)!r}; expected a .parquet or .csv table in the logged-data schema.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise LoggedDataError(f"log: {str(path)!r} is empty (no header row); {_EXPECTED_CSV}") from None
        except UnicodeDecodeError:
            error = not_utf8_error(path, "log:")
            raise (error or LoggedDataError(f"log: {str(path)!r} does not decode as UTF-8 text.")) from None
    elif suffix in (".parquet", ".pq"):
        frame = read_parquet_log(path)[0]
    else:
        raise LoggedDataError(f"log: {str(path)!r} has the suffix {suffix!r}; expected .parquet or .csv.")
    if frame.empty:
        raise LoggedDataError(
            f"log: {str(path)!r} has no rows (columns {list(frame.columns)[:6]}{' ...' if frame.shape[1] > 6 else ''}); "
            f"{_EXPECTED_CSV}"
        )
    return frame


_EXPECTED_CSV = (
    "expected a table in the logged-data schema: a header row naming the columns (customer_id, week, the "
    "observation columns, action, reward; propensity_<action> and the other outcomes are optional) and one row "
    "per customer and week, as journeygym writes with simulate_logged_data(...).to_csv(...)."
)


def _build_policies(names: Sequence[str], train_frame: Callable[[], pd.DataFrame], same_log: bool) -> dict[str, Any]:
    """The policies named on the command line; ``train_frame`` reads the training log, for those trained on one."""
    from journeygym.agents.protocol import as_policy

    policies: dict[str, Any] = {}
    for entry in names:
        name, _, saved = entry.partition("=")
        resolved = resolve(name)
        if saved:
            loader = getattr(resolved.factory, "load", None)
            if not callable(loader):
                raise UnknownAgentError(f"--policies {entry!r}: {resolved.target} cannot load a saved agent (it has no load method).")
            obj = loader(saved)
        else:
            obj = resolved.create()
        obj.name = name
        mode = training_mode(obj)
        if mode == "simulator" and not saved:
            raise UnknownAgentError(
                f"--policies {entry!r}: {name} trains in the simulator; give a saved agent as {name}=PATH (the runner "
                "saves one per cell under models/)."
            )
        if mode == "logged_data":
            if same_log:
                warnings.warn(
                    f"{name} is trained on the log it is evaluated on: its estimates are optimistic; pass --train-log.",
                    stacklevel=2,
                )
            obj.fit(train_frame())
        policies[name] = as_policy(obj)
    return policies


def _format_value(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _tables(record: dict[str, Any]) -> str:
    from journeygym.ope.advice import Advice

    settings = record["settings"]
    lines = [
        f"Off-policy estimates of the return per customer over {settings['horizon']} weeks "
        f"({settings['customers']} logged customers, gamma {settings['gamma']:g}, {settings['n_bootstrap']} bootstrap "
        f"resamples, {settings['confidence']:.0%} intervals and lower bounds).",
    ]
    if settings["propensities_estimated"]:
        lines.append("The log has no propensities: every estimate uses propensities estimated from the log.")
    if "ratio_learner" in settings:
        clip = settings["ratio_clip"]
        clipped = "not clipped" if clip is None else f"clipped at {clip:g}"
        lines.append(
            f"mis and mdr: per-week state ratios learned by {settings['ratio_learner']}, {clipped}, and normalized to "
            "mean 1 each week."
        )
    lines.append("")
    header = f"{'policy':<16}{'estimator':<10}{'estimate':>10}{'interval':>22}{'LB (t)':>10}{'LB (conc.)':>12}"
    truth = record.get("truth") or {}
    if truth:
        header += f"{'true':>10}"
    lines += [header, "-" * len(header)]
    for entry in record["policies"]:
        for name, estimate in entry["estimates"].items():
            interval = f"[{estimate['low']:.3f}, {estimate['high']:.3f}]"
            line = (
                f"{entry['policy']:<16}{name:<10}{estimate['value']:>10.3f}{interval:>22}"
                f"{_format_value(estimate.get('lower_bound_t')):>10}{_format_value(estimate.get('lower_bound_concentration')):>12}"
            )
            if truth:
                line += f"{_format_value(truth.get(entry['policy'], {}).get('mean')):>10}"
            lines.append(line)
    lines += ["", "Overlap of each policy with the log:"]
    diagnostics = pd.DataFrame([{"policy": e["policy"], **e["diagnostics"]} for e in record["policies"]])
    lines.append(diagnostics.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    lines += ["", "Which estimator to trust on this log (from its overlap and the offline benchmark; rules in journeygym/ope/advice.py):"]
    lines += [f"  {line}" for line in Advice.from_dict(record["advice"]).lines()]
    if record.get("assessment"):
        lines += ["", "Estimators against the true values (simulated on the log's customers):"]
        lines.append(pd.DataFrame(record["assessment"]).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return "\n".join(lines)


def ope_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym ope``: returns the exit status (0 done, 1 --out not written, 2 bad input, 4 an unreadable artifact)."""
    from journeygym.ope.evaluate import evaluate_policies

    args = _parser().parse_args(argv)
    if args.out:
        try:  # before the estimates, which take minutes
            check_output_file(args.out, "output file")
        except OutputPathError as exc:
            print(f"journeygym ope: error: --out: {exc}", file=sys.stderr)
            return 2
    try:
        episodes = read_episodes(args.log)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # The table is read only for policies trained on a log, and dropped before the estimates begin.
            policies = _build_policies(args.policies, functools.cache(lambda: read_log(args.train_log or args.log)), args.train_log is None)
        metadata = dict(episodes.metadata)
        for warning in caught:
            print(f"journeygym ope: warning: {warning.message}", file=sys.stderr)
        result = evaluate_policies(
            policies,
            episodes,
            estimators=args.estimators,
            gamma=args.gamma,
            fqe_model=args.fqe_model,
            fqe_features=args.fqe_features,
            fqe_max_rows=args.fqe_max_rows,
            artifact=args.artifact,
            ratio_learner=args.ratio_learner,
            ratio_clip=args.ratio_clip,
            n_bootstrap=args.bootstrap,
            confidence=args.confidence,
            reward_lower_bound=args.reward_lower_bound,
            seed=args.seed,
        )
        record = result.as_dict()
        record["advice"] = result.advice().as_dict()
        record["log"] = {"path": str(args.log), "metadata": metadata}
        if args.truth:
            record.update(_truth(policies, episodes, args.artifact, result))
    except (UnknownAgentError, LoggedDataError, NotUTF8Error, ValueError, TypeError) as exc:
        print(f"journeygym ope: error: {exc}", file=sys.stderr)
        return 2
    record = to_jsonable(record, nonfinite_as_none=True)
    print(json.dumps(record, indent=2, sort_keys=True) if args.json else _tables(record))
    if args.out:
        from journeygym.files import atomic_write_bytes

        try:
            atomic_write_bytes(Path(args.out), json.dumps(record, indent=2, sort_keys=True).encode())
        except OSError as exc:  # the place was checked before the work: a full disk, or a change since
            why = "the disk is full (or the quota spent)" if is_disk_full(exc) else (exc.strerror or str(exc))
            print(
                f"journeygym ope: error: --out: could not write {args.out!r}: {why}; the estimates are printed above "
                f"(add --json for the record). Free space or choose another --out, and run again.",
                file=sys.stderr,
            )
            return 1
    return 0


def _truth(policies: dict[str, Any], episodes: Any, artifact: str | None, result: Any) -> dict[str, Any]:
    """True values on the log's customers, and the assessment of every estimator against them."""
    from journeygym.baselines.registry import make_policy
    from journeygym.ope.assessment import assess
    from journeygym.ope.truth import true_values_of_log

    with_oracle = {**policies, "oracle": make_policy("oracle")}
    truth = true_values_of_log(with_oracle, episodes, artifact=artifact)
    estimates = [estimate for e in result.evaluations for estimate in e.estimates.values()]
    assessment = assess(
        estimates, {name: value.mean for name, value in truth.items() if name in policies}, reference_value=truth["oracle"].mean
    )
    return {
        "truth": {name: {"mean": value.mean, "standard_error": value.standard_error} for name, value in truth.items()},
        "assessment": assessment.to_dict(orient="records"),
    }
