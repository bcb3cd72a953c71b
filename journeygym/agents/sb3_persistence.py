"""Saving and loading the Stable-Baselines3 agents: a directory with the SB3 model and ``agent.json``.

``agent.json`` holds the agent's class, the journeygym version, its settings
(the constructor's arguments) and, for a priced agent, the price it ended with
and its calibration; ``vecnormalize.pkl`` the reward statistics, ``belief_model.npz``
the belief filter's model, ``learning_curve.json`` the curve measured in training.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypeVar

import journeygym
from journeygym.agents.learning_curves import CurveSettings
from journeygym.envs.belief import BeliefTracker

__all__ = ["load_agent", "save_agent"]

#: The price hyperparameters saved in agent.json and passed back to the constructor on load.
PRICE_SETTINGS = (
    "email_price", "contact_target", "price_step", "rate_signal", "training_budget", "calibration",
    "calibration_customers",
)

#: An :class:`~journeygym.agents.sb3_agents.SB3Agent` subclass (not imported: that module imports this one).
Agent = TypeVar("Agent")


def save_agent(agent: Any, path: str | os.PathLike[str]) -> None:
    """Write ``agent`` to the directory ``path`` (created if needed)."""
    if agent.model is None:
        raise RuntimeError(f"{agent.name}: nothing to save; call fit(...) first.")
    from journeygym.envs.artifact import save_artifact

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    agent.model.save(directory / "model.zip")
    if agent.vec_normalize is not None:
        agent.vec_normalize.save(str(directory / "vecnormalize.pkl"))
    if agent._belief_model is not None:
        save_artifact(agent._belief_model, directory / "belief_model.npz")
    settings = {
        "class": f"{type(agent).__module__}:{type(agent).__qualname__}",
        "journeygym_version": journeygym.__version__,
        "name": agent.name,
        "n_envs": agent.n_envs,
        "belief_features": agent.belief_features,
        "training_reward": agent.training_reward,
        "normalize_reward": agent.normalize_reward,
        "device": agent.device,
        "learning_curve": None if agent.learning_curve is None else agent.learning_curve.to_dict(),
        "algorithm_kwargs": agent.algorithm_kwargs,
    }
    if agent.priced:
        settings["lagrangian"] = {
            "email_price": agent.email_price,
            "contact_target": agent.contact_target,
            "price_step": agent.price_step,
            "rate_signal": agent.rate_signal,
            "training_budget": agent.training_budget,
            "calibration": agent.calibration,
            "calibration_customers": agent.calibration_customers,
            "final_email_price": agent.final_email_price,
            "preference_offset": agent.preference_offset,
            "price_record": agent.price_record,
        }
    (directory / "agent.json").write_text(json.dumps(settings, indent=2, default=str))
    if agent.learning_curve_ is not None:
        curve = {**agent.learning_curve_.to_record(), "seconds": agent.learning_curve_.seconds()}
        (directory / "learning_curve.json").write_text(json.dumps(curve, indent=2))


def load_agent(cls: type[Agent], path: str | os.PathLike[str]) -> Agent:
    """Read an agent of class ``cls`` written by :func:`save_agent`."""
    from journeygym.envs.artifact import load_artifact

    directory = Path(path)
    settings_file = directory / "agent.json"
    if not settings_file.is_file():
        raise FileNotFoundError(
            f"{cls.__name__}.load: no agent.json in {str(directory)!r}; expected a directory written by save(path)."
        )
    settings = json.loads(settings_file.read_text())
    lagrangian = settings.get("lagrangian", {})
    priced = {key: lagrangian[key] for key in PRICE_SETTINGS if key in lagrangian}
    agent = cls(
        settings["name"],
        n_envs=settings["n_envs"],
        belief_features=settings["belief_features"],
        training_reward=settings["training_reward"],
        normalize_reward=settings["normalize_reward"],
        device=settings.get("device", "cpu"),
        learning_curve=settings.get("learning_curve", CurveSettings().to_dict()),
        **priced,
        **settings["algorithm_kwargs"],
    )
    agent.final_email_price = lagrangian.get("final_email_price")
    agent.preference_offset = float(lagrangian.get("preference_offset", 0.0))
    agent.price_record = lagrangian.get("price_record")
    agent.model = agent.algorithm_class().load(directory / "model.zip", device=agent.device)
    if agent.belief_features:
        model = load_artifact(directory / "belief_model.npz")
        agent._belief_model = model
        agent._tracker = BeliefTracker(model.mean, model.assumptions)
    return agent
