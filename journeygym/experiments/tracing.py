"""A rollout that also records who gets contacted, by history segment and by hidden state.

Same episode, same common random numbers and same returns as
:func:`journeygym.experiments.evaluation.rollout`; in addition it counts, every
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
from journeygym.envs.covariates import HISTORY_SEGMENTS
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.simulation import ArtifactSource
from journeygym.experiments.evaluation import Rollout

__all__ = ["TracedRollout", "traced_rollout"]


@dataclass(frozen=True, eq=False)
class TracedRollout:
    """A :class:`Rollout` plus contact counts.

    Attributes
    ----------
    rollout
        Per-customer outcomes, as :func:`~journeygym.experiments.evaluation.rollout` returns them.
    contacts_by_segment, weeks_by_segment
        ``(G,)`` e-mails delivered and subscribed customer-weeks per history segment.
    contacts_by_state, weeks_by_state
        ``(K,)`` the same per hidden engagement state at the time of the decision.
    state_names
        Names of the hidden states.
    """

    rollout: Rollout
    contacts_by_segment: np.ndarray
    weeks_by_segment: np.ndarray
    contacts_by_state: np.ndarray
    weeks_by_state: np.ndarray
    state_names: tuple[str, ...]


def traced_rollout(
    policy: Policy,
    *,
    n_customers: int,
    seed: int,
    params: str | int = "mean",
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    horizon: int | None = None,
) -> TracedRollout:
    """Run ``policy`` for one episode on ``n_customers`` customers, counting contacts (undiscounted returns)."""
    env = CustomerPopulationVectorEnv(
        num_envs=n_customers, params=params, artifact=artifact, scenario=scenario, horizon=horizon, copy=False
    )
    observations, _ = env.reset(seed=seed)
    n_segments, n_states = len(HISTORY_SEGMENTS), env.parameters.n_states
    returns = np.zeros(n_customers)
    contacts = np.zeros(n_customers, dtype=np.int64)
    purchases = np.zeros(n_customers, dtype=np.int64)
    contacts_by_segment = np.zeros(n_segments, dtype=np.int64)
    weeks_by_segment = np.zeros(n_segments, dtype=np.int64)
    contacts_by_state = np.zeros(n_states, dtype=np.int64)
    weeks_by_state = np.zeros(n_states, dtype=np.int64)
    for _ in range(env.assumptions.horizon):
        state = env.state
        subscribed = state.subscribed.copy()
        segment, hidden = state.segment.copy(), state.hidden_state.copy()
        if policy.uses_hidden_state:
            actions = policy.act_on_state(state, env.parameters, env.assumptions)
        else:
            actions = policy.act(observations)
        observations, reward, _, _, info = env.step(actions)
        delivered = info["delivered"]
        returns += reward
        contacts += delivered
        purchases += info["purchased"]
        weeks_by_segment += np.bincount(segment[subscribed], minlength=n_segments)
        weeks_by_state += np.bincount(hidden[subscribed], minlength=n_states)
        contacts_by_segment += np.bincount(segment[delivered], minlength=n_segments)
        contacts_by_state += np.bincount(hidden[delivered], minlength=n_states)
    outcome = Rollout(
        policy=policy.name,
        draw=env.draw_index,
        seed=seed,
        returns=returns,
        contacts=contacts,
        purchases=purchases,
        unsubscribed=~env.state.subscribed,
        horizon=env.assumptions.horizon,
    )
    return TracedRollout(
        rollout=outcome,
        contacts_by_segment=contacts_by_segment,
        weeks_by_segment=weeks_by_segment,
        contacts_by_state=contacts_by_state,
        weeks_by_state=weeks_by_state,
        state_names=tuple(env.parameters.state_names),
    )
