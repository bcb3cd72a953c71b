"""Trivial policies: never, random, always-<arm>, and e-mail everyone every k weeks."""

from __future__ import annotations

from typing import Any

import numpy as np

from journeygym.baselines.base import Policy, check_observations
from journeygym.envs.observation import N_STATIC_COLUMNS


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


class CadencePolicy(Policy):
    """E-mail everyone with one arm every ``every`` weeks (weeks 0, k, 2k, ...), nothing in between.

    It knows nothing of the customer: the week comes from the observation's
    ``week_fraction`` column times the horizon (default 52, the scenario's).  It
    shows what a cadence alone earns, whatever the targeting.
    """

    def __init__(self, action: int, every: int, name: str | None = None, horizon: int = 52) -> None:
        for label, value, low in (("action", action, 1), ("every", every, 1), ("horizon", horizon, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"CadencePolicy: received {label}={value!r}, expected an integer >= {low}.")
        self.action, self.every, self.horizon = int(action), int(every), int(horizon)
        self.name = name or f"every_{self.every}_weeks_{self.action}"

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The arm for customers in a week divisible by ``every``, no action for the others."""
        week = np.rint(check_observations(observations)[:, N_STATIC_COLUMNS] * self.horizon).astype(np.int64)
        return np.where(week % self.every == 0, self.action, 0).astype(np.int64)

    def get_params(self) -> dict[str, Any]:
        return {"action": self.action, "every": self.every, "horizon": self.horizon}


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
