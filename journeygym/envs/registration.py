"""Gymnasium registration of the journeygym environments."""

from __future__ import annotations

import gymnasium as gym

ENV_ID = "journeygym/CustomerJourney-v0"


def register_envs() -> None:
    """Register ``journeygym/CustomerJourney-v0`` (idempotent)."""
    if ENV_ID in gym.registry:
        return
    gym.register(
        id=ENV_ID,
        entry_point="journeygym.envs.journey_env:CustomerJourneyEnv",
        vector_entry_point="journeygym.envs.population_env:CustomerPopulationVectorEnv",
    )
