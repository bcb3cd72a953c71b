"""A two-state, two-action, three-week MDP whose every expectation is known exactly.

The state s in {0, 1} is stored in the ``recency`` observation column, the week
in ``week_fraction`` (t / H); customers stay subscribed.  Rewards are
``R[s, a]`` plus Gaussian noise.  :func:`true_value` solves the target's value
by exact dynamic programming, so estimators can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journeygym.testing import default_observation_names
from journeygym.baselines.base import Policy
from journeygym.testing import default_observation_columns, default_observation_index
from journeygym.ope.episodes import LoggedEpisodes

ACTION_NAMES = ("no_action", "email")
HORIZON = 3
INITIAL = np.array([0.6, 0.4])
#: P(next state = 1 | s, a)
TO_ONE = np.array([[0.2, 0.7], [0.5, 0.9]])
#: Expected reward R[s, a]
REWARD = np.array([[0.0, -0.5], [1.0, 1.5]])
REWARD_NOISE = 0.5
#: Behavior mu(a | s), the same every week
BEHAVIOR = np.array([[0.7, 0.3], [0.4, 0.6]])


@dataclass
class TablePolicy(Policy):
    """pi(a | s, t) from a (H, S, A) table, read from the observation's recency and week_fraction columns."""

    table: np.ndarray
    name: str = "table"

    def action_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        columns = default_observation_index(ACTION_NAMES)
        state = observations[:, columns["recency"]].round().astype(int)
        week = np.rint(observations[:, columns["week_fraction"]] * HORIZON).astype(int)
        return self.table[week, state]

    def act(self, observations: np.ndarray) -> np.ndarray:
        return self.action_probabilities(observations, 2).argmax(axis=1)


def true_value(table: np.ndarray, gamma: float = 1.0) -> float:
    """Exact expected (discounted) return of pi = ``table`` from the initial distribution."""
    value = np.zeros(2)
    for t in reversed(range(HORIZON)):
        next_value = (1 - TO_ONE) * value[0] + TO_ONE * value[1]  # (S, A)
        q = REWARD + gamma * next_value
        value = np.sum(table[t] * q, axis=1)
    return float(INITIAL @ value)


def simulate(n: int, seed: int, behavior: np.ndarray = BEHAVIOR) -> LoggedEpisodes:
    """``n`` logged episodes of the tiny MDP under ``behavior`` (S, A), with exact propensities."""
    rng = np.random.default_rng(seed)
    columns = default_observation_index(ACTION_NAMES)
    observations = np.zeros((n, HORIZON, len(default_observation_columns(ACTION_NAMES))), dtype=np.float32)
    observations[:, :, columns["subscribed"]] = 1.0
    actions = np.empty((n, HORIZON), dtype=np.int64)
    rewards = np.empty((n, HORIZON))
    probabilities = np.empty((n, HORIZON, 2))
    state = (rng.random(n) < INITIAL[1]).astype(int)
    for t in range(HORIZON):
        observations[:, t, columns["recency"]] = state
        observations[:, t, columns["week_fraction"]] = t / HORIZON
        probabilities[:, t] = behavior[state]
        actions[:, t] = (rng.random(n) < behavior[state, 1]).astype(np.int64)
        rewards[:, t] = REWARD[state, actions[:, t]] + REWARD_NOISE * rng.standard_normal(n)
        state = (rng.random(n) < TO_ONE[state, actions[:, t]]).astype(int)
    return LoggedEpisodes(
        observations=observations,
        actions=actions,
        rewards=rewards,
        behavior_probabilities=probabilities,
        mask=np.ones((n, HORIZON), dtype=bool),
        action_names=ACTION_NAMES,
        observation_names=default_observation_names(ACTION_NAMES),
        customer_ids=np.arange(n, dtype=np.int64),
    )


def example_target() -> TablePolicy:
    """A stochastic, week-dependent target policy different from the behavior."""
    table = np.array(
        [
            [[0.2, 0.8], [0.9, 0.1]],
            [[0.5, 0.5], [0.3, 0.7]],
            [[1.0, 0.0], [0.0, 1.0]],
        ]
    )
    return TablePolicy(table)
