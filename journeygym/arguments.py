"""Argument types shared by the command-line entry points."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1, with an error that says what was received."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"received {text!r}, expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"received {value}, expected a positive integer")
    return value


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
