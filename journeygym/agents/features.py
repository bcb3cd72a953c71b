"""Model-based observation features and training rewards for learning agents: the look-ups they share.

Two tools make the simulator's structure usable by a model-free learner
without ever showing it the hidden state:

* the belief over the hidden engagement state z, from the forward (HMM)
  filter :class:`~journeygym.envs.belief.BeliefTracker` run on what the agent
  observes (covariates, visits, purchases, its own delivered actions and
  fatigue) with the *posterior-mean* parameters, i.e. the model a practitioner
  would have fitted; :class:`~journeygym.agents.sb3_wrappers.BeliefObservation`
  appends it to a VecEnv's observations.
* :class:`~journeygym.agents.sb3_wrappers.ExpectedRewardWrapper` -- replaces the sampled reward
  ``margin * spend - cost`` by its expectation given the week's hidden state,
  ``margin * P(purchase) * E[spend | segment] - cost``.  The expected return of
  every policy is unchanged (the conditional expectation has the same
  expectation), but the purchase and log-normal spend noise -- most of the
  variance of a week's reward -- is gone.  This uses simulator internals as a
  *training signal* only; agents still act on observations and are evaluated on
  sampled rewards.

This module holds what both read from a (possibly wrapped) training env: the
envs under the wrappers (:func:`find_population_env`, :func:`find_journey_env`)
and the posterior-mean parameters the env was built from
(:func:`model_parameters_of`); and the network's input at acting time,
the observations with the filter's belief appended (:func:`with_belief`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from journeygym.envs.belief import BeliefTracker
from journeygym.envs.parameters import DynamicsParameters

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["find_journey_env", "find_population_env", "model_parameters_of", "with_belief"]


def find_population_env(venv: VecEnv) -> Any:
    """The ``CustomerPopulationVectorEnv`` under a (possibly wrapped) ``JourneyVecEnv``, or None."""
    current: Any = venv
    while current is not None:
        population = getattr(current, "population", None)
        if population is not None:
            return population
        current = getattr(current, "venv", None)
    return None


def find_journey_env(venv: VecEnv) -> Any:
    """The ``JourneyVecEnv`` (the env with ``last_info``) under a wrapped env, or None."""
    current: Any = venv
    while current is not None and not hasattr(current, "last_info"):
        current = getattr(current, "venv", None)
    return current


def model_parameters_of(population: Any) -> DynamicsParameters:
    """The posterior-mean parameters the env was built from (not the current draw)."""
    draws = getattr(population, "parameter_draws", None)
    return draws.mean if draws is not None else population.parameters


def with_belief(observations: np.ndarray, tracker: BeliefTracker | None) -> np.ndarray:
    """The observations a network reads: with ``tracker``'s belief appended (``tracker.observe``: once a week).

    Without a tracker (belief features off) the observations themselves.
    """
    if tracker is None:
        return observations
    belief = tracker.observe(observations)
    return np.concatenate([observations, belief.astype(np.float32)], axis=1)
