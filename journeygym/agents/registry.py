"""Find agents and policies by name, so configs and the command line can refer to them.

One resolution for everything the experiment runner can run, in this order:

1. ``"package.module:Class"`` (or ``"package.module:factory"``, attribute paths
   with dots allowed): imported from the Python path -- a user's own agent,
   with nothing to register;
2. the built-in agents ``ppo``, ``dqn``, the offline agents ``fqi`` (fitted-Q
   iteration, :mod:`journeygym.agents.fqi`) and ``cql`` (conservative
   Q-learning, :mod:`journeygym.agents.cql`), both trained on the campaign
   log, and the reference policy ``myopic_oracle`` (:mod:`journeygym.agents.myopic`);
3. the baseline policies of :mod:`journeygym.baselines.registry` (never,
   random, always_*, lookalike, expected_ltv, ltv_uplift, oracle...);
4. the ``journeygym.agents`` entry-point group, so an installed package can
   add names: in its ``pyproject.toml``::

       [project.entry-points."journeygym.agents"]
       my_agent = "my_package.agents:MyAgent"

A built-in name wins over an entry point of the same name.  Unknown names
raise :class:`UnknownAgentError` with the closest known names.

What a name resolves to is called with the hyperparameters as keyword
arguments and must return an :class:`~journeygym.agents.protocol.Agent` or a
:class:`~journeygym.baselines.base.Policy`; :func:`training_mode` says how the
result learns.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from journeygym.baselines.agent_protocol import Agent
from journeygym.baselines.base import Policy

__all__ = [
    "BUILTIN_AGENTS",
    "ENTRY_POINT_GROUP",
    "Resolved",
    "UnknownAgentError",
    "available",
    "make",
    "resolve",
    "training_mode",
]

ENTRY_POINT_GROUP = "journeygym.agents"
#: Built-in agents (and the myopic reference policy): name -> "module:Class".
BUILTIN_AGENTS: dict[str, str] = {
    "ppo": "journeygym.agents.sb3_agents:PPOAgent",
    "dqn": "journeygym.agents.sb3_agents:DQNAgent",
    "myopic_oracle": "journeygym.agents.myopic:MyopicOraclePolicy",
    "fqi": "journeygym.agents.fqi:FittedQIterationPolicy",
    "cql": "journeygym.agents.cql:DiscreteCQLPolicy",
}
Source = Literal["import", "builtin", "baseline", "entry_point"]
TrainingMode = Literal["simulator", "logged_data", "none"]


class UnknownAgentError(LookupError, ValueError):
    """A name does not resolve to an agent or policy; the message says what is available."""


@dataclass(frozen=True)
class Resolved:
    """What a name resolved to.

    Attributes
    ----------
    reference
        The name or ``"module:attr"`` string that was resolved.
    source
        Where it was found: ``"import"``, ``"builtin"``, ``"baseline"`` or ``"entry_point"``.
    factory
        Called with the hyperparameters; returns an agent or a policy.
    target
        ``"module:attr"`` of the factory (for records).
    """

    reference: str
    source: Source
    factory: Callable[..., Any]
    target: str

    def create(self, **hyperparameters: Any) -> Agent | Policy:
        """Build the agent or policy, checking what comes back."""
        try:
            obj = self.factory(**hyperparameters)
        except TypeError as exc:
            accepted = _accepted_parameters(self.factory)
            hint = f" {self.target} accepts: {', '.join(accepted)}." if accepted else ""
            raise TypeError(
                f"{self.reference!r}: could not be built with hyperparameters {sorted(hyperparameters)} ({exc}).{hint}"
            ) from exc
        if not isinstance(obj, (Policy, Agent)):
            raise TypeError(
                f"{self.reference!r} ({self.target}) returned {type(obj).__name__}, expected an Agent (name, "
                "fit(env_factory, total_timesteps, seed), act(observations)) or a journeygym Policy."
            )
        return obj


def _accepted_parameters(factory: Callable[..., Any]) -> list[str]:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self"
    ]


def _import_target(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise UnknownAgentError(
            f"{reference!r}: expected 'package.module:Class' (module and attribute separated by one colon)."
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UnknownAgentError(
            f"{reference!r}: cannot import module {module_name!r} ({exc}); check the spelling and that its directory "
            "is on the Python path (install the package, or set PYTHONPATH)."
        ) from exc
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            public = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, public, n=3)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise UnknownAgentError(f"{reference!r}: {module_name!r} has no attribute {attribute!r}{hint}.")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UnknownAgentError(f"{reference!r}: {type(obj).__name__} is not callable; expected a class or a factory.")
    return obj


def _baseline_names() -> tuple[list[str], Callable[..., Policy]]:
    """Names and factory of the baselines registry."""
    from journeygym.baselines import registry

    return list(registry.policy_names()), registry.make_policy


def _is_baseline(name: str) -> bool:
    """A baseline's name, arm policies (``always_<arm>``) of any arm included."""
    from journeygym.baselines.registry import is_policy_name

    return is_policy_name(name)


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> dict[str, str]:
    """Every name that resolves, with where it comes from (``module:attr`` strings aside)."""
    names: dict[str, str] = {name: "builtin" for name in BUILTIN_AGENTS}
    for name in _baseline_names()[0]:
        names.setdefault(name, "baseline")
    for name in _entry_points():
        names.setdefault(name, "entry_point")
    return names


def resolve(reference: str) -> Resolved:
    """Resolve a name or ``"module:attr"`` string (see the module docstring for the order).

    Raises
    ------
    UnknownAgentError
        With the closest known names, the list of names, and the ``module:Class`` syntax.
    """
    if not isinstance(reference, str) or not reference.strip():
        raise UnknownAgentError(f"received {reference!r}, expected a policy name or 'package.module:Class'.")
    reference = reference.strip()
    if ":" in reference:
        return Resolved(reference, "import", _import_target(reference), reference)
    if reference in BUILTIN_AGENTS:
        return Resolved(reference, "builtin", _import_target(BUILTIN_AGENTS[reference]), BUILTIN_AGENTS[reference])
    _, make_policy = _baseline_names()
    if _is_baseline(reference):
        return Resolved(
            reference, "baseline", lambda **kw: make_policy(reference, **kw), f"journeygym.baselines.registry:{reference}"
        )
    found = _entry_points()
    if reference in found:
        entry = found[reference]
        try:
            factory = entry.load()
        except Exception as exc:  # a broken plug-in must say which one
            raise UnknownAgentError(
                f"{reference!r}: the entry point {entry.value!r} of group {ENTRY_POINT_GROUP!r} failed to load ({exc})."
            ) from exc
        return Resolved(reference, "entry_point", factory, entry.value)
    known = list(available())
    close = difflib.get_close_matches(reference, known, n=3)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise UnknownAgentError(
        f"unknown policy or agent {reference!r}{hint}. Available: {', '.join(known)}. "
        "A class of your own is named 'package.module:Class'; installed plug-ins register under the "
        f"{ENTRY_POINT_GROUP!r} entry-point group."
    )


def make(reference: str, **hyperparameters: Any) -> Agent | Policy:
    """Resolve ``reference`` and build it with ``hyperparameters``."""
    return resolve(reference).create(**hyperparameters)


def training_mode(obj: Agent | Policy) -> TrainingMode:
    """How ``obj`` learns: in the simulator, from logged campaign data, or not at all.

    * ``"simulator"`` -- an :class:`Agent` that is not a :class:`Policy`:
      ``fit(env_factory, total_timesteps, seed)``;
    * ``"logged_data"`` -- a policy trained on a logged-data table
      (the seed baselines; a policy may declare it with ``trains_on = "logged_data"``);
    * ``"none"`` -- everything else (simple policies, the oracle).
    """
    declared = getattr(obj, "trains_on", None)
    if declared in ("simulator", "logged_data", "none"):
        return declared
    if isinstance(obj, Policy):
        from journeygym.baselines.targeting import ScorePolicy

        return "logged_data" if isinstance(obj, ScorePolicy) else "none"
    return "simulator"
