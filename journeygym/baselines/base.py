"""The policy interface every policy in journeygym shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions


class Policy(ABC):
    """A targeting policy: a batch of observations in, one action per customer out.

    Subclasses set :attr:`name` and implement :meth:`act`; those that learn
    override :meth:`fit`.  :meth:`get_params` returns what is recorded with
    results, in scikit-learn's spirit.
    """

    name: str = "policy"
    #: True for policies that act on the simulator's full state (the oracle); the
    #: evaluation then calls :meth:`act_on_state` instead of :meth:`act`.
    uses_hidden_state: bool = False

    @abstractmethod
    def act(self, observations: np.ndarray) -> np.ndarray:
        """Return int64 actions of shape ``(n,)`` for observations of shape ``(n, D)``."""

    def action_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        """``(n, A)`` probability of each action given the observations (off-policy evaluation reads it).

        The default is the one-hot of :meth:`act`, right for deterministic
        policies; a stochastic policy overrides it with its own probabilities.
        """
        actions = np.asarray(self.act(observations))
        if actions.shape != (observations.shape[0],) or actions.dtype.kind not in "iu" or (
            actions.size and (actions.min() < 0 or actions.max() >= n_actions)
        ):
            raise ValueError(
                f"policy {self.name!r}: act returned dtype {actions.dtype}, shape {actions.shape} and values "
                f"{np.unique(actions)[:5].tolist()}; expected integer actions in [0, {n_actions - 1}], one per customer."
            )
        probabilities = np.zeros((actions.size, n_actions))
        probabilities[np.arange(actions.size), actions] = 1.0
        return probabilities

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> Policy:
        """Learn the env's actions (and observation columns) before acting.

        Evaluations call it with ``env.action_names`` and ``env.observation_names``.
        The default records them as ``action_names_`` and ``observation_names_``;
        policies named after an arm (``always_<arm>``) or spread over every
        action (``random``) resolve them here.  Returns the policy.
        """
        self.action_names_ = tuple(action_names)
        if observation_names is not None:
            self.observation_names_ = tuple(observation_names)
        return self

    def act_on_state(self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions) -> np.ndarray:
        """Actions from the full simulator state; only for ``uses_hidden_state`` policies."""
        raise NotImplementedError(f"{type(self).__name__} acts on observations; call act(observations).")

    def priority(self, observations: np.ndarray) -> np.ndarray | None:
        """``(n,)`` priority of each customer's e-mail under a contact budget (larger = kept first), or None.

        Read only when the scenario sets a weekly budget and more e-mails are asked than
        it allows (:mod:`journeygym.envs.contact_rules`).  None, the default, means "no
        priority": the requests are thinned at random and reports say so.  Values must
        be finite; only their order matters.
        """
        return None

    def priority_on_state(
        self, state: PopulationState, parameters: DynamicsParameters, assumptions: ScenarioAssumptions
    ) -> np.ndarray | None:
        """:meth:`priority` for ``uses_hidden_state`` policies, from the full simulator state (default None)."""
        return None

    def evaluation_record(self) -> dict[str, Any]:
        """Facts of the last evaluated episode that results record (e.g. the budgeted oracle's bound); default none."""
        return {}

    def fit(self, *args: Any, **kwargs: Any) -> Policy:
        """Train the policy; policies that do not learn return themselves."""
        return self

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters recorded with every result of this policy."""
        return {}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def check_observations(observations: Any) -> np.ndarray:
    """Validate a batch of observations for :meth:`Policy.act`."""
    array = np.asarray(observations)
    if array.ndim != 2 or array.dtype.kind != "f":
        raise ValueError(
            f"observations: received dtype {array.dtype} and shape {array.shape}, expected a float array of shape "
            "(n_customers, n_features); pass the env's observation batch."
        )
    return array
