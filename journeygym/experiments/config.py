"""Experiment configuration: the YAML schema, its dataclasses, and validation before any work.

A config names the scenario, the policies, the seeds, the posterior draws, the
evaluation size and where and how to run.  Example (every key shown; only
``policies`` is required)::

    name: my-experiment
    description: PPO against the seed baselines
    scenario:
      artifact: null              # path to a parameter artifact; null = the shipped one
      horizon: 52                 # weeks per episode; null = the artifact's
      assumptions:                # overrides of ScenarioAssumptions
        kappa: 0.3
        unsubscribe_probability: 0.003   # sets u0 = logit(0.003)
      sweep:                      # optional grid over assumptions: one setting per combination
        kappa: [0.0, 0.3, 1.0]
    policies:
      - never                     # a name alone
      - oracle
      - name: lookalike
      - name: ppo
        timesteps: 3000000        # training budget (customer-weeks), for agents that train in the simulator
        hyperparameters: {n_envs: 128, learning_rate: 0.0003}
      - name: mine
        kind: my_package.agents:MyAgent   # registry name or "module:Class"; default: name
        timesteps: 100000
    seeds: [0, 1, 2]              # or a count: 3 -> [0, 1, 2]
    evaluation:
      customers: 20000            # customers per (seed, draw)
      draws: 20                   # count (spread evenly over the artifact), list of indices, "all", "mean",
                                  # or {at_most: 20} (the count, or every draw if the artifact holds fewer)
    training:
      params: sample              # what agents train on: sample (a posterior draw per episode), mean, or an index
      per_draw: false             # true: train one agent per evaluation draw (on that draw)
    logged_data:                  # the campaign log the seed baselines are trained on
      customers: 10000            # logged customers (one season each)
      tune_customers: 5000        # validation customers that choose each baseline's operating point
      email_probability: 0.6667   # behavior policy: e-mail a subscribed customer with this probability
    backend: local                # local (processes) or ray
    n_workers: 2
    ray_address: null             # backend ray: address of a running cluster; null = start a local one
    output_dir: results/my-experiment

:func:`load_config` returns an :class:`ExperimentConfig` or raises
:class:`ConfigError` listing every problem with its key path (``policies[2].timesteps``),
what was received and what was expected, with the closest valid key for typos.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from journeygym.envs.parameters import ParameterError, ScenarioAssumptions, assumptions_with_overrides
from journeygym.envs.response import compile_response

__all__ = [
    "PRESETS",
    "ConfigError",
    "DrawSelection",
    "ExperimentConfig",
    "PolicyConfig",
    "Setting",
    "load_config",
    "preset_path",
    "settings_of",
    "spread_draws",
]

#: Preset names shipped under ``journeygym/experiments/presets``.
PRESETS: tuple[str, ...] = ("quick", "full", "sensitivity")
#: Derived assumption keys accepted in ``assumptions`` and ``sweep``.
DERIVED_ASSUMPTIONS: tuple[str, ...] = ("unsubscribe_probability",)
_ASSUMPTION_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ScenarioAssumptions))
_TOP_KEYS = (
    "name", "description", "scenario", "policies", "seeds", "evaluation", "training", "logged_data",
    "backend", "n_workers", "ray_address", "output_dir",
)
_SCENARIO_KEYS = ("artifact", "horizon", "assumptions", "sweep")
_POLICY_KEYS = ("name", "kind", "hyperparameters", "timesteps")
_EVALUATION_KEYS = ("customers", "draws")
_TRAINING_KEYS = ("params", "per_draw")
_LOGGED_KEYS = ("customers", "tune_customers", "email_probability")
_BACKENDS = ("local", "ray")


class ConfigError(ValueError):
    """The config is invalid; ``problems`` lists ``(key path, message)`` pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "config") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {path}: {message}" for path, message in self.problems)
        count = len(self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''}:\n{lines}")


@dataclass(frozen=True)
class PolicyConfig:
    """One policy of the experiment.

    Attributes
    ----------
    name
        Label in the results (unique within the config).
    kind
        Registry reference: a built-in or baseline name, an entry point, or ``"module:Class"``.
    hyperparameters
        Keyword arguments of the agent or policy.
    timesteps
        Training budget in customer-weeks (agents that train in the simulator only).
    """

    name: str
    kind: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    timesteps: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "hyperparameters": dict(self.hyperparameters), "timesteps": self.timesteps}


@dataclass(frozen=True)
class DrawSelection:
    """Which posterior draws to evaluate on: ``"all"``, ``"mean"``, a count, a list, or at most a count."""

    spec: Any

    def indices(self, n_available: int) -> list[int | str]:
        """The draw indices (or ``["mean"]``) for an artifact of ``n_available`` draws.

        A count takes draws spread evenly over the artifact (posterior draws are
        stored chain after chain, so the first ones would all come from one chain).
        """
        spec = self.spec
        if spec == "mean":
            return ["mean"]
        if spec == "all":
            return list(range(n_available))
        if isinstance(spec, Mapping):
            return spread_draws(min(int(spec["at_most"]), n_available), n_available)
        if isinstance(spec, int):
            if spec > n_available:
                raise ValueError(f"draws: received {spec}, but the artifact holds {n_available} draws.")
            return spread_draws(spec, n_available)
        return [int(i) for i in spec]

    def to_jsonable(self) -> Any:
        return dict(self.spec) if isinstance(self.spec, Mapping) else (list(self.spec) if isinstance(self.spec, (list, tuple)) else self.spec)


def spread_draws(count: int, n_available: int) -> list[int]:
    """``count`` draw indices spread evenly over ``range(n_available)`` (all of them if count >= n_available)."""
    if count >= n_available:
        return list(range(n_available))
    return sorted({int(round(i * (n_available - 1) / max(count - 1, 1))) for i in range(count)}) if count > 1 else [0]


@dataclass(frozen=True)
class Setting:
    """One scenario setting of the grid: a label and the assumption overrides that define it."""

    label: str
    overrides: Mapping[str, Any]
    assumptions: ScenarioAssumptions


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment configuration (see the module docstring for the YAML form)."""

    policies: tuple[PolicyConfig, ...]
    name: str = "experiment"
    description: str = ""
    artifact: str | None = None
    horizon: int | None = None
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    sweep: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    customers: int = 10_000
    draws: DrawSelection = field(default_factory=lambda: DrawSelection({"at_most": 20}))
    training_params: str | int = "sample"
    train_per_draw: bool = False
    logged_customers: int = 10_000
    logged_tune_customers: int = 5_000
    logged_email_probability: float = 2.0 / 3.0
    backend: str = "local"
    n_workers: int = 1
    ray_address: str | None = None
    output_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The config in its YAML form (normalized: every key present), for hashing and saving."""
        return {
            "name": self.name,
            "description": self.description,
            "scenario": {
                "artifact": self.artifact,
                "horizon": self.horizon,
                "assumptions": dict(self.assumptions),
                "sweep": {k: list(v) for k, v in self.sweep.items()},
            },
            "policies": [p.to_dict() for p in self.policies],
            "seeds": list(self.seeds),
            "evaluation": {"customers": self.customers, "draws": self.draws.to_jsonable()},
            "training": {"params": self.training_params, "per_draw": self.train_per_draw},
            "logged_data": {
                "customers": self.logged_customers,
                "tune_customers": self.logged_tune_customers,
                "email_probability": self.logged_email_probability,
            },
            "backend": self.backend,
            "n_workers": self.n_workers,
            "ray_address": self.ray_address,
            "output_dir": self.output_dir,
        }

    def result_dict(self) -> dict[str, Any]:
        """The part of the config that determines results (not where or how it runs)."""
        out = self.to_dict()
        for key in ("backend", "n_workers", "ray_address", "output_dir", "description"):
            out.pop(key)
        return out

    def policy(self, name: str) -> PolicyConfig:
        """The policy labelled ``name``."""
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(f"no policy named {name!r}; policies: {[p.name for p in self.policies]}.")


def preset_path(name: str) -> Path:
    """Path of a shipped preset config."""
    return Path(str(resources.files("journeygym.experiments") / "presets" / f"{name}.yaml"))


def unsubscribe_to_u0(probability: float) -> float:
    """``u0 = logit(p)``: the unsubscribe logit at zero fatigue for a probability ``p``."""
    return math.log(probability / (1.0 - probability))


def _to_assumption_overrides(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k not in DERIVED_ASSUMPTIONS}
    if "unsubscribe_probability" in values:
        out["u0"] = unsubscribe_to_u0(float(values["unsubscribe_probability"]))
    return out


def _format_value(key: str, value: Any) -> str:
    if key == "unsubscribe_probability":
        return f"unsub={float(value):.2%}"
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def settings_of(config: ExperimentConfig, base: ScenarioAssumptions) -> list[Setting]:
    """The scenario settings of the grid: one per combination of ``sweep`` values (one if no sweep)."""
    fixed = dict(config.assumptions)
    if not config.sweep:
        overrides = _to_assumption_overrides(fixed)
        return [Setting("base", fixed, assumptions_with_overrides(base, overrides))]
    keys = list(config.sweep)
    settings = []
    for values in itertools.product(*(config.sweep[k] for k in keys)):
        chosen = {**fixed, **dict(zip(keys, values))}
        label = ", ".join(_format_value(k, v) for k, v in zip(keys, values))
        settings.append(Setting(label, chosen, assumptions_with_overrides(base, _to_assumption_overrides(chosen))))
    return settings


# ---------------------------------------------------------------------- validation


class _Checker:
    """Collects problems with their key paths."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(self, value: Any, path: str, allowed: Sequence[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, f"received {_kind(value)}, expected a mapping with keys {list(allowed)}.")
            return {}
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), list(allowed), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.add(f"{_join(path, key)}", f"unknown key; {hint}valid keys: {list(allowed)}.")
        return dict(value)

    def integer(self, value: Any, path: str, minimum: int | None = None, what: str = "an integer") -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"received {_kind(value)}, expected {what}.")
            return None
        if minimum is not None and value < minimum:
            self.add(path, f"received {value}, expected {what} >= {minimum}.")
            return None
        return value

    def string(self, value: Any, path: str, choices: Sequence[str] | None = None) -> str | None:
        if not isinstance(value, str):
            self.add(path, f"received {_kind(value)}, expected a string" + (f" among {list(choices)}." if choices else "."))
            return None
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(value, list(choices), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.add(path, f"received {value!r}{hint}, expected one of {list(choices)}.")
            return None
        return value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _parse_policy(entry: Any, path: str, check: _Checker) -> PolicyConfig | None:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping):
        check.add(path, f"received {_kind(entry)}, expected a policy name or a mapping with keys {list(_POLICY_KEYS)}.")
        return None
    values = check.mapping(entry, path, _POLICY_KEYS)
    name = check.string(values.get("name"), _join(path, "name")) if "name" in values or "kind" not in values else None
    kind = check.string(values["kind"], _join(path, "kind")) if "kind" in values else name
    if name is None and kind is not None and "name" not in values:
        name = kind
    hyperparameters = values.get("hyperparameters") or {}
    if not isinstance(hyperparameters, Mapping):
        check.add(_join(path, "hyperparameters"), f"received {_kind(hyperparameters)}, expected a mapping of keyword arguments.")
        hyperparameters = {}
    timesteps = values.get("timesteps")
    if timesteps is not None:
        if isinstance(timesteps, float) and timesteps.is_integer():
            timesteps = int(timesteps)
        timesteps = check.integer(timesteps, _join(path, "timesteps"), 1, "a positive integer (customer-weeks)")
    if name is None or kind is None:
        return None
    return PolicyConfig(name=name, kind=kind, hyperparameters=dict(hyperparameters), timesteps=timesteps)


def _parse_draws(value: Any, path: str, check: _Checker) -> DrawSelection | None:
    if value in ("all", "mean"):
        return DrawSelection(value)
    if isinstance(value, bool):
        check.add(path, f"received {_kind(value)}, expected a count, a list of draw indices, 'all', 'mean' or {{at_most: N}}.")
        return None
    if isinstance(value, int):
        return DrawSelection(value) if check.integer(value, path, 1, "a count of draws") is not None else None
    if isinstance(value, Mapping):
        values = check.mapping(value, path, ("at_most",))
        if "at_most" not in values:
            check.add(_join(path, "at_most"), "missing; write {at_most: N} to use up to N draws.")
            return None
        if check.integer(values["at_most"], _join(path, "at_most"), 1, "a count of draws") is None:
            return None
        return DrawSelection({"at_most": values["at_most"]})
    if isinstance(value, (list, tuple)) and value:
        bad = [i for i, v in enumerate(value) if isinstance(v, bool) or not isinstance(v, int) or v < 0]
        for i in bad:
            check.add(f"{path}[{i}]", f"received {_kind(value[i])}, expected a draw index >= 0.")
        if len(set(value)) != len(value):
            check.add(path, f"received duplicate draw indices {list(value)}; list each draw once.")
        return None if bad else DrawSelection(tuple(value))
    check.add(path, f"received {_kind(value)}, expected a count, a list of draw indices, 'all', 'mean' or {{at_most: N}}.")
    return None


def _check_assumptions(values: Mapping[str, Any], path: str, check: _Checker) -> None:
    allowed = (*_ASSUMPTION_NAMES, *DERIVED_ASSUMPTIONS)
    for key, value in values.items():
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            check.add(_join(path, key), f"unknown assumption; {hint}valid names: {list(allowed)}.")
        elif key == "unsubscribe_probability":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
                check.add(_join(path, key), f"received {_kind(value)}, expected a probability strictly between 0 and 1.")
    if "unsubscribe_probability" in values and "u0" in values:
        check.add(_join(path, "u0"), "set either u0 or unsubscribe_probability, not both.")


def _validate_structure(raw: Mapping[str, Any], check: _Checker) -> dict[str, Any]:
    top = check.mapping(raw, "", _TOP_KEYS)
    out: dict[str, Any] = {}
    if "name" in top:
        out["name"] = check.string(top["name"], "name") or "experiment"
    if "description" in top:
        out["description"] = check.string(top["description"], "description") or ""

    scenario = check.mapping(top.get("scenario"), "scenario", _SCENARIO_KEYS)
    artifact = scenario.get("artifact")
    if artifact is not None:
        if not isinstance(artifact, (str, os.PathLike)):
            check.add("scenario.artifact", f"received {_kind(artifact)}, expected a file path or null (the shipped artifact).")
        elif not Path(artifact).expanduser().is_file():
            check.add("scenario.artifact", f"no file at {str(artifact)!r}; expected a parameter artifact (.npz) or null.")
        else:
            out["artifact"] = str(Path(artifact).expanduser())
    if scenario.get("horizon") is not None:
        out["horizon"] = check.integer(scenario["horizon"], "scenario.horizon", 1, "a number of weeks")
    assumptions = scenario.get("assumptions") or {}
    if not isinstance(assumptions, Mapping):
        check.add("scenario.assumptions", f"received {_kind(assumptions)}, expected a mapping such as {{kappa: 0.3}}.")
        assumptions = {}
    _check_assumptions(assumptions, "scenario.assumptions", check)
    out["assumptions"] = dict(assumptions)
    sweep = scenario.get("sweep") or {}
    if not isinstance(sweep, Mapping):
        check.add("scenario.sweep", f"received {_kind(sweep)}, expected a mapping of assumption -> list of values.")
        sweep = {}
    _check_assumptions({k: 0.5 for k in sweep}, "scenario.sweep", check)
    parsed_sweep: dict[str, tuple[Any, ...]] = {}
    for key, values in sweep.items():
        if not isinstance(values, list) or not values:
            check.add(f"scenario.sweep.{key}", f"received {_kind(values)}, expected a non-empty list of values.")
            continue
        if key == "unsubscribe_probability":
            for i, value in enumerate(values):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
                    check.add(f"scenario.sweep.{key}[{i}]", f"received {_kind(value)}, expected a probability strictly between 0 and 1.")
        parsed_sweep[key] = tuple(values)
    out["sweep"] = parsed_sweep

    if "policies" not in top:
        check.add("policies", "missing; list the policies to compare, e.g. [never, oracle, {name: ppo, timesteps: 1000000}].")
        out["policies"] = ()
    elif not isinstance(top["policies"], list) or not top["policies"]:
        check.add("policies", f"received {_kind(top['policies'])}, expected a non-empty list of policies.")
        out["policies"] = ()
    else:
        parsed = [_parse_policy(entry, f"policies[{i}]", check) for i, entry in enumerate(top["policies"])]
        policies = tuple(p for p in parsed if p is not None)
        seen: dict[str, int] = {}
        for i, p in enumerate(parsed):
            if p is None:
                continue
            if p.name in seen:
                check.add(f"policies[{i}].name", f"{p.name!r} is also the name of policies[{seen[p.name]}]; give each a unique name.")
            seen.setdefault(p.name, i)
        out["policies"] = policies

    seeds = top.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if check.integer(seeds, "seeds", 1, "a count of seeds") is not None:
            out["seeds"] = tuple(range(seeds))
    elif isinstance(seeds, list) and seeds:
        for i, seed in enumerate(seeds):
            check.integer(seed, f"seeds[{i}]", 0, "a seed (integer)")
        if len(set(map(str, seeds))) != len(seeds):
            check.add("seeds", f"received duplicate seeds {seeds}; list each seed once.")
        out["seeds"] = tuple(seeds)
    else:
        check.add("seeds", f"received {_kind(seeds)}, expected a list of integer seeds or a count.")

    evaluation = check.mapping(top.get("evaluation"), "evaluation", _EVALUATION_KEYS)
    if "customers" in evaluation:
        out["customers"] = check.integer(evaluation["customers"], "evaluation.customers", 1, "a number of customers")
    if "draws" in evaluation:
        out["draws"] = _parse_draws(evaluation["draws"], "evaluation.draws", check)

    training = check.mapping(top.get("training"), "training", _TRAINING_KEYS)
    if "params" in training:
        params = training["params"]
        if params not in ("sample", "mean") and (isinstance(params, bool) or not isinstance(params, int) or params < 0):
            check.add("training.params", f"received {_kind(params)}, expected 'sample', 'mean' or a draw index.")
        else:
            out["training_params"] = params
    if "per_draw" in training:
        if not isinstance(training["per_draw"], bool):
            check.add("training.per_draw", f"received {_kind(training['per_draw'])}, expected true or false.")
        else:
            out["train_per_draw"] = training["per_draw"]

    logged = check.mapping(top.get("logged_data"), "logged_data", _LOGGED_KEYS)
    if "customers" in logged:
        out["logged_customers"] = check.integer(logged["customers"], "logged_data.customers", 1, "a number of customers")
    if "tune_customers" in logged:
        out["logged_tune_customers"] = check.integer(
            logged["tune_customers"], "logged_data.tune_customers", 1, "a number of customers"
        )
    if "email_probability" in logged:
        p = logged["email_probability"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < float(p) < 1.0:
            check.add("logged_data.email_probability", f"received {_kind(p)}, expected a probability strictly between 0 and 1 "
                      "(the log must hold both e-mailed and not e-mailed weeks).")
        else:
            out["logged_email_probability"] = float(p)

    if "backend" in top:
        out["backend"] = check.string(top["backend"], "backend", _BACKENDS)
    if "n_workers" in top:
        out["n_workers"] = check.integer(top["n_workers"], "n_workers", 1, "a number of worker processes")
    if top.get("ray_address") is not None:
        out["ray_address"] = check.string(top["ray_address"], "ray_address")
    if top.get("output_dir") is not None:
        out["output_dir"] = check.string(top["output_dir"], "output_dir")
    return {k: v for k, v in out.items() if v is not None}


def _validate_semantics(config: ExperimentConfig, check: _Checker) -> None:
    """Checks that need the artifact or the registry: draws available, policies known, budgets possible."""
    from journeygym.agents.registry import UnknownAgentError, resolve, training_mode
    from journeygym.envs.artifact import ArtifactError, load_parameters

    try:
        draws = load_parameters(config.artifact)
    except ArtifactError:
        raise  # an unreadable artifact is its own error (and exit status), not a config typo
    except (ValueError, OSError) as exc:
        check.add("scenario.artifact", str(exc))
        return
    n_available = len(draws)
    spec = config.draws.spec
    if isinstance(spec, int) and spec > n_available:
        check.add(
            "evaluation.draws",
            f"received {spec}, but the artifact holds {n_available} posterior draw(s); use at most {n_available}, "
            f"'all', or {{at_most: {spec}}} to take every draw when there are fewer.",
        )
    elif isinstance(spec, tuple):
        for i, index in enumerate(spec):
            if index >= n_available:
                check.add(f"evaluation.draws[{i}]", f"received {index}, expected a draw index in [0, {n_available - 1}].")
    params = config.training_params
    if isinstance(params, int) and params >= n_available:
        check.add("training.params", f"received draw index {params}, expected an index in [0, {n_available - 1}].")

    settings: list[Setting] = []
    base = draws.assumptions
    try:
        if config.horizon is not None:
            base = assumptions_with_overrides(base, {"horizon": config.horizon})
        settings = settings_of(config, base)
    except ParameterError as exc:
        check.add("scenario.sweep" if config.sweep else "scenario.assumptions", str(exc))
    for setting in settings:
        try:
            compile_response(draws.mean, setting.assumptions)  # e.g. a carryover the artifact was not calibrated at
        except ParameterError as exc:
            check.add("scenario.sweep" if config.sweep else "scenario.assumptions", f"setting {setting.label!r}: {exc}")
            break
    horizon = settings[0].assumptions.horizon if settings else (config.horizon or base.horizon)

    for i, policy in enumerate(config.policies):
        path = f"policies[{i}]"
        try:
            resolved = resolve(policy.kind)
        except UnknownAgentError as exc:
            check.add(f"{path}.kind" if policy.kind != policy.name else f"{path}.name", str(exc))
            continue
        try:
            obj = resolved.create(**dict(policy.hyperparameters))
        except Exception as exc:  # any failure to build the policy is a config problem to report here
            check.add(f"{path}.hyperparameters", str(exc))
            continue
        mode = training_mode(obj)
        if mode == "simulator":
            minimum_of = getattr(obj, "minimum_timesteps", None)
            minimum = int(minimum_of(horizon)) if callable(minimum_of) else horizon
            if policy.timesteps is None:
                check.add(f"{path}.timesteps", f"missing; {policy.name!r} trains in the simulator and needs a budget "
                          f"of at least {minimum} customer-weeks.")
            elif policy.timesteps < minimum:
                check.add(f"{path}.timesteps", f"received {policy.timesteps}, expected at least {minimum} customer-weeks "
                          f"(one rollout of {policy.name!r} at horizon {horizon}); raise the budget or shrink n_envs.")
        elif policy.timesteps is not None:
            check.add(f"{path}.timesteps", f"{policy.name!r} does not train in the simulator ({mode.replace('_', ' ')} "
                      "training or none); remove timesteps.")

    if config.backend == "ray" and importlib.util.find_spec("ray") is None:
        check.add("backend", "'ray' needs the ray package: pip install 'journeygym[ray]' (or use backend: local).")


def load_config(source: str | os.PathLike[str] | Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None) -> ExperimentConfig:
    """Read and validate a config: a preset name, a YAML file, or a mapping.

    Parameters
    ----------
    source
        ``"quick"``, ``"full"``, ``"sensitivity"``, a path to a YAML file, or an already parsed mapping.
    overrides
        Top-level keys replacing the file's (e.g. ``{"output_dir": "out"}``).

    Raises
    ------
    ConfigError
        Listing every problem found, before any work is done.
    """
    label = "config"
    if isinstance(source, Mapping):
        raw: Any = dict(source)
    else:
        text_source = str(source)
        path = preset_path(text_source) if text_source in PRESETS else Path(text_source).expanduser()
        label = str(source)
        if not path.is_file():
            close = difflib.get_close_matches(text_source, list(PRESETS), n=1)
            hint = f" Did you mean the preset {close[0]!r}?" if close else ""
            raise ConfigError([("", f"no config file at {str(path)!r}; expected a YAML file or a preset ({', '.join(PRESETS)}).{hint}")], label)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError([("", f"not valid YAML: {exc}")], label) from exc
    if not isinstance(raw, Mapping):
        raise ConfigError([("", f"received {_kind(raw)}, expected a YAML mapping with keys such as {list(_TOP_KEYS[:6])}.")], label)
    raw = {**raw, **dict(overrides or {})}
    check = _Checker()
    values = _validate_structure(raw, check)
    if check.problems:
        raise ConfigError(check.problems, label)
    config = ExperimentConfig(**values)
    _validate_semantics(config, check)
    if check.problems:
        raise ConfigError(check.problems, label)
    return config
