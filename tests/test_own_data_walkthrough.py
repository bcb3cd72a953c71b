"""The README's "Your own data" walkthrough, as written, on reduced sizes.

The spec is the README's YAML block with its data paths pointed at reduced
copies of the two files (made here, in a temporary directory, never committed);
the commands are the README's, each with options that shrink the work (fewer
draws and samples, fewer customers, a small experiment instead of ``quick``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from journeygym.cli import main
from journeygym.envs.artifact import load_artifact

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = pytest.mark.slow


def _section() -> str:
    text = README.read_text()
    start = text.index("## Your own data")
    return text[start : text.index("\n## ", start + 1)]


def _readme_spec() -> dict:
    block = re.search(r"```yaml\n(.*?)```", _section(), re.S)
    assert block is not None, "the README's 'Your own data' section has no YAML spec"
    return yaml.safe_load(block.group(1))


def _readme_commands() -> list[list[str]]:
    block = re.search(r"```bash\n(.*?)```", _section(), re.S)
    assert block is not None
    commands = []
    for line in block.group(1).splitlines():
        words = line.split("#")[0].split()
        if words:
            assert words[0] == "journeygym", line
            commands.append(words[1:])
    return commands


def _reduced_data(data_dir: Path, out: Path, spec: dict) -> dict:
    """Copies of the spec's two files with 4,000 trial rows and 300 households, and the spec pointing at them."""
    trial = pd.read_csv(data_dir / Path(spec["trial"]["path"]).name)
    trial = trial.groupby(spec["trial"]["treatment"], group_keys=False).sample(n=2000, random_state=0)
    trial.to_csv(out / "trial.csv", index=False)
    log = pd.read_csv(data_dir / Path(spec["log"]["path"]).name)
    households = np.sort(log[spec["log"]["customer_id"]].unique())[:300]
    log[log[spec["log"]["customer_id"]].isin(households)].to_csv(out / "log.csv", index=False)
    reduced = {**spec, "trial": {**spec["trial"], "path": "trial.csv"}, "log": {**spec["log"], "path": "log.csv"}}
    return reduced


def test_the_readme_walkthrough_runs_on_reduced_data(data_dir, tmp_path, monkeypatch, capsys):
    spec = _reduced_data(Path(data_dir), tmp_path, _readme_spec())
    spec_path = tmp_path / "my_data.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    monkeypatch.chdir(tmp_path)
    smaller = {
        "calibrate": ["--draws", "40", "--sampler-draws", "150", "--sampler-tune", "150", "--sampler-chains", "2"],
        "validate": ["--env-customers", "1000"],
        "simulate-log": [],
        "ope": ["--bootstrap", "20"],
    }
    experiment = tmp_path / "small.yaml"
    experiment.write_text(
        yaml.safe_dump(
            {
                "name": "small",
                "policies": ["never", "random", "always_{first_arm}", "biweekly_{first_arm}", "lookalike", "expected_ltv",
                             "ltv_uplift", {"name": "ppo", "timesteps": 27000}, {"name": "dqn", "timesteps": 8000,
                             "hyperparameters": {"learning_starts": 1000}}, "oracle"],
                "evaluation": {"customers": 300, "draws": 2},
                "logged_data": {"customers": 300, "tune_customers": 200},
                "n_workers": 1,
            }
        )
    )
    commands = _readme_commands()
    assert [c[0] for c in commands] == ["calibrate", "validate", "run", "simulate-log", "ope"]
    for words in commands:
        words = [w.replace("20000", "400") for w in words]
        if words[0] == "run":  # the quick preset's budgets are for a real run: a small config with the same policies
            words = ["run", str(experiment), *words[2:], "--no-progress"]
        status = main([*words, *smaller.get(words[0], [])])
        output = capsys.readouterr()
        assert status == 0, f"journeygym {' '.join(words)} exited {status}:\n{output.out[-3000:]}\n{output.err[-3000:]}"
        if words[0] == "calibrate":
            assert "no visit column" in output.out and "spend comes from the log" in output.out
    draws = load_artifact(tmp_path / "my_data.npz")
    assert draws.mean.action_names == ("no_action", "arm_1")
    assert draws.mean.visits_follow_purchases
    from journeygym.envs.population_env import CustomerPopulationVectorEnv

    env = CustomerPopulationVectorEnv(num_envs=4, artifact=tmp_path / "my_data.npz")
    trial_columns = set(pd.read_csv(tmp_path / "trial.csv", nrows=1).columns) - {"TREATMENT", "PURCHASE", "UNIQUE_ID"}
    assert trial_columns <= set(env.observation_names)
    assert (tmp_path / "my_data.report.md").is_file()
    assert (tmp_path / "results" / "my_quick" / "report" / "report.md").is_file()
