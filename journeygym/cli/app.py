"""The ``journeygym`` command: the argument parser and the dispatch to each command's module."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from journeygym.arguments import carryover_levels, positive_int
from journeygym.envs.artifact import ArtifactError
from journeygym.envs.parameters import DEFAULT_CARRYOVER, DEFAULT_CARRYOVER_LEVELS
from journeygym.files import OutputPathError, check_output_file


#: Exit status of a command given an artifact it cannot read (1 means "a check failed", 2 bad input).
ARTIFACT_EXIT_STATUS = 4


class CommandError(Exception):
    """A command-line input error: printed without a traceback, exit status 2."""


#: Commands implemented by a module function taking the remaining arguments: name -> (module, function, help).
DELEGATED: dict[str, tuple[str, str, str]] = {
    "compare": ("journeygym.cli.evaluate", "compare_command", "compare policies (by default the simple ones) on common random numbers"),
    "uplift": ("journeygym.cli.uplift", "uplift_command", "Bayesian uplift analysis of any randomized trial"),
    "evaluate": ("journeygym.cli.evaluate", "evaluate_command", "evaluate policies on common random numbers"),
    "run": ("journeygym.cli.run", "run_command", "run an experiment config or preset (quick, full, sensitivity, offline, offline-realistic, budgets)"),
    "report": ("journeygym.cli.report", "report_command", "rebuild the report of a results directory"),
    "ope": ("journeygym.cli.ope", "ope_command", "off-policy evaluation: estimate policies' returns from a campaign log"),
    "simulate-log": ("journeygym.cli.simulate_log", "simulate_log_command", "simulate a campaign log from an artifact (for ope)"),
}


def _fit_hmm(args: argparse.Namespace) -> int:
    from journeygym.cli.fit_hmm import fit_hmm_command

    return fit_hmm_command(args)


def _calibrate(args: argparse.Namespace) -> int:
    if args.spec_schema:  # before importing the pipeline: printing the schema needs none of it
        from journeygym.datasets.spec import dataset_json_schema

        print(json.dumps(dataset_json_schema(), indent=2))
        return 0
    if args.out is None:
        raise CommandError(
            "--out is required: the artifact file to write (.npz); received none. Pass --out FILE.npz "
            "(or --spec-schema to print the JSON Schema of a dataset spec)."
        )
    from journeygym.cli.calibrate import calibrate_command

    try:  # before the fit, which takes minutes
        check_output_file(args.out, "artifact file")
    except OutputPathError as exc:
        raise CommandError(f"--out: {exc}") from None
    return calibrate_command(args)


def _validate(args: argparse.Namespace) -> int:
    from journeygym.cli.calibrate import validate_command

    return validate_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``journeygym`` command."""
    parser = argparse.ArgumentParser(prog="journeygym", description="Customer-journey simulator for marketing decisions.")
    commands = parser.add_subparsers(dest="command", required=True)

    from journeygym.cli.fit_hmm import build_parser as add_fit_hmm_arguments

    fit_hmm = commands.add_parser("fit-hmm", help="fit the hidden-state model on a transaction log")
    add_fit_hmm_arguments(fit_hmm).set_defaults(handler=_fit_hmm)

    from journeygym.cli.spec_flags import add_spec_flags

    calibrate = commands.add_parser(
        "calibrate",
        help="fit every model on a trial and a transaction log (the built-in ones, or yours) and write a parameter artifact",
    )
    calibrate.add_argument(
        "--data-dir", default=None, help="data directory of the built-in Hillstrom + CDNOW spec (default: $JOURNEYGYM_DATA_DIR)"
    )
    calibrate.add_argument(
        "--out", default=None, help="artifact file to write (.npz; required unless --spec-schema); a report is written beside it"
    )
    calibrate.add_argument(
        "--spec-schema", action="store_true", help="print the JSON Schema of a dataset spec (YAML) and exit"
    )
    calibrate.add_argument("--draws", type=positive_int, default=200, help="parameter draws (default 200, at least 100 recommended)")
    calibrate.add_argument("--seed", type=int, default=0)
    calibrate.add_argument(
        "--carryover",
        type=carryover_levels,
        default=DEFAULT_CARRYOVER_LEVELS,
        help="carryover ratios rho to solve the e-mail responses for, comma-separated, each >= 1 and including the "
        f"default {DEFAULT_CARRYOVER:g} (default {','.join(f'{v:g}' for v in DEFAULT_CARRYOVER_LEVELS)})",
    )
    calibrate.add_argument(
        "--sampler-draws", type=positive_int, default=None,
        help="posterior samples per chain of the uplift models (default 1000; fewer for a quick preview, which may not converge)",
    )
    calibrate.add_argument("--sampler-tune", type=positive_int, default=None, help="tuning steps per chain (default 600)")
    calibrate.add_argument("--sampler-chains", type=positive_int, default=None, help="chains (default 4)")
    add_spec_flags(calibrate)
    calibrate.set_defaults(handler=_calibrate)

    validate = commands.add_parser("validate", help="check an artifact against the data it was calibrated on")
    validate.add_argument("artifact", help="artifact file")
    validate.add_argument(
        "--data-dir", default=None,
        help="directory holding the artifact's data files (default: where the artifact recorded them; the built-in "
        "spec's: $JOURNEYGYM_DATA_DIR)",
    )
    validate.add_argument("--trial", default=None, help="the trial file, if it moved since calibration")
    validate.add_argument("--log", default=None, help="the transaction log file, if it moved since calibration")
    validate.add_argument("--seed", type=int, default=0)
    validate.add_argument(
        "--env-customers", type=positive_int, default=40_000, help="customers of the check through the env API (default 40000)"
    )
    validate.set_defaults(handler=_validate)

    for name, (_, _, help_text) in DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``journeygym`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        module_name, function_name, _ = DELEGATED[argv[0]]
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            print(f"journeygym {argv[0]}: error: this command is not available in this installation ({exc}).", file=sys.stderr)
            return 2
        try:
            return getattr(module, function_name)(argv[1:])
        except ArtifactError as exc:
            print(f"journeygym {argv[0]}: error: {exc}", file=sys.stderr)
            return ARTIFACT_EXIT_STATUS
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ArtifactError as exc:
        print(f"journeygym {args.command}: error: {exc}", file=sys.stderr)
        return ARTIFACT_EXIT_STATUS
    except (CommandError, ValueError, FileNotFoundError) as exc:
        print(f"journeygym {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
