"""Learning curves in the results and the report; the config's training.device."""

from __future__ import annotations

import json

import pytest

from journeygym.experiments.config import ConfigError, load_config
from journeygym.experiments.curves_report import curve_table
from journeygym.experiments.runner import run_experiment

CURVE = {"checkpoints": 2, "customers": 30, "episodes": 1}


def _agents(**extra):
    ppo = {"n_envs": 8, "n_epochs": 1, "learning_curve": CURVE, **extra}
    dqn = {"n_envs": 8, "learning_starts": 16, "buffer_size": 500, "batch_size": 16, "learning_curve": CURVE, **extra}
    return [
        {"name": "ppo", "timesteps": 8 * 6 * 3, "hyperparameters": ppo},
        {"name": "dqn", "timesteps": 8 * 6 * 3, "hyperparameters": dqn},
    ]


def test_curves_are_stored_per_cell_and_drawn_per_setting(tiny, tmp_path):
    config = tiny(
        policies=["never", "lookalike", *_agents(), "oracle"],
        scenario={**tiny()["scenario"], "sweep": {"kappa": [0.0, 0.5]}},
        evaluation={"customers": 60, "draws": 1},
    )
    result = run_experiment(load_config(config), tmp_path, progress=False)
    table = result.table
    agents = table[table["training"] == "simulator"]
    assert agents["learning_curve"].notna().all() and table[table["training"] != "simulator"]["learning_curve"].isna().all()
    curves = curve_table(table)
    assert set(curves["policy"]) == {"ppo", "dqn"} and set(curves["setting"]) == {0, 1} and set(curves["seed"]) == {0, 1}
    for _, part in curves.groupby(["setting", "policy", "seed"]):
        steps = part.sort_values("checkpoint")["timesteps"].tolist()
        # the last checkpoint is the end of training (DQN trains in chunks of train_freq steps: it may pass the budget)
        assert steps[0] == 0 and 8 * 6 * 3 <= steps[-1] < 8 * 6 * 3 + 8 * 4 and steps == sorted(set(steps))
    # every cell of every seed records the same validation customers (they depend on the curve's seed only)
    for cell in agents.drop_duplicates("cell_id")["learning_curve"]:
        assert json.loads(cell)["validation"] == {**CURVE, "seed": 0}
    # the same validation customers in every cell of a setting: sending nothing earns the same on them
    assert (curves.groupby("setting")["no_action_return"].nunique() == 1).all()
    report = tmp_path / "report"
    for setting in (0, 1):
        figure = report / f"learning_curves_s{setting}.png"
        assert figure.is_file() and figure.stat().st_size > 1000
    markdown = (report / "report.md").read_text()
    assert "## Learning curves" in markdown and "learning_curves_s1.png" in markdown
    assert not (report / "training_returns.png").exists()  # every agent has a validation curve


def test_training_device_reaches_the_torch_agents_and_is_checked(tiny, tmp_path):
    config = load_config(tiny(policies=["never", _agents()[0]], seeds=[0], training={"device": "auto"}))
    assert config.train_device == "auto" and config.to_dict()["training"]["device"] == "auto"
    assert "device" not in load_config(tiny()).to_dict()["training"]  # unset: the config hash is unchanged
    table = run_experiment(config, tmp_path, progress=False, report=False).table
    params = json.loads(table[table["policy"] == "ppo"]["policy_params"].iloc[0])
    assert params["device"] == "auto"
    with pytest.raises(ConfigError, match="training.device"):
        load_config(tiny(training={"device": "gpu"}))
