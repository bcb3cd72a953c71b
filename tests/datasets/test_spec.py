"""The dataset spec: its keys, its messages, relative paths, the flags form and the JSON Schema."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from journeygym.cli import main
from journeygym.datasets import EXAMPLE_SPECS, example_spec_path
from journeygym.datasets.flags import spec_from_flags
from journeygym.datasets.spec import BinnedSegment, DatasetSpec, dataset_json_schema, load_spec, validate_spec
from journeygym.errors import DataValidationError


@pytest.fixture
def problem(spec_data):
    """``problem(**sections)``: the message of the spec's validation error."""

    def find(**sections) -> str:
        with pytest.raises(DataValidationError) as caught:
            validate_spec(spec_data(**sections))
        return str(caught.value)

    return find


def test_a_valid_spec_gets_the_defaults(spec_data):
    spec = validate_spec(spec_data())
    assert spec.trial.window_weeks == 2.0
    assert spec.log.nonpositive == "error" and spec.log.customer_id == "customer_id"
    assert spec.linked is False and spec.trial_date is None
    assert spec.assumptions.margin == 0.30 and spec.assumptions.costs == {"default": 0.05}


@pytest.mark.parametrize("weeks", [0, -1, -0.5])
def test_window_weeks_must_be_positive(weeks, problem):
    message = problem(trial={"window_weeks": weeks})
    assert f"trial.window_weeks: received {weeks}, expected a number of weeks > 0" in message


def test_window_weeks_is_required(spec_data):
    data = spec_data()
    del data["trial"]["window_weeks"]
    with pytest.raises(DataValidationError, match=r"trial.window_weeks: missing, expected a number of weeks > 0"):
        validate_spec(data)


def test_a_typo_names_the_key_and_the_closest_valid_one(problem):
    message = problem(trial={"windw_weeks": 2})
    assert "trial.windw_weeks: unknown key 'windw_weeks' in trial (did you mean 'window_weeks'?)" in message


def test_every_problem_is_listed(problem):
    message = problem(trial={"window_weeks": 0}, log={"nonpositive": "dorp"}, assumptions={"margin": 1.5})
    assert "3 problems" in message
    assert "log.nonpositive: received 'dorp' (did you mean 'drop'?), expected one of error, drop, keep" in message
    assert "assumptions.margin: received 1.5, expected a share of spend kept as profit, in (0, 1]" in message


@pytest.mark.parametrize("margin", [0, -0.1, 1.01])
def test_margin_in_zero_one(margin, problem):
    assert f"assumptions.margin: received {margin}," in problem(assumptions={"margin": margin})


def test_margin_of_one_is_allowed(spec_data):
    assert validate_spec(spec_data(assumptions={"margin": 1})).assumptions.margin == 1.0


def test_costs_are_not_negative(problem):
    message = problem(assumptions={"costs": {"Mens E-Mail": -0.1}})
    assert "assumptions.costs['Mens E-Mail']: received -0.1, expected a cost >= 0" in message


def test_linked_needs_the_customer_ids_and_the_trial_date(spec_data):
    data = spec_data(linked=True)
    del data["trial"]["customer_id"]
    with pytest.raises(DataValidationError, match=r"trial.customer_id: received null with linked: true"):
        validate_spec(data)
    with pytest.raises(DataValidationError, match=r"trial_date: received null with linked: true"):
        validate_spec(spec_data(linked=True))
    spec = validate_spec(spec_data(linked=True, trial_date="2020-07-01"))
    assert spec.trial_date == datetime.date(2020, 7, 1)


def test_a_bad_date_says_the_form_expected(problem):
    assert "trial_date: received '2020-13-01', expected an ISO date" in problem(trial_date="2020-13-01")


def test_labels_compare_as_text(spec_data):
    assert validate_spec(spec_data(trial={"control": 0, "arms": [1, 2.0]})).trial.arms == ["1", "2"]
    assert validate_spec(spec_data(trial={"control": "0"})).trial.control == "0"


def test_the_arms_must_not_hold_the_control(problem):
    assert "trial.arms: received ['No', 'Mens E-Mail'], which holds the control 'No'" in problem(
        trial={"arms": ["No", "Mens E-Mail"]}
    )


def test_a_column_in_two_roles_is_refused(problem):
    message = problem(trial={"covariates": ["V1", "purchase"]})
    assert "trial.covariates: received the column(s) of [\"trial.outcomes: 'purchase'\"], which cannot be covariates" in message


def test_categorical_must_be_covariates(problem):
    message = problem(trial={"categorical": ["V9"]})
    assert "trial.categorical: received ['V9'], which are not in trial.covariates" in message


def test_segment_forms(problem, spec_data):
    assert validate_spec(spec_data(trial={"segment": "V2"})).trial.segment == "V2"
    binned = validate_spec(spec_data(trial={"segment": {"column": "V1", "bins": [0, 40]}})).trial.segment
    assert binned == BinnedSegment(column="V1", bins=[0.0, 40.0])
    assert "trial.segment.bins: received [0.0, 50.0, 40.0], expected strictly increasing" in problem(
        trial={"segment": {"column": "V1", "bins": [0, 50, 40]}}
    )
    assert "trial.segment: received 5, expected a column name, or {column: NAME, bins: [EDGES]}" in problem(
        trial={"segment": 5}
    )


def test_recency_unit(problem):
    assert "trial.recency.unit: received 'month' (did you mean 'months'?)" in problem(
        trial={"recency": {"column": "months", "unit": "month"}}
    )


def test_log_columns_must_name_the_roles(problem):
    message = problem(log={"columns": ["id", "day", "value"]})
    assert "log.columns: received ['id', 'day', 'value'], which lacks" in message and "log.amount: 'amount'" in message
    assert "log.header: received false without log.columns" in problem(log={"header": False})


def test_a_section_of_the_wrong_type(problem):
    assert "trial: received a list [1], expected a mapping with the keys ['path'," in problem(trial=[1])


# ---------------------------------------------------------------- files


def test_paths_are_relative_to_the_spec_file(tmp_path, spec_data):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec_data(log={"path": "../logs/log.csv"})))
    spec = load_spec(folder / "spec.yaml")
    assert spec.trial.path == folder / "trial.csv"
    assert spec.log.path == folder / "../logs/log.csv"
    absolute = tmp_path / "elsewhere.csv"
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec_data(trial={"path": str(absolute)})))
    assert load_spec(folder / "spec.yaml").trial.path == absolute


def test_a_spec_file_problem_names_the_file(tmp_path, spec_data):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec_data(trial={"window_weeks": 0})))
    with pytest.raises(DataValidationError, match=r"dataset spec '.*spec.yaml': trial.window_weeks: received 0"):
        load_spec(path)
    path.write_text("trial: [unclosed")
    with pytest.raises(DataValidationError, match="not valid YAML"):
        load_spec(path)
    with pytest.raises(DataValidationError, match="no such file"):
        load_spec(tmp_path / "absent.yaml")
    path.write_text("- a list")
    with pytest.raises(DataValidationError, match=r"received a list \['a list'\], expected a mapping with the keys"):
        load_spec(path)


def test_flags_build_the_spec_of_the_yaml(tmp_path):
    text = """
trial:
  path: trial.csv
  treatment: Promotion
  control: "No"
  arms: [Mens E-Mail, Womens E-Mail]
  window_weeks: 2
  outcomes: {conversion: purchase, visit: visited}
  covariates: [V1, V2, V3]
  categorical: [V3]
  segment: {column: V1, bins: [0, 40, 60]}
  recency: {column: months, unit: months}
  customer_id: customer
log:
  path: log.csv
  customer_id: id
  timestamp: day
  amount: value
  columns: [id, day, value]
  separator: whitespace
  time_format: "%Y%m%d"
  nonpositive: drop
linked: true
trial_date: 2020-07-01
assumptions: {margin: 0.25, costs: {Mens E-Mail: 0.1, default: 0.05}}
"""
    (tmp_path / "spec.yaml").write_text(text)
    from_yaml = load_spec(tmp_path / "spec.yaml")
    from_flags = spec_from_flags(
        trial=tmp_path / "trial.csv",
        treatment="Promotion",
        control="No",
        arms="Mens E-Mail,Womens E-Mail",
        window_weeks=2,
        conversion="purchase",
        visit="visited",
        covariates="V1,V2,V3",
        categorical=["V3"],
        segment="V1:0,40,60",
        recency="months",
        recency_unit="months",
        trial_customer_id="customer",
        log=tmp_path / "log.csv",
        log_customer_id="id",
        timestamp="day",
        amount="value",
        log_columns="id,day,value",
        log_separator="whitespace",
        time_format="%Y%m%d",
        nonpositive="drop",
        linked=True,
        trial_date="2020-07-01",
        margin=0.25,
        costs="Mens E-Mail=0.1,default=0.05",
    )
    assert from_flags == from_yaml


def test_flags_name_the_spec_keys(tmp_path):
    with pytest.raises(DataValidationError, match=r"dataset flags: trial.window_weeks: received 0"):
        spec_from_flags(trial="t.csv", treatment="T", control=0, conversion="y", window_weeks=0, log="l.csv")
    with pytest.raises(DataValidationError, match=r"assumptions.costs: received 'x' in 'x', expected LABEL=COST"):
        spec_from_flags(trial="t.csv", treatment="T", control=0, conversion="y", window_weeks=2, log="l.csv", costs="x")


# ---------------------------------------------------------------- JSON Schema


def test_the_schema_accepts_the_shipped_specs_and_refuses_typos(spec_data):
    schema = dataset_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in EXAMPLE_SPECS:
        data = yaml.safe_load(example_spec_path(name).read_text())
        assert list(validator.iter_errors(data)) == [], name
    assert list(validator.iter_errors(spec_data(trial={"windw_weeks": 2})))
    assert list(validator.iter_errors(spec_data(trial={"window_weeks": 0})))
    assert list(validator.iter_errors(spec_data(trial={"control": 0}))) == []


def test_the_schema_describes_every_key():
    schema = DatasetSpec.model_json_schema()
    trial = schema["$defs"]["TrialSpec"]["properties"]
    assert trial["window_weeks"]["exclusiveMinimum"] == 0
    assert all("description" in value for value in trial.values())


def test_calibrate_prints_the_schema_without_out(capsys):
    assert main(["calibrate", "--spec-schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(dataset_json_schema()))


def test_calibrate_without_out_says_it_is_required(capsys):
    assert main(["calibrate"]) == 2
    assert "--out is required" in capsys.readouterr().err


def test_the_shipped_specs_are_package_data():
    for name in EXAMPLE_SPECS:
        assert Path(example_spec_path(name)).is_file()
    with pytest.raises(DataValidationError, match=r"received the spec name 'hillstrom' \(did you mean 'hillstrom_cdnow'\?\)"):
        example_spec_path("hillstrom")
