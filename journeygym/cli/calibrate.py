"""``journeygym calibrate`` and ``journeygym validate``: the calibration pipeline's front ends.

Which data: ``--spec FILE`` (a dataset spec, YAML), the spec's keys as flags
(``--trial T.csv --treatment ... --log L.csv ...``), or ``--data-dir DIR`` (the
built-in Hillstrom + CDNOW spec, its files in ``DIR``).  ``validate`` finds the
data from the artifact's own record, unless ``--data-dir``, ``--trial`` or
``--log`` say where it is now.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from journeygym.calibration.frequency import frequency_report, measure_frequency_with_env
from journeygym.calibration.pipeline import calibrate, check_carryover_levels, validate_draws
from journeygym.calibration.plausibility import measure_with_env, plausibility_report
from journeygym.calibration.sources import calibration_inputs
from journeygym.calibration.validation import REQUIRED_COVERAGE, coverage
from journeygym.cli.spec_flags import spec_from_arguments
from journeygym.datasets.builtin import builtin_spec
from journeygym.datasets.spec import DatasetSpec, validate_spec
from journeygym.envs.artifact import load_artifact, save_artifact
from journeygym.envs.parameters import DEFAULT_CARRYOVER
from journeygym.errors import DataValidationError
from journeygym.files import sha256_of_file

def calibrate_command(args: argparse.Namespace) -> int:
    """``journeygym calibrate``: fit, validate, write the artifact and its report; exit 1 if validation fails."""
    from journeygym.calibration.report import write_calibration_report

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out: received {str(out)!r}, expected a file name ending in .npz.")
    check_carryover_levels(args.carryover, DEFAULT_CARRYOVER)  # before any data is read
    spec = spec_from_arguments(args)
    print(f"loading the trial {spec.trial.path} and the log {spec.log.path}")
    inputs = calibration_inputs(spec, seed=args.seed)
    sampler = {
        name: value
        for name, value in (("draws", args.sampler_draws), ("tune", args.sampler_tune), ("chains", args.sampler_chains))
        if value is not None
    }
    result = calibrate(inputs, n_draws=args.draws, seed=args.seed, carryover_levels=args.carryover, sampler_kwargs=sampler or None)
    save_artifact(result.draws, out)
    report = write_calibration_report(result, out, seed=args.seed)
    print(f"wrote {out} ({len(result.draws)} draws) and {report}")
    print(f"validation: observed rate inside the 90% predictive interval in {result.coverage:.0%} of cells "
          f"(required {REQUIRED_COVERAGE:.0%})")
    anchor = result.fatigue
    if anchor is not None:
        print(f"fatigue anchored on the frequency response: kappa {anchor.kappa:g}, p {anchor.power:g} at memory lambda "
              f"{anchor.memory:g} (ASSUMPTIONS; fit loss {anchor.loss:.4f} on {anchor.draws_used} draws)")
    else:
        print("fatigue NOT anchored: the trial shows no effect of any arm; kappa and p are the package defaults (ASSUMPTIONS)")
    for line in result.plausibility.lines() + result.frequency.lines():
        print(line)
    return 0 if result.passed else 1


def check_data_hashes(recorded: dict[str, str], paths: list[Path]) -> None:
    """Refuse data files whose SHA-256 differs from the one the artifact recorded at calibration.

    Raises
    ------
    DataValidationError
        Naming the file, both hashes and the fix.
    """
    for path in paths:
        expected = recorded.get(path.name)
        if expected is None or not path.is_file():
            continue  # the loader says what is missing, and where it looked
        actual = sha256_of_file(path)
        if actual != expected:
            raise DataValidationError(
                f"{str(path)!r}: SHA-256 {actual}, but the artifact was calibrated on a {path.name} with SHA-256 {expected}; "
                "validate against the data it was calibrated on (--data-dir, --trial, --log), or calibrate a new "
                "artifact on this file."
            )


def validation_spec(metadata: dict[str, Any], args: argparse.Namespace) -> DatasetSpec:
    """The spec an artifact was calibrated on, with its files where the command line says they are now."""
    record = metadata.get("dataset")
    if record is None:  # the built-in data set
        return builtin_spec(args.data_dir)
    record = {**record, "trial": dict(record["trial"]), "log": dict(record["log"])}
    if args.data_dir is not None:
        for part in ("trial", "log"):
            record[part]["path"] = str(Path(args.data_dir) / Path(record[part]["path"]).name)
    for part in ("trial", "log"):
        if getattr(args, part, None) is not None:
            record[part]["path"] = str(getattr(args, part))
    return validate_spec(record, source="the artifact's dataset record")


def validate_command(args: argparse.Namespace) -> int:
    """``journeygym validate``: the trial replayed and the plausibility checks; exit 1 when any fails."""
    draws = load_artifact(args.artifact)
    spec = validation_spec(draws.metadata, args)
    check_data_hashes(draws.metadata.get("data_sha256") or {}, [Path(spec.trial.path), Path(spec.log.path)])
    inputs = calibration_inputs(spec, seed=int(draws.metadata.get("seed") or 0))
    applies = draws.metadata.get("fatigue_anchor", True) is not None
    checked = validate_draws(draws, inputs.trial, args.seed, frequency_applies=applies)
    table, by_recency, share, report = checked.table, checked.by_recency, checked.coverage, checked.plausibility
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    trial_ok = share >= REQUIRED_COVERAGE
    print(f"\n{'PASS' if trial_ok else 'FAIL'}: observed rate inside the simulator's 90% posterior predictive interval in "
          f"{share:.1%} of {len(table)} cells (required {REQUIRED_COVERAGE:.0%}); {len(draws)} draws.")
    if by_recency is not None:
        with pd.option_context("display.width", 200, "display.max_rows", 200):
            print("\nBy recency (the control rates are matched per month; the e-mail's uplift by recency is not):")
            print(by_recency.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"by recency: observed rate inside the 90% predictive interval in {coverage(by_recency):.1%} of {len(by_recency)} "
              "cells (information: how the e-mail's effect spreads over engagement, checked against data it was not matched to)")
    scenario = draws.assumptions
    print(f"\nPlausibility over a year (carryover {scenario.carryover:g}; exact expectations per draw):")
    for line in report.lines():
        print(line)
    levels = draws.mean.carryover_levels
    others_ok = True
    for level in levels:
        if level == scenario.carryover:
            continue
        other = plausibility_report(draws, scenario.replace(carryover=level), seed=args.seed)
        ok = other.checks()[0][2]
        others_ok &= ok
        print(f"{'PASS' if ok else 'FAIL'}: carryover level {level:g}: {other.checks()[0][1]}")
    for line in measure_with_env(draws, n_customers=args.env_customers, seed=args.seed).lines():
        print(line)
    print(f"\nFrequency response (ASSUMPTIONS: fatigue memory {scenario.fatigue_memory:g}, kappa {scenario.kappa:g}, "
          f"p {scenario.fatigue_power:g}, trial fatigue {scenario.trial_fatigue:g}); e-mail everyone every k weeks, annual "
          "revenue over never, median [5%, 95%] over draws, then lift / weekly lift:")
    if not applies:
        print("(not anchored: the trial shows no effect of any arm; the rows report without failing)")
    print(f"carryover {scenario.carryover:g} (default; checked):")
    frequency = frequency_report(draws, seed=args.seed, applies=applies)
    for line in frequency.lines():
        print(line)
    for level in levels:
        if level == scenario.carryover:
            continue
        print(f"carryover {level:g} (information: the fatigue is anchored at the default carryover):")
        for line in frequency_report(draws, scenario.replace(carryover=level), seed=args.seed).table_lines():
            print(line)
    for line in measure_frequency_with_env(draws, n_customers=args.env_customers, seed=args.seed).lines():
        print(line)
    return 0 if trial_ok and report.passed() and others_ok and frequency.passed() else 1
