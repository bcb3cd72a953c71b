"""Summary statistics, the traced rollout, the report, and the report command."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.baselines.oracle_policy import OraclePolicy
from journeygym.baselines.rollout import rollout
from journeygym.baselines.simple import RandomPolicy
from journeygym.cli.report import report_command
from journeygym.experiments.config import load_config
from journeygym.experiments.runner import run_experiment
from journeygym.experiments.summary import grand_mean_interval, summarize
from journeygym.experiments.tracing import traced_rollout


@pytest.mark.parametrize("policy", [RandomPolicy(seed=3), OraclePolicy()], ids=["random", "oracle"])
def test_traced_rollout_matches_rollout(synthetic_draws, policy):
    kwargs = dict(n_customers=300, seed=11, params=1, artifact=synthetic_draws, horizon=8)
    plain = rollout(RandomPolicy(seed=3) if isinstance(policy, RandomPolicy) else policy, **kwargs)
    traced = traced_rollout(policy, **kwargs)
    np.testing.assert_array_equal(plain.returns, traced.rollout.returns)
    assert traced.contacts_by_segment.sum() == traced.contacts_by_state.sum() == plain.contacts.sum()
    assert traced.weeks_by_state.sum() == traced.weeks_by_segment.sum() <= 300 * 8


def test_interval_of_a_two_way_table_covers_the_truth_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(400):
        table = 1.0 + rng.normal(0, 0.5, (3, 1)) + rng.normal(0, 0.3, (1, 8)) + rng.normal(0, 0.2, (3, 8))
        estimate = grand_mean_interval(table)
        covered += estimate.low <= 1.0 <= estimate.high
    assert 0.90 <= covered / 400 <= 0.995


def test_one_seed_one_draw_uses_customer_blocks():
    estimate = grand_mean_interval(np.array([[2.0]]), blocks=np.array([1.0, 3.0, 2.0, 2.0]))
    assert estimate.mean == 2.0 and estimate.low < 2.0 < estimate.high


def test_summary_has_reference_gap_and_winner(tiny, tmp_path):
    config = load_config(tiny(policies=["never", "random", "lookalike", "oracle"]))
    result = run_experiment(config, tmp_path, progress=False)
    (summary,) = summarize(result.table)
    assert summary.reference == "lookalike" and summary.oracle == "oracle" and summary.never == "never"
    # Every policy has one row per (seed, draw), so its grand mean is the mean of its rows.
    means = result.table.groupby("policy")["mean_return"].mean()
    assert len(result.table) == 4 * 2 * 2
    gap = means["oracle"] - means["never"]
    assert gap > 0 and all(means["oracle"] > means[p] for p in ("never", "random", "lookalike"))
    for policy in ("random", "lookalike"):
        row = summary.row(policy)
        assert row.mean_return.mean == pytest.approx(means[policy], rel=1e-12)
        assert row.gap_closed.mean == pytest.approx((means[policy] - means["never"]) / gap, rel=1e-9)
        assert row.gap_closed.low < row.gap_closed.mean < row.gap_closed.high
    from_reference = (means["random"] - means["lookalike"]) / (means["oracle"] - means["lookalike"])
    assert summary.row("random").gap_closed_from_reference.mean == pytest.approx(from_reference, rel=1e-9)
    assert summary.row("random").difference is not None and summary.row("lookalike").difference is None
    assert summary.winner != "oracle"
    for name in ("report.md", "report.html", "summary.csv", "returns.png", "contacts_by_segment.png", "contacts_by_state.png"):
        assert (tmp_path / "report" / name).is_file()


def test_sweep_report_shows_every_setting_and_its_winner(tiny, tmp_path, capsys):
    config = tiny(seeds=[0], policies=["never", "random", "myopic_oracle", "oracle"])
    config["scenario"]["sweep"] = {"kappa": [0.0, 1.0], "u1": [0.0]}
    result = run_experiment(load_config(config), tmp_path, progress=False)
    assert sorted(result.table["setting"].unique()) == [0, 1]
    assert report_command([str(tmp_path)]) == 0
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "Sensitivity to the assumptions" in markdown and "kappa=0, u1=0" in markdown
    assert "Measured here: kappa=0, u1=0: myopic oracle" in markdown
    assert (tmp_path / "report" / "sensitivity.png").is_file()
    assert "winner" in capsys.readouterr().out
    winners = {s.winner for s in summarize(result.table)}
    assert winners <= {"never", "random"}  # policies that see the hidden state are references, not contenders


def test_report_command_on_a_wrong_directory_fails_cleanly(tmp_path, capsys):
    assert report_command([str(tmp_path)]) == 2
    assert "journeygym results directory" in capsys.readouterr().err
