"""Experiment configuration: its YAML form, the validated dataclasses, and validation before any work.

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
    seeds: [0, 1, 2]              # or a count: 3 -> [0, 1, 2] (at most 10000 seeds)
    evaluation:
      customers: 20000            # customers per (seed, draw)
      draws: 20                   # count (spread evenly over the artifact), list of indices, "all", "mean",
                                  # or {at_most: 20} (the count, or every draw if the artifact holds fewer)
    training:
      params: sample              # what agents train on: sample (a posterior draw per episode), mean, or an index
      per_draw: false             # true: train one agent per evaluation draw (on that draw)
      device: null                # torch agents: auto (a GPU when torch sees one), cpu or cuda; null = cpu
    logged_data:                  # the campaign log the seed baselines are trained on
      customers: 10000            # logged customers (one season each)
      tune_customers: 5000        # validation customers that choose each baseline's operating point
      email_probability: 0.6667   # behavior policy: e-mail a subscribed customer with this probability
    offline:                      # optional: the offline benchmark (off-policy estimators against the truth)
      behavior: uniform           # logging policy: uniform, or a policy name run epsilon-greedy
      epsilon: 0.2                # exploration of an epsilon-greedy behavior
      customers: 20000            # customers of each offline log
      logging:                    # or, not with behavior and epsilon: several logging policies, each its own logs
        - kind: uniform
        - {kind: epsilon_greedy, policy: ltv_uplift, epsilon: 0.05, customers: 20000}   # customers: optional
      logging_seeds: 1            # logs per (setting, seed)
      estimators: null            # null = all: dm, is, wis, pdis, wpdis, dr, wdr, magic, mis, mdr
      bootstrap: 200              # bootstrap resamples of customers
      confidence: 0.95            # level of intervals and lower bounds
      fqe_model: null             # regressor of fitted-Q evaluation; null = the measured default
      fqe_features: observation   # fitted-Q on the observation, or on it and the model's belief (belief)
      ratio_learner: regression   # state ratios of mis and mdr: boosted trees on the observation, or binned belief
      ratio_clip: null            # largest state ratio kept before each week's normalization; null = the default
    backend: local                # local (processes) or ray
    n_workers: 2
    ray_address: null             # backend ray: address of a running cluster; null = start a local one
    output_dir: results/my-experiment

:func:`load_config` returns an :class:`ExperimentConfig` or raises
:class:`ConfigError` listing every problem with its key path (``policies[2].timesteps``),
what was received and what was expected, with the closest valid key for typos.  The
form of each key is declared once, as pydantic models in
:mod:`journeygym.experiments.config_schema`; :func:`config_json_schema` returns it as a
JSON Schema.  The checks that need the parameter artifact or the agent registry (draws
available, policy names, training budgets) run here, once the form is valid.
"""

from __future__ import annotations

import dataclasses

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
from pydantic import BaseModel, ValidationError

from journeygym.envs.parameters import ParameterError, ScenarioAssumptions, assumptions_with_overrides
from journeygym.envs.response import compile_response
from journeygym.experiments.config_schema import (
    DERIVED_ASSUMPTIONS,
    AtMost,
    ConfigFile,
    EvaluationSection,
    LoggedDataSection,
    OfflineSection,
    TrainingSection,
    config_json_schema,
    describe,
    problems_of,
)
from journeygym.files import NotUTF8Error, read_utf8_text
from journeygym.messages import close_matches, did_you_mean

__all__ = [
    "PRESETS",
    "ConfigError",
    "DrawSelection",
    "ExperimentConfig",
    "PolicyConfig",
    "Setting",
    "config_json_schema",
    "load_config",
    "preset_path",
    "settings_of",
    "spread_draws",
]

#: Preset names shipped under ``journeygym/experiments/presets``.
PRESETS: tuple[str, ...] = ("quick", "full", "sensitivity", "offline", "offline-realistic", "budgets")


def _default(model: type[BaseModel], key: str) -> Any:
    """The default of a config file key (the file's schema is where defaults are defined)."""
    return model.model_fields[key].get_default(call_default_factory=True)


def _seed_tuple(seeds: int | Sequence[int]) -> tuple[int, ...]:
    """Seeds as written (a count n means 0..n-1) as a tuple."""
    return tuple(range(seeds)) if isinstance(seeds, int) else tuple(seeds)


def _draw_selection(spec: str | int | Sequence[int] | AtMost) -> DrawSelection:
    """The draws as written (a keyword, a count, indices or ``{at_most: N}``) as a selection."""
    if isinstance(spec, AtMost):
        return DrawSelection({"at_most": spec.at_most})
    return DrawSelection(spec if isinstance(spec, (str, int)) else tuple(spec))


class ConfigError(ValueError):
    """The config is invalid; ``problems`` lists ``(key path, message)`` pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "config") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {path}: {message}" if path else f"  {message}" for path, message in self.problems)
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
    """A validated experiment configuration (see the module docstring for the YAML form).

    :func:`load_config` builds it from a file, a preset or a mapping; the defaults are
    those of the file's schema (:mod:`journeygym.experiments.config_schema`).
    """

    policies: tuple[PolicyConfig, ...]
    name: str = _default(ConfigFile, "name")
    description: str = _default(ConfigFile, "description")
    artifact: str | None = None
    horizon: int | None = None
    assumptions: Mapping[str, Any] = field(default_factory=dict)
    sweep: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    seeds: tuple[int, ...] = _seed_tuple(_default(ConfigFile, "seeds"))
    customers: int = _default(EvaluationSection, "customers")
    draws: DrawSelection = field(default_factory=lambda: _draw_selection(_default(EvaluationSection, "draws")))
    training_params: str | int = _default(TrainingSection, "params")
    train_per_draw: bool = _default(TrainingSection, "per_draw")
    #: ``training.device`` (None: each agent's default).
    train_device: str | None = None
    logged_customers: int = _default(LoggedDataSection, "customers")
    logged_tune_customers: int = _default(LoggedDataSection, "tune_customers")
    logged_email_probability: float = _default(LoggedDataSection, "email_probability")
    #: The ``offline:`` section with every key (None: no offline benchmark).
    offline: Mapping[str, Any] | None = None
    backend: str = _default(ConfigFile, "backend")
    n_workers: int = _default(ConfigFile, "n_workers")
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
            "training": {
                "params": self.training_params,
                "per_draw": self.train_per_draw,
                # Only when set, so the hash of a config that does not set it stays what it was.
                **({"device": self.train_device} if self.train_device is not None else {}),
            },
            "logged_data": {
                "customers": self.logged_customers,
                "tune_customers": self.logged_tune_customers,
                "email_probability": self.logged_email_probability,
            },
            **({"offline": dict(self.offline)} if self.offline is not None else {}),
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


def _offline_dict(offline: OfflineSection) -> dict[str, Any]:
    """The offline section as a mapping: with ``logging`` instead of ``behavior`` and ``epsilon`` when it is set.

    A section without ``logging`` keeps exactly its earlier keys, so the hash of a config written before the
    key existed does not change.
    """
    section = offline.model_dump()
    if section["logging"] is None:
        del section["logging"]
    else:
        del section["behavior"], section["epsilon"]
    return section


def _from_file(file: ConfigFile) -> ExperimentConfig:
    """The normalized config of a validated file."""
    scenario, evaluation, training, logged = file.scenario, file.evaluation, file.training, file.logged_data
    return ExperimentConfig(
        policies=tuple(
            PolicyConfig(name=p.name, kind=p.kind or p.name, hyperparameters=dict(p.hyperparameters), timesteps=p.timesteps)
            for p in file.policies
        ),
        name=file.name,
        description=file.description,
        artifact=scenario.artifact,
        horizon=scenario.horizon,
        assumptions=dict(scenario.assumptions),
        sweep={key: tuple(values) for key, values in scenario.sweep.items()},
        seeds=_seed_tuple(file.seeds),
        customers=evaluation.customers,
        draws=_draw_selection(evaluation.draws),
        training_params=training.params,
        train_per_draw=training.per_draw,
        train_device=training.device,
        logged_customers=logged.customers,
        logged_tune_customers=logged.tune_customers,
        logged_email_probability=logged.email_probability,
        offline=None if file.offline is None else _offline_dict(file.offline),
        backend=file.backend,
        n_workers=file.n_workers,
        ray_address=file.ray_address,
        output_dir=file.output_dir,
    )


#: Arm templates of policy names: the artifact's first arm, and one policy per arm.
ARM_TEMPLATES: tuple[str, ...] = ("{first_arm}", "{each_arm}")


def _with_arms(config: ExperimentConfig) -> ExperimentConfig:
    """The config with its policies' arm templates (:data:`ARM_TEMPLATES`) filled from the artifact's arms."""
    if not any(t in text for p in config.policies for text in (p.name, p.kind) for t in ARM_TEMPLATES):
        return config
    from journeygym.envs.actions import arm_names
    from journeygym.envs.artifact import load_parameters

    arms = arm_names(load_parameters(config.artifact).mean.action_names)
    policies = []
    for policy in config.policies:
        chosen = arms if "{each_arm}" in policy.name or "{each_arm}" in policy.kind else arms[:1]
        for arm in chosen:
            fill = {"first_arm": arm, "each_arm": arm}
            policies.append(dataclasses.replace(policy, name=policy.name.format(**fill), kind=policy.kind.format(**fill)))
    return dataclasses.replace(config, policies=tuple(policies))


class _Checker:
    """Collects problems with their key paths."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))


def _validate_semantics(config: ExperimentConfig, check: _Checker) -> None:
    """Checks that need the artifact or the registry: draws available, policies known, budgets possible."""
    from journeygym.agents.registry import UnknownAgentError, resolve, training_mode
    from journeygym.baselines.base import Policy
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
        try:
            if isinstance(obj, Policy):
                obj.bind_actions(draws.mean.action_names)
        except ValueError as exc:  # an arm policy of an arm the artifact does not have
            check.add(f"{path}.kind" if policy.kind != policy.name else f"{path}.name", str(exc))
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

    if config.offline is not None:
        _validate_offline(config.offline, check)

    if config.backend == "ray" and importlib.util.find_spec("ray") is None:
        check.add("backend", "'ray' needs the ray package: pip install 'journeygym[ray]' (or use backend: local).")


def _validate_logging_policy(behavior: str, path: str, uniform: str, check: _Checker) -> None:
    """A logging policy named in the offline section: known, acting on observations, not trained in the simulator.

    ``uniform`` says how the section names a uniformly random logging policy instead.
    """
    from journeygym.agents.registry import UnknownAgentError, resolve, training_mode

    try:
        obj = resolve(behavior).create()
    except UnknownAgentError as exc:
        check.add(path, f"{exc} Or a uniformly random logging policy ({uniform}).")
        return
    if getattr(obj, "uses_hidden_state", False):
        check.add(path, f"received {behavior!r}, which acts on the hidden state; a logging policy must act on "
                  "observations (a real campaign cannot see the hidden state).")
    elif training_mode(obj) == "simulator":
        check.add(path, f"received {behavior!r}, which trains in the simulator and would log untrained; use a policy "
                  f"that trains on logged data (e.g. 'ltv_uplift'), one that does not learn, or {uniform}.")


def _validate_offline(offline: Mapping[str, Any], check: _Checker) -> None:
    """The offline section's names: logging policies that act on observations, known estimators."""
    from journeygym.ope.estimators import ESTIMATORS

    if offline.get("logging") is not None:
        for i, entry in enumerate(offline["logging"]):
            if entry["kind"] == "epsilon_greedy":
                _validate_logging_policy(entry["policy"], f"offline.logging[{i}].policy", "kind: uniform", check)
    elif offline["behavior"] != "uniform":
        _validate_logging_policy(offline["behavior"], "offline.behavior", "'uniform'", check)
    for i, name in enumerate(offline.get("estimators") or []):
        if name not in ESTIMATORS:
            check.add(f"offline.estimators[{i}]", f"received {name!r}{did_you_mean(name, ESTIMATORS)}; expected one of "
                      f"{list(ESTIMATORS)}.")


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    overrides: Mapping[str, Any] | None = None,
    artifact: str | os.PathLike[str] | None = None,
) -> ExperimentConfig:
    """Read and validate a config: a preset name, a YAML file, or a mapping.

    Policy names may name arms by template: ``{first_arm}`` is the artifact's first
    arm (``always_{first_arm}`` is ``always_mens`` on the shipped artifact) and
    ``{each_arm}`` gives one policy per arm; the presets use them, so they run on
    any artifact.

    Parameters
    ----------
    source
        A preset name (:data:`PRESETS`), a path to a YAML file, or an already parsed mapping.
    overrides
        Top-level keys replacing the file's (e.g. ``{"output_dir": "out"}``).
    artifact
        A parameter artifact replacing the file's ``scenario.artifact``.

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
            close = close_matches(text_source, PRESETS)
            hint = f" Did you mean the preset {close[0]!r}?" if close else ""
            raise ConfigError([("", f"no config file at {str(path)!r}; expected a YAML file or a preset ({', '.join(PRESETS)}).{hint}")], label)
        try:
            raw = yaml.safe_load(read_utf8_text(path, "config file"))
        except NotUTF8Error as exc:
            raise ConfigError([("", str(exc))], label) from None
        except yaml.YAMLError as exc:
            raise ConfigError([("", f"not valid YAML: {exc}")], label) from exc
    if not isinstance(raw, Mapping):
        keys = list(ConfigFile.model_fields)[:6]
        raise ConfigError([("", f"received {describe(raw)}, expected a YAML mapping with keys such as {keys}.")], label)
    raw = {**raw, **dict(overrides or {})}
    if artifact is not None:
        scenario = raw.get("scenario")
        raw["scenario"] = {**(scenario if isinstance(scenario, Mapping) else {}), "artifact": str(artifact)}
    try:
        config = _from_file(ConfigFile.model_validate(raw))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc), label) from None
    config = _with_arms(config)
    check = _Checker()
    _validate_semantics(config, check)
    if check.problems:
        raise ConfigError(check.problems, label)
    return config
