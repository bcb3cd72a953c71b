"""``journeygym ope``: estimates with intervals and diagnostics; the assessment with --truth; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data
from journeygym.cli import main


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    frame = simulate_logged_data(300, 3, params=[0, 1], horizon=8)
    return write_logged_data(frame, tmp_path_factory.mktemp("ope") / "log.parquet"), frame


def test_estimates_and_assessment_as_json(log_path, capsys):
    path, _ = log_path
    status = main(["ope", str(path), "--policies", "never", "random", "always_mens", "--bootstrap", "20", "--truth", "--json"])
    assert status == 0
    record = json.loads(capsys.readouterr().out)
    assert [p["policy"] for p in record["policies"]] == ["never", "random", "always_mens"]
    first = record["policies"][0]["estimates"]
    assert set(first) == {"dm", "is", "wis", "pdis", "wpdis", "dr", "wdr", "magic"}
    for estimate in first.values():
        assert all(np.isfinite(estimate[key]) for key in ("low", "value", "high"))
        assert estimate["low"] <= estimate["high"]
    assert set(record["truth"]) == {"never", "random", "always_mens", "oracle"}
    assert {row["estimator"] for row in record["assessment"]} == set(first)
    assert record["settings"]["propensities_estimated"] is False


def test_fitted_q_on_the_filter_belief_is_recorded(log_path, capsys):
    path, _ = log_path
    args = ["ope", str(path), "--policies", "never", "--estimators", "dm", "--bootstrap", "5", "--json"]
    assert main([*args, "--fqe-features", "belief"]) == 0
    with_belief = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert with_belief["settings"]["fqe_features"] == "belief" and plain["settings"]["fqe_features"] == "observation"
    assert with_belief["policies"][0]["estimates"]["dm"]["value"] != plain["policies"][0]["estimates"]["dm"]["value"]


def test_a_log_without_propensities_is_marked_estimated(log_path, tmp_path, capsys):
    _, frame = log_path
    csv = tmp_path / "log.csv"
    frame.drop(columns=[c for c in frame.columns if c.startswith("propensity_")]).to_csv(csv, index=False)
    assert main(["ope", str(csv), "--policies", "never", "random", "--estimators", "pdis", "wpdis", "--bootstrap", "10"]) == 0
    out = capsys.readouterr().out
    assert "estimated from the log" in out and "pdis" in out and "wpdis" in out


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda f: f[f["week"] != 3], "skips or starts late at week 4"),
        (lambda f: f.assign(reward=f["reward"].where(f.index != 5, float("inf"))), "'reward' has 1 non-finite"),
        (lambda f: f.assign(propensity_no_action=f["propensity_no_action"] * 0.5), "do not sum to 1"),
    ],
)
def test_bad_logs_are_clear_errors(log_path, tmp_path, capsys, change, needle):
    _, frame = log_path
    csv = tmp_path / "bad.csv"
    change(frame.copy()).to_csv(csv, index=False)
    assert main(["ope", str(csv), "--policies", "never", "--bootstrap", "10"]) == 2
    assert needle in capsys.readouterr().err


def test_unknown_names_are_clear_errors(log_path, capsys):
    path, _ = log_path
    assert main(["ope", str(path), "--policies", "nevr"]) == 2
    assert "did you mean 'never'" in capsys.readouterr().err
    assert main(["ope", str(path), "--policies", "never", "--estimators", "dr", "drr"]) == 2
    assert "did you mean 'dr'" in capsys.readouterr().err
    assert main(["ope", str(path), "--policies", "ppo"]) == 2
    assert "saved agent" in capsys.readouterr().err
