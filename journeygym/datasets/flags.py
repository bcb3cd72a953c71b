"""A dataset spec from command-line values: :func:`spec_from_flags` builds the same spec as the YAML form."""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Any

from journeygym.datasets.spec import DatasetSpec, validate_spec
from journeygym.errors import DataValidationError

__all__ = ["spec_from_flags"]


def _listed(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def _segment_flag(value: str | Mapping[str, Any] | None) -> Any:
    """``"history_segment"``, or ``"history:0,100,200"`` for a binned numeric column."""
    if not isinstance(value, str) or ":" not in value:
        return value
    column, _, bins = value.partition(":")
    try:
        edges = [float(b) for b in bins.split(",") if b.strip()]
    except ValueError:
        raise DataValidationError(
            f"trial.segment: received {value!r}, expected COLUMN or COLUMN:EDGES such as 'history:0,100,200'."
        ) from None
    return {"column": column.strip(), "bins": edges}


def _costs_flag(value: str | Mapping[str, float] | None) -> Any:
    """``"Mens E-Mail=0.1,default=0.05"`` or a mapping."""
    if not isinstance(value, str):
        return value
    costs: dict[str, Any] = {}
    for part in value.split(","):
        label, sep, cost = part.partition("=")
        if not sep:
            raise DataValidationError(
                f"assumptions.costs: received {part.strip()!r} in {value!r}, expected LABEL=COST pairs such as "
                "'Mens E-Mail=0.1,default=0.05'."
            )
        costs[label.strip()] = cost.strip()
    return costs


def _pruned(data: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping without None values (so the defaults apply), recursively."""
    out = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            value = _pruned(value)
        if value is not None:
            out[key] = value
    return out


def spec_from_flags(
    *,
    trial: str | os.PathLike[str],
    treatment: str,
    control: str | int | float,
    conversion: str,
    window_weeks: float,
    log: str | os.PathLike[str],
    arms: str | Sequence[str] | None = None,
    visit: str | None = None,
    spend: str | None = None,
    covariates: str | Sequence[str] | None = None,
    categorical: str | Sequence[str] | None = None,
    segment: str | Mapping[str, Any] | None = None,
    recency: str | None = None,
    recency_unit: str | None = None,
    trial_customer_id: str | None = None,
    trial_separator: str | None = None,
    log_customer_id: str | None = None,
    timestamp: str | None = None,
    amount: str | None = None,
    time_format: str | None = None,
    log_separator: str | None = None,
    log_columns: str | Sequence[str] | None = None,
    header: bool | None = None,
    nonpositive: str | None = None,
    outlying_dates: str | None = None,
    linked: bool | None = None,
    trial_date: str | datetime.date | None = None,
    margin: float | None = None,
    costs: str | Mapping[str, float] | None = None,
) -> DatasetSpec:
    """Build a spec from command-line values; None leaves a key at its default.

    Each argument sets the spec key of its name (``trial_customer_id`` ->
    ``trial.customer_id``, ``log_columns`` -> ``log.columns``, ...).  List
    values may be comma-separated text (``"V1,V2"``); ``segment`` may be
    ``"COLUMN:EDGES"`` for a binned numeric column (``"history:0,100,200"``);
    ``costs`` may be ``"LABEL=COST,..."``.  Paths are taken as given
    (relative to the working directory).

    Raises
    ------
    DataValidationError
        As :func:`validate_spec`, naming the spec keys.
    """
    data = {
        "trial": {
            "path": str(trial),
            "separator": trial_separator,
            "treatment": treatment,
            "control": control,
            "arms": _listed(arms),
            "window_weeks": window_weeks,
            "outcomes": {"conversion": conversion, "visit": visit, "spend": spend},
            "covariates": _listed(covariates),
            "categorical": _listed(categorical),
            "segment": _segment_flag(segment),
            "recency": None if recency is None else {"column": recency, "unit": recency_unit},
            "customer_id": trial_customer_id,
        },
        "log": {
            "path": str(log),
            "customer_id": log_customer_id,
            "timestamp": timestamp,
            "amount": amount,
            "time_format": time_format,
            "separator": log_separator,
            "columns": _listed(log_columns),
            "header": header,
            "nonpositive": nonpositive,
            "outlying_dates": outlying_dates,
        },
        "linked": linked,
        "trial_date": trial_date,
        "assumptions": {"margin": margin, "costs": _costs_flag(costs)},
    }
    return validate_spec(_pruned(data), source="dataset flags")
