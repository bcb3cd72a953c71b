"""Value against volume: the contact-budget section of the report, the budgeted gap in the summary, the preset."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from journeygym.experiments.budget_report import (
    RANDOM_THINNING,
    bound_check,
    budget_blocks,
    budget_check,
    budget_frame,
    budget_text,
    price_table,
    winner_table,
)
from journeygym.experiments.config import ConfigError, load_config
from journeygym.experiments.runner import run_experiment
from journeygym.experiments.summary import paired_difference, summarize

# name: (kind, training, sees hidden state, enforcement, mean return, unit noise of its own)
POLICIES: dict[str, tuple[str, str, bool, str, float, float]] = {
    "never": ("never", "none", False, "random", 0.0, 0.02),
    "random": ("random", "none", False, "random", 1.0, 0.02),
    "lookalike": ("lookalike", "logged_data", False, "priority", 2.0, 0.02),
    "expected_ltv": ("expected_ltv", "logged_data", False, "priority", 2.3, 0.02),
    "ppo": ("ppo", "simulator", False, "priority", 2.5, 0.02),
    "oracle": ("oracle", "none", True, "random", 3.0, 0.02),
}


def synthetic_rows(
    budgets: list[float | None],
    *,
    seeds: int = 3,
    draws: int = 4,
    shift: dict[tuple[int, str], float] | None = None,
    noise: dict[tuple[int, str], float] | None = None,
    bound: float | None = 3.5,
    requested: dict[tuple[int, str], float] | None = None,
) -> pd.DataFrame:
    """Result rows by hand: one setting per budget, common (seed, draw) effects shared by every policy."""
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    for setting, budget in enumerate(budgets):
        common = rng.normal(0.0, 0.5, (seeds, draws))
        for name, (kind, training, hidden, enforcement, mean, own) in POLICIES.items():
            spread = (noise or {}).get((setting, name), own)
            values = mean + (shift or {}).get((setting, name), 0.0) + common + rng.normal(0.0, spread, (seeds, draws))
            rate = 0.0 if name == "never" else (budget or 0.5) * 0.95
            for s in range(seeds):
                for d in range(draws):
                    rows.append(
                        {
                            "setting": setting, "setting_label": f"contact_budget={budget}",
                            "setting_overrides": json.dumps({} if budget is None else {"contact_budget": budget}),
                            "carryover": 1.5, "kappa": 0.43, "unsubscribe_probability": 0.001, "u1": 1.0,
                            "policy": name, "kind": kind, "training": training, "uses_hidden_state": hidden,
                            "seed": s, "draw": d, "mean_return": float(values[s, d]),
                            "block_returns": [float(values[s, d])] * 4,
                            "contact_rate": rate, "unsubscribe_rate": 0.01, "purchases_per_customer": 1.0,
                            "contact_budget": budget, "contact_budget_per_1000": None,
                            "enforcement": "none" if budget is None else enforcement,
                            "requested_contact_rate": (requested or {}).get((setting, name), 0.0 if name == "never" else 0.6),
                            "thinned_share": 0.3, "capped_share": 0.0,
                            "max_weekly_contact_share": 0.0 if budget is None else budget * 0.99,
                            "budget_violations": 0,
                            "value_bound": bound if name == "oracle" else None,
                            "email_price": 0.12 if name == "ppo" else None,
                        }
                    )
    return pd.DataFrame(rows)


def test_winner_table_picks_the_best_non_oracle_policy_and_its_paired_difference():
    # Budget 0.2: ppo only 0.01 above expected_ltv, with noise of its own: the difference's interval spans 0.
    frame = synthetic_rows(
        [0.1, 0.2], shift={(1, "ppo"): -0.19}, noise={(1, "ppo"): 0.4, (1, "expected_ltv"): 0.4}
    )
    summaries = summarize(frame)
    points = budget_frame(frame, summaries)
    winners = winner_table(frame, points).set_index("setting")
    assert winners.loc[0, "winner"] == "ppo" and winners.loc[0, "runner_up"] == "expected_ltv"
    tables = {
        p: frame[(frame["setting"] == 0) & (frame["policy"] == p)].sort_values(["seed", "draw"])["mean_return"].to_numpy()
        for p in ("ppo", "expected_ltv")
    }
    assert winners.loc[0, "difference"] == pytest.approx((tables["ppo"] - tables["expected_ltv"]).mean(), rel=1e-12)
    expected = paired_difference(frame[frame["setting"] == 0], "ppo", "expected_ltv")
    assert (winners.loc[0, "difference_low"], winners.loc[0, "difference_high"]) == pytest.approx((expected.low, expected.high))
    assert winners.loc[0, "difference_low"] > 0 and bool(winners.loc[0, "excludes_zero"])
    # The oracle returns the most but sees the hidden state: never the winner.
    assert points.loc[points["setting"] == 0].set_index("policy")["mean_return"].idxmax() == "oracle"
    assert winners.loc[1, "difference_low"] < 0 < winners.loc[1, "difference_high"]
    assert not bool(winners.loc[1, "excludes_zero"])


def test_the_price_table_checks_the_volume_against_the_budget_and_the_best_seed_baseline():
    frame = synthetic_rows([0.1, 0.2], requested={(0, "ppo"): 0.115, (1, "ppo"): 0.25})
    points = budget_frame(frame, summarize(frame))
    prices = price_table(frame, points).set_index("setting")
    assert list(prices["policy"]) == ["ppo", "ppo"] and prices["email_price"].tolist() == pytest.approx([0.12, 0.12])
    assert bool(prices.loc[0, "meets_budget"]) and not bool(prices.loc[1, "meets_budget"])
    assert set(prices["baseline"]) == {"expected_ltv"} and set(prices["verdict"]) == {"beats"}


def test_the_bound_check_measures_each_policy_below_the_bound_in_standard_errors():
    frame = synthetic_rows([0.1])
    frame["std_return"], frame["customers"] = 10.0, 400  # standard error 0.5
    frame.loc[(frame["policy"] == "ppo") & (frame["draw"] == 2) & (frame["seed"] == 1), "mean_return"] = 3.6
    table = bound_check(frame).set_index("policy")
    # ppo above the bound of 3.5 on one draw: margin (3.5 - 3.6) / 0.5 = -0.2, not below everywhere.
    assert table.loc["ppo", "smallest_margin"] == pytest.approx(-0.2)
    assert not bool(table.loc["ppo", "below_everywhere"])
    never = frame[frame["policy"] == "never"]
    assert table.loc["never", "smallest_margin"] == pytest.approx(((3.5 - never["mean_return"]) / 0.5).min())
    assert bool(table.loc["never", "below_everywhere"]) and bool(table.loc["oracle", "sees_hidden_state"])
    assert "every draw: NO" in budget_text(frame, summarize(frame))


def test_summary_measures_the_gap_to_the_value_bound_under_a_budget():
    def shares(frame: pd.DataFrame) -> tuple[float, list[str]]:
        (summary,) = summarize(frame)
        return summary.row("lookalike").gap_closed.mean, summary.notes

    frame = synthetic_rows([0.1])
    means = frame.groupby("policy")["mean_return"].mean()
    share, notes = shares(frame)
    assert share == pytest.approx((means["lookalike"] - means["never"]) / (3.5 - means["never"]), rel=1e-9)
    assert any("value bound (3.500)" in n for n in notes)
    # No bound recorded (the oracle before its budgeted form): the oracle's return is the top, and a note says so.
    share, notes = shares(synthetic_rows([0.1], bound=None))
    assert share == pytest.approx((means["lookalike"] - means["never"]) / (means["oracle"] - means["never"]), rel=1e-9)
    assert any("records no value bound" in n for n in notes)
    # Without a budget the oracle's return stays the top, whatever it records.
    share, notes = shares(synthetic_rows([None]))
    assert share == pytest.approx((means["lookalike"] - means["never"]) / (means["oracle"] - means["never"]), rel=1e-9)
    assert not any("contact budget" in n for n in notes)


def test_one_seed_one_draw_gap_to_the_bound_has_a_block_interval():
    frame = synthetic_rows([0.1], seeds=1, draws=1)
    frame["block_returns"] = [list(v + np.linspace(-0.3, 0.3, 8) * (i % 3 + 1)) for i, v in enumerate(frame["mean_return"])]
    (summary,) = summarize(frame)
    gap = summary.row("lookalike").gap_closed
    assert math.isfinite(gap.low) and gap.low < gap.mean < gap.high
    assert summary.bound is not None and summary.bound.mean == 3.5


def test_the_section_writes_the_gain_curves_and_marks_random_thinning(tmp_path):
    frame = synthetic_rows([0.05, 0.1, 0.2])
    summaries = summarize(frame)
    blocks = budget_blocks(frame, summaries, tmp_path)
    assert (tmp_path / "budgets.png").stat().st_size > 0
    text = json.dumps(blocks)
    assert "Value against volume" in text and f"random ({RANDOM_THINNING})" in text
    assert f"never ({RANDOM_THINNING})" not in text  # it asks for no e-mail: nothing is thinned
    assert "budgeted oracle's value bound (0.05: 3.500" in text and "Check (OK)" in text
    assert "meets the budget" in text


def test_without_a_budget_there_is_no_section(tmp_path):
    frame = synthetic_rows([None])
    assert budget_blocks(frame, summarize(frame), tmp_path) == [] and budget_text(frame, summarize(frame)) == ""
    assert not (tmp_path / "budgets.png").exists()


def test_the_check_reports_violations_and_the_fallback_to_the_oracle_return():
    frame = synthetic_rows([0.1, 0.2], bound=None)
    frame.loc[frame.index[5], "budget_violations"] = 2
    check = budget_check(frame)
    assert check["max_violations"] == 2 and check["max_weekly_share"] == pytest.approx(0.2 * 0.99)
    text = budget_text(frame, summarize(frame))
    assert "Check (VIOLATED)" in text and "No value bound was recorded at budget(s) 0.1, 0.2" in text


def test_a_budget_run_keeps_to_the_budget_and_reports_it(tiny, tmp_path):
    config = tiny(policies=["never", "random", "always_mens", "oracle"], seeds=[0], evaluation={"customers": 300, "draws": 1})
    config["scenario"] = {**config["scenario"], "horizon": 8, "sweep": {"contact_budget": [0.1, 0.3]}}
    result = run_experiment(load_config(config), tmp_path, progress=False)
    table = result.table
    assert sorted(table["contact_budget"].unique()) == [0.1, 0.3] and len(table) == 2 * 4
    assert (table["budget_violations"] == 0).all()
    assert (table["max_weekly_contact_share"] <= table["contact_budget"] + 1e-12).all()
    enforcement = table.groupby("policy")["enforcement"].agg(set)
    assert enforcement["random"] == {"random"} and enforcement["always_mens"] == {"random"}
    thinned = table[table["policy"] == "always_mens"].set_index("contact_budget")["thinned_share"]
    assert thinned[0.1] > thinned[0.3] > 0
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "## Value against volume: contact budgets" in markdown and "Check (OK)" in markdown
    assert (tmp_path / "report" / "budgets.png").is_file()
    bounded = table.loc[table["policy"] == "oracle", "value_bound"].notna().all()
    assert ("budgeted oracle's value bound (" if bounded else "No value bound was recorded") in markdown


@pytest.mark.parametrize("scenario", [{"assumptions": {"contact_budget": 1.5}}, {"sweep": {"contact_budget": [0.1, 1.5]}}])
def test_a_budget_above_the_whole_list_is_a_config_error(tiny, scenario):
    config = tiny()
    config["scenario"] = {**config["scenario"], **scenario}
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    ((path, message),) = raised.value.problems
    assert path == f"scenario.{next(iter(scenario))}"
    assert "contact_budget" in message and "received 1.5" in message and "(0, 1]" in message


def test_the_budgets_preset_sweeps_four_budgets_with_every_kind_of_policy():
    config = load_config("budgets")
    assert config.sweep == {"contact_budget": (0.05, 0.10, 0.20, 0.40)}
    policies = {p.name: p for p in config.policies}
    assert list(policies) == ["never", "random", "always_mens", "lookalike", "expected_ltv", "ltv_uplift", "ppo", "dqn", "oracle"]
    assert policies["ppo"].hyperparameters["contact_target"] == "budget" == policies["dqn"].hyperparameters["contact_target"]
    assert config.output_dir == "results/budgets"


@pytest.mark.slow
def test_every_policy_of_the_budgets_preset_keeps_to_every_budget_in_every_week(tiny, tmp_path):
    import yaml

    from journeygym.experiments.config import preset_path

    preset = yaml.safe_load(preset_path("budgets").read_text())
    policies = []
    for entry in preset["policies"]:
        if isinstance(entry, dict) and entry.get("timesteps"):
            entry = {**entry, "timesteps": 3_000, "hyperparameters": {**entry.get("hyperparameters", {}), "n_envs": 50}}
            if entry["name"] == "dqn":
                entry["hyperparameters"]["learning_starts"] = 500
        policies.append(entry)
    config = tiny(policies=policies, seeds=[0], evaluation={"customers": 400, "draws": 1})
    config["scenario"] = {**config["scenario"], "horizon": 8, "sweep": preset["scenario"]["sweep"]}
    table = run_experiment(load_config(config), tmp_path, progress=False).table
    assert len(table) == 4 * len(preset["policies"])
    assert (table["budget_violations"] == 0).all()
    assert (table["max_weekly_contact_share"] <= table["contact_budget"] + 1e-12).all()
    learners = table[table["policy"].isin(["ppo", "dqn"])]
    assert learners["email_price"].notna().all() and (learners["enforcement"] == "priority").all()
