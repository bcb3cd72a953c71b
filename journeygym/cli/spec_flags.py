"""The dataset spec on the command line: ``--spec FILE`` or its keys as flags (``journeygym calibrate``).

Kept apart from :mod:`journeygym.cli.calibrate` so that building the parser
imports no part of the calibration pipeline.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from journeygym.errors import DataValidationError

if TYPE_CHECKING:
    from journeygym.datasets.spec import DatasetSpec

#: The flags that build a spec (``--trial ...``), by the :func:`~journeygym.datasets.flags.spec_from_flags` argument they set.
SPEC_FLAGS: dict[str, str] = {
    "trial": "the trial file (CSV)",
    "treatment": "the trial's treatment column",
    "control": "the control label of the treatment column",
    "conversion": "the trial's 0/1 conversion column",
    "window_weeks": "weeks of the outcome window after the send",
    "log": "the transaction log file",
    "arms": "arm labels in order, comma-separated (default: every label but the control)",
    "visit": "the trial's 0/1 visit column (optional)",
    "spend": "the trial's spend column (optional)",
    "covariates": "covariate columns, comma-separated (default: every other column)",
    "categorical": "covariates to one-hot encode, comma-separated",
    "segment": "segment column, or COLUMN:EDGES to bin a numeric column",
    "recency": "recency column (with --recency-unit)",
    "recency_unit": "days, weeks or months",
    "trial_customer_id": "the trial's customer id column",
    "log_customer_id": "the log's customer id column (default customer_id)",
    "timestamp": "the log's time column (default timestamp)",
    "amount": "the log's amount column (default amount)",
    "time_format": "strftime format of the log's time column",
    "nonpositive": "log amounts <= 0: error, drop or keep",
    "margin": "ASSUMPTION: profit share of spend (default 0.30)",
    "costs": "ASSUMPTION: cost per send, LABEL=COST,...,default=COST",
}
_FLAG_ALIASES = {"log_customer_id": "log-customer-col", "timestamp": "log-time-col", "amount": "log-amount-col"}


def add_spec_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--spec`` and the spec's keys as flags to ``parser``."""
    parser.add_argument("--spec", default=None, help="dataset spec (YAML) of your own trial and log; paths relative to the file")
    group = parser.add_argument_group("the dataset spec as flags (instead of --spec)")
    for name, help_text in SPEC_FLAGS.items():
        flag = "--" + _FLAG_ALIASES.get(name, name.replace("_", "-"))
        kind: Any = float if name in ("window_weeks", "margin") else str
        group.add_argument(flag, dest=f"spec_{name}", type=kind, default=None, metavar=name.upper(), help=help_text)


def spec_from_arguments(args: argparse.Namespace) -> DatasetSpec:
    """The dataset spec the command line names: ``--spec``, the flags, or the built-in spec in ``--data-dir``."""
    flags = {name: getattr(args, f"spec_{name}", None) for name in SPEC_FLAGS}
    given = {name: value for name, value in flags.items() if value is not None}
    from journeygym.datasets.builtin import builtin_spec
    from journeygym.datasets.flags import spec_from_flags
    from journeygym.datasets.spec import load_spec

    if getattr(args, "spec", None) is not None:
        if given:
            raise DataValidationError(
                f"received --spec and the spec flags {sorted(given)}; expected one of them. Put the keys in the spec file, "
                "or drop --spec."
            )
        return load_spec(args.spec)
    if given:
        required = ("trial", "treatment", "control", "conversion", "window_weeks", "log")
        if missing := [f"--{name.replace('_', '-')}" for name in required if name not in given]:
            raise DataValidationError(
                f"the spec flags need {missing} as well; received {sorted(given)}. Give them, or write a spec file (--spec)."
            )
        return spec_from_flags(**given)
    return builtin_spec(args.data_dir)
