"""What the calibration pipeline reads, whatever data set it comes from (docs/calibration.md, "Your own data").

:class:`CalibrationTrial` is a randomized trial reduced to what the pipeline
needs: arms, outcomes over the outcome window, a covariate design, segments and
start profiles (recency levels), with the population model fitted on it.
:class:`CalibrationInputs` adds the transaction log and the record of where
everything came from.  :mod:`journeygym.calibration.sources` builds them from
the built-in data set or from a dataset spec; nothing past this module knows
which data set it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from journeygym.envs.population import PopulationModel


@dataclass(frozen=True, eq=False)
class CalibrationTrial:
    """A randomized trial as the pipeline reads it.

    Attributes
    ----------
    frame
        One row per customer: ``arm`` (0 the control, 1..K the arms), ``conversion``
        (0/1), ``visit`` (0/1, only with a visit column), ``spend`` (dollars over the
        window, only with a spend column), ``segment_idx`` (0..G-1), ``start_idx``
        (0..R-1) and ``recency_group`` (the validation's recency group, or -1).
    design
        ``(n, C)`` covariate design matrix (before centring).
    covariate_names
        The C design columns.
    recency_covariate
        Design column that holds recency (its effect is carried by the hidden state
        and set to zero), or None.
    segment_labels, start_labels
        The G segments and R start profiles.
    start_weeks
        ``(R,)`` weeks since the last purchase at the send, per start profile.
    recency_group_labels
        Labels of the validation's recency groups (empty without recency).
    arm_labels, arm_ids, arm_costs
        Each arm code's label in the data, its action name and its cost (code 0 the control).
    window_weeks
        Whole weeks of the outcome window (the send's week included).
    population
        The population model fitted on the trial's customers.
    start_source
        ``"recency"``: each start profile's week-0 state is the filter's belief given its
        weeks since the last purchase; ``"log"``: one profile, the log's state distribution;
        ``"linked"``: the trial's customers are in the log, each one's filtered belief from
        their own history up to the trial date, averaged within their start profile (the
        months since their last purchase, which the observation shows).
    match_on_population
        True: the levels and responses are matched on customers drawn from :attr:`population`
        (the customers the simulator draws), False: on the trial's own rows (the built-in
        trial, whose cell population reproduces them).
    """

    frame: pd.DataFrame
    design: np.ndarray
    covariate_names: tuple[str, ...]
    recency_covariate: str | None
    segment_labels: tuple[str, ...]
    start_labels: tuple[str, ...]
    start_weeks: np.ndarray
    recency_group_labels: tuple[str, ...]
    arm_labels: tuple[str, ...]
    arm_ids: tuple[str, ...]
    arm_costs: tuple[float, ...]
    window_weeks: int
    population: PopulationModel
    start_source: str = "recency"
    match_on_population: bool = False

    @property
    def has_visit(self) -> bool:
        """Whether the trial recorded visits."""
        return "visit" in self.frame.columns

    @property
    def has_spend(self) -> bool:
        """Whether the trial recorded spend."""
        return "spend" in self.frame.columns

    @property
    def n_arms(self) -> int:
        """Number of treated arms K."""
        return len(self.arm_labels) - 1

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcomes the trial recorded, in the order the pipeline fits them."""
        return ("visit", "conversion") if self.has_visit else ("conversion",)

    @property
    def arm_sizes(self) -> np.ndarray:
        """Rows per arm code."""
        return np.bincount(self.frame["arm"].to_numpy(), minlength=len(self.arm_labels))


@dataclass(frozen=True, eq=False)
class CalibrationInputs:
    """Everything one calibration reads.

    Attributes
    ----------
    trial
        The trial (:class:`CalibrationTrial`).
    transactions
        The transaction log (columns ``customer_id``, ``date``, ``amount``).
    checksums
        SHA-256 of each data file, by file name.
    label
        What the artifact says it was calibrated on.
    margin
        ASSUMPTION: the profit share of spend (the spec's ``assumptions.margin``).
    log_start
        ``"after_first_purchase"`` or ``"first_purchase"``: where each customer's weekly
        sequence starts (a log of first-time buyers, such as CDNOW, skips the week that
        put them in the log).
    dataset
        The dataset spec as plain values (recorded in the artifact), or None for the built-in data set.
    data_paths
        Where each file was read, by role (``"trial"``, ``"log"``).
    choices
        Lines on what the data lacked and what the calibration did instead.
    linked_ids
        For a linked trial, each trial row's customer id in the log; None when unlinked.
    trial_date
        For a linked trial, the send's date: each customer's history ends there.
    """

    trial: CalibrationTrial
    transactions: pd.DataFrame
    checksums: dict[str, str]
    label: str
    margin: float = 0.30
    log_start: str = "after_first_purchase"
    dataset: dict[str, Any] | None = None
    data_paths: dict[str, str] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    linked_ids: np.ndarray | None = None
    trial_date: pd.Timestamp | None = None
