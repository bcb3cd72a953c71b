"""Uplift trials from tables: any randomized trial in a data frame, and the Hillstrom trial."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from journeygym.arguments import option_setting
from journeygym.errors import DataValidationError
from journeygym.calibration.uplift.trial import UpliftTrial
from journeygym.calibration.inputs import CalibrationTrial
from journeygym.datasets.hillstrom_columns import COVARIATE_NAMES, DESIGN_COLUMNS, HISTORY_SEGMENTS, table_design

__all__ = ["require_columns", "trial_from_calibration", "trial_from_frame", "trial_from_hillstrom"]


def require_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Raise :class:`DataValidationError` naming the columns ``frame`` lacks, with the closest names it has.

    Parameters
    ----------
    frame
        The table received.
    columns
        The columns it must have.
    where
        What needs them, to start the message.
    """
    missing = [column for column in columns if column not in frame.columns]
    if not missing:
        return
    received = [str(column) for column in frame.columns]
    hints = []
    for column in missing:
        close = _closest(str(column), received)
        hints.append(f"{column!r}" + (f" (did you mean {close!r}?)" if close else ""))
    raise DataValidationError(f"{where}: missing column(s) {', '.join(hints)}; the table has {received}.")


def _closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like ``name``, ignoring case, if any is close."""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _first_rows(mask: np.ndarray, index: pd.Index) -> list[Any]:
    return [_plain(v) for v in index[np.flatnonzero(mask)[:5]]]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _check_no_missing(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    problems = []
    for column in columns:
        missing = frame[column].isna().to_numpy()
        if missing.any():
            problems.append(f"{column!r}: {int(missing.sum())} missing, first at row(s) {_first_rows(missing, frame.index)}")
    if problems:
        raise DataValidationError("Missing values in the trial table: " + "; ".join(problems) + ". Fill or drop those rows.")


def _binary_outcome(series: pd.Series) -> np.ndarray:
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(series):
        return values.astype(np.int64)
    levels = pd.unique(series)
    if pd.api.types.is_numeric_dtype(series) and set(np.asarray(levels, dtype=np.float64).tolist()) <= {0.0, 1.0}:
        return values.astype(np.int64)
    shown = [_plain(v) for v in levels[:10]]
    raise DataValidationError(
        f"Outcome column {series.name!r} must be binary (0/1 or True/False); received {len(levels)} level(s) {shown}. "
        "Recode it, e.g. df[col] = (df[col] == 'yes').astype(int)."
    )


def _arm_levels(series: pd.Series, control: Any) -> list[Any]:
    levels = list(pd.unique(series))
    shown = [_plain(v) for v in levels]
    if len(levels) < 2:
        raise DataValidationError(
            f"Treatment column {series.name!r} has a single level {shown}; an uplift analysis needs a control and at "
            "least one treatment arm."
        )
    if control is None:
        numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
        if numeric and set(np.asarray(levels, dtype=np.float64).tolist()) == {0.0, 1.0}:
            control = levels[[float(v) for v in levels].index(0.0)]
        elif "No E-Mail" in levels:
            control = "No E-Mail"
        else:
            raise DataValidationError(
                f"Treatment column {series.name!r} has levels {shown}; name the control level with "
                f"{option_setting('control', metavar='LEVEL')}."
            )
    matches = [level for level in levels if _same_level(level, control)]
    if not matches:
        raise DataValidationError(f"{option_setting('control', control)} is not a level of {series.name!r}; its levels are {shown}.")
    rest = sorted((level for level in levels if not _same_level(level, matches[0])), key=_sort_key)
    return [matches[0], *rest]


def _same_level(level: Any, control: Any) -> bool:
    """Whether a column level equals the control given (also as text, e.g. ``"2"`` for 2 from the CLI)."""
    if level == control or str(level) == str(control):
        return True
    try:
        return float(level) == float(control)
    except (TypeError, ValueError):
        return False


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else (1, str(value))


def _codes(series: pd.Series, levels: Sequence[Any]) -> np.ndarray:
    lookup = {level: k for k, level in enumerate(levels)}
    return series.map(lookup).to_numpy(dtype=np.int64)


def _covariate_block(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64)[:, None], [str(series.name)]
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise DataValidationError(f"Covariate {series.name!r} holds infinite values; received {values[~np.isfinite(values)][:5].tolist()}.")
        return values[:, None], [str(series.name)]
    if isinstance(series.dtype, pd.CategoricalDtype):
        levels = [level for level in series.cat.categories if (series == level).any()]
    else:
        levels = sorted(pd.unique(series), key=_sort_key)
    if len(levels) < 2:
        raise DataValidationError(f"Covariate {series.name!r} has a single level {levels}; drop it.")
    columns = np.column_stack([(series == level).to_numpy(dtype=np.float64) for level in levels[1:]])
    return columns, [f"{series.name}[{level}]" for level in levels[1:]]


def trial_from_frame(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    segment: str | None = None,
    covariates: Sequence[str] | None = None,
    control: Any = None,
) -> UpliftTrial:
    """Build an :class:`UpliftTrial` from a table of any randomized trial.

    Parameters
    ----------
    frame
        One row per randomized unit.
    treatment
        Column of the assigned arm (binary or multi-arm).
    outcome
        Column of the binary outcome (0/1 or True/False).
    segment
        Optional column whose levels get their own treatment effects.
    covariates
        Optional pre-treatment columns: numeric ones enter as they are,
        categorical ones as indicators of every level but the first.
    control
        The control level of ``treatment``. Optional when the column is 0/1
        (control 0) or holds ``"No E-Mail"`` (the Hillstrom control).

    Returns
    -------
    UpliftTrial

    Raises
    ------
    DataValidationError
        Missing columns, missing values, a non-binary outcome, a single arm,
        an unknown or missing control level, a constant covariate.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataValidationError(f"Expected a pandas DataFrame; received {type(frame).__name__}.")
    covariates = list(covariates or [])
    named = [treatment, outcome, *([segment] if segment is not None else []), *covariates]
    require_columns(frame, named, "trial table")
    if len(frame) == 0:
        raise DataValidationError("The trial table has no rows.")
    leaking = [column for column in covariates if column in (treatment, outcome)]
    if leaking:
        raise DataValidationError(f"Covariates {leaking} repeat the treatment or outcome column; use pre-treatment columns only.")
    if segment is not None and segment in (treatment, outcome):
        raise DataValidationError(
            f"{option_setting('segment', segment)} is the treatment or outcome column; pick a pre-treatment column."
        )
    _check_no_missing(frame, list(dict.fromkeys(named)))
    y = _binary_outcome(frame[outcome])
    arm_levels = _arm_levels(frame[treatment], control)
    arm = _codes(frame[treatment], arm_levels)
    segment_codes, segment_names = None, None
    if segment is not None:
        segment_levels = sorted(pd.unique(frame[segment]), key=_sort_key)
        segment_codes, segment_names = _codes(frame[segment], segment_levels), [str(v) for v in segment_levels]
    blocks, names = [], []
    for column in covariates:
        values, labels = _covariate_block(frame[column])
        blocks.append(values)
        names.extend(labels)
    return UpliftTrial(
        outcome=y,
        arm=arm,
        segment=segment_codes,
        covariates=np.column_stack(blocks) if blocks else None,
        covariate_names=names,
        arm_names=[str(v) for v in arm_levels],
        segment_names=segment_names,
        outcome_name=str(outcome),
    )


def trial_from_hillstrom(
    table: pd.DataFrame,
    outcome: Literal["visit", "conversion"] = "conversion",
    arms: Literal["split", "any"] = "split",
) -> UpliftTrial:
    """The Hillstrom trial as an :class:`UpliftTrial` on the simulator's covariate design.

    Parameters
    ----------
    table
        Output of :func:`journeygym.datasets.hillstrom.load_hillstrom`.
    outcome
        ``"visit"`` or ``"conversion"``.
    arms
        ``"split"``: arms No E-Mail, Mens E-Mail, Womens E-Mail; ``"any"``:
        No E-Mail versus any e-mail.

    Returns
    -------
    UpliftTrial
        Segments are the seven history segments; covariates are
        :func:`journeygym.datasets.hillstrom_columns.design_matrix` (``COVARIATE_NAMES``).
    """
    if outcome not in ("visit", "conversion"):
        raise DataValidationError(f"trial_from_hillstrom: outcome must be 'visit' or 'conversion'; received {outcome!r}.")
    if arms not in ("split", "any"):
        raise DataValidationError(f"trial_from_hillstrom: arms must be 'split' or 'any'; received {arms!r}.")
    required = (*DESIGN_COLUMNS, "segment_idx", "arm", outcome)
    require_columns(table, required, "trial_from_hillstrom (load the table with load_hillstrom)")
    covariates = table_design(table)
    arm = table["arm"].to_numpy()
    arm_names: tuple[str, ...] = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    if arms == "any":
        arm, arm_names = (arm > 0).astype(np.int64), ("No E-Mail", "Any E-Mail")
    return UpliftTrial(
        outcome=table[outcome].to_numpy(),
        arm=arm,
        segment=table["segment_idx"].to_numpy(),
        covariates=covariates,
        covariate_names=COVARIATE_NAMES,
        arm_names=arm_names,
        segment_names=HISTORY_SEGMENTS,
        outcome_name=outcome,
    )


def trial_from_calibration(trial: CalibrationTrial, outcome: str) -> UpliftTrial:
    """A calibration trial (:class:`~journeygym.calibration.inputs.CalibrationTrial`) as an :class:`UpliftTrial` of ``outcome``.

    Segments, covariates and arm names are the trial's; ``outcome`` is one it recorded.
    """
    if outcome not in trial.outcomes:
        raise DataValidationError(
            f"trial_from_calibration: received outcome {outcome!r}, expected one the trial recorded: {list(trial.outcomes)}."
        )
    frame = trial.frame
    return UpliftTrial(
        outcome=frame[outcome].to_numpy(),
        arm=frame["arm"].to_numpy(),
        segment=frame["segment_idx"].to_numpy(),
        covariates=trial.design,
        covariate_names=tuple(trial.covariate_names),
        arm_names=tuple(trial.arm_labels),
        segment_names=tuple(trial.segment_labels),
        outcome_name=outcome,
    )
