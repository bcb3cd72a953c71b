"""The dataset specification: which files and columns a simulator is calibrated from.

A dataset is a randomized trial (one row per customer: the arm, the outcomes
over a window after the send, covariates) and a transaction log (one row per
purchase).  :class:`DatasetSpec` names the files, the columns and the
assumptions that the data cannot tell (margin, cost of each action); it is
written as YAML (:func:`load_spec`) or built from command-line values
(:func:`~journeygym.datasets.flags.spec_from_flags`), and :func:`dataset_json_schema` is its JSON Schema.

Every problem of a spec becomes one line of a
:class:`~journeygym.errors.DataValidationError` that names the key, what was
received and what was expected, e.g. ``trial.window_weeks: received 0,
expected a number of weeks > 0.``  Whether the named columns exist and hold
what they should is checked when the data are loaded
(:mod:`journeygym.datasets.trial`, :mod:`journeygym.datasets.log`).
"""

from __future__ import annotations

import datetime
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, ValidationError, WithJsonSchema
from pydantic import model_validator

from journeygym.datasets.problems import Expect, received, rule, spec_problems
from journeygym.errors import DataValidationError

__all__ = [
    "AssumptionsSpec",
    "BinnedSegment",
    "DatasetSpec",
    "LogSpec",
    "OutcomesSpec",
    "RecencySpec",
    "TrialSpec",
    "dataset_json_schema",
    "label_text",
    "load_spec",
    "validate_spec",
]


def label_text(value: object) -> str:
    """A treatment label as text: integral numbers without a decimal point (``0``, ``0.0`` -> ``"0"``)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _label(value: Any) -> Any:
    return label_text(value) if isinstance(value, (str, int, float)) else value


_Column = Annotated[str, Field(min_length=1), Expect("a column name")]
_Label = Annotated[
    str,
    BeforeValidator(_label),
    WithJsonSchema({"type": ["string", "integer", "number", "boolean"]}),
    Expect("a label of the treatment column (text or number)"),
]
_Columns = Annotated[list[_Column], Expect("a list of column names")]
_Path = Annotated[Path, Expect("a file path (relative paths are relative to the spec file)")]
_Separator = Annotated[
    Optional[str],
    Field(min_length=1),
    Expect("a field separator such as ',' or ';', 'whitespace', or null to detect it"),
]
_Handling = Literal["error", "drop", "keep"]


def _duplicates(values: Sequence[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutcomesSpec(_Section):
    """The trial's outcome columns over the window after the send."""

    conversion: Annotated[_Column, Expect("the column of the 0/1 conversion outcome")] = Field(
        description="column of the conversion outcome (0/1), required"
    )
    visit: Optional[_Column] = Field(None, description="column of the visit outcome (0/1); null: visits are not calibrated")
    spend: Optional[_Column] = Field(None, description="column of the spend outcome (>= 0); null: spend comes from the log")


class BinnedSegment(_Section):
    """A numeric column cut into segments at lower edges: ``[b0, b1)``, ``[b1, b2)``, ..., ``>= bn``."""

    column: _Column = Field(description="numeric column to cut")
    bins: Annotated[
        list[Annotated[float, Expect("a number")]],
        Field(min_length=1),
        Expect("a list of increasing lower edges, e.g. [0, 100, 200]"),
    ] = Field(description="increasing lower edges of the segments; a value below the first edge is an error")

    @model_validator(mode="after")
    def _increasing(self) -> BinnedSegment:
        if any(b <= a for a, b in zip(self.bins, self.bins[1:])):
            raise rule(f"trial.segment.bins: received {self.bins}, expected strictly increasing edges such as [0, 100, 200].")
        return self


def _segment_form(value: Any) -> str:
    return "binned" if isinstance(value, (Mapping, BinnedSegment)) else "column-name"


_Segment = Annotated[
    Union[Annotated[_Column, Tag("column-name")], Annotated[BinnedSegment, Tag("binned")]],
    Discriminator(_segment_form),
    Expect("a column name, or {column: NAME, bins: [EDGES]}"),
]


class RecencySpec(_Section):
    """Time since each trial customer's last purchase before the send."""

    column: _Column = Field(description="column of the recency")
    unit: Annotated[Literal["days", "weeks", "months"], Expect("one of days, weeks, months")] = Field(
        description="unit of the column"
    )


class TrialSpec(_Section):
    """The randomized trial: one row per customer."""

    path: _Path = Field(description="the trial file (delimited text with a header row)")
    separator: _Separator = Field(None, description="field separator; null: detected from the file")
    treatment: _Column = Field(description="column of the arm each customer was randomized to")
    control: _Label = Field(description="the control label of the treatment column (compared as text: 0 and '0' are the same)")
    arms: Annotated[Optional[list[_Label]], Field(min_length=1), Expect("a list of treatment labels, or null")] = Field(
        None, description="labels of the arms, in order; null: every label other than the control, in order of appearance"
    )
    window_weeks: Annotated[float, Field(gt=0), Expect("a number of weeks > 0")] = Field(
        description="length of the outcome window after the send, in weeks"
    )
    outcomes: OutcomesSpec = Field(description="the outcome columns")
    covariates: Optional[_Columns] = Field(
        None, description="covariate columns; null: every other column except the treatment, the outcomes and the customer id"
    )
    categorical: Optional[_Columns] = Field(
        None, description="covariates to one-hot encode; columns that are not numeric are categorical in any case"
    )
    segment: Optional[_Segment] = Field(
        None, description="column (or binned numeric column) over which the arms' effects are partially pooled; null: none"
    )
    recency: Optional[RecencySpec] = Field(None, description="recency column and unit; null: none")
    customer_id: Optional[_Column] = Field(None, description="customer id column (never a covariate); with linked: true, the log's ids")
    design: Annotated[Literal["standard", "hillstrom"], Expect("standard or hillstrom")] = Field(
        "standard",
        description="how the covariates become the model's design: standard (numeric columns standardized, categorical "
        "one-hot with the first level as reference; the population is microaggregated profiles of the trial's "
        "customers); hillstrom (the built-in trial's published design: recency in months, log of past-year spend, "
        "Surburban and Multichannel as reference levels, a population of covariate cells with spend quantiles; only "
        "for the Hillstrom columns)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TrialSpec:
        if self.arms is not None:
            if self.control in self.arms:
                raise rule(f"trial.arms: received {self.arms}, which holds the control {self.control!r}; list only the arms.")
            if twice := _duplicates(self.arms):
                raise rule(f"trial.arms: received {self.arms}, which repeats {twice}; list each arm once.")
        outcomes = [c for c in (self.outcomes.conversion, self.outcomes.visit, self.outcomes.spend) if c is not None]
        roles = [("trial.treatment", self.treatment)] + [("trial.outcomes", c) for c in outcomes]
        if self.customer_id is not None:
            roles.append(("trial.customer_id", self.customer_id))
        if twice := _duplicates([column for _, column in roles]):
            raise rule(f"trial: the column(s) {twice} are named for two roles ({roles}); each role needs its own column.")
        for key, columns in (("trial.covariates", self.covariates), ("trial.categorical", self.categorical)):
            if columns is None:
                continue
            if twice := _duplicates(columns):
                raise rule(f"{key}: received {columns}, which repeats {twice}; list each column once.")
            if clash := [f"{role}: {column!r}" for role, column in roles if column in columns]:
                raise rule(f"{key}: received the column(s) of {clash}, which cannot be covariates; remove them from {key}.")
        if self.covariates is not None and self.categorical is not None:
            if extra := [c for c in self.categorical if c not in self.covariates]:
                raise rule(
                    f"trial.categorical: received {extra}, which are not in trial.covariates {self.covariates}; "
                    "add them to trial.covariates or remove them from trial.categorical."
                )
        return self


class LogSpec(_Section):
    """The transaction log: one row per purchase."""

    path: _Path = Field(description="the log file (delimited text)")
    customer_id: _Column = Field("customer_id", description="column of the customer id")
    timestamp: _Column = Field("timestamp", description="column of the purchase time (truncated to the day)")
    amount: _Column = Field("amount", description="column of the purchase amount")
    time_format: Annotated[Optional[str], Expect("a strftime format such as '%Y-%m-%d', or null")] = Field(
        None, description="strftime format of the time column; null: inferred"
    )
    separator: _Separator = Field(None, description="field separator ('whitespace' for blanks); null: detected from the file")
    columns: Optional[_Columns] = Field(None, description="names of the file's columns in order, for a file without a header row")
    header: Annotated[Optional[bool], Expect("true, false or null")] = Field(
        None,
        description="whether the first line is a header row; null: true without `columns`, else detected (a first "
        "line whose amount is not a number is a header)",
    )
    nonpositive: Annotated[_Handling, Expect("one of error, drop, keep")] = Field(
        "error", description="purchases of amount <= 0: error refuses them, drop removes them, keep keeps them"
    )
    outlying_dates: Annotated[_Handling, Expect("one of error, drop, keep")] = Field(
        "error", description="rows dated far outside the bulk of the log (mistyped years): error, drop or keep"
    )

    @model_validator(mode="after")
    def _consistent(self) -> LogSpec:
        roles = {"log.customer_id": self.customer_id, "log.timestamp": self.timestamp, "log.amount": self.amount}
        if len(set(roles.values())) < len(roles):
            raise rule(f"log: {roles} must name three different columns.")
        if self.columns is None and self.header is False:
            raise rule("log.header: received false without log.columns; name the file's columns in log.columns.")
        if self.columns is not None:
            if twice := _duplicates(self.columns):
                raise rule(f"log.columns: received {self.columns}, which repeats {twice}; name each column once.")
            if missing := [f"{key}: {c!r}" for key, c in roles.items() if c not in self.columns]:
                raise rule(f"log.columns: received {self.columns}, which lacks {missing}; name those columns in log.columns.")
        return self


class AssumptionsSpec(_Section):
    """What the data cannot tell: the profit margin and the cost of each action."""

    margin: Annotated[float, Field(gt=0, le=1), Expect("a share of spend kept as profit, in (0, 1]")] = Field(
        0.30, description="share of spend kept as profit, in (0, 1]"
    )
    costs: Annotated[
        dict[str, Annotated[float, Field(ge=0), Expect("a cost >= 0 per send")]],
        Expect("a mapping of arm labels (or default) to costs >= 0"),
    ] = Field(
        default_factory=lambda: {"default": 0.05},
        description="cost of each arm when sent, by arm label; `default` for the arms not named (the control costs 0 "
        "unless named)",
    )


class DatasetSpec(_Section):
    """A trial and a transaction log to calibrate a simulator from, with the assumptions the data cannot tell."""

    trial: TrialSpec = Field(description="the randomized trial")
    log: LogSpec = Field(description="the transaction log")
    linked: Annotated[bool, Expect("true or false")] = Field(False, description="true: the trial's customers are in the log")
    trial_date: Annotated[Optional[datetime.date], Expect("an ISO date such as 2008-03-01, or null")] = Field(
        None, description="date of the trial's send (ISO); required when linked is true"
    )
    assumptions: AssumptionsSpec = Field(default_factory=AssumptionsSpec, description="margin and costs")

    @model_validator(mode="after")
    def _linked(self) -> DatasetSpec:
        if self.linked and self.trial.customer_id is None:
            raise rule(
                "trial.customer_id: received null with linked: true, expected the column of the customer ids that the "
                "log uses; set trial.customer_id, or set linked: false."
            )
        if self.linked and self.trial_date is None:
            raise rule(
                "trial_date: received null with linked: true, expected the send date (e.g. 2008-03-01) to read each "
                "customer's state from the log; set trial_date, or set linked: false."
            )
        return self


# ---------------------------------------------------------------- building a spec


def _resolve(path: Path, base_dir: Path | None) -> Path:
    path = path.expanduser()
    return path if base_dir is None or path.is_absolute() else Path(base_dir) / path


def validate_spec(
    data: Mapping[str, Any], *, source: str = "dataset spec", base_dir: str | os.PathLike[str] | None = None
) -> DatasetSpec:
    """Validate a spec given as a mapping (as read from YAML).

    Parameters
    ----------
    data
        The spec's keys and values.
    source
        How messages name the spec (e.g. its file).
    base_dir
        Directory that relative data paths are relative to; None leaves them as given.

    Raises
    ------
    DataValidationError
        Listing every problem found, each with its key path.
    """
    if not isinstance(data, Mapping):
        raise DataValidationError(
            f"{source}: received {received(data)}, expected a mapping with the keys {list(DatasetSpec.model_fields)}."
        )
    try:
        spec = DatasetSpec.model_validate(dict(data))
    except ValidationError as exc:
        problems = spec_problems(exc, DatasetSpec)
        if len(problems) == 1:
            raise DataValidationError(f"{source}: {problems[0]}") from None
        raise DataValidationError(f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems)) from None
    base = None if base_dir is None else Path(base_dir)
    return spec.model_copy(
        update={
            "trial": spec.trial.model_copy(update={"path": _resolve(spec.trial.path, base)}),
            "log": spec.log.model_copy(update={"path": _resolve(spec.log.path, base)}),
        }
    )


def load_spec(path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None = None) -> DatasetSpec:
    """Read a dataset spec from a YAML file.

    Parameters
    ----------
    path
        The YAML file.
    base_dir
        Directory that relative data paths in the file are relative to;
        default: the spec file's directory.

    Returns
    -------
    DatasetSpec
        With the data paths resolved.

    Raises
    ------
    DataValidationError
        If the file is missing, not YAML, or its keys or values are invalid.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataValidationError(
            f"dataset spec {str(path)!r}: no such file (resolved to {str(path.resolve())!r}); expected a YAML file. "
            "Check the path."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataValidationError(f"dataset spec {str(path)!r}: not valid YAML: {exc}. Fix the file's syntax.") from None
    return validate_spec(data, source=f"dataset spec {str(path)!r}", base_dir=path.parent if base_dir is None else base_dir)


def dataset_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a dataset spec file, for editors and other tools.

    It states the form of every key; whether the columns exist and hold what
    they should is checked when the data are loaded.
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **DatasetSpec.model_json_schema()}
