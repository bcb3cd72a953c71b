"""Argument types shared by the command-line entry points, and how messages name options.

Library functions raise errors that say how to fix the input, often by
setting an option.  Called from Python, the option is a keyword argument
(``nonpositive='drop'``); called from a command, it is a flag
(``--nonpositive drop``).  A command declares its flags with
:func:`command_options`, and messages name options with
:func:`option_name` and :func:`option_setting`.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1, with an error that says what was received."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"received {text!r}, expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"received {value}, expected a positive integer")
    return value


def positive_int_or_all(text: str) -> int | None:
    """``argparse`` type: an integer >= 1, or ``all`` (None: no limit)."""
    if text.strip().lower() == "all":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"received {text!r}, expected a positive integer or 'all'") from None


def carryover_levels(text: str) -> tuple[float, ...]:
    """``argparse`` type: comma-separated carryover ratios, each a finite number >= 1."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"received {part.strip()!r} in {text!r}, expected numbers such as 1,1.5,2.5") from None
        if not value >= 1.0 or value == float("inf"):
            raise argparse.ArgumentTypeError(
                f"received {value!r}, expected finite carryover ratios >= 1 (1 = an e-mail's effect does not persist)"
            )
        values.append(value)
    return tuple(sorted(set(values)))


# ---------------------------------------------------------------- naming options in messages

#: The command running now and its flags: keyword (or ``"keyword=value"``) -> flag; None outside a command.
_COMMAND: ContextVar[tuple[str, Mapping[str, str]] | None] = ContextVar("journeygym_command", default=None)


@contextmanager
def command_options(command: str, flags: Mapping[str, str]) -> Iterator[None]:
    """Inside the block, messages name the command's flags instead of Python keyword arguments.

    Parameters
    ----------
    command
        The command, e.g. ``"journeygym fit-hmm"``.
    flags
        Keyword argument -> flag (``{"time_format": "--time-format"}``); a key
        ``"keyword=value"`` names a flag that sets the keyword to that value
        (``{"outlying_dates=drop": "--drop-outlying-dates"}``).
    """
    token = _COMMAND.set((command, dict(flags)))
    try:
        yield
    finally:
        _COMMAND.reset(token)


def current_command() -> str | None:
    """The command running now (see :func:`command_options`), or None when called from Python."""
    current = _COMMAND.get()
    return None if current is None else current[0]


def option_name(keyword: str) -> str:
    """How to refer to an option: its flag inside a command that has one, else the keyword."""
    current = _COMMAND.get()
    if current is not None and keyword in current[1]:
        return current[1][keyword]
    return keyword


def option_setting(keyword: str, value: object = None, *, metavar: str | None = None) -> str:
    """How to set an option: ``--flag VALUE`` inside a command that has the flag, else ``keyword=value``.

    Parameters
    ----------
    keyword
        The Python keyword argument.
    value
        The value to suggest; None names the option only (``--sep`` or ``sep=``).
    metavar
        A placeholder instead of a value (``--control LEVEL`` or ``control=LEVEL``).
    """
    current = _COMMAND.get()
    flags = current[1] if current is not None else {}
    if value is not None and f"{keyword}={value}" in flags:
        return flags[f"{keyword}={value}"]
    if keyword in flags:
        if metavar is not None:
            return f"{flags[keyword]} {metavar}"
        return flags[keyword] if value is None else f"{flags[keyword]} {shlex.quote(str(value))}"
    if metavar is not None:
        return f"{keyword}={metavar}"
    return f"{keyword}=" if value is None else f"{keyword}={value!r}"
