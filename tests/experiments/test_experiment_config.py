"""Config validation: every problem is reported with its key path, before any work starts."""

from __future__ import annotations

import pytest
import yaml

from journeygym.cli.run import run_command
from journeygym.experiments import runner
from journeygym.experiments.config import PRESETS, ConfigError, load_config, settings_of


def problems(config) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(config)
    return dict(info.value.problems)


def test_a_valid_config_loads_with_defaults(tiny):
    config = load_config(tiny())
    assert [p.name for p in config.policies] == ["never", "random", "oracle"]
    assert config.seeds == (0, 1) and config.customers == 200
    assert config.draws.indices(3) == [0, 2]  # a count is spread over the artifact's draws


def test_unknown_keys_are_reported_with_the_closest_valid_key(tiny):
    config = tiny(seed=[0])
    config["evaluation"] = {"customer": 10}
    config["policies"] = [{"name": "ppo", "timestep": 100}]
    found = problems(config)
    assert "did you mean 'seeds'" in found["seed"]
    assert "did you mean 'customers'" in found["evaluation.customer"]
    assert "did you mean 'timesteps'" in found["policies[0].timestep"]


def test_unknown_assumption_suggests_the_right_name(tiny):
    config = tiny()
    config["scenario"]["assumptions"] = {"kapa": 0.5}
    assert "did you mean 'kappa'" in problems(config)["scenario.assumptions.kapa"]


def test_wrong_types_say_what_was_received_and_expected(tiny):
    config = tiny(seeds="three", n_workers=1.5)
    config["evaluation"] = {"customers": "many"}
    found = problems(config)
    assert "received str 'many'" in found["evaluation.customers"] and "expected a number of customers" in found["evaluation.customers"]
    assert "expected a list of integer seeds" in found["seeds"]
    assert "received float 1.5" in found["n_workers"]


def test_unknown_policy_is_reported_with_a_suggestion(tiny):
    found = problems(tiny(policies=["never", "lookalke"]))
    assert "did you mean 'lookalike'" in found["policies[1].name"]


def test_impossible_budgets_are_rejected(tiny):
    config = tiny(policies=["never", {"name": "ppo", "timesteps": 10}, {"name": "dqn"}])
    config["evaluation"] = {"customers": 0, "draws": 4}  # the artifact holds 3 draws
    found = problems(config)
    assert "expected a number of customers >= 1" in found["evaluation.customers"]
    config["evaluation"] = {"customers": 10, "draws": 4}
    found = problems(config)
    assert "holds 3 posterior draw(s)" in found["evaluation.draws"]
    assert "expected at least" in found["policies[1].timesteps"]
    assert "needs a budget" in found["policies[2].timesteps"]


def test_every_problem_is_listed_at_once(tiny):
    config = tiny(seeds=[-1], backend="rey")
    config["evaluation"] = {"customers": -5}
    found = problems(config)
    assert {"seeds[0]", "backend", "evaluation.customers"} <= set(found)
    assert "did you mean 'ray'" in found["backend"]


def test_budget_for_a_policy_that_does_not_train_is_rejected(tiny):
    found = problems(tiny(policies=[{"name": "never", "timesteps": 1000}]))
    assert "does not train in the simulator" in found["policies[0].timesteps"]


def test_invalid_configs_fail_before_any_work(tiny, tmp_path, monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("a cell ran although the config is invalid")

    monkeypatch.setattr(runner, "execute_cell", no_work)
    config = tiny(policies=["nevr"])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert run_command([str(path), "--out", str(out), "--no-progress"]) == 2
    assert not out.exists()
    assert "did you mean 'never'" in capsys.readouterr().err


def test_missing_file_and_bad_yaml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="preset 'quick'"):
        load_config("quik")
    bad = tmp_path / "bad.yaml"
    bad.write_text("policies: [never\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_a_huge_seed_count_is_refused_before_it_is_expanded(tiny, tmp_path, capsys):
    """``seeds: 10**12`` was expanded to a tuple of 10**12 seeds: a MemoryError traceback."""
    from journeygym.experiments.config_schema import MAX_SEEDS

    found = problems(tiny(seeds=1_000_000_000_000))
    assert found["seeds"].startswith(f"received 1000000000000, expected at most {MAX_SEEDS} seeds")
    assert "seeds: 5" in found["seeds"]  # how to fix it
    assert "a list of 10001 seeds" in problems(tiny(seeds=list(range(MAX_SEEDS + 1))))["seeds"]
    assert len(load_config(tiny(seeds=MAX_SEEDS)).seeds) == MAX_SEEDS
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(tiny(seeds=1_000_000_000_000)))
    assert run_command([str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "seeds: received 1000000000000, expected at most" in err and "Traceback" not in err


def test_a_config_file_that_is_not_utf8_names_the_byte_offset_and_the_fix(tiny, tmp_path, capsys):
    """A Latin-1 byte in a YAML config was a raw UnicodeDecodeError traceback."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(yaml.safe_dump(tiny(), allow_unicode=True).encode() + "description: caf\u00e9\n".encode("latin-1"))
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and f"byte 0xe9 at byte offset {offset}" in message and "iconv" in message
    assert run_command([str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"byte offset {offset}" in err and "Traceback" not in err


def test_sweep_expands_to_one_setting_per_combination(tiny):
    config = tiny()
    config["scenario"]["sweep"] = {"kappa": [0.0, 1.0], "unsubscribe_probability": [0.001, 0.005], "u1": [0.0]}
    loaded = load_config(config)
    from journeygym.envs.parameters import ScenarioAssumptions

    settings = settings_of(loaded, ScenarioAssumptions())
    assert len(settings) == 4
    assert {round(s.assumptions.unsubscribe_base_probability, 6) for s in settings} == {0.001, 0.005}
    assert settings[0].label == "kappa=0, unsub=0.10%, u1=0"


def test_invalid_sweep_values_are_rejected(tiny):
    config = tiny()
    config["scenario"]["sweep"] = {"kappa": [-1.0]}
    assert "kappa" in problems(config)["scenario.sweep"]


def test_a_carryover_the_artifact_was_not_calibrated_at_is_rejected(tiny):
    config = tiny()
    config["scenario"]["sweep"] = {"carryover": [1.5, 1.7]}
    message = problems(config)["scenario.sweep"]
    assert "carryover=1.7" in message and "received 1.7" in message and "--carryover" in message
    config["scenario"]["sweep"] = {"carryover": [0.5]}
    assert "expected a finite number >= 1" in problems(config)["scenario.sweep"]


@pytest.mark.parametrize("preset", PRESETS)
def test_shipped_presets_are_valid(preset):
    config = load_config(preset)
    names = [p.name for p in config.policies]
    assert "oracle" in names and "never" in names
