"""The ``journeygym`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict

from journeygym.baselines.simple import simple_policies
from journeygym.envs.parameters import _did_you_mean


class CommandError(Exception):
    """A command-line input error: printed without a traceback, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"received {text!r}, expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"received {value}, expected a positive integer")
    return value


def _compare(args: argparse.Namespace) -> int:
    from journeygym.calibration.artifact import load_parameters
    from journeygym.experiments.compare import compare_policies, format_table

    available = simple_policies(seed=args.seed)
    names = [n.strip() for n in args.policies.split(",") if n.strip()]
    for name in names:
        if name not in available:
            raise CommandError(
                f"--policies: unknown policy {name!r}{_did_you_mean(name, list(available))}; "
                f"available: {', '.join(available)}."
            )
    draws_in_artifact = len(load_parameters(args.artifact))
    n_draws = min(5, draws_in_artifact) if args.draws is None else args.draws
    if n_draws > draws_in_artifact:
        raise CommandError(f"--draws: received {n_draws}, but the artifact holds {draws_in_artifact} draws.")
    rows, record = compare_policies(
        [available[n] for n in names],
        n_customers=args.customers,
        draws=list(range(n_draws)),
        seed=args.seed,
        artifact=args.artifact,
        reference=names[0],
    )
    if args.json:
        print(json.dumps({"record": record, "rows": [asdict(r) for r in rows]}, indent=2, default=str))
        return 0
    label = record["parameters_label"]
    print(f"journeygym {record['version']}  config {record['config_hash']}  seed {record['seed']}")
    if label:
        print(f"parameters: {label}")
    print(
        f"{args.customers} customers x {n_draws} posterior draw(s) x {record['settings']['horizon']} weeks; "
        "undiscounted dollars per customer; 95% intervals over customers (one draw) or over draws (several)"
    )
    print(format_table(rows, names[0]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``journeygym`` command."""
    parser = argparse.ArgumentParser(prog="journeygym", description="Customer-journey simulator for marketing decisions.")
    commands = parser.add_subparsers(dest="command", required=True)

    compare = commands.add_parser("compare", help="compare the simple policies on the default scenario")
    compare.add_argument("--policies", default="never,random,always_mens,always_womens", help="comma-separated policy names")
    compare.add_argument("--customers", type=_positive_int, default=20_000, help="customers per draw (default 20000)")
    compare.add_argument("--draws", type=_positive_int, default=None, help="posterior draws (default: up to 5)")
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--artifact", default=None, help="parameter artifact (default: the shipped one)")
    compare.add_argument("--json", action="store_true", help="print JSON instead of a table")
    compare.set_defaults(handler=_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``journeygym`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as exc:
        print(f"journeygym {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"journeygym {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
