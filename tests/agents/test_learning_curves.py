"""Learning curves: checkpoints in order, on the same validation customers, without touching training; the device option."""

from __future__ import annotations

import json

import numpy as np
import pytest

from journeygym.agents import learning_curves
from journeygym.agents.devices import check_device
from journeygym.agents.learning_curves import CheckpointPolicy, CurveSettings, evaluate_checkpoint
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent
from journeygym.baselines.simple import ConstantPolicy
from journeygym.envs import CustomerPopulationVectorEnv, JourneyVecEnv

HORIZON = 6
CURVE = {"checkpoints": 3, "customers": 40, "episodes": 2, "seed": 5}
AGENTS = [
    (PPOAgent, {"n_envs": 8, "n_epochs": 2}, 8 * HORIZON * 4),
    (DQNAgent, {"n_envs": 8, "learning_starts": 16, "buffer_size": 1000, "batch_size": 16}, 8 * HORIZON * 4),
]


def factory(draws):
    return lambda n_envs: JourneyVecEnv(n_envs, artifact=draws, params="sample", horizon=HORIZON)


@pytest.mark.parametrize(("agent_class", "kwargs", "timesteps"), AGENTS)
def test_checkpoints_are_in_order_on_the_same_validation_customers(
    synthetic_draws, monkeypatch, agent_class, kwargs, timesteps
):
    seen: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # (seed, draw, segments, hidden states) at week 0
    original = learning_curves.rollout_on

    def spying(env, policy, *, seed, observer=None):
        first: list[tuple[np.ndarray, np.ndarray]] = []

        def watch(state, info):
            if not first:
                first.append((state.segment.copy(), state.hidden_state.copy()))

        run = original(env, policy, seed=seed, observer=watch)
        seen.append((seed, env.draw_index, *first[0]))
        return run

    monkeypatch.setattr(learning_curves, "rollout_on", spying)
    agent = agent_class(learning_curve=CURVE, **kwargs).fit(factory(synthetic_draws), timesteps, seed=0)
    curve = agent.learning_curve_
    record = curve.to_record()
    steps = record["timesteps"]
    assert steps[0] == 0 and steps[-1] == agent.model.num_timesteps >= timesteps  # untrained, ..., trained
    assert all(b > a for a, b in zip(steps, steps[1:])) and len(steps) >= 3
    seconds = curve.seconds()
    assert all(b >= a for a, b in zip(seconds, seconds[1:]))
    assert record["validation"] == CURVE
    assert all(np.isfinite(record["return_per_customer"])) and all(0 <= c <= 1 for c in record["contacts_per_customer_week"])
    # every checkpoint evaluates the same episodes: same seeds, same draw, same customers (the first group of
    # episodes is sending nothing, measured once before training)
    episodes = CURVE["episodes"]
    assert len(seen) == episodes * (len(steps) + 1)
    for checkpoint in range(1, len(steps) + 1):
        for episode in range(episodes):
            reference, current = seen[episode], seen[checkpoint * episodes + episode]
            assert current[:2] == reference[:2]
            np.testing.assert_array_equal(current[2], reference[2])
            np.testing.assert_array_equal(current[3], reference[3])
    assert len({s[0] for s in seen[:episodes]}) == episodes  # distinct seasons
    # the same customers whatever the training seed: they depend on the curve's seed only
    monkeypatch.setattr(learning_curves, "rollout_on", original)
    other = agent_class(learning_curve=CURVE, **kwargs).fit(factory(synthetic_draws), timesteps, seed=1)
    assert other.learning_curve_.to_record()["timesteps"] == steps


def test_the_last_checkpoint_is_the_trained_greedy_policy_on_the_validation_customers(synthetic_draws):
    agent = PPOAgent(n_envs=8, n_epochs=2, learning_curve=CURVE).fit(factory(synthetic_draws), 8 * HORIZON * 3, seed=2)
    settings = CurveSettings(**CURVE)
    env = CustomerPopulationVectorEnv(settings.customers, params="sample", artifact=synthetic_draws, horizon=HORIZON)
    belief = (agent._belief_model.mean, agent._belief_model.assumptions)
    policy = CheckpointPolicy(agent.name, agent._network_preferences, belief)
    value, contacts = evaluate_checkpoint(env, policy, settings)
    last = agent.learning_curve_.points[-1]
    assert (last.return_per_customer, last.contacts_per_customer_week) == (value, contacts)
    assert evaluate_checkpoint(env, policy, settings) == (value, contacts)  # common random numbers
    # what sending nothing earns on the same customers: the base of the gains the report draws
    never = evaluate_checkpoint(env, ConstantPolicy(0, "never"), settings)
    assert agent.learning_curve_.no_action_return == never[0] and never[1] == 0.0
    assert agent.learning_curve_.to_record()["no_action_return"] == never[0]


@pytest.mark.parametrize(("agent_class", "kwargs", "timesteps"), AGENTS)
def test_the_curve_leaves_training_unchanged_bit_for_bit(synthetic_draws, agent_class, kwargs, timesteps):
    import torch

    trained = []
    for curve in (CURVE, None):
        agent = agent_class(learning_curve=curve, **kwargs).fit(factory(synthetic_draws), timesteps, seed=3)
        trained.append([p.detach().clone() for p in agent.model.policy.parameters()])
        assert (agent.learning_curve_ is None) == (curve is None)
    assert all(torch.equal(a, b) for a, b in zip(*trained))


def test_the_curve_and_its_settings_are_saved_with_the_agent(synthetic_draws, tmp_path):
    agent = PPOAgent(n_envs=8, n_epochs=1, learning_curve=CURVE).fit(factory(synthetic_draws), 8 * HORIZON * 2, seed=0)
    agent.save(tmp_path / "agent")
    saved = json.loads((tmp_path / "agent" / "learning_curve.json").read_text())
    assert saved["timesteps"] == agent.learning_curve_.to_record()["timesteps"] and len(saved["seconds"]) == len(saved["timesteps"])
    loaded = PPOAgent.load(tmp_path / "agent")
    assert loaded.learning_curve == CurveSettings(**CURVE) and loaded.get_params() == agent.get_params()


@pytest.mark.parametrize(
    ("value", "message"),
    [({"points": 3}, "unknown key"), ({"customers": 0}, "customers received 0"), ({"seed": -1}, "seed received -1"),
     ("yes", "expected None")],
)
def test_bad_curve_settings_are_refused(value, message):
    with pytest.raises(ValueError, match=message):
        PPOAgent(learning_curve=value)


def test_the_schedule_starts_untrained_and_spreads_the_checkpoints():
    assert CurveSettings(checkpoints=4).schedule(1000) == [0, 250, 500, 750]
    assert CurveSettings(checkpoints=1).schedule(1000) == [0]


def test_device_is_checked_recorded_and_auto_trains_where_torch_can(synthetic_draws):
    assert [check_device(d, "x") for d in ("auto", "cpu", "cuda", "cuda:1")] == ["auto", "cpu", "cuda", "cuda:1"]
    with pytest.raises(ValueError, match="device received 'gpu'"):
        PPOAgent(device="gpu")
    agent = PPOAgent(n_envs=8, n_epochs=1, device="auto", learning_curve=None)
    assert agent.get_params()["device"] == "auto" and PPOAgent().get_params()["device"] == "cpu"
    agent.fit(factory(synthetic_draws), 8 * HORIZON, seed=0)
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert agent.model.device.type == expected
