"""The config file's schema: its JSON Schema, the normalized form behind the config hash, and its messages."""

from __future__ import annotations

import copy

import pytest
import yaml

from journeygym.experiments.config import PRESETS, ConfigError, ExperimentConfig, config_json_schema, load_config, preset_path
from journeygym.records import config_hash


def problems(config) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(config)
    return dict(info.value.problems)


# ---------------------------------------------------------------------- the hash


def test_the_normalized_form_and_its_hash_are_pinned():
    # Results directories record this hash: it may change only when the normalized form changes on
    # purpose.  The expected values were computed by the hand-written validator the schema replaced.
    config = load_config(
        {
            "name": "pinned",
            "scenario": {"horizon": 8, "assumptions": {"kappa": 1}, "sweep": {"unsubscribe_probability": [0.001, 0.003]}},
            "policies": ["never", {"name": "mine", "kind": "lookalike"}, {"name": "ppo", "timesteps": 5000.0, "hyperparameters": {"n_envs": 16}}],
            "seeds": 2,
            "evaluation": {"customers": 300, "draws": [0, 2]},
            "training": {"params": "mean"},
            "logged_data": {"email_probability": 0.5},
            "n_workers": 3,
        }
    )
    assert config.result_dict() == {
        "name": "pinned",
        "scenario": {"artifact": None, "horizon": 8, "assumptions": {"kappa": 1}, "sweep": {"unsubscribe_probability": [0.001, 0.003]}},
        "policies": [
            {"name": "never", "kind": "never", "hyperparameters": {}, "timesteps": None},
            {"name": "mine", "kind": "lookalike", "hyperparameters": {}, "timesteps": None},
            {"name": "ppo", "kind": "ppo", "hyperparameters": {"n_envs": 16}, "timesteps": 5000},
        ],
        "seeds": [0, 1],
        "evaluation": {"customers": 300, "draws": [0, 2]},
        "training": {"params": "mean", "per_draw": False},
        "logged_data": {"customers": 10000, "tune_customers": 5000, "email_probability": 0.5},
    }
    assert config_hash(config.result_dict()) == "1e9b759c8f64ff1d"
    assert isinstance(config.result_dict()["scenario"]["assumptions"]["kappa"], int)  # values stay as written


def test_the_hash_depends_only_on_the_normalized_content(tiny):
    terse = tiny(seeds=2, policies=["never", "oracle"])
    spelled_out = tiny(
        seeds=[0, 1],
        policies=[{"name": "never", "kind": "never", "hyperparameters": None}, {"kind": "oracle", "timesteps": None}],
        training=None,
        backend="local",
        description="where and how to run do not enter the hash",
        n_workers=2,
    )
    spelled_out["scenario"] = {**terse["scenario"], "assumptions": None, "sweep": {}}
    spelled_out["evaluation"] = {**terse["evaluation"], "customers": 200}
    hashes = {config_hash(load_config(c).result_dict()) for c in (terse, spelled_out)}
    assert len(hashes) == 1
    changed = copy.deepcopy(terse)
    changed["evaluation"]["customers"] = 201
    assert config_hash(load_config(changed).result_dict()) not in hashes


@pytest.mark.parametrize("preset", PRESETS)
def test_a_saved_config_reloads_to_the_same_hash(preset):
    # A results directory keeps config.yaml (the normalized form); resuming reloads it.
    config = load_config(preset)
    reloaded = load_config(yaml.safe_load(yaml.safe_dump(config.to_dict(), sort_keys=False)))
    assert reloaded == config
    assert config_hash(reloaded.result_dict()) == config_hash(config.result_dict())


def test_direct_construction_takes_the_file_defaults(tiny):
    config = load_config(tiny())
    direct = ExperimentConfig(policies=config.policies)
    minimal = load_config({"policies": ["never", "random", "oracle"]})
    assert direct.to_dict() == minimal.to_dict()


# ---------------------------------------------------------------------- JSON Schema


def test_the_json_schema_describes_the_normalized_form():
    schema = config_json_schema()
    assert schema["required"] == ["policies"] and schema["additionalProperties"] is False
    # offline is optional: the normalized form has it only when the config sets it (so other configs keep their hash).
    offline = {"behavior": "uniform", "epsilon": 0.2, "customers": 1, "logging_seeds": 1, "estimators": None,
               "bootstrap": 1, "confidence": 0.95, "fqe_model": None, "fqe_features": "observation",
               "ratio_learner": "regression", "ratio_clip": None, "logging": None}
    assert list(schema["properties"]) == list(ExperimentConfig(policies=(), offline=offline).to_dict())
    assert "offline" not in ExperimentConfig(policies=()).to_dict()
    sections = {
        key: schema["$defs"][f"{key.title().replace('_', '')}Section"]
        for key in ("scenario", "evaluation", "training", "logged_data", "offline")
    }
    # training.device, likewise, only when set.
    assert "device" not in ExperimentConfig(policies=()).to_dict()["training"]
    normalized = ExperimentConfig(policies=(), offline=offline, train_device="auto").to_dict()
    for key, section in sections.items():
        assert set(section["properties"]) == set(normalized[key]), key
    assert "kappa" in schema["$defs"]["Assumptions"]["properties"]


def test_shipped_presets_and_normalized_configs_validate_against_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(config_json_schema())
    for preset in PRESETS:
        raw = yaml.safe_load(preset_path(preset).read_text())
        assert not list(validator.iter_errors(raw)), preset
        assert not list(validator.iter_errors(load_config(preset).to_dict())), preset
    assert not list(validator.iter_errors({"policies": [{"kind": "oracle"}], "seeds": 3, "evaluation": {"draws": "all"}}))


@pytest.mark.parametrize(
    "bad",
    [
        {"polices": ["never"]},
        {"policies": []},
        {"policies": ["never"], "seeds": "three"},
        {"policies": ["never"], "evaluation": {"draws": 0}},
        {"policies": ["never"], "scenario": {"assumptions": {"kapa": 0.5}}},
        {"policies": [{"timesteps": 10}]},
        {"policies": ["never"], "backend": "rey"},
    ],
)
def test_the_json_schema_rejects_what_validation_rejects(bad):
    jsonschema = pytest.importorskip("jsonschema")
    assert list(jsonschema.Draft202012Validator(config_json_schema()).iter_errors(bad))
    with pytest.raises(ConfigError):
        load_config(bad)


# ---------------------------------------------------------------------- messages


def test_unknown_keys_name_the_key_the_closest_one_and_the_valid_ones(tiny):
    config = tiny()
    config["polices"] = config.pop("policies")
    found = problems(config)
    assert found["polices"].startswith("unknown key 'polices'; did you mean 'policies'? valid keys: ['name', ")
    assert found["policies"].startswith("missing; expected the policies to compare")


def test_unknown_policy_lists_the_available_ones(tiny):
    message = problems(tiny(policies=["never", {"name": "mine", "kind": "oracel"}]))["policies[1].kind"]
    assert "did you mean 'oracle'" in message and "Available:" in message and "lookalike" in message


def test_each_form_of_a_key_gets_its_own_message(tiny):
    config = tiny(seeds=[0, 0], policies=["never", 3, {"name": "x", "timesteps": 1.5}])
    config["evaluation"] = {"draws": [0, -1, "x"]}
    config["training"] = {"params": "sampel", "per_draw": "yes"}
    found = problems(config)
    assert found["seeds"] == "received duplicate seeds [0, 0]; list each seed once."
    assert found["policies[1]"] == (
        "received int 3, expected a policy name or a mapping with keys ['name', 'kind', 'hyperparameters', 'timesteps']."
    )
    assert found["policies[2].timesteps"] == "received float 1.5, expected a positive integer (customer-weeks)."
    assert found["evaluation.draws[1]"] == "received -1, expected a draw index >= 0."
    assert found["evaluation.draws[2]"] == "received str 'x', expected a draw index."
    assert found["training.params"] == "received 'sampel' (did you mean 'sample'?), expected 'sample', 'mean' or a draw index."
    assert found["training.per_draw"] == "received str 'yes', expected true or false."


def test_mapping_forms_and_assumptions_are_checked_key_by_key(tiny):
    config = tiny()
    config["evaluation"] = {"draws": {"at_mst": 3}}
    config["scenario"]["assumptions"] = {"u0": -6.0, "unsubscribe_probability": 1.5}
    config["scenario"]["sweep"] = {"kappa": []}
    config["logged_data"] = "many"
    found = problems(config)
    assert found["evaluation.draws.at_mst"].startswith("unknown key 'at_mst'; did you mean 'at_most'?")
    assert found["evaluation.draws.at_most"].startswith("missing; expected the number of draws to use at most")
    assert found["scenario.assumptions.unsubscribe_probability"] == (
        "received float 1.5, expected a probability strictly between 0 and 1."
    )
    assert found["scenario.assumptions.u0"] == "set either u0 or unsubscribe_probability, not both."
    assert found["scenario.sweep.kappa"] == "received list [], expected a non-empty list of values."
    assert found["logged_data"].startswith("received str 'many', expected a mapping with keys ['customers', ")


def test_a_section_written_without_values_takes_the_defaults(tiny):
    config = tiny(training=None, logged_data=None)
    config["scenario"]["assumptions"] = None
    loaded = load_config(config)
    assert loaded.training_params == "sample" and loaded.logged_customers == 10_000 and loaded.assumptions == {}
