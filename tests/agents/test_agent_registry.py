"""Resolving agents and policies by name: built-ins, baselines, module:Class, entry points, errors."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from journeygym.agents.protocol import Agent, AgentPolicy, as_policy
from journeygym.agents.registry import ENTRY_POINT_GROUP, UnknownAgentError, available, make, resolve, training_mode
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent
from journeygym.baselines.base import Policy


def test_builtin_agents_resolve_with_hyperparameters():
    ppo = make("ppo", n_envs=16, learning_rate=1e-3)
    assert isinstance(ppo, PPOAgent) and ppo.n_envs == 16 and ppo.get_params()["learning_rate"] == 1e-3
    assert isinstance(make("dqn"), DQNAgent)
    assert training_mode(ppo) == "simulator"


def test_baselines_resolve_through_the_same_names():
    never = make("never")
    assert isinstance(never, Policy) and never.name == "never"
    assert resolve("oracle").source == "baseline"
    assert training_mode(never) == "none"
    assert training_mode(make("lookalike")) == "logged_data"
    assert {"ppo", "dqn", "never", "oracle", "lookalike"} <= set(available())


def test_policies_satisfy_the_agent_protocol_trivially():
    policy = make("random")
    assert isinstance(policy, Agent)
    assert as_policy(policy) is policy
    assert policy.fit(lambda n: None, 10, 0) is policy


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownAgentError, match="did you mean 'ppo'") as info:
        resolve("ppp")
    assert "package.module:Class" in str(info.value)


def test_module_class_errors_are_specific():
    with pytest.raises(UnknownAgentError, match="cannot import module 'no_such_module_xyz'"):
        resolve("no_such_module_xyz:Agent")
    with pytest.raises(UnknownAgentError, match="did you mean 'PPOAgent'"):
        resolve("journeygym.agents.sb3_agents:PPOAgnet")
    with pytest.raises(UnknownAgentError, match="expected 'package.module:Class'"):
        resolve("journeygym.agents.sb3_agents:")


def test_bad_hyperparameters_name_the_accepted_ones():
    with pytest.raises(TypeError, match="accepts"):
        make("journeygym.baselines.simple:ConstantPolicy", actoin=1)


def test_factory_returning_something_else_is_rejected(tmp_path, monkeypatch):
    (tmp_path / "odd_factories.py").write_text("def make():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match="returned int, expected an Agent"):
        make("odd_factories:make")


def test_entry_point_plugins_are_found(tmp_path, monkeypatch):
    (tmp_path / "plugin_agents_pkg.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Always:
                name = "always_plugin"
                def fit(self, env_factory, total_timesteps, seed):
                    return self
                def act(self, observations):
                    return np.ones(len(observations), dtype=np.int64)
            """
        )
    )
    dist = tmp_path / "plugin_agents_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-agents-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nplugged = plugin_agents_pkg:Always\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert available()["plugged"] == "entry_point"
    resolved = resolve("plugged")
    assert resolved.source == "entry_point" and resolved.target == "plugin_agents_pkg:Always"
    agent = resolved.create()
    assert training_mode(agent) == "simulator"
    np.testing.assert_array_equal(as_policy(agent).act(np.zeros((3, 23), dtype=np.float32)), [1, 1, 1])


def test_adapter_rejects_malformed_actions():
    class Bad:
        name = "bad"

        def fit(self, env_factory, total_timesteps, seed):
            return self

        def act(self, observations):
            return np.zeros(len(observations) + 1)

    with pytest.raises(ValueError, match=r"expected integer actions of shape \(2,\)"):
        AgentPolicy(Bad()).act(np.zeros((2, 23), dtype=np.float32))
    with pytest.raises(TypeError, match="lacks"):
        as_policy(object())
