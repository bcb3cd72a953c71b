"""The behavior policy of a log: who gets which e-mail, with which probability.

A log records, with each action, the probability that the behavior policy
delivered it (the propensity), so an estimator can reweight the log towards
another policy.  :class:`BehaviorPolicy` is what the simulator needs from such
a policy; :class:`RandomizedBehavior` is the Hillstrom-like default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["BehaviorPolicy", "RandomizedBehavior", "sample_actions"]


class BehaviorPolicy(Protocol):
    """What :func:`~journeygym.baselines.logged_data.simulator.simulate_logged_data` needs from the policy that generated the log."""

    def propensities(self, observations: np.ndarray, subscribed: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` probability of delivering each action given the observations; rows sum to 1.

        ``subscribed`` is the (n,) bool mask of reachable customers; an
        unsubscribed customer can only get action 0.
        """

    def describe(self) -> dict[str, Any]:
        """A JSON-able description stored with the log."""


@dataclass(frozen=True)
class RandomizedBehavior:
    """Each week, e-mail a subscribed customer with ``email_probability``, split over the arms.

    The default is the Hillstrom trial's randomization repeated weekly: no
    e-mail 1/3, each of the two arms 1/3.  Unsubscribed customers get no action.

    Parameters
    ----------
    email_probability
        Probability of an e-mail to a subscribed customer, in [0, 1].
    arm_weights
        Relative weight of each e-mail arm (actions 1..A-1); ``None`` splits evenly.
    """

    email_probability: float = 2.0 / 3.0
    arm_weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.email_probability) <= 1.0:
            raise ValueError(
                f"RandomizedBehavior.email_probability: received {self.email_probability!r}, expected a number in [0, 1]."
            )
        if self.arm_weights is not None:
            weights = tuple(float(w) for w in self.arm_weights)
            if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(
                    f"RandomizedBehavior.arm_weights: received {self.arm_weights!r}, expected non-negative weights "
                    "with a positive sum, one per e-mail arm."
                )
            object.__setattr__(self, "arm_weights", weights)

    def subscribed_probabilities(self, n_actions: int) -> np.ndarray:
        """``(A,)`` action probabilities of a subscribed customer."""
        weights = np.ones(n_actions - 1) if self.arm_weights is None else np.asarray(self.arm_weights, dtype=np.float64)
        if weights.size != n_actions - 1:
            raise ValueError(
                f"RandomizedBehavior.arm_weights: received {weights.size} weights, expected {n_actions - 1} "
                f"(one per e-mail arm of the {n_actions} actions)."
            )
        probabilities = np.empty(n_actions)
        probabilities[0] = 1.0 - self.email_probability
        probabilities[1:] = self.email_probability * weights / weights.sum()
        return probabilities

    def propensities(self, observations: np.ndarray, subscribed: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` propensities: the randomization for subscribed rows, no action otherwise."""
        out = np.zeros((observations.shape[0], n_actions))
        out[:, 0] = 1.0
        out[subscribed] = self.subscribed_probabilities(n_actions)
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-able description of the behavior policy."""
        return {"kind": "randomized", "email_probability": self.email_probability, "arm_weights": self.arm_weights}


def sample_actions(propensities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(n,)`` actions drawn from the ``(n, A)`` propensities, one uniform number per row."""
    cumulative = np.cumsum(propensities, axis=1)[:, :-1]
    return (rng.random(propensities.shape[0])[:, None] >= cumulative).sum(axis=1).astype(np.int64)
