"""Loading a spec's log, and the trial and log together: linking, checksums, messages naming the spec's keys."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.transactions import load_transactions
from journeygym.datasets.log import MIN_LINKED_SHARE, load_dataset, load_log
from journeygym.datasets.reading import file_sha256
from journeygym.errors import DataValidationError


def test_the_log_is_load_transactions_of_the_file(make_spec, log_frame, tmp_path):
    log = load_log(make_spec())
    expected = load_transactions(tmp_path / "log.csv", time_col="timestamp")
    expected["customer_id"] = expected["customer_id"].astype(np.int64)  # the file's ids as integers, sorted as such
    pd.testing.assert_frame_equal(log, expected.sort_values(["customer_id", "date"], ignore_index=True))
    assert log["customer_id"].nunique() == 120


def test_text_ids_stay_text(make_spec, log_frame):
    log = log_frame().assign(customer_id=lambda f: "C" + f["customer_id"].astype(str))
    assert load_log(make_spec(log_csv=log))["customer_id"].str.startswith("C").all()


def test_negative_amounts_are_refused_naming_the_spec_key(make_spec, log_frame):
    log = log_frame()
    log.loc[[3, 8], "amount"] = [-5.0, 0.0]
    spec = make_spec(log_csv=log)
    with pytest.raises(DataValidationError) as caught:
        load_log(spec)
    message = str(caught.value)
    assert "2 row(s) have an amount <= 0 (1 zero, 1 negative), at lines [5, 10]" in message
    assert "pass log.nonpositive: drop to remove those rows, or log.nonpositive: keep" in message
    dropped = load_log(make_spec(log_csv=log, log={"nonpositive": "drop"}))
    kept = load_log(make_spec(log_csv=log, log={"nonpositive": "keep"}))
    assert dropped["n_rows"].sum() == len(log) - 2 and kept["n_rows"].sum() == len(log)


def test_a_log_column_not_in_the_file(make_spec):
    with pytest.raises(DataValidationError, match=r"is missing the column\(s\) \['when'\]"):
        load_log(make_spec(log={"timestamp": "when"}))


def test_a_missing_log_file(make_spec, tmp_path):
    spec = make_spec()
    (tmp_path / "log.csv").unlink()
    with pytest.raises(DataValidationError, match=r"log.path: received '.*log.csv', which does not exist"):
        load_log(spec)


def _headerless(log: pd.DataFrame, header: bool) -> str:
    lines = [f" {int(c):05d} {t.replace('-', '')}  1   {a:.2f}" for c, t, a in log.itertuples(index=False)]
    return "\n".join((["id day cds value"] if header else []) + lines) + "\n"


@pytest.mark.parametrize("header", [False, True])
def test_a_headerless_whitespace_file_read_with_columns(make_spec, log_frame, tmp_path, header):
    log = log_frame()
    columns = {"columns": ["id", "day", "cds", "value"], "customer_id": "id", "timestamp": "day", "amount": "value"}
    spec = make_spec(log={**columns, "time_format": "%Y%m%d", "separator": "whitespace"})
    (tmp_path / "log.csv").write_text(_headerless(log, header))
    loaded = load_log(spec)
    reference = load_transactions(log, time_col="timestamp")
    assert loaded["customer_id"].dtype == np.int64  # "00001" is customer 1
    assert np.array_equal(loaded["customer_id"], reference["customer_id"])
    assert np.allclose(loaded["amount"], reference["amount"])
    detected = make_spec(log={**columns, "time_format": "%Y%m%d"})  # whitespace detected
    (tmp_path / "log.csv").write_text(_headerless(log, header))
    assert len(load_log(detected)) == len(reference)


def test_a_headerless_file_error_names_the_file(make_spec, log_frame, tmp_path):
    log = log_frame()
    log.loc[2, "amount"] = -1.0
    spec = make_spec(log={"columns": ["id", "day", "cds", "value"], "customer_id": "id", "timestamp": "day", "amount": "value"})
    (tmp_path / "log.csv").write_text(_headerless(log, False))
    with pytest.raises(DataValidationError, match=r"log.csv' \(read with log.columns; .*log.nonpositive: drop"):
        load_log(spec)


def test_a_dataset_hashes_both_files(make_spec, tmp_path):
    dataset = load_dataset(make_spec())
    assert dataset.sha256 == {
        "trial": hashlib.sha256((tmp_path / "trial.csv").read_bytes()).hexdigest(),
        "log": hashlib.sha256((tmp_path / "log.csv").read_bytes()).hexdigest(),
    }
    assert file_sha256(tmp_path / "log.csv") == dataset.sha256["log"]
    assert any(line.startswith("unlinked:") for line in dataset.choices)
    with pytest.raises(DataValidationError, match="path: received .*absent.csv', which does not exist"):
        file_sha256(tmp_path / "absent.csv")


def test_a_linked_trial_in_the_log(make_spec):
    dataset = load_dataset(make_spec(linked=True, trial_date="2020-07-01"))
    assert "linked: 120 of 120 trial customers (100.0%) have purchases in the log before 2020-07-01" in dataset.choices[-2]


def test_a_linked_trial_with_text_ids(make_spec, trial_frame, log_frame):
    trial = trial_frame().assign(customer=lambda f: "C" + f["customer"].astype(str))
    log = log_frame().assign(customer_id=lambda f: "C" + f["customer_id"].astype(str))
    log = log[log["customer_id"] != "C7"]
    dataset = load_dataset(make_spec(trial_csv=trial, log_csv=log, linked=True, trial_date="2020-07-01"))
    assert "linked: 119 of 120 trial customers (99.2%)" in dataset.choices[-2]


def test_a_linked_trial_whose_ids_are_not_in_the_log(make_spec, log_frame):
    log = log_frame().assign(customer_id=lambda f: f["customer_id"] + 1000)
    with pytest.raises(DataValidationError) as caught:
        load_dataset(make_spec(log_csv=log, linked=True, trial_date="2020-07-01"))
    message = str(caught.value)
    assert f"trial.customer_id: 0 of 120 trial customers (0.0%) have a purchase in the log before trial_date 2020-07-01, expected at least {MIN_LINKED_SHARE:.0%}" in message
    assert "Trial ids, e.g. [1, 2, 3, 4, 5]; log ids, e.g. [1001," in message


def test_a_trial_date_before_the_log(make_spec):
    with pytest.raises(DataValidationError, match=r"trial_date: received 2019-12-01, but the log starts on 2020-01-0"):
        load_dataset(make_spec(linked=True, trial_date="2019-12-01"))
