"""``journeygym run``: the config file's JSON Schema for editors."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from journeygym.cli.run import run_command
from journeygym.experiments.config import PRESETS, preset_path


def test_schema_is_printed_and_validates_the_presets(capsys) -> None:
    assert run_command(["--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    for preset in PRESETS:
        jsonschema.validate(yaml.safe_load(preset_path(preset).read_text()), schema)
    with pytest.raises(jsonschema.ValidationError, match="polices"):
        jsonschema.validate({"polices": ["never"]}, schema)


def test_a_config_is_required_without_schema(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        run_command([])
    assert exited.value.code == 2
    assert "config" in capsys.readouterr().err
