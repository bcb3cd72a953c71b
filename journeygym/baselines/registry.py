"""Policy names -> factories, so configs and the command line can name policies."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

from journeygym.baselines.base import Policy
from journeygym.baselines.simple import CadencePolicy, ConstantPolicy, RandomPolicy
from journeygym.envs.actions import arm_names
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES

__all__ = ["POLICY_NAMES", "UnknownPolicyError", "is_policy_name", "make_policy", "policy_names", "register_policy"]


class UnknownPolicyError(ValueError):
    """A policy name is not registered; the message suggests the closest names."""


def _oracle(**kwargs: Any) -> Policy:
    from journeygym.baselines.oracle_policy import OraclePolicy

    return OraclePolicy(**kwargs)


def _lookalike(**kwargs: Any) -> Policy:
    from journeygym.baselines.targeting import LookAlikePolicy

    return LookAlikePolicy(**kwargs)


def _expected_ltv(**kwargs: Any) -> Policy:
    from journeygym.baselines.targeting import ExpectedLTVPolicy

    return ExpectedLTVPolicy(**kwargs)


def _ltv_uplift(**kwargs: Any) -> Policy:
    from journeygym.baselines.targeting import LTVUpliftPolicy

    return LTVUpliftPolicy(**kwargs)


#: Policies named after an arm of the artifact: ``always_<arm>`` and ``biweekly_<arm>`` for every arm
#: (:func:`~journeygym.envs.actions.arm_names`); the arm is resolved when the policy meets the env.
ARM_POLICIES: dict[str, Callable[..., Policy]] = {
    "always_": lambda arm, name, **kw: ConstantPolicy(arm, name, **kw),
    "biweekly_": lambda arm, name, **kw: CadencePolicy(arm, 2, name, **kw),
}

_FACTORIES: dict[str, Callable[..., Policy]] = {
    "never": lambda **kw: ConstantPolicy(0, "never", **kw),
    "random": lambda **kw: RandomPolicy(**kw),
    "lookalike": _lookalike,
    "expected_ltv": _expected_ltv,
    "ltv_uplift": _ltv_uplift,
    "oracle": _oracle,
}
_DEFAULT_ARMS = arm_names(DEFAULT_ACTION_NAMES)
#: The built-in policy names on the default artifact, in the order reports list them: never, random,
#: ``always_<arm>`` for each arm and ``biweekly_<arm>`` for the first, then the score policies and the oracle.
POLICY_NAMES: tuple[str, ...] = (
    "never",
    "random",
    *(f"always_{arm}" for arm in _DEFAULT_ARMS),
    f"biweekly_{_DEFAULT_ARMS[0]}",
    *(name for name in _FACTORIES if name not in ("never", "random")),
)


def _arm_policy(name: str) -> tuple[str, str] | None:
    """``(prefix, arm)`` of an arm policy's name (``always_<arm>``, ``biweekly_<arm>``), else None."""
    for prefix in ARM_POLICIES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return prefix, name[len(prefix):]
    return None


def policy_names(action_names: Sequence[str] | None = None) -> list[str]:
    """Every registered policy name; with an artifact's ``action_names``, its arm policies instead of the default's."""
    if action_names is None:
        return [*POLICY_NAMES, *(name for name in _FACTORIES if name not in POLICY_NAMES)]
    arms = [f"{prefix}{arm}" for prefix in ARM_POLICIES for arm in arm_names(action_names)]
    fixed = [name for name in _FACTORIES if _arm_policy(name) is None]
    return fixed[:2] + arms + fixed[2:]


def is_policy_name(name: str) -> bool:
    """Whether ``name`` names a policy: a registered one, or an arm policy (``always_<arm>``, ``biweekly_<arm>``)."""
    return isinstance(name, str) and (name in _FACTORIES or _arm_policy(name) is not None)


def register_policy(name: str, factory: Callable[..., Policy]) -> None:
    """Register a factory under ``name`` (an existing name raises, to avoid silent replacement)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_policy: received name {name!r}, expected a non-empty string.")
    if name in _FACTORIES:
        raise ValueError(f"register_policy: {name!r} is already registered; choose another name.")
    _FACTORIES[name] = factory


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Build the policy registered under ``name`` with ``kwargs``.

    Raises
    ------
    UnknownPolicyError
        For an unknown name, with the closest registered names and the full list.

    ``always_<arm>`` and ``biweekly_<arm>`` name a policy for any arm; the arm is checked
    against the env's actions when the policy is bound to it (:meth:`Policy.bind_actions`).
    """
    arm_policy = _arm_policy(name) if isinstance(name, str) and name not in _FACTORIES else None
    if arm_policy is not None:
        prefix, arm = arm_policy
        policy = ARM_POLICIES[prefix](arm, name, **kwargs)
        policy.name = name
        return policy
    if name not in _FACTORIES:
        close = difflib.get_close_matches(str(name), list(_FACTORIES), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise UnknownPolicyError(f"unknown policy {name!r}{hint}; available policies: {', '.join(_FACTORIES)}.")
    policy = _FACTORIES[name](**kwargs)
    policy.name = name
    return policy
