"""A rollout that also records who gets contacted, by history segment and by hidden state.

Same episode, same common random numbers and same returns as
:func:`journeygym.baselines.rollout.rollout`; in addition it counts, every
week, the e-mails delivered and the subscribed customer-weeks in each history
segment and each hidden engagement state (the state at the time of the
decision).  The hidden state is read from the simulator for this diagnostic
only; policies never see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.baselines.rollout import Rollout, rollout
from journeygym.envs.kernel import MAX_STATES, PopulationState

__all__ = ["TracedRollout", "traced_rollout"]


@dataclass(frozen=True, eq=False)
class TracedRollout:
    """A :class:`Rollout` plus contact counts.

    Attributes
    ----------
    rollout
        Per-customer outcomes, as :func:`~journeygym.baselines.rollout.rollout` returns them.
    contacts_by_segment, weeks_by_segment
        ``(G,)`` e-mails delivered and subscribed customer-weeks per history segment.
    contacts_by_state, weeks_by_state
        ``(K,)`` the same per hidden engagement state at the time of the decision.
    state_names
        Names of the hidden states.
    segment_names
        Names of the segments (the artifact's).
    """

    rollout: Rollout
    contacts_by_segment: np.ndarray
    weeks_by_segment: np.ndarray
    contacts_by_state: np.ndarray
    weeks_by_state: np.ndarray
    state_names: tuple[str, ...]
    segment_names: tuple[str, ...] = ()


class _ContactCounter:
    """A :data:`~journeygym.baselines.rollout.WeekObserver` counting contacts per segment and hidden state."""

    def __init__(self) -> None:
        # Segment counts grow to the largest segment seen (the artifact's segment count is padded on at the end).
        self.contacts_by_segment = np.zeros(0, dtype=np.int64)
        self.weeks_by_segment = np.zeros(0, dtype=np.int64)
        self.contacts_by_state = np.zeros(MAX_STATES, dtype=np.int64)
        self.weeks_by_state = np.zeros(MAX_STATES, dtype=np.int64)

    def __call__(self, before: PopulationState, info: Mapping[str, np.ndarray]) -> None:
        subscribed, delivered = before.subscribed, info["delivered"]
        self.weeks_by_segment = _added(self.weeks_by_segment, before.segment[subscribed])
        self.contacts_by_segment = _added(self.contacts_by_segment, before.segment[delivered])
        self.weeks_by_state += np.bincount(before.hidden_state[subscribed], minlength=MAX_STATES)
        self.contacts_by_state += np.bincount(before.hidden_state[delivered], minlength=MAX_STATES)


def _added(counts: np.ndarray, key: np.ndarray, size: int = 0) -> np.ndarray:
    """``counts`` plus the count of each value in ``key``, grown to fit the largest value (and ``size``)."""
    found = np.bincount(key, minlength=max(counts.size, size))
    found[: counts.size] += counts
    return found


def traced_rollout(policy: Policy, **rollout_options: Any) -> TracedRollout:
    """:func:`~journeygym.baselines.rollout.rollout` with the same options, counting contacts."""
    counter = _ContactCounter()
    outcome = rollout(policy, observer=counter, **rollout_options)
    n_states = len(outcome.state_names)
    return TracedRollout(
        rollout=outcome,
        contacts_by_segment=_added(counter.contacts_by_segment, np.zeros(0, dtype=np.int64), len(outcome.segment_names)),
        weeks_by_segment=_added(counter.weeks_by_segment, np.zeros(0, dtype=np.int64), len(outcome.segment_names)),
        contacts_by_state=counter.contacts_by_state[:n_states],
        weeks_by_state=counter.weeks_by_state[:n_states],
        state_names=outcome.state_names,
        segment_names=outcome.segment_names,
    )
