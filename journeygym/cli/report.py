"""``journeygym report``: rebuild the report of a results directory."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from journeygym.experiments.report import build_report, report_text
from journeygym.experiments.store import results_warnings_as_lines


def report_command(argv: Sequence[str] | None = None) -> int:
    """``journeygym report RESULTS_DIR``: rebuild the report; returns the exit status (2 for a bad directory).

    A damaged manifest or cell file is an error naming the file; a damaged
    training log is a warning naming it (its learning curve is left out).
    """
    parser = argparse.ArgumentParser(prog="journeygym report", description="Rebuild the report of an experiment's results directory.")
    parser.add_argument("results_dir", help="a directory written by `journeygym run`")
    args = parser.parse_args(argv)
    try:
        with results_warnings_as_lines("journeygym report"):
            path = build_report(args.results_dir)
            text = report_text(args.results_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"journeygym report: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    print(f"\nreport: {path} and {path.with_suffix('.html')}")
    return 0
