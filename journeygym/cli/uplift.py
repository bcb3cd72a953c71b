"""``journeygym uplift``: Bayesian uplift analysis of any randomized trial in a CSV file.

Exit codes (as ``fit-hmm``'s): 0 the analysis ran and its convergence checks
passed; 1 it ran and the table is printed, but the ``--plot`` file could not
be written (a full disk); 2 the input was unusable (the message says why); 3
it ran but the convergence checks failed (the table is printed with a warning
and should not be used).

An unusable ``--plot`` path (a directory, a folder that cannot be created,
a format matplotlib cannot write) is bad input too, found before the
sampling starts.

Too little data is unusable input: every arm needs at least
``MIN_ROWS_PER_ARM`` rows (``--min-per-arm``), and the outcome must take both
values somewhere in the trial; otherwise the decision would restate the
prior.  An arm whose outcome is all 0 or all 1 is analyzed with a warning
(its rate rests on the prior and the pooling).  Warnings are printed and,
with ``--json``, listed under ``"warnings"``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeygym.arguments import command_options
from journeygym.errors import DataValidationError
from journeygym.files import NotUTF8Error, OutputPathError, check_output_file, is_disk_full, not_utf8_error

EXIT_OK = 0
EXIT_NOT_WRITTEN = 1
EXIT_NOT_CONVERGED = 3
EXIT_BAD_INPUT = 2
#: Fewest rows per arm analyzed by default (--min-per-arm): with fewer, a decision mostly restates the prior.
MIN_ROWS_PER_ARM = 30
#: Keyword arguments of the analysis -> the flags that set them (messages name the flags).
FLAGS = {
    "treatment": "--treatment",
    "outcome": "--outcome",
    "segment": "--segment",
    "covariates": "--covariates",
    "control": "--control",
    "kind": "--kind",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``journeygym uplift``."""
    parser = argparse.ArgumentParser(
        prog="journeygym uplift",
        description=(
            "Fit a Bayesian logistic uplift model to a randomized trial and print, per segment x treatment arm, "
            "the posterior uplift (probability scale) with its 80% interval, P(uplift > 0) and a targeting "
            "decision: target when P >= 0.90, monitor when 0.70 <= P < 0.90, else deprioritize."
        ),
    )
    parser.add_argument("trial", help="CSV file, one row per randomized customer")
    parser.add_argument("--treatment", required=True, help="column of the assigned arm (binary or multi-arm)")
    parser.add_argument("--outcome", required=True, help="column of the binary outcome (0/1 or True/False)")
    parser.add_argument("--segment", help="column whose levels get their own, partially pooled treatment effects")
    parser.add_argument(
        "--covariates", help="comma-separated pre-treatment columns (categorical ones are one-hot encoded)"
    )
    parser.add_argument(
        "--control", help="control level of the treatment column (needed unless it is 0/1 or holds 'No E-Mail')"
    )
    parser.add_argument(
        "--kind", choices=("auto", "pooled", "hierarchical"), default="auto",
        help="model; auto: hierarchical with --segment, else pooled (default: auto)",
    )
    parser.add_argument(
        "--segment-intercepts", action=argparse.BooleanOptionalAction, default=True,
        help="a baseline rate per segment (default: on)",
    )
    parser.add_argument("--draws", type=int, default=1000, help="posterior draws per chain (default: 1000)")
    parser.add_argument("--tune", type=int, default=600, help="warm-up iterations per chain (default: 600)")
    parser.add_argument("--chains", type=int, default=4, help="chains (default: 4)")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed (default: 0)")
    parser.add_argument(
        "--min-per-arm", type=int, default=MIN_ROWS_PER_ARM,
        help=f"refuse a trial with fewer rows in an arm (default: {MIN_ROWS_PER_ARM})",
    )
    parser.add_argument("--sep", default=",", help="field separator of the CSV (default: ',')")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of the table")
    parser.add_argument("--plot", metavar="PATH", help="also write an interval plot (e.g. uplift.png)")
    return parser


def uplift_command(argv: Sequence[str] | None = None) -> int:
    """Run ``journeygym uplift`` with the given arguments and return the exit code."""
    from journeygym.calibration.uplift import ConvergenceWarning, analyze_trial, trial_from_frame

    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as stop:  # argparse has already printed its message
        return int(stop.code or 0)
    try:
        if args.plot:  # before the sampling, which takes minutes
            _check_plot_path(args.plot)
        frame = _read_trial(Path(args.trial), args.sep)
        covariates = [c.strip() for c in args.covariates.split(",") if c.strip()] if args.covariates else None
        _check_sampler_settings(args)
        with command_options("journeygym uplift", FLAGS):
            trial = trial_from_frame(frame, args.treatment, args.outcome, args.segment, covariates, args.control)
        notes = _check_trial_size(trial, args.treatment, args.min_per_arm)
        with command_options("journeygym uplift", FLAGS), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = analyze_trial(
                frame,
                treatment=args.treatment,
                outcome=args.outcome,
                segment=args.segment,
                covariates=covariates,
                control=args.control,
                kind=args.kind,
                draws=args.draws,
                tune=args.tune,
                chains=args.chains,
                seed=args.seed,
                segment_intercepts=args.segment_intercepts,
            )
    except (DataValidationError, FileNotFoundError, NotUTF8Error) as error:
        print(f"journeygym uplift: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    for note in notes:
        print(f"journeygym uplift: warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({**json.loads(model.to_json()), "warnings": notes}, indent=2))
    else:
        print(format_report(model))
    if args.plot:
        try:
            model.plot_uplift(args.plot)
        except OSError as error:  # the path was checked before the sampling: a full disk, or a change since
            why = "the disk is full (or the quota spent)" if is_disk_full(error) else (error.strerror or str(error))
            print(
                f"journeygym uplift: error: --plot: could not write {args.plot!r}: {why}; the table is printed above. "
                "Free space or choose another --plot, and run again.",
                file=sys.stderr,
            )
            return EXIT_NOT_WRITTEN
    return EXIT_OK if model.diagnostics_["passed"] else EXIT_NOT_CONVERGED


def _check_plot_path(path: str) -> None:
    """Refuse, before any work, a ``--plot`` path that cannot be written or whose format matplotlib cannot write."""
    from matplotlib.backend_bases import FigureCanvasBase

    try:
        check_output_file(path, "plot file")
    except OutputPathError as error:
        raise DataValidationError(f"--plot: {error}") from None
    suffix = Path(path).suffix.lower().lstrip(".")
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix and suffix not in formats:
        raise DataValidationError(
            f"--plot: received {path!r}, whose suffix {suffix!r} is not an image format matplotlib writes; expected "
            f"one of {sorted(formats)} (e.g. uplift.png)."
        )


def _read_trial(path: Path, sep: str) -> pd.DataFrame:
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.csv"))[:5]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise DataValidationError(
            f"trial file {str(path)!r} is a directory, expected a CSV file{hint}; pass the path of the CSV file."
        )
    if not path.is_file():
        raise FileNotFoundError(f"trial file {str(path)!r} not found; pass the path of a CSV file.")
    try:
        frame = pd.read_csv(path, sep=sep)
    except UnicodeDecodeError:
        raise (not_utf8_error(path, "trial file") or DataValidationError(f"{str(path)!r} is not UTF-8 text.")) from None
    except pd.errors.EmptyDataError as error:
        raise DataValidationError(f"{str(path)!r} is empty: {error}.") from error
    except pd.errors.ParserError as error:
        raise DataValidationError(f"{str(path)!r} is not a well-formed CSV (separator {sep!r}?): {error}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame


def _check_trial_size(trial: Any, treatment: str, min_per_arm: int) -> list[str]:
    """Refuse a trial too small to analyze (see the module docstring); returns the warnings about it.

    Raises
    ------
    DataValidationError
        An arm has fewer than ``min_per_arm`` rows, or the outcome is the same in every row.
    """
    outcome = np.asarray(trial.outcome)
    arm = np.asarray(trial.arm)
    names = list(trial.arm_names)
    rows = np.bincount(arm, minlength=len(names))
    events = np.bincount(arm, weights=outcome, minlength=len(names)).astype(np.int64)
    small = [f"{name!r} ({n} row(s))" for name, n in zip(names, rows) if n < min_per_arm]
    if small:
        raise DataValidationError(
            f"too few rows: arm(s) {', '.join(small)} of {treatment!r}, {trial.n_customers} rows in all; expected at "
            f"least {min_per_arm} rows in every arm (--min-per-arm). With fewer, the posterior and the decision mostly "
            "restate the prior. Collect more data, or lower --min-per-arm to analyze anyway."
        )
    if events.sum() in (0, trial.n_customers):
        value = int(outcome[0])
        raise DataValidationError(
            f"outcome {trial.outcome_name!r} is {value} in all {trial.n_customers} rows; an uplift analysis needs both "
            "outcomes (0 and 1) in the trial. Check that --outcome names the right column and that it is coded 0/1."
        )
    notes = []
    for name, n, k in zip(names, rows, events):
        if k in (0, n):
            notes.append(
                f"outcome {trial.outcome_name!r} is {int(k > 0)} in all {n} rows of arm {name!r}; that arm's rate and "
                "the uplifts that involve it rest on the prior and the model's pooling, not on observed variation."
            )
    return notes


def _check_sampler_settings(args: argparse.Namespace) -> None:
    if args.min_per_arm < 1:
        raise DataValidationError(f"--min-per-arm: received {args.min_per_arm}, expected an integer >= 1.")
    for name, lowest in (("draws", 1), ("tune", 0), ("chains", 1)):
        value = getattr(args, name)
        if value < lowest:
            raise DataValidationError(f"--{name}: received {value}, expected an integer >= {lowest}.")


def format_report(model: object) -> str:
    from journeygym.calibration.uplift import DECISION_LABELS, BayesianUpliftModel

    assert isinstance(model, BayesianUpliftModel)
    trial, diagnostics = model.trial_, model.diagnostics_
    table = model.summary()
    shown = pd.DataFrame(
        {
            "segment": table["segment"],
            "arm": table["arm"],
            "n_control": table["n_control"],
            "n_treated": table["n_treated"],
            "observed": table["observed_uplift"].map(lambda v: f"{v:+.4f}"),
            "uplift": table["uplift_mean"].map(lambda v: f"{v:+.4f}"),
            "80% interval": [f"[{lo:+.4f}, {hi:+.4f}]" for lo, hi in zip(table["uplift_p10"], table["uplift_p90"], strict=True)],
            "P(uplift>0)": table["prob_positive"].map(lambda v: f"{v:.3f}"),
            "decision": table["decision"].map(DECISION_LABELS),
        }
    )
    verdict = "passed" if diagnostics["passed"] else "FAILED (do not use these numbers)"
    header = [
        f"{model.kind} Bayesian uplift model of {trial.outcome_name!r}: {trial.n_customers} customers, "
        f"arms {list(trial.arm_names)} (control {trial.arm_names[0]!r}), {trial.n_segments} segment(s), "
        f"{len(trial.covariate_names)} covariate column(s)",
        f"convergence {verdict}: max R-hat {diagnostics['max_rhat']:.3f}, min bulk ESS {diagnostics['min_ess_bulk']:.0f}, "
        f"min tail ESS {diagnostics['min_ess_tail']:.0f}, {diagnostics['divergences']} divergences; "
        f"{model.chains} chains x {model.draws} draws, seed {model.seed}",
        "uplift = change in P(outcome) averaged over the segment's customers",
        "",
    ]
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_rows", 500):
        return "\n".join(header) + shown.to_string(index=False)
