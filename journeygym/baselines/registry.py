"""Policy names -> factories, so configs and the command line can name policies."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from journeygym.baselines.base import Policy
from journeygym.baselines.simple import CadencePolicy, ConstantPolicy, RandomPolicy

__all__ = ["POLICY_NAMES", "UnknownPolicyError", "make_policy", "policy_names", "register_policy"]


class UnknownPolicyError(ValueError):
    """A policy name is not registered; the message suggests the closest names."""


def _oracle(**kwargs: Any) -> Policy:
    from journeygym.baselines.oracle import OraclePolicy

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


_FACTORIES: dict[str, Callable[..., Policy]] = {
    "never": lambda **kw: ConstantPolicy(0, "never", **kw),
    "random": lambda **kw: RandomPolicy(**kw),
    "always_mens": lambda **kw: ConstantPolicy(1, "always_mens", **kw),
    "always_womens": lambda **kw: ConstantPolicy(2, "always_womens", **kw),
    "biweekly_mens": lambda **kw: CadencePolicy(1, 2, "biweekly_mens", **kw),
    "lookalike": _lookalike,
    "expected_ltv": _expected_ltv,
    "ltv_uplift": _ltv_uplift,
    "oracle": _oracle,
}
#: The built-in policy names, in the order reports list them.
POLICY_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def policy_names() -> list[str]:
    """Every registered policy name."""
    return list(_FACTORIES)


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
    """
    if name not in _FACTORIES:
        close = difflib.get_close_matches(str(name), list(_FACTORIES), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise UnknownPolicyError(f"unknown policy {name!r}{hint}; available policies: {', '.join(_FACTORIES)}.")
    policy = _FACTORIES[name](**kwargs)
    policy.name = name
    return policy
