"""Agents: the Agent protocol, the registry of agents and policies, the Stable-Baselines3 agents, the offline agents.

The Stable-Baselines3 agents and the offline agents (fitted-Q iteration and
conservative Q-learning, trained on a campaign log) are imported on first use
(``journeygym.agents.PPOAgent``),
so importing the protocol or the registry does not load torch.
"""

from journeygym.agents.protocol import Agent, AgentPolicy, EnvFactory, SavableAgent, as_policy
from journeygym.agents.registry import UnknownAgentError, available, make, resolve, training_mode
from journeygym.lazy import lazy_attributes

__all__ = [
    "Agent",
    "AgentPolicy",
    "DQNAgent",
    "DiscreteCQLPolicy",
    "EnvFactory",
    "FittedQIterationPolicy",
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

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        **dict.fromkeys(("DQNAgent", "PPOAgent", "SB3Agent"), "journeygym.agents.sb3_agents"),
        "FittedQIterationPolicy": "journeygym.agents.fqi",
        "DiscreteCQLPolicy": "journeygym.agents.cql",
    },
)
