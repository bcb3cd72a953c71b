"""Helpers for error messages that say what was received and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: object, options: Iterable[str], n: int = 1) -> list[str]:
    """Up to ``n`` of ``options`` that look like ``word`` (a likely typo), best first."""
    return difflib.get_close_matches(str(word), list(options), n=n)


def did_you_mean(word: object, options: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the option closest to ``word``, or ``""`` when none is close."""
    close = close_matches(word, options)
    return f" (did you mean {close[0]!r}?)" if close else ""
