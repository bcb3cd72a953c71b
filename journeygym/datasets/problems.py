"""A spec's validation errors as messages that name the key, what was received and what was expected.

pydantic reports each problem with a location (``("trial", "window_weeks")``)
and its own wording.  :func:`spec_problems` turns each into one line in the
project's form: ``trial.window_weeks: received 0, expected a number of weeks >
0. Set trial.window_weeks to a number of weeks > 0.``  What a key expects is
declared once, beside its type, with :class:`Expect`; a rule that spans keys
raises :func:`rule` with its message written in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import PydanticCustomError

from journeygym.messages import did_you_mean

__all__ = ["Expect", "received", "rule", "spec_problems"]

#: The error type of a message written in full (it names its key itself).
RULE = "dataset_spec"


@dataclass(frozen=True)
class Expect:
    """What a key expects, as it ends an error message: ``received ..., expected <text>.``"""

    text: str


def rule(message: str) -> PydanticCustomError:
    """An error whose message is final: it names its key, what was received and how to fix it."""
    # No context: braces in the message stay as written.
    return PydanticCustomError(RULE, message)


def received(value: Any) -> str:
    """A received value for a message: YAML's spelling of null and booleans, long values shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return f"a mapping {_short(value)}"
    if isinstance(value, (list, tuple)):
        return f"a list {_short(value)}"
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation may hold (through Optional, Union and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _tags(annotation: Any) -> dict[str, Any]:
    """Tag -> alternative of a discriminated union (through Optional and Annotated)."""
    found: dict[str, Any] = {}
    for arg in get_args(annotation):
        tags = [m.tag for m in get_args(arg)[1:] if isinstance(m, Tag)]
        if tags:
            found[tags[0]] = arg
        else:
            found.update(_tags(arg))
    return found


def _literal_choices(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return tuple(str(a) for a in get_args(annotation))
    return tuple(choice for arg in get_args(annotation) for choice in _literal_choices(arg))


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """The annotation without Annotated and Optional, and the metadata met on the way."""
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            metadata += list(annotation.__metadata__)
            annotation = annotation.__origin__
            continue
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
            annotation = args[0]
            continue
        return annotation, metadata


def _expected(annotation: Any, metadata: Sequence[Any]) -> str | None:
    """The :class:`Expect` text of a key: the last one declared (the most specific)."""
    found = [m.text for m in [*metadata, *_strip(annotation)[1]] if isinstance(m, Expect)]
    return found[-1] if found else None


def _element(annotation: Any) -> Any:
    """The type of a list's items or a mapping's values."""
    bare, _ = _strip(annotation)
    args = get_args(bare)
    return args[-1] if get_origin(bare) in (list, dict) and args else None


def _walk(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, Any, list[Any], type[BaseModel] | None]:
    """An error's key path, the annotation and metadata of the key, and the model the path ends in."""
    model: type[BaseModel] | None = root
    annotation: Any = None
    metadata: list[Any] = []
    path = ""
    for part in loc:
        if model is not None and isinstance(part, str) and part in model.model_fields:
            info = model.model_fields[part]
            annotation, metadata = info.annotation, list(info.metadata)
            path += f".{part}" if path else part
            models = _models_in(annotation)
            model = models[0] if len(models) == 1 else None
        elif isinstance(part, str) and part in _tags(annotation):  # the form of a union, not a key
            outer = [m for m in [*metadata, *_strip(annotation)[1]] if isinstance(m, Expect)]
            annotation, inner = _strip(_tags(annotation)[part])
            metadata = [*inner, *outer]  # the union's own Expect says more than an alternative's
            models = _models_in(annotation)
            model = models[0] if models else None
        else:  # a list's item or a mapping's value
            path += f"[{part!r}]"
            annotation, metadata = _element(annotation), []
            models = _models_in(annotation)
            model = models[0] if len(models) == 1 else None
    return path, annotation, metadata, model


def _problem(root: type[BaseModel], error: Mapping[str, Any]) -> str:
    if error["type"] == RULE:
        return str(error["msg"])
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1])
        parent, _, _, container = _walk(root, error["loc"][:-1])
        valid = list((container or root).model_fields)
        return (
            f"{f'{parent}.' if parent else ''}{key}: unknown key {key!r} in {parent or 'the spec'}"
            f"{did_you_mean(key, valid)}; expected one of {valid}. Rename or remove it."
        )
    path, annotation, metadata, model = _walk(root, error["loc"])
    what = _expected(annotation, metadata)
    if what is None and model is not None:
        what = f"a mapping with the keys {list(model.model_fields)}"
        fix = f"Write {path or 'the spec'} as such a mapping."
    else:
        what = what or str(error["msg"]).removeprefix("Input should be ")
        fix = f"Set {path} to {what}."
    if error["type"] == "missing":
        return f"{path}: missing, expected {what}. Add the key {path}."
    value = error.get("input")
    hint = did_you_mean(value, _literal_choices(annotation)) if isinstance(value, str) else ""
    return f"{path}: received {received(value)}{hint}, expected {what}. {fix}"


def spec_problems(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One message per problem of a validation of ``root``, in order, without repeats.

    A union's alternatives each report the same wrong value; they become one
    message naming what the key expects.
    """
    return list(dict.fromkeys(_problem(root, e) for e in error.errors()))
