"""``journeygym simulate-log``: a campaign log simulated from an artifact, in the logged-data schema.

The log is what a team would have recorded running a campaign on the
simulator's customers: the observation before each week's action, the action
and its propensity, and the outcomes.  It is the input of ``journeygym ope``
(with ``--truth`` the estimators are scored against the simulator).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from journeygym.arguments import positive_int

#: Exit statuses: 0 written, 2 bad input, 4 an artifact that cannot be read.
_BAD_INPUT, _BAD_ARTIFACT = 2, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journeygym simulate-log",
        description="Simulate a campaign log (one row per customer and week) from a parameter artifact.",
    )
    parser.add_argument("--out", required=True, help="the log file to write: .parquet (with its metadata) or .csv")
    parser.add_argument("--artifact", default=None, help="artifact of the simulator (default: the shipped one)")
    parser.add_argument("--customers", type=positive_int, default=20_000, help="customers in the log (default 20000)")
    parser.add_argument("--horizon", type=positive_int, default=None, help="weeks (default: the artifact's, 52)")
    parser.add_argument(
        "--behavior", default="random",
        help="who gets what: 'random' (each week no action or an arm, equally likely, the trial's randomization) or a "
        "policy name acting on observations (e.g. always_mens), run epsilon-greedy",
    )
    parser.add_argument(
        "--epsilon", type=float, default=0.2, help="with a policy as --behavior: probability of a uniform action instead (default 0.2)"
    )
    parser.add_argument(
        "--params", default="sample",
        help="the posterior draws: 'sample' (the customers spread over every draw, default), 'mean', or a draw index",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth", action="store_true", help="add the simulator's ground-truth columns (never in a real log)")
    return parser


def _behavior(name: str, epsilon: float) -> object:
    from journeygym.baselines import make_policy
    from journeygym.baselines.logged_data import EpsilonGreedyBehavior, RandomizedBehavior

    if name == "random":
        return RandomizedBehavior(email_probability=2.0 / 3.0)
    return EpsilonGreedyBehavior(make_policy(name), epsilon)


def _params(value: str) -> str | int:
    if value in ("sample", "mean"):
        return value
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--params: received {value!r}, expected 'sample', 'mean' or a draw index.") from None


def simulate_log_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym simulate-log``: returns the exit status (0 written, 2 bad input, 4 an unreadable artifact)."""
    args = _parser().parse_args(argv)
    from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data
    from journeygym.envs.artifact import ArtifactError, load_parameters
    from journeygym.files import OutputPathError, check_output_file

    out = Path(args.out)
    try:
        if out.suffix.lower() not in (".parquet", ".csv"):
            raise ValueError(f"--out: received {str(out)!r}, expected a file name ending in .parquet or .csv.")
        check_output_file(out, "log file")
        draws = load_parameters(args.artifact)
        params = _params(args.params)
        if params == "sample":
            params = list(range(len(draws)))
        frame = simulate_logged_data(
            args.customers, args.seed, behavior=_behavior(args.behavior, args.epsilon), params=params,
            artifact=args.artifact, horizon=args.horizon, include_truth=args.truth,
        )
    except ArtifactError as exc:
        print(f"journeygym simulate-log: error: {exc}", file=sys.stderr)
        return _BAD_ARTIFACT
    except (ValueError, OutputPathError) as exc:
        print(f"journeygym simulate-log: error: {exc}", file=sys.stderr)
        return _BAD_INPUT
    config = {"customers": args.customers, "behavior": args.behavior, "epsilon": args.epsilon, "params": args.params,
              "artifact": args.artifact, "horizon": args.horizon, "truth": args.truth}
    if out.suffix.lower() == ".parquet":
        write_logged_data(frame, out, config=config, seed=args.seed)
    else:
        frame.to_csv(out, index=False)
    print(f"wrote {out}: {frame['customer_id'].nunique():,} customers x {frame['week'].nunique()} weeks "
          f"({len(frame):,} rows), behavior {args.behavior}")
    return 0
