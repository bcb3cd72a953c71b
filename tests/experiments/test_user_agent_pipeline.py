"""A user's agent, defined outside the package and named "module:Class", runs through the whole pipeline.

The agent is the one of ``docs/user_agent.md``, read from the page, so the documented example is tested.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import yaml

from journeygym.experiments.config import load_config
from journeygym.experiments.report import build_report
from journeygym.experiments.runner import run_experiment

DOC = Path(__file__).resolve().parents[2] / "docs" / "user_agent.md"


def _code_blocks(language: str) -> list[str]:
    """The fenced code blocks of the user-agent page in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


USER_MODULE = _code_blocks("python")[0]


def test_the_documented_user_agent_runs_end_to_end(tiny, tmp_path, monkeypatch):
    """The agent and the experiment of docs/user_agent.md, at a test's size."""
    package_dir = tmp_path / "user_code"
    package_dir.mkdir()
    (package_dir / "my_marketing_agents.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(package_dir))
    documented = yaml.safe_load(_code_blocks("yaml")[0])
    mine = next(p for p in documented["policies"] if isinstance(p, dict) and p.get("name") == "mine")
    assert mine["kind"] == "my_marketing_agents:RecentVisitorAgent"

    config = load_config(tiny(policies=["never", {**mine, "timesteps": 48}, "oracle"], seeds=[0]))
    result = run_experiment(config, tmp_path / "out", progress=False)
    rows = result.table[result.table["policy"] == "mine"]
    assert len(rows) == 2 and (rows["training"] == "simulator").all()
    assert '"seed": 0' in rows["policy_params"].iloc[0] and '"timesteps": 48' in rows["policy_params"].iloc[0]
    assert (rows["contacts_per_customer"] > 0).all()
    report = build_report(result.output_dir).read_text()
    assert "| mine |" in report


def test_the_documented_config_is_valid_as_written(monkeypatch, tmp_path):
    (tmp_path / "my_marketing_agents.py").write_text(USER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = load_config(yaml.safe_load(_code_blocks("yaml")[0]))
    assert [p.name for p in config.policies] == ["never", "random", "ltv_uplift", "mine", "oracle"]


def test_a_failing_agent_names_its_cell_and_keeps_finished_cells(tiny, tmp_path, monkeypatch, capsys):
    from journeygym.cli.run import run_command
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
