"""Command-line argument types: what a typo gets back."""

from __future__ import annotations

import argparse

import pytest

from journeygym.arguments import carryover_levels


def test_carryover_levels_are_sorted_and_unique():
    assert carryover_levels("2.5,1,1.5,1") == (1.0, 1.5, 2.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5", "received 0.5, expected finite carryover ratios >= 1"),
        ("1,nan", "received nan, expected finite carryover ratios >= 1"),
        ("1,inf", "received inf, expected finite carryover ratios >= 1"),
        ("1,abc", "received 'abc' in '1,abc', expected numbers such as 1,1.5,2.5"),
    ],
)
def test_bad_carryover_levels_say_what_was_received(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        carryover_levels(text)
