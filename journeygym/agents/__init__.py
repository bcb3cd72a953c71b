"""Agents: the Agent protocol, the registry of agents and policies, and the Stable-Baselines3 agents."""

from journeygym.agents.protocol import Agent, AgentPolicy, EnvFactory, SavableAgent, as_policy
from journeygym.agents.registry import UnknownAgentError, available, make, resolve, training_mode
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent, SB3Agent

__all__ = [
    "Agent",
    "AgentPolicy",
    "DQNAgent",
    "EnvFactory",
    "PPOAgent",
    "SB3Agent",
    "SavableAgent",
    "UnknownAgentError",
    "as_policy",
    "available",
    "make",
    "resolve",
    "training_mode",
]
