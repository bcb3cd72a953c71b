"""``journeygym evaluate``: the whole pipeline on a small synthetic artifact, and its input errors."""

from __future__ import annotations

import json
import math

import pytest

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.scoring import ScoringModels
from journeygym.calibration.artifact import save_artifact
from journeygym.envs.parameters import ParameterDraws, ScenarioAssumptions
from journeygym.experiments.evaluate import evaluate_command, tune_operating_point

SMALL = ["--customers", "150", "--train-customers", "300", "--tune-customers", "100"]


@pytest.fixture(scope="module")
def short_artifact(tmp_path_factory, synthetic_draws: ParameterDraws) -> str:
    """The synthetic draws with a 10-week horizon, saved as an artifact file."""
    draws = ParameterDraws(
        draws=synthetic_draws.draws,
        mean=synthetic_draws.mean,
        assumptions=ScenarioAssumptions(horizon=10),
        metadata={"label": "synthetic test artifact"},
    )
    return str(save_artifact(draws, tmp_path_factory.mktemp("artifact") / "short.npz"))


def test_json_output_has_every_policy_and_provenance(short_artifact: str, capsys) -> None:
    policies = "never,random,always_mens,always_womens,lookalike,expected_ltv,ltv_uplift"
    status = evaluate_command(["--policies", policies, "--draws", "2", "--artifact", short_artifact, "--json", *SMALL])
    assert status == 0
    payload = json.loads(capsys.readouterr().out)
    assert [row["policy"] for row in payload["rows"]] == policies.split(",")
    record = payload["record"]
    assert {"version", "config_hash", "seed"} <= set(record)
    assert record["settings"]["seeds"]["evaluation"] == [0, 1]
    assert not set(record["settings"]["seeds"]["training"]) & set(record["settings"]["seeds"]["evaluation"])
    for name in ("lookalike", "expected_ltv", "ltv_uplift"):
        tuned = payload["tuning"][name]
        assert tuned["mean_return"] == max(c["mean_return"] for c in tuned["candidates"])
        assert record["settings"]["policies"][name]["threshold"] == tuned["threshold"]  # stored in get_params()
    never = payload["rows"][0]
    assert never["difference_vs_reference"]["mean"] == 0.0


def test_table_output_with_metrics(short_artifact: str, capsys) -> None:
    status = evaluate_command(
        ["--policies", "random,ltv_uplift", "--draws", "1", "--artifact", short_artifact, "--metrics", *SMALL]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert any(line.startswith("never ") for line in out.splitlines())  # the reference is added
    assert "tuned operating points" in out and "scoring-model metrics" in out
    for word in ("ROC-AUC", "CV ROC-AUC", "RMSE", "MAPE(non-zero)", "Qini", "AUUC", "uplift@10%", "vs true_effect"):
        assert word in out


def test_too_few_draws_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--draws", "5", "--artifact", short_artifact, *SMALL]) == 2
    err = capsys.readouterr().err
    assert "--draws: received 5" in err and "holds 3 posterior draw(s)" in err


def test_unknown_policy_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--policies", "never,lookalik", "--artifact", short_artifact]) == 2
    assert "did you mean 'lookalike'" in capsys.readouterr().err


def test_paired_differences_against_another_reference(short_artifact: str, capsys) -> None:
    common = ["--draws", "2", "--artifact", short_artifact, "--json", *SMALL]
    assert evaluate_command(["--policies", "never,random,always_mens", *common]) == 0
    against_never = {row["policy"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert evaluate_command(["--policies", "never,always_mens", "--reference", "random", *common]) == 0
    rows = {row["policy"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert set(rows) == {"random", "never", "always_mens"}  # the reference is added
    assert rows["random"]["difference_vs_reference"]["mean"] == 0.0
    expected = against_never["always_mens"]["mean_return"]["mean"] - against_never["random"]["mean_return"]["mean"]
    assert rows["always_mens"]["difference_vs_reference"]["mean"] == pytest.approx(expected, abs=1e-9)


def test_unknown_reference_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--reference", "randon", "--artifact", short_artifact, *SMALL]) == 2
    assert "--reference" in (err := capsys.readouterr().err) and "did you mean 'random'" in err


def test_missing_artifact_is_a_clear_error(tmp_path, capsys) -> None:
    assert evaluate_command(["--artifact", str(tmp_path / "none.npz")]) == 2
    assert "--artifact" in capsys.readouterr().err


def test_tuning_refines_around_the_best_and_keeps_it(synthetic_draws: ParameterDraws) -> None:
    log = simulate_logged_data(300, 5, artifact=synthetic_draws, params=[0], horizon=8)
    policy = make_policy("lookalike", models=ScoringModels(components=("response",)).fit(log))
    result = tune_operating_point(
        policy, log, n_customers=60, seeds=[9], draws=[0], artifact=synthetic_draws, scenario={"horizon": 8}
    )
    assert len(result["candidates"]) >= 7
    assert (policy.threshold, policy.budget) == (result["threshold"], result["budget"])
    assert policy.get_params()["tuning"] == result["candidates"]
    assert math.isfinite(result["mean_return"])
    with pytest.raises(ValueError, match="seeds"):
        tune_operating_point(policy, log, n_customers=10, seeds=[1, 2], draws=[0], artifact=synthetic_draws)
