"""``journeygym run``: run an experiment config or preset and print its report."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from journeygym.experiments.config import ConfigError, config_json_schema, load_config
from journeygym.experiments.interrupts import RunInterrupted
from journeygym.experiments.runner import (
    CellError,
    ResultsDiskFullError,
    ResultsExistError,
    default_output_dir,
    run_experiment,
    stored_cells_text,
)
from journeygym.experiments.store import DamagedFileError, ResultsLockedError, results_warnings_as_lines
from journeygym.files import OutputPathError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journeygym run",
        description="Run a policy-comparison experiment from a YAML config or a preset, and write its report.",
    )
    parser.add_argument("config", nargs="?", help="a YAML config file, or a preset: quick, full, sensitivity, offline, offline-realistic, budgets")
    parser.add_argument(
        "--schema",
        action="store_true",
        help="print the JSON Schema of the config file (for editors: completion and checks) and exit",
    )
    parser.add_argument("--out", default=None, help="results directory (default: the config's output_dir, else results/<name>)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in the results directory")
    parser.add_argument(
        "--artifact", default=None, help="run on this parameter artifact (e.g. your own, from journeygym calibrate) instead of the config's"
    )
    parser.add_argument("--workers", type=int, default=None, help="override n_workers")
    parser.add_argument("--backend", choices=("local", "ray"), default=None, help="override backend")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _resume_command(args: argparse.Namespace, output: Path) -> str:
    """The command line that continues this run."""
    words = ["journeygym", "run", args.config, "--out", str(output)]
    if args.artifact is not None:
        words += ["--artifact", args.artifact]
    if args.workers is not None:
        words += ["--workers", str(args.workers)]
    if args.backend is not None:
        words += ["--backend", args.backend]
    return " ".join(shlex.quote(word) for word in [*words, "--resume"])


def run_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym run``: returns the exit status.

    0 done; 1 the run stopped before the end (a cell failed, the disk is full);
    2 bad input; 130 interrupted by SIGINT, 143 by SIGTERM.  Bad input includes
    an ``--out`` that is a file or not writable, a results directory another
    run is using, and a damaged ``manifest.json``.  Whenever the run stops
    early, the finished cells are kept and the message gives the command that
    continues it (``--resume``).
    """
    from journeygym.experiments.report import report_text

    parser = _parser()
    args = parser.parse_args(argv)
    if args.schema:
        print(json.dumps(config_json_schema(), indent=2))
        return 0
    if args.config is None:
        parser.error("the following arguments are required: config (a YAML file or a preset: quick, full, sensitivity, offline, offline-realistic, budgets)")
    overrides: dict[str, Any] = {}
    if args.workers is not None:
        overrides["n_workers"] = args.workers
    if args.backend is not None:
        overrides["backend"] = args.backend
    try:
        config = load_config(args.config, overrides=overrides, artifact=args.artifact)
    except ConfigError as exc:
        print(f"journeygym run: error: {exc}", file=sys.stderr)
        return 2
    output = Path(args.out) if args.out else default_output_dir(config)
    try:
        with results_warnings_as_lines("journeygym run"):
            result = run_experiment(config, output, resume=args.resume, progress=not args.no_progress)
            report = report_text(result.output_dir)
    except OutputPathError as exc:
        print(f"journeygym run: error: --out: {exc}", file=sys.stderr)
        return 2
    except (ResultsExistError, ResultsLockedError, DamagedFileError) as exc:
        print(f"journeygym run: error: {exc}", file=sys.stderr)
        return 2
    except CellError as exc:
        print(f"journeygym run: error: {exc}", file=sys.stderr)
        return 1
    except ResultsDiskFullError as exc:
        print(f"journeygym run: error: {exc} Continue with: {_resume_command(args, output)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        interrupted = exc if isinstance(exc, RunInterrupted) else RunInterrupted(signal.SIGINT)
        print(
            f"\njourneygym run: interrupted ({interrupted.signal_name}); {stored_cells_text(interrupted.stored, interrupted.total)} "
            f"in {str(output)!r} (the cells being computed were abandoned). "
            f"Continue with: {_resume_command(args, output)}",
            file=sys.stderr,
        )
        return interrupted.exit_status
    print(report)
    print(
        f"\n{len(result.computed)} cell(s) computed, {len(result.reused)} reused; "
        f"results and report in {result.output_dir}/ (report/report.md, report/report.html)"
    )
    return 0
