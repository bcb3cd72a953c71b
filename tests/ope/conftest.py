"""Fixtures of the off-policy evaluation tests (the exact tiny MDP lives in tiny_mdp.py)."""

from __future__ import annotations

import pytest
from tiny_mdp import TablePolicy, example_target


@pytest.fixture
def tiny_target() -> TablePolicy:
    """A stochastic, week-dependent target policy different from the behavior."""
    return example_target()
