"""Trivial policies: never, random, always-<arm>, and e-mail everyone every k weeks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy, check_observations
from journeygym.envs.actions import arm_action


def _check_arm(owner: str, action: Any) -> int | str:
    """An action number >= 0, or an arm's name (resolved by :meth:`Policy.bind_actions`)."""
    if isinstance(action, str) and action:
        return action
    if isinstance(action, bool) or not isinstance(action, (int, np.integer)) or action < 0:
        raise ValueError(f"{owner}: received action {action!r}, expected a non-negative integer or an arm's name.")
    return int(action)


class _ArmPolicy(Policy):
    """A policy that sends one arm, given by number or by name (the name resolved against the env's actions)."""

    def __init__(self, action: int | str) -> None:
        self.arm = _check_arm(type(self).__name__, action)
        self._action: int | None = self.arm if isinstance(self.arm, int) else None

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> Policy:
        """Resolve the arm's name to its action number on these actions."""
        super().bind_actions(action_names, observation_names)
        if isinstance(self.arm, str):
            self._action = arm_action(action_names, self.arm, owner=f"policy {self.name!r}")
        return self

    @property
    def action(self) -> int:
        """The action number sent."""
        if self._action is None:
            raise RuntimeError(
                f"policy {self.name!r} sends the arm {self.arm!r}, whose number depends on the env: call "
                "bind_actions(env.action_names) first (the evaluations do)."
            )
        return self._action


class ConstantPolicy(_ArmPolicy):
    """Always take the same action (``action=0`` is "never"; an arm's short name, e.g. ``arm_1``, is an arm)."""

    def __init__(self, action: int | str, name: str | None = None) -> None:
        super().__init__(action)
        self.name = name or f"always_{self.arm}"

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The constant action for every customer."""
        return np.full(check_observations(observations).shape[0], self.action, dtype=np.int64)

    def get_params(self) -> dict[str, Any]:
        return {"action": self._action if self._action is not None else self.arm}


class CadencePolicy(_ArmPolicy):
    """E-mail everyone with one arm every ``every`` weeks (weeks 0, k, 2k, ...), nothing in between.

    It knows nothing of the customer: the week comes from the observation's
    ``week_fraction`` column times the horizon (default 52, the scenario's).  It
    shows what a cadence alone earns, whatever the targeting.
    """

    def __init__(self, action: int | str, every: int, name: str | None = None, horizon: int = 52) -> None:
        if action == 0:
            raise ValueError("CadencePolicy: received action=0, expected an arm (an action number >= 1 or its name).")
        super().__init__(action)
        for label, value, low in (("every", every, 1), ("horizon", horizon, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"CadencePolicy: received {label}={value!r}, expected an integer >= {low}.")
        self.every, self.horizon = int(every), int(horizon)
        self.name = name or f"every_{self.every}_weeks_{self.arm}"

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The arm for customers in a week divisible by ``every``, no action for the others."""
        names = getattr(self, "observation_names_", None)
        if names is None:
            raise RuntimeError(
                f"policy {self.name!r} reads the week from the observation's week_fraction column, whose position "
                "depends on the env: call bind_actions(env.action_names, env.observation_names) first (the evaluations do)."
            )
        week = np.rint(check_observations(observations)[:, names.index("week_fraction")] * self.horizon).astype(np.int64)
        return np.where(week % self.every == 0, self.action, 0).astype(np.int64)

    def get_params(self) -> dict[str, Any]:
        return {"action": self._action if self._action is not None else self.arm, "every": self.every, "horizon": self.horizon}


class RandomPolicy(Policy):
    """Each week, each customer gets action ``a`` with probability ``probabilities[a]``.

    Uses its own generator, so it never shifts the simulator's random numbers.
    The default (None) is the randomization of a trial with equal arms: every
    action, no action included, equally likely (1/3 each on the Hillstrom
    trial's three), over the actions the env binds.
    """

    name = "random"

    def __init__(self, probabilities: Sequence[float] | None = None, seed: int = 0) -> None:
        if probabilities is not None:
            probabilities = tuple(float(p) for p in probabilities)
            if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1.0) > 1e-9:
                raise ValueError(
                    f"RandomPolicy: received probabilities {probabilities}, expected non-negative values summing to 1."
                )
        self.probabilities: tuple[float, ...] | None = probabilities
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._bound: tuple[float, ...] | None = probabilities

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> Policy:
        """Spread the default over these actions; explicit probabilities must have one per action."""
        super().bind_actions(action_names, observation_names)
        self._bound = self._probabilities_for(len(tuple(action_names)))
        return self

    def _probabilities_for(self, n_actions: int) -> tuple[float, ...]:
        if self.probabilities is None:
            return (1.0 / n_actions,) * n_actions
        if len(self.probabilities) != n_actions:
            raise ValueError(
                f"RandomPolicy: has probabilities for {len(self.probabilities)} actions, the env has {n_actions}; "
                "pass one probability per action (or none, for every action equally likely)."
            )
        return self.probabilities

    def act(self, observations: np.ndarray) -> np.ndarray:
        """Random actions drawn with the probabilities."""
        n = check_observations(observations).shape[0]
        if self._bound is None:
            raise RuntimeError(
                "RandomPolicy: without probabilities it draws every action of the env equally often: call "
                "bind_actions(env.action_names) first (the evaluations do), or pass probabilities."
            )
        return self._rng.choice(len(self._bound), size=n, p=self._bound).astype(np.int64)

    def action_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        """The probabilities for every customer."""
        n = check_observations(observations).shape[0]
        return np.tile(np.asarray(self._probabilities_for(n_actions)), (n, 1))

    def get_params(self) -> dict[str, Any]:
        return {"probabilities": None if self._bound is None else list(self._bound), "seed": self.seed}
