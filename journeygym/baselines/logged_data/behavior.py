"""The behavior policy of a log: who gets which e-mail, with which probability.

A log records, with each action, the probability that the behavior policy
delivered it (the propensity), so an estimator can reweight the log towards
another policy.  :class:`BehaviorPolicy` is what the simulator needs from such
a policy; :class:`RandomizedBehavior` is the Hillstrom-like default;
:class:`EpsilonGreedyBehavior` follows a targeting policy and explores with
probability epsilon, as a deployed policy's log usually does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["BehaviorPolicy", "EpsilonGreedyBehavior", "RandomizedBehavior", "sample_actions"]


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


class EpsilonGreedyBehavior:
    """Follow ``policy``; with probability ``epsilon`` pick an action uniformly at random instead.

    A subscribed customer's propensities are
    ``(1 - epsilon) * pi(. | s) + epsilon / A``, where ``pi`` is the policy's
    :meth:`~journeygym.baselines.base.Policy.action_probabilities` (the one-hot
    of its action for a deterministic policy, or of ``act`` for an object
    without that method); an unsubscribed customer gets action 0.  The
    simulator asks once per week, in order, so a policy with per-customer
    memory sees each customer's history.

    Parameters
    ----------
    policy
        A policy acting on observations (a :class:`~journeygym.baselines.base.Policy`
        or an agent with ``act``).
    epsilon
        Exploration probability in [0, 1] (0: the policy itself; 1: uniform).

    Raises
    ------
    ValueError
        For ``epsilon`` outside [0, 1] or a policy that needs the simulator's hidden state.
    """

    def __init__(self, policy: Any, epsilon: float) -> None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer, np.floating)) or not (
            0.0 <= float(epsilon) <= 1.0
        ):
            raise ValueError(
                f"EpsilonGreedyBehavior.epsilon: received {epsilon!r}, expected a number in [0, 1] (the probability "
                "of exploring uniformly instead of following the policy)."
            )
        if not callable(getattr(policy, "act", None)):
            raise ValueError(
                f"EpsilonGreedyBehavior.policy: received {type(policy).__name__}, expected a policy with "
                "act(observations) (e.g. journeygym.baselines.make_policy('always_mens'))."
            )
        if getattr(policy, "uses_hidden_state", False):
            raise ValueError(
                f"EpsilonGreedyBehavior.policy: {getattr(policy, 'name', type(policy).__name__)!r} acts on the "
                "simulator's hidden state, which a log does not record; use a policy that acts on observations."
            )
        self.policy = policy
        self.epsilon = float(epsilon)

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> None:
        """Hand the env's actions (and observation columns) to the policy (an arm policy resolves its arm's number)."""
        bind = getattr(self.policy, "bind_actions", None)
        if callable(bind):
            bind(action_names, observation_names)

    def _policy_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        probabilities = getattr(self.policy, "action_probabilities", None)
        if probabilities is not None:
            return np.asarray(probabilities(observations, n_actions), dtype=np.float64)
        actions = np.asarray(self.policy.act(observations), dtype=np.int64)
        return np.eye(n_actions)[actions]

    def propensities(self, observations: np.ndarray, subscribed: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` propensities: the epsilon-mixture for subscribed rows, action 0 otherwise."""
        greedy = self._policy_probabilities(observations, n_actions)
        if greedy.shape != (observations.shape[0], n_actions):
            raise ValueError(
                f"EpsilonGreedyBehavior: the policy's action probabilities have shape {greedy.shape}, expected "
                f"({observations.shape[0]}, {n_actions}): one row per customer, one column per action."
            )
        out = (1.0 - self.epsilon) * greedy + self.epsilon / n_actions
        out[~subscribed] = 0.0
        out[~subscribed, 0] = 1.0
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-able description: the policy's name and parameters, and epsilon."""
        get_params = getattr(self.policy, "get_params", None)
        return {
            "kind": "epsilon_greedy",
            "epsilon": self.epsilon,
            "policy": getattr(self.policy, "name", type(self.policy).__name__),
            "policy_params": dict(get_params()) if callable(get_params) else {},
        }

    def __repr__(self) -> str:
        return f"EpsilonGreedyBehavior(policy={self.policy!r}, epsilon={self.epsilon!r})"


def sample_actions(propensities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(n,)`` actions drawn from the ``(n, A)`` propensities, one uniform number per row."""
    cumulative = np.cumsum(propensities, axis=1)[:, :-1]
    return (rng.random(propensities.shape[0])[:, None] >= cumulative).sum(axis=1).astype(np.int64)
