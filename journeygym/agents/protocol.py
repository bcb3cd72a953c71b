"""The ``Agent`` protocol every learning agent follows, and its adapter to :class:`~journeygym.baselines.base.Policy`.

An agent is anything with a ``name``, a ``fit(env_factory, total_timesteps,
seed)`` that trains it in the simulator, and an ``act(observations)`` that
maps a batch of observations to one action per customer; no base class is
needed.  The protocol, its optional members and the environment factory are
stated in :mod:`journeygym.baselines.agent_protocol`, where they are defined
beside the ``Policy`` interface so that the rollout and off-policy evaluation
accept an agent without importing the agents; this module is where an agent's
author finds them.
"""

from journeygym.baselines.agent_protocol import Agent, AgentPolicy, EnvFactory, SavableAgent, as_policy

__all__ = ["Agent", "AgentPolicy", "EnvFactory", "SavableAgent", "as_policy"]
