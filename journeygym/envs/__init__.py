"""The simulator: parameters, the one vectorized kernel and its three faces."""

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

__all__ = [
    "ENV_ID",
    "ActionError",
    "CustomerJourneyEnv",
    "CustomerPopulationVectorEnv",
    "DynamicsParameters",
    "JourneyVecEnv",
    "ParameterDraws",
    "ParameterError",
    "PopulationModel",
    "ScenarioAssumptions",
    "register_envs",
]
