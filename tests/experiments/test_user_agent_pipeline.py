"""A user's agent, defined outside the package and named "module:Class", runs through the whole pipeline."""

from __future__ import annotations

import textwrap

from journeygym.experiments.config import load_config
from journeygym.experiments.report import build_report
from journeygym.experiments.runner import run_experiment

USER_MODULE = '''
import numpy as np


class RecentVisitorAgent:
    """E-mails subscribed customers who visited in the last four weeks, unless fatigued.

    "Training" estimates nothing; it records that fit ran, and how, so the test can check it.
    """

    def __init__(self, name="recent_visitor", max_fatigue_share=0.0):
        self.name = name
        self.max_fatigue_share = max_fatigue_share
        self.fitted_with = None

    def fit(self, env_factory, total_timesteps, seed):
        env = env_factory(4)
        env.seed(seed)
        observations = env.reset()
        steps = 0
        while steps < total_timesteps:
            observations, _, _, _ = env.step(self.act(observations))
            steps += env.num_envs
        self.fitted_with = {"timesteps": steps, "seed": seed, "n_features": int(observations.shape[1])}
        return self

    def act(self, observations):
        visited, fatigue, subscribed = observations[:, 16], observations[:, 17], observations[:, 18]
        return ((visited > 0) & (fatigue <= self.max_fatigue_share) & (subscribed > 0)).astype(np.int64)

    def get_params(self):
        return {"max_fatigue_share": self.max_fatigue_share, "fitted_with": self.fitted_with}
'''


def test_user_agent_by_module_and_class_runs_end_to_end(tiny, tmp_path, monkeypatch):
    package_dir = tmp_path / "user_code"
    package_dir.mkdir()
    (package_dir / "my_marketing_agents.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(package_dir))

    config = load_config(
        tiny(
            policies=[
                "never",
                {"name": "mine", "kind": "my_marketing_agents:RecentVisitorAgent", "timesteps": 48,
                 "hyperparameters": {"max_fatigue_share": 0.2}},
                "oracle",
            ],
            seeds=[0],
        )
    )
    result = run_experiment(config, tmp_path / "out", progress=False)
    mine = result.table[result.table["policy"] == "mine"]
    assert len(mine) == 2 and (mine["training"] == "simulator").all()
    assert '"seed": 0' in mine["policy_params"].iloc[0] and '"timesteps": 48' in mine["policy_params"].iloc[0]
    assert (mine["contacts_per_customer"] > 0).all()
    report = build_report(result.output_dir).read_text()
    assert "| mine |" in report


def test_a_failing_agent_names_its_cell_and_keeps_finished_cells(tiny, tmp_path, monkeypatch, capsys):
    import yaml

    from journeygym.experiments.runner import run_command
    from journeygym.experiments.store import ResultStore

    (tmp_path / "broken_agents.py").write_text(
        "class Broken:\n"
        "    name = 'broken'\n"
        "    def fit(self, env_factory, total_timesteps, seed):\n"
        "        raise RuntimeError('out of coffee')\n"
        "    def act(self, observations):\n"
        "        return None\n"
    )
    (tmp_path / "my_marketing_agents.py").write_text(textwrap.dedent(USER_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    # Cells run longest budget first: the working agent finishes before the broken one fails.
    config = tiny(
        policies=[
            {"name": "broken", "kind": "broken_agents:Broken", "timesteps": 10},
            {"name": "mine", "kind": "my_marketing_agents:RecentVisitorAgent", "timesteps": 60},
        ],
        seeds=[0],
    )
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert run_command([str(path), "--out", str(out), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert "policy 'broken'" in error and "out of coffee" in error and "--resume" in error
    assert len(ResultStore(out).finished()) == 1  # the working agent's cell is kept
