"""The runner's offline section: config validation, the offline records of every cell, the report section."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from journeygym.experiments.config import ConfigError, load_config
from journeygym.experiments.offline_report import offline_blocks, offline_frame, offline_text
from journeygym.experiments.report import report_text
from journeygym.experiments.runner import run_experiment


def problems(config) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(config)
    return dict(info.value.problems)


def test_offline_section_problems_are_reported_with_their_keys(tiny):
    form = problems(tiny(offline={"epsilon": 1.5, "customerz": 5}))
    assert "[0, 1]" in form["offline.epsilon"]
    assert "did you mean 'customers'" in form["offline.customerz"]
    names = problems(tiny(offline={"behavior": "orcale", "estimators": ["dr", "wdrr"]}))
    assert "did you mean 'oracle'" in names["offline.behavior"]
    assert "did you mean 'wdr'" in names["offline.estimators[1]"]
    assert "hidden state" in problems(tiny(offline={"behavior": "oracle"}))["offline.behavior"]
    ratios = problems(tiny(offline={"ratio_learner": "binnd", "ratio_clip": 0.5}))
    assert "did you mean 'binned'" in ratios["offline.ratio_learner"]
    assert "expected a number > 1" in ratios["offline.ratio_clip"]
    assert "did you mean 'mdr'" in problems(tiny(offline={"estimators": ["mis", "mdrr"]}))["offline.estimators[1]"]
    assert "would log untrained" in problems(tiny(offline={"behavior": "ppo"}))["offline.behavior"]


def test_logging_policies_problems_are_reported_with_their_keys(tiny):
    entries = [
        {"kind": "uniform", "epsilon": 0.1},
        {"kind": "epsilon_greedy", "policy": "ltv_uplift", "epsilon": 1.5},
        {"kind": "epsilon_greedy", "epsilon": 0.05},
        {"kind": "unifrm"},
    ]
    form = problems(tiny(offline={"logging": entries}))
    assert "kind uniform takes no epsilon" in form["offline.logging[0].epsilon"]
    assert "received float 1.5, expected a number in [0, 1]" in form["offline.logging[1].epsilon"]
    assert "needs a policy and an epsilon" in form["offline.logging[2].policy"]
    assert "did you mean 'uniform'" in form["offline.logging[3].kind"]
    twice = problems(tiny(offline={"logging": [{"kind": "uniform"}, {"kind": "uniform"}]}))
    assert "the same logging policy as offline.logging[0]" in twice["offline.logging[1]"]
    both = problems(tiny(offline={"behavior": "ltv_uplift", "logging": [{"kind": "uniform"}]}))
    assert "set either behavior (one logging policy) or logging (several), not both" in both["offline.logging"]
    names = problems(tiny(offline={"logging": [
        {"kind": "epsilon_greedy", "policy": "ltv_uplft", "epsilon": 0.05},
        {"kind": "epsilon_greedy", "policy": "oracle", "epsilon": 0.05},
    ]}))
    assert "did you mean 'ltv_uplift'" in names["offline.logging[0].policy"]
    assert "hidden state" in names["offline.logging[1].policy"]


def test_the_logging_list_replaces_behavior_and_epsilon_in_the_normalized_config(tiny):
    from journeygym.experiments.offline import logging_policies

    plain = load_config(tiny(offline={"behavior": "ltv_uplift", "epsilon": 0.1}))
    assert "logging" not in plain.offline  # a section without the list keeps its keys, and its hash
    assert [p.label for p in logging_policies(plain.offline)] == ["ltv_uplift epsilon-greedy (epsilon 0.1), 20,000 customers"]
    listed = load_config(tiny(offline={"customers": 500, "logging": [
        {"kind": "uniform"}, {"kind": "epsilon_greedy", "policy": "ltv_uplift", "epsilon": 0.05, "customers": 300},
    ]}))
    assert "behavior" not in listed.offline and "epsilon" not in listed.offline
    assert [(p.behavior, p.epsilon, p.customers) for p in logging_policies(listed.offline)] == [
        ("uniform", None, 500), ("ltv_uplift", 0.05, 300),
    ]
    assert load_config("offline-realistic").offline["logging"][2] == {
        "kind": "epsilon_greedy", "policy": "ltv_uplift", "epsilon": 0.05, "customers": None,
    }


def test_a_config_without_offline_keeps_its_hash(tiny):
    plain = load_config(tiny())
    assert "offline" not in plain.to_dict()
    with_offline = load_config(tiny(offline={}))
    assert with_offline.offline["behavior"] == "uniform" and with_offline.offline["customers"] == 20_000


def test_every_cell_carries_its_offline_records_and_the_report_shows_them(tiny, tmp_path):
    config = load_config(
        tiny(
            policies=["never", "random", "always_mens", "oracle"],
            seeds=[0],
            evaluation={"customers": 100, "draws": 1},
            offline={
                "customers": 300, "logging_seeds": 2, "bootstrap": 20, "estimators": ["dm", "pdis", "dr", "mdr"],
                "ratio_learner": "binned", "ratio_clip": 20,
            },
        )
    )
    result = run_experiment(config, tmp_path / "run", progress=False)
    long = offline_frame(result.table)
    assert set(long["policy"]) == {"never", "random", "always_mens", "oracle"}
    assert set(long["logging_seed"]) == {0, 1}
    estimated = long[long["estimator"].notna()]
    assert set(estimated["estimator"]) == {"dm", "pdis", "dr", "mdr"}
    assert len(estimated) == 3 * 4 * 2  # policies x estimators x logs
    marginal = estimated["estimator"] == "mdr"
    assert (estimated.loc[marginal, "ratio_learner"] == "binned").all() and (estimated.loc[marginal, "ratio_clip"] == 20).all()
    assert estimated.loc[~marginal, "ratio_learner"].isna().all()
    assert long.loc[long["policy"] == "oracle", "estimator"].isna().all()  # the oracle: its true value only
    # Same customers in every cell: the log is shared, so never's truth is the same number in each record.
    assert estimated.loc[estimated["policy"] == "never"].groupby("logging_seed")["true_value"].nunique().eq(1).all()
    # random is the uniform logging policy: per-decision IS is exact up to noise, and its interval is finite.
    random_pdis = estimated[(estimated["policy"] == "random") & (estimated["estimator"] == "pdis")]
    assert (random_pdis["low"] <= random_pdis["high"]).all()
    text = report_text(result.output_dir)
    assert "Offline benchmark" in text and "spearman" in text.lower()
    assert "mis and mdr: per-week state ratios learned by binned, clipped at 20" in text
    markdown = (result.output_dir / "report" / "report.md").read_text()
    assert "## Offline benchmark" in markdown and (result.output_dir / "report" / "offline.png").is_file()
    # With several settings, the text and the report both head each setting's table.
    two_settings = pd.concat([result.table, result.table.assign(setting=1)], ignore_index=True)
    assert {"Setting 0", "Setting 1"} <= set(offline_text(two_settings).splitlines())
    headings = [b[1] for b in offline_blocks(two_settings, tmp_path) if b[0] == "h3"]
    assert headings == ["Setting 0", "Setting 1"]
    rerun = run_experiment(config, tmp_path / "again", progress=False)
    assert json.loads(rerun.table["offline"].dropna().iloc[0])["records"] == json.loads(result.table["offline"].dropna().iloc[0])["records"]


def test_the_config_s_ratio_learners_and_default_are_the_package_s():
    from journeygym.experiments.config import config_json_schema
    from journeygym.ope.ratios import DEFAULT_RATIO_LEARNER, RATIO_LEARNERS

    learner = config_json_schema()["$defs"]["OfflineSection"]["properties"]["ratio_learner"]
    assert learner["enum"] == list(RATIO_LEARNERS) and learner["default"] == DEFAULT_RATIO_LEARNER


def test_each_logging_policy_gets_its_own_assessment_overlap_and_verdict(tiny, tmp_path):
    config = load_config(
        tiny(
            policies=["never", "random", "always_mens", "oracle"],
            seeds=[0],
            evaluation={"customers": 100, "draws": 1},
            offline={
                "customers": 300, "logging_seeds": 1, "bootstrap": 20, "estimators": ["dm", "pdis", "dr"],
                "logging": [{"kind": "uniform"}, {"kind": "epsilon_greedy", "policy": "ltv_uplift", "epsilon": 0.05}],
            },
        )
    )
    result = run_experiment(config, tmp_path / "run", progress=False)
    long = offline_frame(result.table)
    uniform, greedy = "uniform, 300 customers", "ltv_uplift epsilon-greedy (epsilon 0.05), 300 customers"
    assert list(dict.fromkeys(long["logging"])) == [uniform, greedy]
    estimated = long[long["estimator"].notna()]
    assert len(estimated) == 3 * 3 * 2  # policies x estimators x logging policies
    assert set(estimated.loc[estimated["logging"] == greedy, "epsilon"]) == {0.05}
    assert estimated.loc[estimated["logging"] == uniform, "epsilon"].isna().all()
    # The same seed and size: both logging policies log the same customers, so the truths agree.
    truths = estimated.groupby(["policy", "logging"])["true_value"].first().unstack()
    assert (truths[uniform] == truths[greedy]).all()
    # ...but not the same actions: the overlap of the logging policy's own candidates differs.
    assert estimated.groupby("logging")["overlap_ess_per_decision_share"].mean().nunique() == 2
    blocks = offline_blocks(result.table, tmp_path)
    headings = [b[1] for b in blocks if b[0] == "h3"]
    assert headings == [f"Logging: {uniform}", f"Logging: {greedy}"]
    tables = [b for b in blocks if b[0] == "table"]
    assessments = [t for t in tables if t[1][:2] == ["estimator", "logs"]]
    overlaps = [t for t in tables if t[1][0] == "policy" and "level (advice rules)" in t[1]]
    assert len(assessments) == 2 and len(overlaps) == 2
    assert all({row[0] for row in t[2]} == {"never", "random", "always_mens"} for t in overlaps)
    works = next(t for t in tables if t[1][0] == "logging policy")
    assert [row[0] for row in works[2]] == [uniform, greedy]
    text = report_text(result.output_dir)
    assert f"Logging: {greedy}" in text and "Which estimators still work under each logging policy" in text


def test_the_policy_the_logs_follow_is_trained_once_for_every_epsilon(monkeypatch):
    from journeygym.experiments import offline

    calls = []
    monkeypatch.setattr(offline, "fit_on_logged_data", lambda policy, spec: calls.append(policy.name))
    trained: dict = {}
    wide = offline._behavior(None, offline.LoggingPolicy("ltv_uplift", 0.2, 100), trained)
    narrow = offline._behavior(None, offline.LoggingPolicy("ltv_uplift", 0.05, 100), trained)
    assert calls == ["ltv_uplift"] and wide.policy is narrow.policy
    assert (wide.epsilon, narrow.epsilon) == (0.2, 0.05)


def _offline_config(tiny, policies):
    return load_config(
        tiny(
            policies=policies,
            seeds=[0],
            evaluation={"customers": 100, "draws": 1},
            offline={"customers": 300, "logging_seeds": 1, "bootstrap": 20, "estimators": ["dm", "pdis", "mdr"]},
        )
    )


def _records_by_policy(result) -> dict[str, list]:
    records = [json.loads(cell)["records"] for cell in result.table["offline"].dropna()]
    policies = [p for p, cell in zip(result.table["policy"], result.table["offline"]) if isinstance(cell, str)]
    return dict(zip(policies, records))


def test_cells_read_the_cached_log_as_episodes_with_the_numbers_of_the_simulated_one(tiny, tmp_path, monkeypatch):
    from journeygym.ope import parquet_log

    reads = []
    read = parquet_log.episodes_from_parquet
    monkeypatch.setattr(parquet_log, "episodes_from_parquet", lambda path, *a: reads.append(path) or read(path, *a))
    forward = run_experiment(_offline_config(tiny, ["never", "random", "always_mens", "oracle"]), tmp_path / "forward", progress=False)
    # The first cell simulates the log; the other three read it back a column at a time, never as a table.
    assert len(reads) == 3
    backward = run_experiment(_offline_config(tiny, ["oracle", "always_mens", "random", "never"]), tmp_path / "backward", progress=False)
    # Each policy's records are the same whether its cell simulated the log or read it from the cache.
    assert _records_by_policy(forward) == _records_by_policy(backward)


def test_a_cached_log_that_does_not_read_back_is_named_and_simulated_again(tiny, tmp_path, monkeypatch):
    from journeygym.baselines import logged_data
    from journeygym.experiments.store import ResultsWarning

    config = _offline_config(tiny, ["never", "random", "oracle"])
    sound = run_experiment(config, tmp_path / "sound", progress=False)

    def write_garbage(frame, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not parquet")

    monkeypatch.setattr(logged_data, "write_logged_data", write_garbage)
    with pytest.warns(ResultsWarning, match=r"cached offline log .*offline-setting0-seed0-log0.* does not read back"):
        broken = run_experiment(config, tmp_path / "broken", progress=False)
    assert _records_by_policy(broken) == _records_by_policy(sound)
