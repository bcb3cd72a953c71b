"""Loading a trial: what it returns, and an error naming the key, column or value for every bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.encoding import MAX_LEVELS
from journeygym.datasets.reading import file_sha256
from journeygym.datasets.trial import MIN_ARM_ROWS, load_trial
from journeygym.datasets.hillstrom_columns import WEEKS_PER_MONTH
from journeygym.errors import DataValidationError


def _error(make_spec, **kwargs) -> str:
    spec = make_spec(**kwargs)
    with pytest.raises(DataValidationError) as caught:
        load_trial(spec)
    return str(caught.value)


# ---------------------------------------------------------------- what a trial holds


def test_arms_outcomes_and_design(make_spec, trial_frame, tmp_path):
    frame = trial_frame()
    trial = load_trial(make_spec(trial_csv=frame))
    first_seen = [label for label in pd.unique(frame["Promotion"]) if label != "No"]
    assert trial.arm_labels == ("No", *first_seen)
    assert set(trial.arm_ids) == {"no", "mens_e_mail", "womens_e_mail"}
    assert trial.arm_counts().tolist() == [40, 40, 40]
    assert np.array_equal(np.asarray(trial.arm_labels)[trial.arm], frame["Promotion"].to_numpy())
    assert trial.arm_costs == (0.0, 0.05, 0.05)
    assert np.array_equal(trial.conversion, frame["purchase"]) and trial.conversion.dtype == np.int64
    assert np.array_equal(trial.visit, frame["visited"]) and np.allclose(trial.spend, frame["spend"])
    # V1 and V3 numeric (V3 is integer-coded: numeric unless listed), V2 text: categorical, reference 'north'
    assert trial.design_columns == ("V1", "V3", "V2=south", "V2=west")
    assert np.allclose(trial.design[:, :2].mean(axis=0), 0) and np.allclose(trial.design[:, :2].std(axis=0), 1)
    assert np.array_equal(trial.design[:, 2], (frame["V2"] == "south").to_numpy(float))
    assert trial.encoding.levels == (("north", "south", "west"),)
    assert "categorical inferred for: V2 (columns that are not numeric)" in trial.choices
    assert np.array_equal(trial.customer_id, frame["customer"]) and trial.segment is None and trial.recency_weeks is None
    assert trial.sha256 == file_sha256(tmp_path / "trial.csv") and len(trial.sha256) == 64


def test_listed_arms_set_the_order_and_listed_categoricals_are_one_hot(make_spec):
    trial = load_trial(make_spec(trial={"arms": ["Womens E-Mail", "Mens E-Mail"], "categorical": ["V3"]}))
    assert trial.arm_labels == ("No", "Womens E-Mail", "Mens E-Mail")
    assert trial.design_columns == ("V1", "V2=south", "V2=west", "V3=1", "V3=2", "V3=3", "V3=4")


def test_numeric_labels_match_as_text(make_spec, trial_frame):
    frame = trial_frame().assign(Promotion=lambda f: f["Promotion"].map({"No": 0.0, "Mens E-Mail": 1.0, "Womens E-Mail": 2.0}))
    for control in (0, "0", 0.0):
        trial = load_trial(make_spec(trial_csv=frame, trial={"control": control}))
        assert trial.arm_labels == ("0", *[str(int(v)) for v in pd.unique(frame["Promotion"]) if v != 0])
        assert trial.arm_ids[0] == "arm_0"


def test_default_covariates_leave_out_the_id_the_treatment_and_the_outcomes(make_spec):
    trial = load_trial(make_spec(trial={"covariates": None}))
    assert set(trial.encoding.numeric) | set(trial.encoding.categorical) == {"V1", "V2", "V3", "months"}
    assert any(line.startswith("covariates not listed: every column except") for line in trial.choices)


def test_optional_outcomes_recency_and_segments(make_spec, trial_frame):
    frame = trial_frame()
    trial = load_trial(
        make_spec(
            trial={
                "outcomes": {"conversion": "purchase"},
                "recency": {"column": "months", "unit": "months"},
                "segment": {"column": "V1", "bins": [0, 50]},
            }
        )
    )
    assert trial.visit is None and trial.spend is None
    assert "no visit column: the visit channel is not calibrated" in trial.choices
    assert "no spend column: spend comes from the log's amounts" in trial.choices
    assert np.allclose(trial.recency_weeks, frame["months"] * WEEKS_PER_MONTH)
    assert trial.segment_labels == ("[0, 50)", ">= 50")
    assert np.array_equal(trial.segment, (frame["V1"] >= 50).to_numpy(int))
    by_text = load_trial(make_spec(trial={"segment": "V2", "recency": {"column": "months", "unit": "days"}}))
    assert by_text.segment_labels == ("north", "south", "west")
    assert np.allclose(by_text.recency_weeks, frame["months"] / 7)
    unlinked = load_trial(make_spec(trial={"recency": None}))
    assert "no recency and unlinked: start state from the log's state distribution" in unlinked.choices


def test_costs_by_arm_label(make_spec):
    trial = load_trial(make_spec(assumptions={"costs": {"Mens E-Mail": 0.2, "default": 0.05}}))
    assert dict(zip(trial.arm_labels, trial.arm_costs)) == {"No": 0.0, "Mens E-Mail": 0.2, "Womens E-Mail": 0.05}


# ---------------------------------------------------------------- errors


def test_a_missing_file(make_spec, tmp_path):
    spec = make_spec()
    (tmp_path / "trial.csv").unlink()
    with pytest.raises(DataValidationError, match=r"trial.path: received '.*trial.csv', which does not exist"):
        load_trial(spec)


def test_a_column_not_in_the_file_lists_the_available_ones(make_spec):
    message = _error(make_spec, trial={"outcomes": {"conversion": "purchased"}, "covariates": ["V1", "V4"]})
    assert "trial.outcomes.conversion: column 'purchased' is not in the file (did you mean 'purchase'?)" in message
    assert "trial.covariates[1]: column 'V4' is not in the file" in message
    assert "Available columns: ['customer', 'Promotion', 'purchase'," in message


def test_a_semicolon_file_read_with_commas_says_to_set_the_separator(make_spec, trial_frame, tmp_path):
    spec = make_spec(trial={"separator": ","})
    trial_frame().to_csv(tmp_path / "trial.csv", index=False, sep=";")
    with pytest.raises(DataValidationError, match="The header was read as one column: set the separator key"):
        load_trial(spec)
    detected = make_spec()
    trial_frame().to_csv(tmp_path / "trial.csv", index=False, sep=";")
    assert load_trial(detected).arm_counts().tolist() == [40, 40, 40]


def test_a_control_not_in_the_treatment_lists_the_labels(make_spec):
    message = _error(make_spec, trial={"control": "None"})
    assert "trial.control: received 'None' (did you mean 'No'?), which is not a label of column 'Promotion'" in message
    assert "'No' (40 rows)" in message and "'Mens E-Mail' (40 rows)" in message


def test_an_unquoted_yaml_no_gets_a_hint(make_spec):
    assert "quote the label (control: \"No\")" in _error(make_spec, trial={"control": False})


def test_a_treatment_with_one_level(make_spec, trial_frame):
    message = _error(make_spec, trial_csv=trial_frame().assign(Promotion="No"))
    assert "trial.treatment: column 'Promotion' holds one label only ('No' (120 rows))" in message


def test_an_arm_of_fewer_than_30_rows(make_spec, trial_frame):
    frame = trial_frame()
    mens = np.flatnonzero(frame["Promotion"] == "Mens E-Mail")
    frame = frame.drop(index=mens[MIN_ARM_ROWS - 1 :])
    message = _error(make_spec, trial_csv=frame)
    assert f"the arm(s) [\"'Mens E-Mail' ({MIN_ARM_ROWS - 1} rows)\"] have fewer than {MIN_ARM_ROWS} rows" in message


def test_listed_arms_that_are_absent_or_labels_left_out(make_spec):
    assert "trial.arms: received ['Kids E-Mail'], which are not labels of column 'Promotion'" in _error(
        make_spec, trial={"arms": ["Mens E-Mail", "Kids E-Mail"]}
    )
    message = _error(make_spec, trial={"arms": ["Mens E-Mail"]})
    assert "trial.arms: column 'Promotion' also holds [\"'Womens E-Mail' (40 rows)\"]" in message


def test_a_missing_treatment(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[[3, 7], "Promotion"] = np.nan
    assert "trial.treatment: column 'Promotion' has 2 missing value(s) (e.g. at lines [5, 9])" in _error(make_spec, trial_csv=frame)


def test_a_conversion_that_is_not_binary(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[[0, 5], "purchase"] = 2
    message = _error(make_spec, trial_csv=frame)
    assert "trial.outcomes.conversion: column 'purchase' holds ['2'] in 2 row(s) (e.g. at lines [2, 7]), expected 0/1" in message
    frame["purchase"] = frame["purchase"].astype(object)
    frame.loc[[0, 5], "purchase"] = "yes"
    assert "holds ['yes'] in 2 row(s)" in _error(make_spec, trial_csv=frame)


def test_a_boolean_conversion_is_binary(make_spec, trial_frame):
    frame = trial_frame()
    frame["purchase"] = frame["purchase"].astype(bool)
    assert np.array_equal(load_trial(make_spec(trial_csv=frame)).conversion, frame["purchase"].astype(int))


@pytest.mark.parametrize(("column", "key"), [("purchase", "conversion"), ("visited", "visit"), ("spend", "spend")])
def test_a_missing_outcome(make_spec, trial_frame, column, key):
    frame = trial_frame().astype({column: float})
    frame.loc[[1, 2, 3], column] = np.nan
    message = _error(make_spec, trial_csv=frame)
    assert f"trial.outcomes.{key}: column {column!r} has 3 missing value(s) (e.g. at lines [3, 4, 5])" in message


def test_a_negative_spend(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[4, "spend"] = -3.5
    assert "trial.outcomes.spend: column 'spend' holds [-3.5] in 1 row(s) (e.g. at lines [6]), expected amounts >= 0" in _error(
        make_spec, trial_csv=frame
    )


def test_a_constant_covariate(make_spec, trial_frame):
    assert "trial.covariates: column 'V1' is constant (7 in every row)" in _error(make_spec, trial_csv=trial_frame().assign(V1=7.0))
    assert "trial.covariates: column 'V2' is constant ('x' in every row)" in _error(make_spec, trial_csv=trial_frame().assign(V2="x"))


def test_a_covariate_missing_everywhere(make_spec, trial_frame):
    message = _error(make_spec, trial_csv=trial_frame().assign(V1=np.nan))
    assert "trial.covariates: column 'V1' is missing in every row" in message and "remove 'V1' from trial.covariates" in message


def test_a_covariate_with_missing_values(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[[10, 20], "V1"] = np.nan
    message = _error(make_spec, trial_csv=frame)
    assert "trial.covariates: column 'V1' has 2 missing value(s) (e.g. at lines [12, 22])" in message
    assert "Fill or drop those rows, or remove 'V1' from trial.covariates" in message


def test_a_categorical_covariate_with_too_many_levels(make_spec, trial_frame):
    frame = trial_frame().assign(V2=[f"level{i}" for i in range(3 * 40)])
    message = _error(make_spec, trial_csv=frame)
    assert f"trial.covariates: categorical column 'V2' has 120 levels, expected at most {MAX_LEVELS}" in message


def test_segment_problems(make_spec, trial_frame):
    assert "trial.segment.bins: 120 row(s) of column 'V1' lie below the first edge 100" in _error(
        make_spec, trial={"segment": {"column": "V1", "bins": [100]}}
    )
    assert "trial.segment.bins: the segment(s) ['[0, 1)'] of column 'V1' hold no rows" in _error(
        make_spec, trial={"segment": {"column": "V1", "bins": [0, 1, 50]}}
    )
    assert "trial.segment: column 'V1' has 120 distinct values, expected at most 50 segments" in _error(
        make_spec, trial={"segment": "V1"}
    )


def test_a_negative_recency(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[0, "months"] = -1
    assert "trial.recency.column: column 'months' holds [-1] (e.g. at lines [2]), expected numbers of months >= 0" in _error(
        make_spec, trial_csv=frame, trial={"recency": {"column": "months", "unit": "months"}}
    )


def test_duplicated_ids_are_refused_when_linked(make_spec, trial_frame):
    frame = trial_frame()
    frame.loc[5, "customer"] = frame.loc[6, "customer"]
    message = _error(make_spec, trial_csv=frame, linked=True, trial_date="2020-07-01")
    assert "trial.customer_id: column 'customer' repeats 2 id(s), e.g. [7] at lines [7, 8]" in message
    assert "expected one row per customer" in message
    unlinked = load_trial(make_spec(trial_csv=frame))
    assert any("repeats 2 id(s)" in line and "allowed: unlinked" in line for line in unlinked.choices)


def test_costs_for_unknown_arms_or_no_default(make_spec):
    assert "assumptions.costs: received the key(s) ['Men E-Mail'] (did you mean 'Mens E-Mail'?)" in _error(
        make_spec, assumptions={"costs": {"Men E-Mail": 0.1, "default": 0.05}}
    )
    assert "which prices no cost for the arm(s) ['Womens E-Mail']" in _error(
        make_spec, assumptions={"costs": {"Mens E-Mail": 0.1}}
    )
