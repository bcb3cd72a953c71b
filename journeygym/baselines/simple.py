"""Trivial policies: never, random, always-<arm>."""

from __future__ import annotations

from typing import Any

import numpy as np

from journeygym.baselines.base import Policy, check_observations


class ConstantPolicy(Policy):
    """Always take the same action (``action=0`` is "never")."""

    def __init__(self, action: int, name: str | None = None) -> None:
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or action < 0:
            raise ValueError(f"ConstantPolicy: received action {action!r}, expected a non-negative integer.")
        self.action = int(action)
        self.name = name or f"always_{self.action}"

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The constant action for every customer."""
        return np.full(check_observations(observations).shape[0], self.action, dtype=np.int64)

    def get_params(self) -> dict[str, Any]:
        return {"action": self.action}


class RandomPolicy(Policy):
    """Each week, each customer gets action ``a`` with probability ``probabilities[a]``.

    Uses its own generator, so it never shifts the simulator's random numbers.
    The default is the Hillstrom trial's randomization: no e-mail 1/3, each arm 1/3.
    """

    name = "random"

    def __init__(self, probabilities: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3), seed: int = 0) -> None:
        probabilities = tuple(float(p) for p in probabilities)
        if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1.0) > 1e-9:
            raise ValueError(f"RandomPolicy: received probabilities {probabilities}, expected non-negative values summing to 1.")
        self.probabilities = probabilities
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """Random actions drawn with :attr:`probabilities`."""
        n = check_observations(observations).shape[0]
        return self._rng.choice(len(self.probabilities), size=n, p=self.probabilities).astype(np.int64)

    def action_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        """:attr:`probabilities` for every customer."""
        n = check_observations(observations).shape[0]
        if len(self.probabilities) != n_actions:
            raise ValueError(
                f"RandomPolicy: has probabilities for {len(self.probabilities)} actions, the episodes have {n_actions}; "
                "pass one probability per action."
            )
        return np.tile(np.asarray(self.probabilities), (n, 1))

    def get_params(self) -> dict[str, Any]:
        return {"probabilities": list(self.probabilities), "seed": self.seed}
