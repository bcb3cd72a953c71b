"""Evaluate policies on the simulator with common random numbers.

Every policy evaluated with the same seed and draw meets the same customers
and the same weekly noise: the kernel draws a fixed block of uniforms per week
whatever the actions are, so differences between policies are paired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeygym.baselines.base import Policy
from journeygym.envs.kernel import PopulationState
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.envs.population_env import CustomerPopulationVectorEnv
from journeygym.envs.simulation import ArtifactSource


@dataclass(frozen=True, eq=False)
class Rollout:
    """Per-customer outcomes of one policy over one episode (arrays of length N)."""

    policy: str
    draw: int
    seed: int
    returns: np.ndarray
    contacts: np.ndarray
    purchases: np.ndarray
    unsubscribed: np.ndarray
    horizon: int
    state_names: tuple[str, ...] = ()


#: Called every week with a copy of the customers' state at the time of the
#: decision and the step's ``info``; for diagnostics such as who gets contacted.
WeekObserver = Callable[[PopulationState, Mapping[str, np.ndarray]], None]


def rollout(
    policy: Policy,
    *,
    n_customers: int,
    seed: int,
    params: str | int = "mean",
    artifact: ArtifactSource = None,
    scenario: ScenarioAssumptions | Mapping[str, Any] | None = None,
    horizon: int | None = None,
    observer: WeekObserver | None = None,
) -> Rollout:
    """Run ``policy`` for one episode on ``n_customers`` customers (undiscounted returns)."""
    env = CustomerPopulationVectorEnv(
        num_envs=n_customers, params=params, artifact=artifact, scenario=scenario, horizon=horizon, copy=False
    )
    observations, _ = env.reset(seed=seed)
    returns = np.zeros(n_customers)
    contacts = np.zeros(n_customers, dtype=np.int64)
    purchases = np.zeros(n_customers, dtype=np.int64)
    for _ in range(env.assumptions.horizon):
        before = env.state.copy() if observer is not None else None
        if policy.uses_hidden_state:
            actions = policy.act_on_state(env.state, env.parameters, env.assumptions)
        else:
            actions = policy.act(observations)
        observations, reward, _, _, info = env.step(actions)
        if before is not None:
            observer(before, info)
        returns += reward
        contacts += info["delivered"]
        purchases += info["purchased"]
    return Rollout(
        policy=policy.name,
        draw=env.draw_index,
        seed=seed,
        returns=returns,
        contacts=contacts,
        purchases=purchases,
        unsubscribed=~env.state.subscribed,
        horizon=env.assumptions.horizon,
        state_names=tuple(env.parameters.state_names),
    )
