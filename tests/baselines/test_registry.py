"""The policy registry: names, factories and helpful errors."""

from __future__ import annotations

import pytest

from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.baselines.base import Policy
from journeygym.baselines.registry import POLICY_NAMES, UnknownPolicyError, make_policy, register_policy
from journeygym.baselines.simple import ConstantPolicy


def test_builtin_names() -> None:
    assert POLICY_NAMES == (
        "never",
        "random",
        "always_mens",
        "always_womens",
        "biweekly_mens",
        "lookalike",
        "expected_ltv",
        "ltv_uplift",
        "oracle",
    )


@pytest.mark.parametrize("name", [n for n in POLICY_NAMES if n != "oracle"])
def test_every_policy_builds(name: str) -> None:
    policy = make_policy(name)
    assert isinstance(policy, Policy) and policy.name == name


def test_oracle_builds() -> None:
    policy = make_policy("oracle")
    assert policy.name == "oracle" and policy.uses_hidden_state


def test_constant_policies_take_their_arm() -> None:
    assert make_policy("never").action == 0
    assert make_policy("always_mens").bind_actions(DEFAULT_ACTION_NAMES).action == 1
    assert make_policy("always_womens").bind_actions(DEFAULT_ACTION_NAMES).action == 2
    with pytest.raises(RuntimeError, match="bind_actions"):
        make_policy("always_mens").action
    assert make_policy("random", seed=3).get_params()["seed"] == 3


def test_biweekly_mens_e_mails_everyone_in_even_weeks_only() -> None:
    """The cadence policy reads the week from the observation's week_fraction column."""
    import numpy as np

    from journeygym.testing import default_observation_names

    names = default_observation_names()
    week_column = names.index("week_fraction")

    observations = np.zeros((52, len(names)), dtype=np.float32)
    observations[:, week_column] = np.arange(52) / 52
    actions = make_policy("biweekly_mens").bind_actions(DEFAULT_ACTION_NAMES, names).act(observations)
    np.testing.assert_array_equal(actions, np.where(np.arange(52) % 2 == 0, 1, 0))
    with pytest.raises(ValueError, match="every=0"):
        make_policy("biweekly_mens").__class__(1, 0)


@pytest.mark.parametrize(
    ("typo", "suggestion"), [("lookalik", "lookalike"), ("ltv-uplift", "ltv_uplift"), ("orcale", "oracle")]
)
def test_unknown_names_suggest_the_closest(typo: str, suggestion: str) -> None:
    with pytest.raises(UnknownPolicyError, match=f"did you mean '{suggestion}'") as info:
        make_policy(typo)
    assert "available policies: never, random" in str(info.value)


def test_unknown_name_without_a_close_match() -> None:
    with pytest.raises(UnknownPolicyError) as info:
        make_policy("zzzzzz")
    assert "did you mean" not in str(info.value) and "available policies" in str(info.value)


def test_register_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    from journeygym.baselines import registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))  # keep the registration local
    register_policy("test_always_two", lambda **kw: ConstantPolicy(2))
    policy = make_policy("test_always_two")
    assert policy.name == "test_always_two" and policy.action == 2
    with pytest.raises(ValueError, match="already registered"):
        register_policy("never", lambda **kw: ConstantPolicy(0))
