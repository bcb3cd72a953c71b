"""Logged data under contact rules: the delivered action, its propensities after the rules, the cap column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeygym.testing import default_observation_names
from journeygym.baselines.logged_data import (
    RandomizedBehavior,
    delivered_propensities,
    logged_data_columns,
    propensity_columns,
    read_logged_data,
    simulate_logged_data,
    validate_logged_data,
    write_logged_data,
)
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES

ACTIONS = DEFAULT_ACTION_NAMES
PROPENSITIES = propensity_columns(ACTIONS)
CAP_COLUMN = "weeks_until_email_allowed"


@pytest.fixture(scope="module")
def budget_log(synthetic_draws) -> pd.DataFrame:
    """3,000 customers x 10 weeks; the behavior asks e-mail for 2/3 of them, the budget allows 20%."""
    return simulate_logged_data(3000, 7, artifact=synthetic_draws, horizon=10, scenario={"contact_budget": 0.2, "u0": -4.0})


@pytest.fixture(scope="module")
def capped_log(synthetic_draws) -> pd.DataFrame:
    """A budget of 35% and a cap of 1 e-mail in 3 weeks, over two draws."""
    return simulate_logged_data(
        3000,
        8,
        artifact=synthetic_draws,
        params=[0, 1],
        horizon=10,
        scenario={"contact_budget": 0.35, "cap_emails": 1, "cap_weeks": 3},
        behavior=RandomizedBehavior(0.8, (3.0, 1.0)),
    )


def _assert_calibrated(log: pd.DataFrame, rows: np.ndarray) -> None:
    """The logged propensities match the delivery rates of each arm (a loose z-test over the rows)."""
    propensity = log.loc[rows, PROPENSITIES].to_numpy()
    action = log.loc[rows, "action"].to_numpy()
    for a in range(len(ACTIONS)):
        observed = np.count_nonzero(action == a)
        expected = propensity[:, a].sum()
        spread = math.sqrt((propensity[:, a] * (1 - propensity[:, a])).sum())
        assert abs(observed - expected) < 5 * spread + 1, (ACTIONS[a], observed, expected, spread)


def test_budget_log_records_the_delivered_action(budget_log):
    validate_logged_data(budget_log)
    assert list(budget_log.columns) == [*logged_data_columns(default_observation_names(ACTIONS), ACTIONS), "requested_action"]
    assert budget_log["requested_action"].dtype == np.int64
    delivered = budget_log["action"] != 0
    # A delivered action is the requested one; the rest were thinned (or never requested).
    assert (budget_log.loc[delivered, "action"] == budget_log.loc[delivered, "requested_action"]).all()
    assert (budget_log["requested_action"] != 0).sum() > 2 * delivered.sum()
    weekly = budget_log.assign(delivered=delivered, subscribed=budget_log["subscribed"] > 0.5).groupby("week")
    sent, subscribed = weekly["delivered"].sum(), weekly["subscribed"].sum()
    # Far more requests than the budget: exactly the budget is sent each week, never more.
    np.testing.assert_array_equal(sent, np.floor(0.2 * subscribed))


def test_budget_log_propensities_are_those_of_the_delivered_action(budget_log):
    propensity = budget_log[PROPENSITIES].to_numpy()
    np.testing.assert_allclose(propensity.sum(axis=1), 1.0, atol=1e-12)
    subscribed = budget_log["subscribed"].to_numpy() > 0.5
    np.testing.assert_array_equal(propensity[~subscribed], [[1.0, 0.0, 0.0]] * int((~subscribed).sum()))
    # Each week every subscribed customer gets 2/3 * k / m of e-mail, split evenly over the arms.
    for week, rows in budget_log[subscribed].groupby("week"):
        requests = int((rows["requested_action"] != 0).sum())
        budget = math.floor(0.2 * len(rows) + 1e-9)
        np.testing.assert_allclose(rows[PROPENSITIES[1:]].to_numpy(), 2 / 3 * budget / requests / 2, rtol=1e-12)
    _assert_calibrated(budget_log, subscribed)


def test_capped_log_has_the_cap_column_and_never_breaks_the_cap(capped_log):
    validate_logged_data(capped_log)
    observation_end = logged_data_columns(default_observation_names(ACTIONS), ACTIONS).index("action")
    assert capped_log.columns[observation_end] == CAP_COLUMN and capped_log[CAP_COLUMN].dtype == np.float32
    barred = capped_log[CAP_COLUMN].to_numpy() > 0
    np.testing.assert_array_equal(
        capped_log.loc[barred, PROPENSITIES].to_numpy(), [[1.0, 0.0, 0.0]] * int(barred.sum())
    )
    assert barred.any() and (capped_log.loc[barred, "action"] == 0).all()
    assert (capped_log.loc[barred, "requested_action"] != 0).any()  # asked, yet barred
    # At most one e-mail in any 3 consecutive weeks, rebuilt from the log.
    sent = (capped_log["action"] != 0).to_numpy().reshape(3000, 10)
    assert np.lib.stride_tricks.sliding_window_view(sent, 3, axis=1).sum(axis=-1).max() <= 1
    weekly = capped_log.assign(sent=capped_log["action"] != 0, subscribed=capped_log["subscribed"] > 0.5)
    totals = weekly.groupby(["draw", "week"])[["sent", "subscribed"]].sum()
    assert (totals["sent"] <= np.floor(0.35 * totals["subscribed"])).all()
    np.testing.assert_allclose(capped_log[PROPENSITIES].sum(axis=1), 1.0, atol=1e-12)
    free = ~barred & (capped_log["subscribed"].to_numpy() > 0.5)
    _assert_calibrated(capped_log, free)
    mens, womens = capped_log.loc[free, PROPENSITIES[1:]].to_numpy().T
    np.testing.assert_allclose(mens, 3 * womens)


def test_capped_log_round_trips(tmp_path, capped_log):
    path = write_logged_data(capped_log, tmp_path / "capped.parquet")
    back = read_logged_data(path)
    pd.testing.assert_frame_equal(back, capped_log)
    assert back.attrs["journeygym"]["scenario"]["cap_weeks"] == 3


def test_log_without_rules_is_unchanged(synthetic_draws):
    log = simulate_logged_data(40, 1, artifact=synthetic_draws, horizon=4)
    assert list(log.columns) == logged_data_columns(default_observation_names(ACTIONS), ACTIONS)
    np.testing.assert_allclose(log.loc[log["subscribed"] > 0.5, PROPENSITIES].to_numpy(), 1 / 3)


def test_delivered_propensities():
    behavior = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.4, 0.3, 0.3]])
    out = delivered_propensities(behavior, np.array([False, False, True]), 0.5)
    np.testing.assert_allclose(out, [[0.6, 0.25, 0.15], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(delivered_propensities(behavior, np.zeros(3, dtype=bool), 1.0), behavior)
    assert behavior[2, 1] == 0.3  # the input is left alone
