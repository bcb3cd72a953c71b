"""A linked trial: its customers are in the log, and each one's start state comes from their own history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from journeygym.calibration.pipeline import fit_hidden_state_model
from journeygym.calibration.sources import calibration_inputs
from journeygym.datasets.spec import load_spec

pytestmark = pytest.mark.slow

TRIAL_DATE = "2017-10-01"


@pytest.fixture(scope="module")
def linked_inputs(real_data_file, tmp_path_factory):
    """The Complete Journey log with a made-up randomized trial of 1,200 of its households on 2017-10-01."""
    folder = tmp_path_factory.mktemp("linked")
    log = pd.read_csv(real_data_file("complete_journey_baskets.csv"))
    log = log[log["amount"] > 0]
    rng = np.random.default_rng(0)
    ids = rng.choice(np.sort(log["household_id"].unique()), size=1200, replace=False)
    before = log[pd.to_datetime(log["timestamp"]) < TRIAL_DATE].groupby("household_id")["amount"].sum()
    spend = before.reindex(ids).fillna(0.0).to_numpy()
    trial = pd.DataFrame(
        {
            "household_id": ids,
            "treatment": rng.choice(["control", "offer"], size=ids.size),
            "bought": rng.binomial(1, 0.2, ids.size),
            "past_spend": np.log1p(spend),
            "size": rng.integers(1, 5, ids.size),
        }
    )
    trial.to_csv(folder / "trial.csv", index=False)
    log.to_csv(folder / "log.csv", index=False)
    spec = {
        "trial": {"path": "trial.csv", "treatment": "treatment", "control": "control", "window_weeks": 2,
                  "outcomes": {"conversion": "bought"}, "customer_id": "household_id"},
        "log": {"path": "log.csv", "customer_id": "household_id", "timestamp": "timestamp", "amount": "amount",
                "time_format": "%Y-%m-%d %H:%M:%S"},
        "linked": True,
        "trial_date": TRIAL_DATE,
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    return calibration_inputs(load_spec(folder / "spec.yaml")), trial, log


def test_start_profiles_are_the_months_since_each_customers_last_purchase(linked_inputs):
    inputs, trial, log = linked_inputs
    assert inputs.trial.start_source == "linked"
    days = pd.to_datetime(log["timestamp"]).dt.normalize()  # the log is read by day
    last = days[days < TRIAL_DATE].groupby(log["household_id"]).max()
    weeks = (pd.Timestamp(TRIAL_DATE) - last.reindex(trial["household_id"])).dt.days / 7
    months = np.clip(np.rint(weeks.fillna(52 * 7).to_numpy() / 4.35), 1, 12).astype(int)
    labels = np.array(inputs.trial.start_labels)[inputs.trial.frame["start_idx"].to_numpy()]
    assert [int(label.split()[0]) for label in labels] == months.tolist()


def test_each_profile_starts_from_its_customers_own_filtered_beliefs(linked_inputs):
    inputs, _, _ = linked_inputs
    hmm, start = fit_hidden_state_model(inputs, seed=0)
    assert start.shape == (len(inputs.trial.start_labels), hmm.n_states)
    np.testing.assert_allclose(start.sum(axis=1), 1.0)
    # Customers who bought within the last month are more engaged than those who have not bought for months.
    purchase = start @ hmm.purchase_prob_
    assert purchase[0] > purchase[-1]
