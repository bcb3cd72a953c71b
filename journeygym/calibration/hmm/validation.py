"""Held-out check of the hidden-state model on a transaction log.

The HMM is fitted on each customer's weeks up to a cut-off date; from each
customer's filtered state at the cut-off the model then predicts the weeks
after it, which were never seen in the fit.  Compared per week after the
cut-off: the share of customers who purchase (weekly purchase rate) and the
share who purchased at least once so far (repeat-purchase curve), observed
against the model's mean and 90% interval over simulated replicas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeygym.calibration.hmm import PurchaseHMM
from journeygym.calibration.weekly import WeeklySequences

INTERVAL = (0.05, 0.95)


@dataclass(frozen=True)
class HeldOutSplit:
    """Training sequences up to the cut-off and the observations of the weeks after it."""

    train: WeeklySequences
    test_obs: np.ndarray  # (n, J) observations of the J weeks after each customer's training window, -1 padding


def split_at_cutoff(full: WeeklySequences, train: WeeklySequences, n_test_weeks: int) -> HeldOutSplit:
    """Align a full-window and a training-window coding of the same customers.

    Both must come from :func:`~journeygym.datasets.transactions.weekly_observations`
    with the same start rule and median amount; the test weeks are the
    ``n_test_weeks`` weeks of ``full`` that follow each customer's training weeks.
    """
    if not np.array_equal(full.customer_ids, train.customer_ids):
        raise ValueError("split_at_cutoff: the two codings list different customers; build both from the same log.")
    rows = np.arange(full.obs.shape[0])[:, None]
    columns = train.lengths[:, None] + np.arange(n_test_weeks)[None, :]
    inside = columns < full.lengths[:, None]
    test = np.full((rows.shape[0], n_test_weeks), -1, dtype=np.int8)
    test[inside] = full.obs[np.broadcast_to(rows, columns.shape)[inside], columns[inside]]
    return HeldOutSplit(train=train, test_obs=test)


def predict_held_out(model: PurchaseHMM, split: HeldOutSplit, n_replicas: int, seed: int) -> pd.DataFrame:
    """Observed versus predicted weekly purchase rate and cumulative repeat-purchase share.

    Returns
    -------
    pandas.DataFrame
        One row per week after the cut-off with observed and simulated (mean,
        5%, 95%) values of ``purchase_rate`` and ``repeat_share``, and the number
        of customers observed that week.
    """
    train = split.train
    filtered = model.filter(train)
    has_history = train.lengths > 0
    belief = filtered[np.flatnonzero(has_history), train.lengths[has_history] - 1]
    observed = split.test_obs[has_history]
    n, n_weeks = observed.shape
    rng = np.random.default_rng(seed)
    transition_cdf = np.cumsum(model.transmat_, axis=1)
    state = (rng.random((n_replicas, n))[..., None] >= np.cumsum(belief, axis=1)[None, :, :-1]).sum(axis=2)
    observed_mask = observed >= 0
    ever_bought = np.zeros((n_replicas, n), dtype=bool)
    simulated_rate = np.zeros((n_replicas, n_weeks))
    simulated_repeat = np.zeros((n_replicas, n_weeks))
    for week in range(n_weeks):
        state = (rng.random((n_replicas, n))[..., None] >= transition_cdf[state][..., :-1]).sum(axis=2)
        bought = rng.random((n_replicas, n)) < model.purchase_prob_[state]
        ever_bought |= bought & observed_mask[:, week]
        active = observed_mask[:, week]
        simulated_rate[:, week] = bought[:, active].mean(axis=1)
        simulated_repeat[:, week] = ever_bought[:, active].mean(axis=1)
    observed_bought = (observed > 0) & observed_mask
    observed_ever = np.cumsum(observed_bought, axis=1) > 0
    rows = []
    for week in range(n_weeks):
        active = observed_mask[:, week]
        row = {"week_after_cutoff": week + 1, "customers": int(active.sum())}
        for name, obs_value, simulated in (
            ("purchase_rate", observed_bought[active, week].mean(), simulated_rate[:, week]),
            ("repeat_share", observed_ever[active, week].mean(), simulated_repeat[:, week]),
        ):
            low, high = np.quantile(simulated, INTERVAL)
            row |= {
                f"{name}_observed": obs_value,
                f"{name}_simulated": simulated.mean(),
                f"{name}_p05": low,
                f"{name}_p95": high,
            }
        rows.append(row)
    return pd.DataFrame(rows)
