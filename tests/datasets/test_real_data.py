"""The shipped specs on the real files: the known facts of the data README.

The files are found by the root conftest's ``real_data_file`` (``$JOURNEYGYM_DATA_DIR``,
else ``../shared/data`` beside the checkout); a test whose file is missing is skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.hillstrom import HILLSTROM_SHA256
from journeygym.datasets.transactions import CDNOW_FILENAME, load_cdnow
from journeygym.datasets import builtin_spec, example_spec, load_dataset, load_log, load_trial
from journeygym.datasets.hillstrom_columns import WEEKS_PER_MONTH

CDNOW_SHA256 = "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef"
INFORMATION_FILES = ("information_trial.csv", "complete_journey_baskets.csv")


@pytest.fixture(scope="module")
def hillstrom_cdnow(real_data_file):
    directory = real_data_file("hillstrom.csv").parent
    real_data_file(CDNOW_FILENAME)
    return load_dataset(builtin_spec(directory))


@pytest.fixture(scope="module")
def information_complete_journey(real_data_file):
    directory = real_data_file(INFORMATION_FILES[0]).parent
    real_data_file(INFORMATION_FILES[1])
    return load_dataset(example_spec("information_complete_journey", directory))


def test_hillstrom_arms_and_rates(hillstrom_cdnow):
    trial = hillstrom_cdnow.trial
    assert trial.arm_labels == ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    assert trial.arm_ids == ("no_e_mail", "mens_e_mail", "womens_e_mail")
    assert trial.arm_counts().tolist() == [21_306, 21_307, 21_387]
    control, emailed = trial.arm == 0, trial.arm > 0
    assert (trial.conversion[control].sum(), trial.conversion[emailed].sum()) == (122, 456)
    assert trial.conversion[control].mean() == pytest.approx(0.00573, abs=5e-6)
    assert trial.conversion[emailed].mean() == pytest.approx(0.01068, abs=5e-6)
    visit_rates = [trial.visit[trial.arm == k].mean() for k in range(3)]
    assert visit_rates == pytest.approx([0.1062, 0.1828, 0.1514], abs=5e-5)
    spend = trial.spend[trial.conversion == 1]
    assert spend.mean() == pytest.approx(116.36, abs=5e-3) and np.median(spend) == pytest.approx(80.80, abs=5e-3)


def test_hillstrom_covariates_segments_and_recency(hillstrom_cdnow):
    trial = hillstrom_cdnow.trial
    assert trial.design_columns == (
        "recency", "history", "mens", "womens", "newbie",
        "zip_code=Surburban", "zip_code=Urban", "channel=Phone", "channel=Web",
    )
    assert trial.design.shape == (64_000, 9)
    assert len(trial.segment_labels) == 7 and trial.segment_labels[0] == "1) $0 - $100"
    assert set(np.unique(trial.recency_weeks / WEEKS_PER_MONTH).round(6)) == set(range(1, 13))
    assert hillstrom_cdnow.sha256["trial"] == HILLSTROM_SHA256


def test_cdnow_through_the_spec_is_load_cdnow(hillstrom_cdnow, real_data_file):
    log = hillstrom_cdnow.log
    pd.testing.assert_frame_equal(log, load_cdnow(real_data_file(CDNOW_FILENAME)))
    assert log["customer_id"].nunique() == 23_570
    assert (log["date"].min(), log["date"].max()) == (pd.Timestamp("1997-01-01"), pd.Timestamp("1998-06-30"))
    purchases = log["n_rows"].sum()
    assert purchases / 23_570 == pytest.approx(2.96, abs=5e-3)
    assert log["amount"].sum() / purchases == pytest.approx(35.89, abs=5e-3)
    assert hillstrom_cdnow.sha256["log"] == CDNOW_SHA256


def test_information_trial(information_complete_journey):
    trial = information_complete_journey.trial
    assert trial.arm_labels == ("0", "1") and trial.arm_ids == ("arm_0", "arm_1")
    assert trial.arm_counts().tolist() == [5_028, 4_972]
    rates = [trial.conversion[trial.arm == k].mean() for k in range(2)]
    assert rates == pytest.approx([0.1955, 0.2037], abs=5e-5)
    assert trial.visit is None and trial.spend is None and trial.recency_weeks is None and trial.segment is None
    # 70 columns: TREATMENT, PURCHASE, the id UNIQUE_ID and 67 numeric covariates
    assert len(trial.design_columns) == 67 and "UNIQUE_ID" not in trial.design_columns
    assert trial.encoding.categorical == ()
    assert np.array_equal(trial.customer_id[:3], [1, 2, 3])


def test_complete_journey_baskets(information_complete_journey, real_data_file):
    log = information_complete_journey.log
    assert log["customer_id"].nunique() == 2_469
    assert (log["date"].min(), log["date"].max()) == (pd.Timestamp("2017-01-01"), pd.Timestamp("2018-01-01"))
    # The README's $29.49 is the mean over all 155,848 baskets; the 478 of $0 are dropped (nonpositive: drop).
    raw = pd.read_csv(real_data_file(INFORMATION_FILES[1]), usecols=["amount"])["amount"]
    assert len(raw) == 155_848 and raw.mean() == pytest.approx(29.49, abs=5e-3)
    assert log["n_rows"].sum() == 155_848 - 478
    assert log["amount"].sum() / log["n_rows"].sum() == pytest.approx(29.58, abs=5e-3)


def test_the_loaders_alone_agree_with_the_dataset(information_complete_journey):
    spec = information_complete_journey.spec
    assert np.array_equal(load_trial(spec).arm, information_complete_journey.trial.arm)
    assert len(load_log(spec)) == len(information_complete_journey.log)
