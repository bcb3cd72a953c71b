"""What an experiment config file may contain: pydantic models of its YAML form.

The models declare every key's type, bounds, default and meaning once; the
validation of a file and its JSON Schema (:func:`config_json_schema`) both come
from them.  Each problem is turned into one message in the project's form -- what
was received, what was expected -- by the part that knows the key:

- a value's type names what it expects (:func:`_expect`): ``received str 'many',
  expected a number of customers.``;
- a section names its valid keys and the closest one to a typo (:class:`_Section`):
  ``unknown key 'polices'; did you mean 'policies'? valid keys: [...]``.

:func:`problems_of` turns a :class:`pydantic.ValidationError` into ``(key path, message)``
pairs such as ``("policies[2].timesteps", "received float 1.5, expected ...")``.
Checks that need the parameter artifact or the agent registry (draws available,
policy names, training budgets) are in :mod:`journeygym.experiments.config`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, NoReturn, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
    with_config,
)
from pydantic.functional_validators import ModelWrapValidatorHandler
from pydantic_core import InitErrorDetails, PydanticCustomError
from typing_extensions import NotRequired, TypedDict

from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.messages import close_matches

__all__ = [
    "ASSUMPTION_KEYS",
    "DERIVED_ASSUMPTIONS",
    "LOGGING_KINDS",
    "MAX_SEEDS",
    "AtMost",
    "ConfigFile",
    "EvaluationSection",
    "LoggedDataSection",
    "LoggingEntry",
    "OfflineSection",
    "PolicyEntry",
    "ScenarioSection",
    "TrainingSection",
    "config_json_schema",
    "describe",
    "problems_of",
]

#: Derived assumption keys accepted in ``assumptions`` and ``sweep`` besides the fields of ScenarioAssumptions.
DERIVED_ASSUMPTIONS: tuple[str, ...] = ("unsubscribe_probability",)
#: Every key accepted in ``scenario.assumptions`` and ``scenario.sweep``.
ASSUMPTION_KEYS: tuple[str, ...] = (*(f.name for f in dataclasses.fields(ScenarioAssumptions)), *DERIVED_ASSUMPTIONS)

# The error type of every message already in the project's form; anything else is pydantic's own.
_PROBLEM = "journeygym_config"
# pydantic's bound errors: the operator to print and the key of the bound in the error's context.
_BOUNDS = {
    "greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"), "less_than": ("<", "lt"),
}


def describe(value: Any) -> str:
    """A received value for an error message: its type and (shortened) repr, or ``null``."""
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _closest(word: str, options: Sequence[str]) -> str | None:
    close = close_matches(word, options)
    return close[0] if close else None


def _problem(message: str) -> PydanticCustomError:
    # No context: the message is final (braces such as "{at_most: N}" stay as written).
    return PydanticCustomError(_PROBLEM, message)


def _raise(details: list[InitErrorDetails]) -> NoReturn:
    raise ValidationError.from_exception_data("experiment config", details)


def _detail(message: str, loc: Sequence[str | int], value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=_problem(message), loc=tuple(loc), input=value)


def _received(value: Any, what: str, error: Mapping[str, Any], choices: Sequence[str], bounded: bool) -> str:
    operator, key = _BOUNDS.get(error["type"], ("", ""))
    bound = (error.get("ctx") or {}).get(key)
    if bounded and bound is not None:
        return f"received {value!r}, expected {what} {operator} {bound}."
    if choices and isinstance(value, str):
        close = _closest(value, choices)
        hint = f" (did you mean {close!r}?)" if close else ""
        return f"received {value!r}{hint}, expected {what}."
    return f"received {describe(value)}, expected {what}."


def _expect(what: str, *, choices: Sequence[str] = (), tagged: bool = False, bounded: bool = True) -> WrapValidator:
    """Explain a value's errors by ``what`` the key expects (``"a number of customers"``).

    pydantic's own errors about the value become one message; messages already in the
    project's form (from list items, sections or checks inside) pass through.

    Parameters
    ----------
    what
        The expected value, as it ends ``"received ..., expected <what>."``.
    choices
        Valid strings: a string close to one gets a "did you mean".
    tagged
        The value is a discriminated union: the first element of its errors' paths is
        the tag of the form, not a key, and is dropped.
    bounded
        Name the violated bound (``"expected a number of customers >= 1"``); False when
        ``what`` states it already.
    """

    def explain(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            errors = exc.errors()
        own = [e for e in errors if e["type"] == _PROBLEM]
        raw = [e for e in errors if e["type"] != _PROBLEM]
        details = [_detail(e["msg"], e["loc"][1:] if tagged else e["loc"], e["input"]) for e in own]
        if raw:
            details.insert(0, _detail(_received(value, what, raw[0], choices, bounded), (), value))
        _raise(details)

    return WrapValidator(explain)


def _pydantic_message(error: Mapping[str, Any]) -> str:
    """pydantic's own message, for an error no rule of this module words."""
    return f"received {describe(error['input'])}: {error['msg']}."


def _keyed(error: Mapping[str, Any], keys: Mapping[str, str | None], noun: str = "key") -> InitErrorDetails:
    """One error of a mapping's validation in the project's form; ``keys`` maps each valid key to its description."""
    loc, kind, value = tuple(error["loc"]), error["type"], error["input"]
    if kind == _PROBLEM:
        message = error["msg"]
    elif kind == "extra_forbidden" and len(loc) == 1:
        close = _closest(str(loc[0]), list(keys))
        hint = f"did you mean {close!r}? " if close else ""
        message = f"unknown {noun} {loc[0]!r}; {hint}valid {noun}s: {list(keys)}."
    elif kind == "missing" and len(loc) == 1:
        message = f"missing; expected {keys.get(str(loc[0])) or 'a value'}."
    else:
        message = _pydantic_message(error)
    return InitErrorDetails(type=_problem(message), loc=loc, input=value)


class _Section(BaseModel):
    """A mapping of the config file: unknown keys name the closest valid key, missing ones what they hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: What the section accepts besides a mapping, for the message when it receives something else.
    _alternative: ClassVar[str] = ""

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Fill implied keys before validation (subclasses)."""
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _explain(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if isinstance(data, cls):
            return data
        keys = {name: info.description for name, info in cls.model_fields.items()}
        if not isinstance(data, Mapping):
            raise _problem(f"received {describe(data)}, expected {cls._alternative}a mapping with keys {list(keys)}.")
        try:
            return handler(cls._prepare(dict(data)))
        except ValidationError as exc:
            _raise([_keyed(error, keys) for error in exc.errors()])


def _none_as_empty(value: Any) -> Any:
    # A key written with no value ("training:") is null in YAML: it means "all defaults".
    return {} if value is None else value


def _nullable(kind: Any) -> BeforeValidator:
    return BeforeValidator(_none_as_empty, json_schema_input_type=Optional[kind])


def _count(what: str, minimum: int = 1) -> Any:
    """An integer ``>= minimum`` (no bools, no floats)."""
    return Annotated[int, Field(strict=True, ge=minimum), _expect(what)]


def _probability(why: str = "") -> Any:
    """A probability strictly between 0 and 1."""
    what = "a probability strictly between 0 and 1" + (f" ({why})" if why else "")
    return Annotated[float, Field(strict=True, gt=0.0, lt=1.0), _expect(what, bounded=False)]


def _whole_number(value: Any) -> Any:
    # YAML reads 3.0e+6 as a float: a whole float is the integer it names.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _distinct(plural: str, singular: str) -> AfterValidator:
    """Reject a list that holds an element twice."""

    def check(values: list[Any]) -> list[Any]:
        if len(set(values)) != len(values):
            raise _problem(f"received duplicate {plural} {values}; list each {singular} once.")
        return values

    return AfterValidator(check)


def _form(value: Any, *, text: str | None, integer: str | None, sequence: str | None, mapping: str | None) -> str | None:
    """The tag of the form a value is written in (None: no form accepts it)."""
    if isinstance(value, str):
        return text
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return integer
    if isinstance(value, (list, tuple)):
        return sequence
    if isinstance(value, Mapping):
        return mapping
    return None


_Text = Annotated[str, Field(strict=True), _expect("a string")]
_Weeks = _count("a number of weeks")
_SeedCount = _count("a count of seeds")
_Seed = _count("a seed (integer)", minimum=0)
_DrawCount = _count("a count of draws")
_DrawIndex = _count("a draw index", minimum=0)
_Customers = _count("a number of customers")
_Workers = _count("a number of worker processes")
_LoggedEmailProbability = _probability("the log must hold both e-mailed and not e-mailed weeks")

# ------------------------------------------------------------------------ scenario


def _existing_file(value: str) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise _problem(f"no file at {value!r}; expected a parameter artifact (.npz) or null.")
    return str(path)


def _fspath(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


_ArtifactPath = Annotated[
    Optional[Annotated[str, Field(strict=True), BeforeValidator(_fspath), AfterValidator(_existing_file)]],
    _expect("a file path or null (the shipped artifact)"),
]

# The JSON Schema of each assumption is the one of its ScenarioAssumptions field (type and default);
# the values themselves are checked by ScenarioAssumptions and kept as written (they enter the hash).
_ASSUMPTION_SCHEMAS: dict[str, Any] = TypeAdapter(ScenarioAssumptions).json_schema()["properties"]


def _assumption_value(name: str) -> Any:
    if name == "unsubscribe_probability":
        return _probability()
    return Annotated[Any, WithJsonSchema(_ASSUMPTION_SCHEMAS[name])]


def _sweep_values(name: str) -> Any:
    if name == "unsubscribe_probability":
        items: Any = _probability()
    else:
        value_schema = {k: v for k, v in _ASSUMPTION_SCHEMAS[name].items() if k not in ("default", "title")}
        items = Annotated[Any, WithJsonSchema(value_schema)]
    return Annotated[list[items], Field(min_length=1), _expect("a non-empty list of values")]


def _assumption_mapping(title: str, value: Any, what: str) -> Any:
    """A mapping of assumption names to ``value(name)``, kept in the file's order (a sweep's grid follows it)."""
    typed = with_config(ConfigDict(extra="forbid"))(
        TypedDict(title, {name: NotRequired[value(name)] for name in ASSUMPTION_KEYS})  # type: ignore[misc]
    )
    names: dict[str, str | None] = dict.fromkeys(ASSUMPTION_KEYS)

    def explain(given: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        details = []
        try:
            checked = handler(given)
        except ValidationError as exc:
            details = [
                _detail(f"received {describe(given)}, expected {what}.", (), given)
                if not e["loc"] and e["type"] != _PROBLEM
                else _keyed(e, names, noun="assumption")
                for e in exc.errors()
            ]
        if isinstance(given, Mapping) and "u0" in given and "unsubscribe_probability" in given:
            details.append(_detail("set either u0 or unsubscribe_probability, not both.", ("u0",), given["u0"]))
        if details:
            _raise(details)
        return {key: checked[key] for key in given}

    return Annotated[typed, WrapValidator(explain), _nullable(typed)]


_Assumptions = _assumption_mapping("Assumptions", _assumption_value, "a mapping such as {kappa: 0.3}")
_Sweep = _assumption_mapping("Sweep", _sweep_values, "a mapping of assumption -> list of values")


class ScenarioSection(_Section):
    """The scenario every policy is evaluated on."""

    artifact: _ArtifactPath = Field(None, description="path to a parameter artifact (.npz); null = the shipped one")
    horizon: Optional[_Weeks] = Field(None, description="weeks per episode; null = the artifact's")
    assumptions: _Assumptions = Field(
        default_factory=dict, description="overrides of the scenario assumptions (ScenarioAssumptions)"
    )
    sweep: _Sweep = Field(
        default_factory=dict, description="a grid over assumptions: one setting per combination of the listed values"
    )


# ------------------------------------------------------------------------ policies


def _name_alone(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _name_or_kind(schema: dict[str, Any]) -> None:
    # The name defaults to the kind: a mapping needs one of them.
    schema.pop("required", None)
    schema["anyOf"] = [{"required": ["name"]}, {"required": ["kind"]}]


class PolicyEntry(_Section):
    """One policy: a registry name alone, or a mapping."""

    model_config = ConfigDict(json_schema_extra=_name_or_kind)
    _alternative = "a policy name or "

    name: _Text = Field(description="a label for the results, unique in the config (the registry name when kind is not given)")
    kind: Optional[_Text] = Field(
        None, description="a registry name, an entry point or 'module:Class'; null = the name"
    )
    hyperparameters: Annotated[dict[str, Any], _nullable(dict[str, Any]), _expect("a mapping of keyword arguments")] = Field(
        default_factory=dict, description="keyword arguments of the agent or policy"
    )
    timesteps: Optional[
        Annotated[int, Field(strict=True, ge=1), BeforeValidator(_whole_number), _expect("a positive integer (customer-weeks)")]
    ] = Field(None, description="training budget in customer-weeks, for agents that train in the simulator")

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "name" not in data and isinstance(data.get("kind"), str):
            return {**data, "name": data["kind"]}
        return data


def _unique_names(entries: list[PolicyEntry]) -> list[PolicyEntry]:
    first: dict[str, int] = {}
    details = []
    for i, entry in enumerate(entries):
        if entry.name in first:
            message = f"{entry.name!r} is also the name of policies[{first[entry.name]}]; give each a unique name."
            details.append(_detail(message, (i, "name"), entry.name))
        first.setdefault(entry.name, i)
    if details:
        _raise(details)
    return entries


_Policies = Annotated[
    list[Annotated[PolicyEntry, BeforeValidator(_name_alone, json_schema_input_type=Union[str, PolicyEntry])]],
    Field(min_length=1),
    AfterValidator(_unique_names),
    _expect("a non-empty list of policies"),
]

# ------------------------------------------------------------------------ seeds, evaluation, training


#: The most seeds a config may ask for: each seed is one cell per policy and setting.
MAX_SEEDS = 10_000


def _seeds_form(value: Any) -> str | None:
    return _form(value, text=None, integer="count", sequence="list", mapping=None)


def _at_most_max_seeds(value: Any) -> Any:
    # Checked before the count is expanded to seeds 0..n-1: a count of 10**12 would not fit in memory.
    count = value if isinstance(value, int) else len(value)
    if count > MAX_SEEDS:
        received = f"{value}" if isinstance(value, int) else f"a list of {count} seeds"
        raise _problem(
            f"received {received}, expected at most {MAX_SEEDS} seeds (the run computes one cell per seed, policy "
            "and setting). Use fewer seeds, e.g. seeds: 5 (seeds 0 to 4) or a list such as [0, 1, 2]."
        )
    return value


_Seeds = Annotated[
    Union[
        Annotated[_SeedCount, Field(json_schema_extra={"maximum": MAX_SEEDS}), AfterValidator(_at_most_max_seeds), Tag("count")],
        Annotated[
            list[_Seed],
            Field(min_length=1, json_schema_extra={"maxItems": MAX_SEEDS}),
            _distinct("seeds", "seed"),
            AfterValidator(_at_most_max_seeds),
            Tag("list"),
        ],
    ],
    Discriminator(_seeds_form),
    _expect("a list of integer seeds or a count", tagged=True),
]


class AtMost(_Section):
    """Up to N posterior draws."""

    at_most: _DrawCount = Field(
        description="the number of draws to use at most (every draw when the artifact holds fewer)"
    )


def _draws_form(value: Any) -> str | None:
    return _form(value, text="keyword", integer="count", sequence="indices", mapping="at_most")


_Draws = Annotated[
    Union[
        Annotated[Literal["all", "mean"], Tag("keyword")],
        Annotated[_DrawCount, Tag("count")],
        Annotated[list[_DrawIndex], Field(min_length=1), _distinct("draw indices", "draw"), Tag("indices")],
        Annotated[AtMost, Tag("at_most")],
    ],
    Discriminator(_draws_form),
    _expect("a count, a list of draw indices, 'all', 'mean' or {at_most: N}", choices=("all", "mean"), tagged=True),
]


class EvaluationSection(_Section):
    """The customers and posterior draws every policy is evaluated on."""

    customers: _Customers = Field(10_000, description="customers per (seed, draw)")
    draws: _Draws = Field(
        AtMost(at_most=20),
        description="posterior draws: a count (spread evenly over the artifact), a list of indices, 'all', 'mean', "
        "or {at_most: N} (the count, or every draw if the artifact holds fewer)",
    )


def _params_form(value: Any) -> str | None:
    return _form(value, text="keyword", integer="index", sequence=None, mapping=None)


class TrainingSection(_Section):
    """What agents train on."""

    params: Annotated[
        Union[Annotated[Literal["sample", "mean"], Tag("keyword")], Annotated[_DrawIndex, Tag("index")]],
        Discriminator(_params_form),
        _expect("'sample', 'mean' or a draw index", choices=("sample", "mean"), tagged=True),
    ] = Field("sample", description="sample (a posterior draw per episode), mean, or a draw index")
    per_draw: Annotated[bool, Field(strict=True), _expect("true or false")] = Field(
        False, description="true: train one agent per evaluation draw (on that draw)"
    )
    device: Optional[
        Annotated[Literal["auto", "cpu", "cuda"], _expect("one of ['auto', 'cpu', 'cuda']", choices=("auto", "cpu", "cuda"))]
    ] = Field(
        None,
        description="torch device of the agents that have one (ppo, dqn, cql): auto (a GPU when torch sees one), cpu or "
        "cuda; null = each agent's default (cpu); a policy's hyperparameters.device wins",
    )


class LoggedDataSection(_Section):
    """The logged campaign the seed baselines are trained on."""

    customers: _Customers = Field(10_000, description="logged customers (one season each)")
    tune_customers: _Customers = Field(
        5_000, description="validation customers that choose each baseline's operating point"
    )
    email_probability: _LoggedEmailProbability = Field(
        2.0 / 3.0, description="behavior policy: e-mail a subscribed customer with this probability"
    )


#: The kinds of logging policy of ``offline.logging``.
LOGGING_KINDS: tuple[str, ...] = ("uniform", "epsilon_greedy")
_Epsilon = Annotated[float, Field(strict=False, ge=0.0, le=1.0), _expect("a number in [0, 1]", bounded=False)]


class LoggingEntry(_Section):
    """One logging policy of the offline benchmark: uniform, or a policy run epsilon-greedy."""

    kind: Annotated[Literal["uniform", "epsilon_greedy"], _expect(f"one of {list(LOGGING_KINDS)}", choices=LOGGING_KINDS)] = Field(
        description="uniform (every action equally likely each week) or epsilon_greedy (a policy, exploring with "
        "probability epsilon)"
    )
    policy: Optional[_Text] = Field(
        None, description="epsilon_greedy: the policy followed (seed baselines are trained as in the comparison)"
    )
    epsilon: Optional[_Epsilon] = Field(
        None, description="epsilon_greedy: the probability of a uniformly random action instead of the policy's"
    )
    customers: Optional[_Customers] = Field(None, description="customers of each log; null = offline.customers")

    @model_validator(mode="after")
    def _complete(self) -> LoggingEntry:
        if self.kind == "epsilon_greedy":
            missing = [key for key in ("policy", "epsilon") if getattr(self, key) is None]
            if missing:
                _raise([_detail(f"missing; kind epsilon_greedy needs a policy and an epsilon, e.g. {{kind: epsilon_greedy, "
                                "policy: ltv_uplift, epsilon: 0.05}.", (key,), None) for key in missing])
        else:
            given = [key for key in ("policy", "epsilon") if getattr(self, key) is not None]
            if given:
                _raise([_detail(f"received {describe(getattr(self, key))}, but kind uniform takes no {key}; remove it, "
                                "or use kind: epsilon_greedy.", (key,), getattr(self, key)) for key in given])
        return self


def _distinct_logging(entries: list[LoggingEntry]) -> list[LoggingEntry]:
    first: dict[tuple[Any, ...], int] = {}
    details = []
    for i, entry in enumerate(entries):
        key = (entry.kind, entry.policy, entry.epsilon, entry.customers)
        if key in first:
            details.append(_detail(f"the same logging policy as offline.logging[{first[key]}]; list each once.", (i,), entry.kind))
        first.setdefault(key, i)
    if details:
        _raise(details)
    return entries


_Logging = Annotated[
    list[LoggingEntry], Field(min_length=1), AfterValidator(_distinct_logging), _expect("a non-empty list of logging policies")
]


class OfflineSection(_Section):
    """The offline benchmark: logs of behavior policies, every off-policy estimator on them, scored against the truth."""

    behavior: _Text = Field(
        "uniform",
        description="the logging policy: 'uniform' (every action equally likely each week) or a policy name run "
        "epsilon-greedy (seed baselines are trained as in the comparison)",
    )
    epsilon: _Epsilon = Field(
        0.2, description="exploration of an epsilon-greedy behavior: a uniformly random action with this probability"
    )
    customers: _Customers = Field(20_000, description="logged customers of each offline log (one season each)")
    logging: Optional[_Logging] = Field(
        None,
        description="several logging policies, each assessed on its own logs (instead of behavior and epsilon), e.g. "
        "[{kind: uniform}, {kind: epsilon_greedy, policy: ltv_uplift, epsilon: 0.05}]; null = behavior and epsilon",
    )
    logging_seeds: _count("a number of logs") = Field(1, description="logs per (setting, seed), each with its own seed")
    estimators: Optional[list[_Text]] = Field(
        None, description="estimators to run; null = all (dm, is, wis, pdis, wpdis, dr, wdr, magic, mis, mdr)"
    )
    bootstrap: _count("a number of bootstrap resamples") = Field(200, description="bootstrap resamples of customers")
    confidence: _probability("the level of intervals and lower bounds") = Field(0.95, description="level of intervals and lower bounds")
    fqe_model: Optional[_Text] = Field(None, description="regressor of fitted-Q evaluation; null = the measured default")
    fqe_features: Annotated[
        Literal["belief", "observation"], _expect("one of ['belief', 'observation']", choices=("belief", "observation"))
    ] = Field(
        "observation",
        description="what fitted-Q regresses on: the observation alone, or with the calibrated model's belief over "
        "the hidden state appended (belief)",
    )
    ratio_learner: Annotated[
        Literal["regression", "binned"], _expect("one of ['regression', 'binned']", choices=("regression", "binned"))
    ] = Field(
        "regression",
        description="learner of the per-week state ratios of mis and mdr: boosted trees on the observation "
        "(regression), or the belief's expected state and the fatigue, binned (binned)",
    )
    ratio_clip: Annotated[
        Optional[float], Field(strict=False, gt=1.0), _expect("a number > 1 or null (the package's default)", bounded=False)
    ] = Field(None, description="largest state ratio kept before each week's normalization to mean 1; null = the default")

    @model_validator(mode="after")
    def _one_form(self) -> OfflineSection:
        both = [key for key in ("behavior", "epsilon") if key in self.model_fields_set]
        if self.logging is not None and both:
            _raise([_detail(
                f"set either {' and '.join(both)} (one logging policy) or logging (several), not both; move "
                f"{both[0]} into an entry of logging, e.g. {{kind: epsilon_greedy, policy: ltv_uplift, epsilon: 0.05}}.",
                ("logging",), None,
            )])
        return self


# ------------------------------------------------------------------------ the file


class ConfigFile(_Section):
    """An experiment config file: the policies to compare, the scenario, the seeds and draws, where and how to run."""

    model_config = ConfigDict(title="journeygym experiment config")

    name: _Text = Field("experiment", description="the experiment's name")
    description: _Text = Field("", description="free text recorded with the results")
    scenario: Annotated[ScenarioSection, _nullable(ScenarioSection)] = Field(
        default_factory=ScenarioSection, description="the scenario: artifact, horizon, assumption overrides and an optional sweep"
    )
    policies: _Policies = Field(
        description="the policies to compare: registry names or mappings, e.g. [never, oracle, {name: ppo, timesteps: 1000000}]"
    )
    seeds: _Seeds = Field([0], description="a list of seeds, or a count n for seeds 0..n-1")
    evaluation: Annotated[EvaluationSection, _nullable(EvaluationSection)] = Field(
        default_factory=EvaluationSection, description="evaluation size: customers and posterior draws"
    )
    training: Annotated[TrainingSection, _nullable(TrainingSection)] = Field(
        default_factory=TrainingSection, description="what agents train on"
    )
    logged_data: Annotated[LoggedDataSection, _nullable(LoggedDataSection)] = Field(
        default_factory=LoggedDataSection, description="the logged campaign the seed baselines are trained on"
    )
    offline: Optional[OfflineSection] = Field(
        None, description="the offline benchmark (off-policy evaluation against the truth); null = none, {} = the defaults"
    )
    backend: Annotated[Literal["local", "ray"], _expect("one of ['local', 'ray']", choices=("local", "ray"))] = Field(
        "local", description="local (processes) or ray"
    )
    n_workers: _Workers = Field(1, description="worker processes (backend local), or CPUs of a local Ray instance")
    ray_address: Optional[_Text] = Field(None, description="backend ray: address of a running cluster; null = start a local one")
    output_dir: Optional[_Text] = Field(None, description="results directory; null = results/<name>")


def _path(loc: Sequence[str | int]) -> str:
    """``("policies", 2, "timesteps")`` -> ``"policies[2].timesteps"``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """``(key path, message)`` for each problem of a config file's validation."""
    return [(_path(e["loc"]), e["msg"] if e["type"] == _PROBLEM else _pydantic_message(e)) for e in error.errors()]


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an experiment config file, for editors and other tools.

    It states the form of every key; the checks that need the artifact or the agent
    registry (draws available, policy names, training budgets) are not in it.
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **ConfigFile.model_json_schema()}
