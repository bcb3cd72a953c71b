"""Loading a spec's randomized trial: :func:`load_trial` checks every column and returns :class:`TrialData`.

Categorical covariates
----------------------
A covariate is categorical when ``trial.categorical`` lists it, or when its
column is not numeric (text, mixed): such a column cannot be standardized.
An integer-coded category (a region code 1..5, say) is numeric unless listed
in ``trial.categorical``; a 0/1 column is the same either way up to scale.
The inferred ones are reported in :attr:`TrialData.choices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from journeygym.datasets.encoding import MAX_LEVELS, CovariateEncoding, fit_encoding, level_text, python_identifiers
from journeygym.datasets.reading import customer_ids, existing_file, file_sha256, missing_columns_error, resolve_separator
from journeygym.datasets.spec import BinnedSegment, DatasetSpec, label_text
from journeygym.datasets.hillstrom_columns import WEEKS_PER_MONTH
from journeygym.errors import DataValidationError
from journeygym.messages import did_you_mean

__all__ = ["MIN_ARM_ROWS", "TrialData", "load_trial"]

#: Every arm (the control included) needs at least this many rows to estimate its rates.
MIN_ARM_ROWS = 30
_WEEKS_PER_UNIT = {"days": 1 / 7, "weeks": 1.0, "months": WEEKS_PER_MONTH}
_MAX_EXAMPLES = 5
_FIRST_DATA_LINE = 2  # the header is line 1


@dataclass(frozen=True)
class TrialData:
    """A validated trial, one entry per row of the file.

    Attributes
    ----------
    path, sha256
        The file and the SHA-256 of its bytes.
    window_weeks
        Length of the outcome window after the send, in weeks.
    arm
        Arm code of each row (int64): 0 the control, 1..K the arms in the spec's order.
    arm_labels, arm_ids
        Label of each code as in the file (text) and as a unique lower-case
        Python identifier (``"Mens E-Mail"`` -> ``"mens_e_mail"``).
    arm_costs
        Cost of each code when sent (``assumptions.costs``; the control 0 unless named).
    conversion, visit
        0/1 outcomes (int64); ``visit`` None without a visit column.
    spend
        Spend over the window (float64), or None: spend then comes from the log.
    design, encoding
        Covariate design matrix (float64) and how it was built
        (:class:`~journeygym.datasets.encoding.CovariateEncoding`).
    segment, segment_labels
        Segment code of each row (int64) and the label of each code, or None.
    recency_weeks
        Time since the last purchase before the send, in weeks, or None.
    customer_id
        Customer ids (int64 when every id is an integer, else text), or None.
    choices
        Human-readable lines on what was inferred or left out.
    """

    path: Path
    sha256: str
    window_weeks: float
    arm: np.ndarray
    arm_labels: tuple[str, ...]
    arm_ids: tuple[str, ...]
    arm_costs: tuple[float, ...]
    conversion: np.ndarray
    visit: np.ndarray | None
    spend: np.ndarray | None
    design: np.ndarray
    encoding: CovariateEncoding
    segment: np.ndarray | None
    segment_labels: tuple[str, ...] | None
    recency_weeks: np.ndarray | None
    customer_id: np.ndarray | None
    choices: tuple[str, ...]

    @property
    def n_rows(self) -> int:
        return len(self.arm)

    @property
    def design_columns(self) -> tuple[str, ...]:
        return self.encoding.columns

    def arm_counts(self) -> np.ndarray:
        """Rows per arm code."""
        return np.bincount(self.arm, minlength=len(self.arm_labels))


def _lines(mask: np.ndarray) -> list[int]:
    return (np.flatnonzero(mask)[:_MAX_EXAMPLES] + _FIRST_DATA_LINE).tolist()


def _complete(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    values = frame[column]
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"{key}: column {column!r} has {int(missing.sum())} missing value(s) (e.g. at lines {_lines(missing)}), "
            f"expected a value in every row. Fill or drop those rows."
        )
    return values


def _read(spec: DatasetSpec) -> pd.DataFrame:
    trial = spec.trial
    path = existing_file(trial.path, "trial.path")
    sep = resolve_separator(trial.separator, path, "trial.path")
    try:
        header = pd.read_csv(path, sep=sep, nrows=0)
        # Labels are read as text: "0", "No", ...; they are normalized in _arms.
        return pd.read_csv(path, sep=sep, dtype={trial.treatment: str} if trial.treatment in header.columns else None)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"trial.path: {str(path)!r} is empty; expected a header row and one row per customer.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"trial.path: could not parse {str(path)!r} as delimited text: {exc}. Expected a header row and one row "
            "per customer; set trial.separator if the separator is unusual."
        ) from None


def _named_columns(spec: DatasetSpec) -> list[tuple[str, str]]:
    trial = spec.trial
    named = [("trial.treatment", trial.treatment), ("trial.outcomes.conversion", trial.outcomes.conversion)]
    named += [(f"trial.outcomes.{k}", c) for k, c in (("visit", trial.outcomes.visit), ("spend", trial.outcomes.spend)) if c]
    named += [(f"trial.covariates[{i}]", c) for i, c in enumerate(trial.covariates or [])]
    named += [(f"trial.categorical[{i}]", c) for i, c in enumerate(trial.categorical or [])]
    if trial.segment is not None:
        named.append(("trial.segment", trial.segment.column if isinstance(trial.segment, BinnedSegment) else trial.segment))
    if trial.recency is not None:
        named.append(("trial.recency.column", trial.recency.column))
    if trial.customer_id is not None:
        named.append(("trial.customer_id", trial.customer_id))
    return named


def _arms(spec: DatasetSpec, frame: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    trial = spec.trial
    raw = _complete(frame, "trial.treatment", trial.treatment).astype(str).str.strip()
    numbers = pd.to_numeric(raw, errors="coerce")
    labels = numbers.map(label_text) if numbers.notna().all() else raw
    found = list(pd.unique(labels))
    counts = labels.value_counts()
    seen = [f"{label!r} ({counts[label]} rows)" for label in found]
    if trial.control not in found:
        yaml_hint = (
            " YAML reads unquoted yes/no/on/off as true/false: quote the label (control: \"No\")."
            if trial.control in ("True", "False") else ""
        )
        raise DataValidationError(
            f"trial.control: received {trial.control!r}{did_you_mean(trial.control, found)}, which is not a label of "
            f"column {trial.treatment!r}; the labels found are {seen[:20]}. Set trial.control to the control's label."
            f"{yaml_hint}"
        )
    if len(found) < 2:
        raise DataValidationError(
            f"trial.treatment: column {trial.treatment!r} holds one label only ({seen[0]}), expected the control and "
            "at least one arm. Check the column, or that the file holds the whole trial."
        )
    others = [label for label in found if label != trial.control]
    arms = list(trial.arms) if trial.arms is not None else others
    if absent := [a for a in arms if a not in found]:
        raise DataValidationError(
            f"trial.arms: received {absent}, which are not labels of column {trial.treatment!r}; the labels found "
            f"are {seen[:20]}. Correct trial.arms."
        )
    if unlisted := [label for label in others if label not in arms]:
        raise DataValidationError(
            f"trial.arms: column {trial.treatment!r} also holds {[f'{u!r} ({counts[u]} rows)' for u in unlisted][:20]}, "
            f"which is neither the control {trial.control!r} nor a listed arm ({arms}). Add them to trial.arms, or "
            "drop those rows from the file."
        )
    order = (trial.control, *arms)
    small = [f"{label!r} ({counts[label]} rows)" for label in order if counts[label] < MIN_ARM_ROWS]
    if small:
        raise DataValidationError(
            f"trial.treatment: the arm(s) {small} have fewer than {MIN_ARM_ROWS} rows, expected at least "
            f"{MIN_ARM_ROWS} per arm to estimate its rates. Merge or drop those arms, or use a larger trial."
        )
    code = pd.Series(range(len(order)), index=list(order))
    return labels.map(code).to_numpy(dtype=np.int64), order


def _binary(frame: pd.DataFrame, key: str, column: str) -> np.ndarray:
    values = _complete(frame, key, column)
    numbers = pd.to_numeric(values.astype(object) if values.dtype == bool else values, errors="coerce")
    bad = ~numbers.isin([0, 1]).to_numpy()
    if bad.any():
        found = sorted({level_text(v) for v in values[bad]})[:_MAX_EXAMPLES]
        raise DataValidationError(
            f"{key}: column {column!r} holds {found} in {int(bad.sum())} row(s) (e.g. at lines {_lines(bad)}), "
            "expected 0/1 values. Recode the column to 0 (no) and 1 (yes)."
        )
    return numbers.to_numpy(dtype=np.int64)


def _spend(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(_complete(frame, "trial.outcomes.spend", column), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        examples = frame[column][bad].head(_MAX_EXAMPLES).tolist()
        raise DataValidationError(
            f"trial.outcomes.spend: column {column!r} holds {examples} in {int(bad.sum())} row(s) (e.g. at lines "
            f"{_lines(bad)}), expected amounts >= 0. Correct those values, or set trial.outcomes.spend: null (spend "
            "then comes from the log)."
        )
    return values


def _covariates(spec: DatasetSpec, frame: pd.DataFrame, choices: list[str]) -> tuple[np.ndarray, CovariateEncoding]:
    trial = spec.trial
    if trial.covariates is None:
        excluded = {trial.treatment, trial.outcomes.conversion, trial.outcomes.visit, trial.outcomes.spend, trial.customer_id}
        columns = [str(c) for c in frame.columns if c not in excluded]
        choices.append(
            f"covariates not listed: every column except the treatment, the outcomes and the customer id "
            f"({len(columns)} columns)"
        )
    else:
        columns = list(trial.covariates)
    listed = set(trial.categorical or [])
    inferred = [c for c in columns if c not in listed and not pd.api.types.is_numeric_dtype(frame[c])]
    categorical = [c for c in columns if c in listed or c in inferred]
    numeric = [c for c in columns if c not in categorical]
    if inferred:
        choices.append(f"categorical inferred for: {', '.join(inferred)} (columns that are not numeric)")
    encoding = fit_encoding(frame, numeric, categorical, key="trial.covariates")
    references = [f"{c}={levels[0]}" for c, levels in zip(encoding.categorical, encoding.levels)]
    choices.append(
        f"covariates: {len(numeric)} numeric standardized, {len(categorical)} categorical one-hot"
        + (f" (reference levels {', '.join(references)})" if references else "")
        + f": {len(encoding.columns)} design columns"
    )
    return encoding.transform(frame), encoding


def _segment(spec: DatasetSpec, frame: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    segment = spec.trial.segment
    if not isinstance(segment, BinnedSegment):
        values = _complete(frame, "trial.segment", segment).map(level_text)
        labels = tuple(sorted(set(values)))
        if len(labels) > MAX_LEVELS:
            raise DataValidationError(
                f"trial.segment: column {segment!r} has {len(labels)} distinct values, expected at most {MAX_LEVELS} "
                f"segments. Cut a numeric column into segments with {{column: {segment}, bins: [EDGES]}}."
            )
        return values.map(pd.Series(range(len(labels)), index=list(labels))).to_numpy(dtype=np.int64), labels
    key = "trial.segment.column"
    values = pd.to_numeric(_complete(frame, key, segment.column), errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise DataValidationError(
            f"{key}: column {segment.column!r} holds values that are not numbers (e.g. at lines "
            f"{_lines(~np.isfinite(values))}), expected numbers to cut at trial.segment.bins."
        )
    edges = np.asarray(segment.bins)
    below = values < edges[0]
    if below.any():
        raise DataValidationError(
            f"trial.segment.bins: {int(below.sum())} row(s) of column {segment.column!r} lie below the first edge "
            f"{level_text(edges[0])} (smallest {level_text(values.min())}), expected every value >= the first edge. "
            f"Lower the first edge (e.g. to {level_text(np.floor(values.min()))})."
        )
    codes = np.searchsorted(edges, values, side="right") - 1
    text = [level_text(e) for e in edges]
    labels = tuple(f"[{a}, {b})" for a, b in zip(text, text[1:])) + (f">= {text[-1]}",)
    if empty := [labels[i] for i in range(len(labels)) if not (codes == i).any()]:
        raise DataValidationError(
            f"trial.segment.bins: the segment(s) {empty} of column {segment.column!r} hold no rows, expected rows in "
            "every segment. Remove or move those edges."
        )
    return codes.astype(np.int64), labels


def _recency(spec: DatasetSpec, frame: pd.DataFrame) -> np.ndarray:
    recency = spec.trial.recency
    key = "trial.recency.column"
    values = pd.to_numeric(_complete(frame, key, recency.column), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        raise DataValidationError(
            f"{key}: column {recency.column!r} holds {frame[recency.column][bad].head(_MAX_EXAMPLES).tolist()} "
            f"(e.g. at lines {_lines(bad)}), expected numbers of {recency.unit} >= 0. Correct those values."
        )
    return values * _WEEKS_PER_UNIT[recency.unit]


def _ids(spec: DatasetSpec, frame: pd.DataFrame, choices: list[str]) -> np.ndarray:
    column = spec.trial.customer_id
    ids = customer_ids(_complete(frame, "trial.customer_id", column))
    repeated = pd.Series(ids).duplicated(keep=False).to_numpy()
    if repeated.any():
        examples = pd.unique(ids[repeated])[:_MAX_EXAMPLES].tolist()
        message = f"column {column!r} repeats {int(repeated.sum())} id(s), e.g. {examples} at lines {_lines(repeated)}"
        if spec.linked:
            raise DataValidationError(
                f"trial.customer_id: {message}; expected one row per customer to link each to the log. Drop the "
                "repeated rows, or set linked: false."
            )
        choices.append(f"customer ids: {message} (allowed: unlinked)")
    if not spec.linked:
        choices.append(f"customer ids in {column!r} are identifiers only (not covariates); unlinked: not looked up in the log")
    return ids


def _costs(spec: DatasetSpec, labels: tuple[str, ...]) -> tuple[float, ...]:
    costs = spec.assumptions.costs
    if unknown := [k for k in costs if k != "default" and k not in labels]:
        raise DataValidationError(
            f"assumptions.costs: received the key(s) {unknown}{did_you_mean(unknown[0], labels)}, which are not arm "
            f"labels; expected labels of {list(labels)} or default. Correct the keys."
        )
    if "default" not in costs and (unpriced := [a for a in labels[1:] if a not in costs]):
        raise DataValidationError(
            f"assumptions.costs: received {costs}, which prices no cost for the arm(s) {unpriced}; expected a cost "
            "for every arm. Add them, or a default cost (default: 0.05)."
        )
    return (costs.get(labels[0], 0.0), *(costs.get(a, costs.get("default", 0.0)) for a in labels[1:]))


def load_trial(spec: DatasetSpec) -> TrialData:
    """Read and validate the trial that ``spec`` names.

    Parameters
    ----------
    spec
        The dataset spec (:func:`~journeygym.datasets.spec.load_spec`).

    Returns
    -------
    TrialData

    Raises
    ------
    DataValidationError
        Naming the spec key, the column or value, what was received and what
        was expected: a missing file or column, a control label not in the
        treatment column, one label only, an arm of fewer than
        :data:`MIN_ARM_ROWS` rows, an outcome that is not 0/1 or has missing
        values, a covariate that is constant, missing or has more than
        :data:`~journeygym.datasets.encoding.MAX_LEVELS` levels, repeated
        customer ids in a linked trial, or costs for unknown arms.
    """
    trial = spec.trial
    frame = _read(spec)
    frame.columns = [str(c) for c in frame.columns]
    if missing := [(key, c) for key, c in _named_columns(spec) if c not in frame.columns]:
        raise missing_columns_error(missing, list(frame.columns), trial.path)
    arm, labels = _arms(spec, frame)
    choices = [
        "arms: " + ", ".join(f"{code} = {label!r} ({n} rows)" for code, (label, n) in enumerate(zip(labels, np.bincount(arm))))
    ]
    conversion = _binary(frame, "trial.outcomes.conversion", trial.outcomes.conversion)
    visit = None if trial.outcomes.visit is None else _binary(frame, "trial.outcomes.visit", trial.outcomes.visit)
    if visit is None:
        choices.append("no visit column: the visit channel is not calibrated")
    spend = None if trial.outcomes.spend is None else _spend(frame, trial.outcomes.spend)
    if spend is None:
        choices.append("no spend column: spend comes from the log's amounts")
    design, encoding = _covariates(spec, frame, choices)
    segment, segment_labels = (None, None) if trial.segment is None else _segment(spec, frame)
    if segment_labels is None:
        choices.append("no segment: each arm's effect is estimated over all customers")
    recency = None if trial.recency is None else _recency(spec, frame)
    if recency is None:
        choices.append(
            "no recency and unlinked: start state from the log's state distribution"
            if not spec.linked
            else "no recency: the start state comes from each customer's log before trial_date"
        )
    ids = None if trial.customer_id is None else _ids(spec, frame, choices)
    return TrialData(
        path=trial.path,
        sha256=file_sha256(trial.path),
        window_weeks=trial.window_weeks,
        arm=arm,
        arm_labels=labels,
        arm_ids=python_identifiers(labels),
        arm_costs=_costs(spec, labels),
        conversion=conversion,
        visit=visit,
        spend=spend,
        design=design,
        encoding=encoding,
        segment=segment,
        segment_labels=segment_labels,
        recency_weeks=recency,
        customer_id=ids,
        choices=tuple(choices),
    )
