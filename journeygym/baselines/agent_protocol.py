"""The ``Agent`` protocol every learning agent follows, and its adapter to :class:`Policy`.

It is defined here, next to the :class:`~journeygym.baselines.base.Policy`
interface, because everything that runs a policy accepts an agent too: the
rollout, off-policy evaluation and the experiments.  Agents themselves live in
:mod:`journeygym.agents`, which re-exports these names
(:mod:`journeygym.agents.protocol`).

An agent is anything with a ``name``, a ``fit(env_factory, total_timesteps,
seed)`` that trains it in the simulator, and an ``act(observations)`` that
maps a batch of observations to one action per customer.  No base class is
needed: the protocol is structural (``isinstance(obj, Agent)`` checks it), so
a user's class in their own package qualifies as it is.

The environment factory
-----------------------
``env_factory(n_envs)`` returns a fresh Stable-Baselines3 ``VecEnv`` of
``n_envs`` simulated customers: a :class:`~journeygym.envs.JourneyVecEnv` built
on the experiment's scenario (artifact, assumptions, horizon), training on
posterior draws as the experiment config says (``params="sample"`` by default:
a new posterior draw for every episode).  The agent chooses ``n_envs``; it may
wrap the env as it likes (``VecNormalize``, ``VecMonitor``...).  Its
observations are the 23 float32 columns of
:func:`journeygym.envs.observation.observation_columns`; actions are
``0 = no action`` and one index per e-mail arm.  An agent that does not train
in the simulator may ignore the factory.

Acting
------
``act`` receives ``(n, D)`` float32 observations and returns ``(n,)`` integer
actions.  During evaluation it is called once per week, in order, on the same
customers, so an agent may keep per-customer memory between calls; a row whose
``week_fraction`` column is 0 is a customer's first week.

Optional members
----------------
``save(path)`` / ``load(path)`` (a classmethod returning the agent) persist a
trained agent (the runner saves it next to the results); ``get_params()``
returns the hyperparameters recorded with results; a ``tensorboard_log``
attribute, when present and None, is set by the experiment runner to the
cell's log directory before ``fit`` (a ``progress.csv`` there with
``time/total_timesteps`` and ``rollout/ep_rew_mean`` columns becomes the
report's training curve, for an agent without a ``learning_curve_``); a
``learning_curve_`` attribute after ``fit`` -- a
:class:`~journeygym.agents.learning_curves.LearningCurve`, or a mapping of
equal-length lists ``timesteps``, ``return_per_customer``,
``contacts_per_customer_week`` and optionally ``seconds`` -- is stored with
the results and drawn by the report; a ``device`` attribute is set by the
runner to the config's ``training.device`` when the config sets it and the
policy's hyperparameters do not; ``minimum_timesteps(horizon)`` lets config
validation reject budgets too small for one update; ``action_probabilities(observations, n_actions)`` returns the ``(n, A)`` action
probabilities off-policy evaluation weighs the log with (default: the one-hot
of ``act``); ``priority(observations)`` returns ``(n,)`` finite numbers
ranking the customers' e-mails when a weekly contact budget binds (larger
first; without it, the requests are thinned at random); ``evaluation_record()``
returns facts of the last evaluated episode the results record (e.g.
``{"email_price": ...}``); ``trains_on`` (``"simulator"``,
``"logged_data"`` or ``"none"``) overrides how the runner trains the object
(see :func:`journeygym.agents.registry.training_mode`).

Every :class:`~journeygym.baselines.base.Policy` satisfies the protocol (its
``fit`` accepts anything and returns itself), and :func:`as_policy` turns any
agent into a ``Policy`` for :func:`~journeygym.baselines.rollout.rollout` and
off-policy evaluation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from journeygym.baselines.base import Policy, check_observations

if TYPE_CHECKING:  # Stable-Baselines3 (and torch) load only where an agent trains
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["Agent", "AgentPolicy", "EnvFactory", "SavableAgent", "as_policy"]

#: ``env_factory(n_envs) -> VecEnv``: builds the training environment (see the module docstring).
EnvFactory = Callable[[int], "VecEnv"]


@runtime_checkable
class Agent(Protocol):
    """What the experiment runner needs from an agent.

    Attributes
    ----------
    name
        Label of the agent in result tables.
    """

    name: str

    def fit(self, env_factory: EnvFactory, total_timesteps: int, seed: int) -> Agent:
        """Train for ``total_timesteps`` environment steps (customer-weeks) with ``seed``; return ``self``."""
        ...

    def act(self, observations: np.ndarray) -> np.ndarray:
        """Actions of shape ``(n,)`` for observations of shape ``(n, D)`` (deterministic for evaluation)."""
        ...


@runtime_checkable
class SavableAgent(Agent, Protocol):
    """An agent that can be written to disk and read back."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the trained agent to ``path``."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SavableAgent:
        """Read an agent written by :meth:`save`."""
        ...


class AgentPolicy(Policy):
    """A :class:`Policy` that delegates to an agent (for evaluation with :func:`~journeygym.baselines.rollout.rollout`).

    Checks that the agent returns one integer action per customer, so a faulty
    agent fails with a message instead of a shape error deep in the simulator.
    """

    def __init__(self, agent: Agent) -> None:
        if not isinstance(agent, Agent):
            raise TypeError(
                f"AgentPolicy: received {type(agent).__name__}, expected an Agent "
                "(attributes: name; methods: fit(env_factory, total_timesteps, seed), act(observations))."
            )
        self.agent = agent
        self.name = str(agent.name)

    def act(self, observations: np.ndarray) -> np.ndarray:
        """The agent's actions, validated."""
        observations = check_observations(observations)
        actions = np.asarray(self.agent.act(observations))
        n = observations.shape[0]
        if actions.shape != (n,):
            actions = actions.reshape(-1) if actions.size == n else actions
        if actions.shape != (n,) or actions.dtype.kind not in "iu":
            raise ValueError(
                f"agent {self.name!r}: act returned dtype {actions.dtype} and shape {actions.shape}, "
                f"expected integer actions of shape ({n},), one per customer."
            )
        return actions.astype(np.int64, copy=False)

    def bind_actions(self, action_names: Sequence[str], observation_names: Sequence[str] | None = None) -> Policy:
        """Record the env's actions, and hand them to the agent when it has ``bind_actions``."""
        super().bind_actions(action_names, observation_names)
        bind = getattr(self.agent, "bind_actions", None)
        if callable(bind):
            bind(tuple(action_names))
        return self

    def action_probabilities(self, observations: np.ndarray, n_actions: int) -> np.ndarray:
        """The agent's ``action_probabilities`` when it has one, else the one-hot of its actions."""
        own = getattr(self.agent, "action_probabilities", None)
        if callable(own):
            return np.asarray(own(check_observations(observations), n_actions), dtype=np.float64)
        return super().action_probabilities(observations, n_actions)

    def priority(self, observations: np.ndarray) -> np.ndarray | None:
        """The agent's ``priority(observations)`` when it has one (checked by the env), else None."""
        own = getattr(self.agent, "priority", None)
        return own(check_observations(observations)) if callable(own) else None

    def evaluation_record(self) -> dict[str, Any]:
        """The agent's ``evaluation_record()`` when it has one."""
        own = getattr(self.agent, "evaluation_record", None)
        return dict(own()) if callable(own) else {}

    def fit(self, env_factory: EnvFactory, total_timesteps: int, seed: int) -> AgentPolicy:  # type: ignore[override]
        """Train the agent; returns this adapter."""
        self.agent.fit(env_factory, total_timesteps, seed)
        return self

    def get_params(self) -> dict[str, Any]:
        """The agent's ``get_params()`` when it has one."""
        get_params = getattr(self.agent, "get_params", None)
        return dict(get_params()) if callable(get_params) else {}


def as_policy(obj: Any) -> Policy:
    """Return ``obj`` as a :class:`Policy`: policies unchanged, agents wrapped in :class:`AgentPolicy`.

    Raises
    ------
    TypeError
        If ``obj`` is neither.
    """
    if isinstance(obj, Policy):
        return obj
    if isinstance(obj, Agent):
        return AgentPolicy(obj)
    missing = [m for m in ("name", "fit", "act") if not hasattr(obj, m)]
    raise TypeError(
        f"received {type(obj).__name__}, expected a journeygym Policy or an Agent; it lacks {missing}. "
        "An agent needs a name attribute and the methods fit(env_factory, total_timesteps, seed) and act(observations)."
    )
