"""``journeygym evaluate`` and ``compare``: a front over the runner's cells, its output and its input errors."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from journeygym.cli.evaluate import compare_command, evaluate_command
from journeygym.cli.run import run_command
from journeygym.envs.artifact import save_artifact
from journeygym.envs.parameters import ParameterDraws, ScenarioAssumptions
from journeygym.experiments.runner import load_results
from journeygym.experiments.summary import summarize, summary_frame

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


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_json_output_has_every_policy_tuning_and_provenance(short_artifact: str, capsys) -> None:
    policies = "never,random,always_mens,always_womens,lookalike,expected_ltv,ltv_uplift"
    status = evaluate_command(["--policies", policies, "--draws", "2", "--artifact", short_artifact, "--json", *SMALL])
    assert status == 0
    payload = _json(capsys)
    assert [row["policy"] for row in payload["summary"]] == policies.split(",")
    record = payload["record"]
    assert {"version", "config_hash", "seed", "artifact_sha256"} <= set(record)
    assert record["draws"] == [0, 2]  # two draws spread over the three, as a config's count
    assert payload["output_dir"] is None  # a temporary results directory, removed
    for name in ("lookalike", "expected_ltv", "ltv_uplift"):
        assert {"threshold", "budget", "validation_return"} <= set(payload["tuning"][name])
    reference = payload["summary"][0]["reference"]
    assert reference in ("lookalike", "expected_ltv", "ltv_uplift")  # the rule of `journeygym run`
    by_policy = {row["policy"]: row for row in payload["summary"]}
    assert by_policy[reference]["difference"] is None


def test_evaluate_and_run_print_the_same_table(short_artifact: str, tmp_path, capsys) -> None:
    """The same policies, seed and draws give the same returns and intervals from either command."""
    policies = ["never", "always_mens", "lookalike", "oracle"]
    out = tmp_path / "evaluate"
    args = ["--policies", ",".join(policies), "--draws", "2", "--seed", "7", "--artifact", short_artifact, *SMALL]
    assert evaluate_command([*args, "--out", str(out), "--json"]) == 0
    from_evaluate = pd_records(_json(capsys)["summary"])
    config = {
        "name": "same-as-evaluate",
        "scenario": {"artifact": short_artifact},
        "policies": policies,
        "seeds": [7],
        "evaluation": {"customers": 150, "draws": 2},
        "logged_data": {"customers": 300, "tune_customers": 100},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    assert run_command([str(path), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    printed_by_run = capsys.readouterr().out
    from_run = pd_records(summary_frame(summarize(load_results(tmp_path / "run"), policies)).to_dict("records"))
    assert from_evaluate == from_run
    assert evaluate_command([*args, "--out", str(tmp_path / "again")]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith(tuple(policies))]
    assert len(table) == len(policies) and all(line in printed_by_run.splitlines() for line in table)
    assert evaluate_command([*args, "--out", str(out), "--json"]) == 2  # the directory holds a finished run
    assert "already holds results" in capsys.readouterr().err


def pd_records(rows: list[dict]) -> list[tuple]:
    keys = ("policy", "reference", "mean_return", "mean_return_low", "mean_return_high", "difference", "difference_low",
            "difference_high", "gap_closed", "contact_rate", "unsubscribe_rate")
    return [tuple(None if isinstance(row[k], float) and math.isnan(row[k]) else row[k] for k in keys) for row in rows]


def test_table_output_with_metrics(short_artifact: str, capsys) -> None:
    status = evaluate_command(
        ["--policies", "never,random,ltv_uplift", "--draws", "1", "--artifact", short_artifact, "--metrics", *SMALL]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "reference: ltv_uplift" in out and "tuned operating points" in out and "scoring-model metrics" in out
    for word in ("ROC-AUC", "CV ROC-AUC", "RMSE", "MAPE(non-zero)", "Qini", "AUUC", "uplift@10%", "vs true_effect"):
        assert word in out


def test_paired_differences_against_a_chosen_reference(short_artifact: str, capsys) -> None:
    common = ["--draws", "2", "--artifact", short_artifact, "--json", *SMALL]
    assert evaluate_command(["--policies", "never,always_mens", "--reference", "random", *common]) == 0
    rows = {row["policy"]: row for row in _json(capsys)["summary"]}
    assert set(rows) == {"random", "never", "always_mens"}  # the reference is added
    assert {row["reference"] for row in rows.values()} == {"random"}
    expected = rows["always_mens"]["mean_return"] - rows["random"]["mean_return"]
    assert rows["always_mens"]["difference"] == pytest.approx(expected, abs=1e-9)


def test_compare_defaults_to_the_simple_policies(short_artifact: str, capsys) -> None:
    assert compare_command(["--draws", "1", "--customers", "100", "--artifact", short_artifact, "--json"]) == 0
    assert [row["policy"] for row in _json(capsys)["summary"]] == ["never", "random", "always_mens", "always_womens"]


def test_too_few_draws_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--draws", "5", "--artifact", short_artifact, *SMALL]) == 2
    err = capsys.readouterr().err
    assert "evaluation.draws" in err and "received 5" in err and "holds 3 posterior draw(s)" in err


def test_unknown_policy_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--policies", "never,lookalik", "--artifact", short_artifact]) == 2
    assert "'lookalike'" in capsys.readouterr().err


def test_unknown_reference_is_a_clear_error(short_artifact: str, capsys) -> None:
    assert evaluate_command(["--reference", "randon", "--artifact", short_artifact, *SMALL]) == 2
    assert "--reference" in (err := capsys.readouterr().err) and "'random'" in err


def test_a_full_disk_is_a_message_not_a_traceback(short_artifact: str, tmp_path, capsys, monkeypatch) -> None:
    import errno
    import os

    from journeygym.experiments.store import ResultStore

    def full(self, cell_id, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.cell_path(cell_id)))

    monkeypatch.setattr(ResultStore, "write_cell", full)
    out = tmp_path / "out"
    assert compare_command(["--draws", "1", "--customers", "100", "--artifact", short_artifact, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert "rerun the same command" in err
    assert compare_command(["--draws", "1", "--customers", "100", "--artifact", short_artifact, "--json"]) == 1
    assert "pass --out DIR on a disk with room" in capsys.readouterr().err
