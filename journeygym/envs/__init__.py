"""The simulator: parameters, the one vectorized kernel and its three faces.

Names are imported on first use, so ``import journeygym`` (which registers the
Gymnasium ids) loads neither the kernel's dependencies nor Stable-Baselines3
and torch, which :class:`JourneyVecEnv` needs.
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "ENV_ID": "journeygym.envs.registration",
    "register_envs": "journeygym.envs.registration",
    "ActionError": "journeygym.envs.simulation",
    "CustomerJourneyEnv": "journeygym.envs.journey_env",
    "CustomerPopulationVectorEnv": "journeygym.envs.population_env",
    "JourneyVecEnv": "journeygym.envs.sb3_adapter",
    "ArtifactError": "journeygym.envs.artifact",
    "load_artifact": "journeygym.envs.artifact",
    "save_artifact": "journeygym.envs.artifact",
    "DynamicsParameters": "journeygym.envs.parameters",
    "ParameterDraws": "journeygym.envs.parameters",
    "ParameterError": "journeygym.envs.parameters",
    "PopulationModel": "journeygym.envs.parameters",
    "ScenarioAssumptions": "journeygym.envs.parameters",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from journeygym.envs.artifact import ArtifactError, load_artifact, save_artifact
    from journeygym.envs.journey_env import CustomerJourneyEnv
    from journeygym.envs.parameters import (
        DynamicsParameters,
        ParameterDraws,
        ParameterError,
        PopulationModel,
        ScenarioAssumptions,
    )
    from journeygym.envs.population_env import CustomerPopulationVectorEnv
    from journeygym.envs.registration import ENV_ID, register_envs
    from journeygym.envs.sb3_adapter import JourneyVecEnv
    from journeygym.envs.simulation import ActionError

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
