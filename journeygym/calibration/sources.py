"""From a dataset spec to :class:`~journeygym.calibration.inputs.CalibrationInputs` (docs/calibration.md, "Your own data").

:func:`calibration_inputs` loads and checks the spec's trial and log
(:func:`~journeygym.datasets.log.load_dataset`), then reduces the trial to what
the pipeline reads.  A spec with ``trial.design: hillstrom`` (the built-in one)
gets the built-in trial's published design; every other spec the standard one:

* arms: action 0 is no action, each arm an action named from its label;
* outcome window: whole weeks (a window of 1.5 weeks is simulated as 2);
* start profiles: with recency, recency in whole months 1..12 (longer recency
  counts as 12; only months that occur); without recency and unlinked, one
  profile, whose week-0 state is the log's state distribution; with
  ``linked: true`` and no recency, the months since each customer's last
  purchase in the log before ``trial_date`` (12 without one), each profile's
  state the mean of its customers' own filtered beliefs;
* segments: the spec's, else one;
* what the trial lacks is said in :attr:`CalibrationInputs.choices`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from journeygym.calibration.inputs import CalibrationInputs, CalibrationTrial
from journeygym.calibration.population import fit_profile_population
from journeygym.calibration.validation import RECENCY_BUCKETS
from journeygym.datasets.hillstrom import load_hillstrom
from journeygym.datasets.hillstrom_columns import (
    COVARIATE_NAMES,
    HISTORY_SEGMENTS,
    RECENCY_MONTHS,
    fit_hillstrom_population,
    table_design,
)
from journeygym.datasets.log import Dataset, load_dataset
from journeygym.datasets.spec import DatasetSpec
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.envs.population import WEEKS_PER_MONTH

__all__ = ["calibration_inputs", "hillstrom_trial", "recency_groups"]

#: Label of the one start profile of a trial without recency.
UNKNOWN_RECENCY = "recency unknown (the log's state distribution)"


def recency_groups(months: np.ndarray) -> np.ndarray:
    """The validation's recency group (:data:`~journeygym.calibration.validation.RECENCY_BUCKETS`) of each month 1..12."""
    edges = np.array([high for _, high in RECENCY_BUCKETS])
    return np.searchsorted(edges, months, side="left")


def _recency_labels() -> tuple[str, ...]:
    return tuple(f"recency {low}-{high}" for low, high in RECENCY_BUCKETS)


def calibration_inputs(spec: DatasetSpec, *, seed: int = 0) -> CalibrationInputs:
    """Load the spec's data and reduce it to the pipeline's inputs (module docstring).

    Raises
    ------
    DataValidationError
        As :func:`~journeygym.datasets.log.load_dataset`, naming the key, column or value.
    """
    dataset = load_dataset(spec)
    trial_path, log_path = Path(spec.trial.path), Path(spec.log.path)
    checksums = {trial_path.name: dataset.sha256["trial"], log_path.name: dataset.sha256["log"]}
    paths = {"trial": str(trial_path.resolve()), "log": str(log_path.resolve())}
    label = f"{trial_path.name} + {log_path.name}"
    if spec.trial.design == "hillstrom":
        trial = hillstrom_trial(load_hillstrom(trial_path))
        builtin = (trial_path.name, log_path.name) == ("hillstrom.csv", "cdnow_master.txt")
        label = "Hillstrom + CDNOW" if builtin else label
        record = None if builtin else spec.model_dump(mode="json")
    else:
        trial = _standard_trial(dataset, seed)
        record = spec.model_dump(mode="json")
    choices = list(dataset.choices)
    if trial.window_weeks != spec.trial.window_weeks:
        choices.append(f"outcome window: {spec.trial.window_weeks:g} weeks simulated as {trial.window_weeks} whole weeks")
    if not trial.has_visit:
        choices.append(
            "no visit column: the visit channel is not calibrated; the simulator counts a visit exactly in the weeks "
            "a customer purchases, and the e-mail's carryover is matched on conversions"
        )
    linked = spec.linked and spec.trial.design != "hillstrom"
    if linked and spec.trial.recency is not None:
        choices.append("linked with a recency column: the start state comes from the recency column, as unlinked")
    return CalibrationInputs(
        trial=trial,
        transactions=dataset.log,
        linked_ids=dataset.trial.customer_id if linked and trial.start_source == "linked" else None,
        trial_date=pd.Timestamp(spec.trial_date) if linked else None,
        checksums=checksums,
        label=label,
        margin=spec.assumptions.margin,
        dataset=record,
        data_paths=paths,
        choices=tuple(choices),
    )


def hillstrom_trial(table: pd.DataFrame) -> CalibrationTrial:
    """The built-in trial with its published design and cell population."""
    frame = pd.DataFrame(
        {
            "arm": table["arm"].to_numpy(dtype=np.int64),
            "conversion": table["conversion"].to_numpy(),
            "visit": table["visit"].to_numpy(),
            "spend": table["spend"].to_numpy(dtype=np.float64),
            "segment_idx": table["segment_idx"].to_numpy(dtype=np.int64),
            "start_idx": table["recency"].to_numpy(dtype=np.int64) - 1,
            "recency_group": recency_groups(table["recency"].to_numpy()),
        }
    )
    design = table_design(table)
    months = np.asarray(RECENCY_MONTHS)
    return CalibrationTrial(
        frame=frame,
        design=design,
        covariate_names=COVARIATE_NAMES,
        recency_covariate="recency",
        segment_labels=HISTORY_SEGMENTS,
        start_labels=tuple(f"recency {m} month{'s' if m > 1 else ''}" for m in months),
        start_weeks=np.rint(months * WEEKS_PER_MONTH).astype(np.int64),
        recency_group_labels=_recency_labels(),
        arm_labels=("No E-Mail", "Mens E-Mail", "Womens E-Mail"),
        arm_ids=DEFAULT_ACTION_NAMES,
        arm_costs=(0.0, 0.05, 0.05),
        window_weeks=2,
        population=fit_hillstrom_population(table),
    )


def _standard_trial(dataset: Dataset, seed: int) -> CalibrationTrial:
    """Any spec's trial with the standard design and a microaggregated population."""
    data, spec = dataset.trial, dataset.spec
    n = data.n_rows
    frame = pd.DataFrame({"arm": data.arm, "conversion": data.conversion})
    if data.visit is not None:
        frame["visit"] = data.visit
    if data.spend is not None:
        frame["spend"] = data.spend
    segment = np.zeros(n, dtype=np.int64) if data.segment is None else data.segment
    segment_labels = ("all",) if data.segment_labels is None else tuple(data.segment_labels)
    recency_covariate = None
    if data.recency_weeks is not None or spec.linked:
        if data.recency_weeks is not None:
            months_all = np.clip(np.rint(data.recency_weeks / WEEKS_PER_MONTH), 1, 12).astype(np.int64)
            label = "recency {m} month{s}"
            column = spec.trial.recency.column if spec.trial.recency is not None else None
            recency_covariate = column if column in data.design_columns else None
        else:
            months_all = _months_since_purchase(dataset.log, data.customer_id, pd.Timestamp(spec.trial_date))
            label = "{m} month{s} since the last purchase in the log"
        present = np.unique(months_all)
        start = np.searchsorted(present, months_all)
        start_labels = tuple(label.format(m=m, s="s" if m > 1 else "") for m in present)
        start_weeks = np.rint(present * WEEKS_PER_MONTH).astype(np.int64)
        frame["recency_group"] = recency_groups(months_all)
        group_labels = _recency_labels()
    else:
        start = np.zeros(n, dtype=np.int64)
        start_labels = (UNKNOWN_RECENCY,)
        start_weeks = np.array([_median_weeks_since_purchase(dataset.log)])
        frame["recency_group"] = -1
        group_labels = ()
    frame["segment_idx"] = segment
    frame["start_idx"] = start
    window = max(1, int(round(data.window_weeks)))
    population = fit_profile_population(
        data.design, segment, start, data.design_columns, segment_labels, start_labels, start_weeks, seed=seed
    )
    return CalibrationTrial(
        frame=frame,
        design=data.design,
        covariate_names=data.design_columns,
        recency_covariate=recency_covariate,
        segment_labels=segment_labels,
        start_labels=start_labels,
        start_weeks=start_weeks,
        recency_group_labels=group_labels,
        arm_labels=tuple(data.arm_labels),
        arm_ids=("no_action", *data.arm_ids[1:]),
        arm_costs=tuple(data.arm_costs),
        window_weeks=window,
        population=population,
        start_source="recency" if data.recency_weeks is not None else ("linked" if spec.linked else "log"),
        # The population's profiles average the trial's customers; matching on them keeps the simulator's
        # own customers on the matched rates and carryover.
        match_on_population=True,
    )


def _months_since_purchase(log: pd.DataFrame, ids: np.ndarray, trial_date: pd.Timestamp) -> np.ndarray:
    """Whole months 1..12 from each trial customer's last purchase in the log before ``trial_date`` (12 without one)."""
    before = log.loc[log["date"] < trial_date]
    last = before.groupby("customer_id")["date"].max()
    if ids.dtype.kind != last.index.dtype.kind:  # ids read as text on one side: compare as text
        last.index = last.index.astype(str)
        ids = ids.astype(str)
    weeks = (trial_date - last.reindex(ids)).dt.days.to_numpy(dtype=np.float64) / 7.0
    months = np.rint(weeks / WEEKS_PER_MONTH)
    return np.clip(np.where(np.isfinite(months), months, 12), 1, 12).astype(np.int64)


def _median_weeks_since_purchase(log: pd.DataFrame) -> int:
    """Median over the log's customers of the whole weeks from their last purchase to the log's last day (at most 52)."""
    last = log.groupby("customer_id")["date"].max()
    weeks = ((log["date"].max() - last).dt.days // 7).to_numpy()
    return int(min(np.median(weeks), 52))
