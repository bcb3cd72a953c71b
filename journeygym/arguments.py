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
