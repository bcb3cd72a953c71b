"""PPO and DQN under a contact budget: the shadow price per e-mail, its dual ascent, calibration and priorities."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from journeygym.agents.lagrangian import ContactTarget, calibrate_offset, lift_budget, resolve_contact_target
from journeygym.agents.protocol import AgentPolicy
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent
from journeygym.agents.sb3_wrappers import DualAscentCallback, EmailPriceWrapper
from journeygym.baselines.rollout import rollout
from journeygym.envs import CustomerPopulationVectorEnv, JourneyVecEnv
from journeygym.envs.belief import BeliefTracker
from journeygym.envs.parameters import ScenarioAssumptions

HORIZON = 6
PPO_FAST = {"n_envs": 8, "n_epochs": 1, "calibration_customers": 32}
DQN_FAST = {"n_envs": 8, "learning_starts": 16, "buffer_size": 1000, "batch_size": 16, "calibration_customers": 32}
BUDGET_AND_CAP = {"contact_budget": 0.2, "cap_emails": 1, "cap_weeks": 3}


def factory(draws, scenario=None):
    return lambda n_envs: JourneyVecEnv(n_envs, artifact=draws, params="sample", horizon=HORIZON, scenario=scenario)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("agent_class", [PPOAgent, DQNAgent])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email_price": -0.01}, "email_price received -0.01, expected a finite number >= 0"),
        ({"email_price": float("nan")}, "email_price received nan"),
        ({"email_price": "cheap"}, "email_price received 'cheap'"),
        ({"contact_target": 0.0}, r"contact_target received 0.0, expected None .* or a share in \(0, 1\]"),
        ({"contact_target": 1.5}, "contact_target received 1.5"),
        ({"contact_target": "budgets"}, "contact_target received 'budgets'"),
        ({"contact_target": True}, "contact_target received True"),
        ({"price_step": -1.0}, "price_step received -1.0"),
        ({"calibration": "exact"}, "calibration received 'exact', expected one of"),
        ({"calibration_customers": 0}, "calibration_customers received 0"),
        ({"rate_signal": "delivered"}, "rate_signal received .delivered., expected one of"),
        ({"training_budget": "ignored"}, "training_budget received .ignored., expected one of"),
    ],
)
def test_bad_price_settings_say_what_was_expected(agent_class, kwargs, message):
    with pytest.raises(ValueError, match=message):
        agent_class(**kwargs)


def test_a_budget_target_needs_a_budget_in_the_training_scenario(synthetic_draws):
    agent = PPOAgent(contact_target="budget", **PPO_FAST)
    with pytest.raises(ValueError, match="sets no contact budget; set contact_budget"):
        agent.fit(factory(synthetic_draws), 8 * HORIZON, seed=0)


def test_the_budget_target_reads_the_scenario():
    share = resolve_contact_target("budget", ScenarioAssumptions(contact_budget=0.1), "ppo")
    assert share == ContactTarget(0.1, per_subscribed=True)
    count = resolve_contact_target("budget", ScenarioAssumptions(contact_budget_per_1000=50.0), "ppo")
    assert count == ContactTarget(0.05, per_subscribed=False)
    assert resolve_contact_target(0.3, ScenarioAssumptions(contact_budget=0.1), "ppo") == ContactTarget(0.3)
    assert resolve_contact_target(None, ScenarioAssumptions(), "ppo") is None


# ----------------------------------------------------------------------------- the priced reward
def test_the_price_is_charged_on_the_requests_the_budget_kept(synthetic_draws):
    scenario = {"contact_budget": 0.1}
    plain = JourneyVecEnv(40, artifact=synthetic_draws, horizon=HORIZON, scenario=scenario)
    priced_base = JourneyVecEnv(40, artifact=synthetic_draws, horizon=HORIZON, scenario=scenario)
    priced = EmailPriceWrapper(priced_base, priced_base.population, email_price=0.25)
    for env in (plain, priced):
        env.seed(5)
        env.reset()
    actions = np.ones(40, dtype=np.int64)
    for _ in range(3):
        subscribed = priced_base.population.state.subscribed.copy()
        _, reward, _, _ = plain.step(actions)
        _, priced_reward, _, _ = priced.step(actions)
        thinned = priced_base.last_info["thinned"]
        assert thinned.sum() > 0  # the budget dropped most requests
        np.testing.assert_array_equal(priced.last_requested, subscribed)  # all count as the policy's requests...
        kept = subscribed & ~thinned
        np.testing.assert_allclose(priced_reward, reward - 0.25 * kept, atol=1e-6)  # ...the kept ones pay
    assert priced.requested == priced.subscribed > 0


def fake_model(n_envs, observations, rewards):
    buffer = SimpleNamespace(rewards=rewards, pos=0, full=False, buffer_size=rewards.shape[0])
    logger = SimpleNamespace(record=lambda *args, **kwargs: None)
    return SimpleNamespace(replay_buffer=buffer, _last_obs=observations, num_timesteps=0, logger=logger)


def test_dual_ascent_raises_the_price_when_over_contacting_and_reprices_the_replay_buffer():
    n_envs, target = 4, ContactTarget(0.25)
    wrapper = SimpleNamespace(
        email_price=0.0, last_charged=np.ones(n_envs, bool), requested=0, subscribed=0, customers=0
    )
    wrapper.reset_counts = lambda: None
    observations = np.zeros((n_envs, 3), dtype=np.float32)
    observations[:, 0] = 1.0  # subscribed
    always_email = lambda obs: np.tile([0.0, 1.0], (obs.shape[0], 1))  # noqa: E731
    callback = DualAscentCallback(
        wrapper, target, 0.5, always_email, subscribed_column=0, interval=2, start=8, signal="greedy"
    )
    rewards = np.zeros((10, n_envs), dtype=np.float32)
    callback.model = fake_model(n_envs, observations, rewards)
    buffer = callback.model.replay_buffer
    for _ in range(5):
        price_of_step = wrapper.email_price
        callback.model.num_timesteps += n_envs
        callback.on_step()
        rewards[buffer.pos] = 1.0 - price_of_step  # stored after the callback, as SB3 does
        buffer.pos += 1
    # Updates are due after steps 2 and 4; step 2 is before learning starts.
    assert len(callback.history) == 1
    assert callback.history[0]["contact_rate"] == 1.0
    assert wrapper.email_price == pytest.approx(0.5 * (1.0 - 0.25))
    # Every stored transition requested an e-mail: all carry the new price, the one stored
    # right after the update included.
    np.testing.assert_allclose(rewards[:5], 1.0 - wrapper.email_price)
    np.testing.assert_allclose(rewards[5:], 0.0)


def test_dual_ascent_in_training_moves_the_price_with_the_rate_gap(synthetic_draws, tmp_path):
    agent = PPOAgent(contact_target=0.05, price_step=0.05, calibration=None, tensorboard_log=tmp_path, **PPO_FAST)
    agent.fit(factory(synthetic_draws, {"contact_budget": 0.05}), 8 * HORIZON * 6, seed=3)
    history = agent.price_record["history"]
    assert len(history) == 6  # one update per rollout
    price = 0.0
    for entry in history:
        price = max(0.0, price + 0.05 * (entry["contact_rate"] - 0.05))
        assert entry["email_price"] == pytest.approx(price)
    assert agent.final_email_price == pytest.approx(price)
    assert any(entry["contact_rate"] > 0.05 for entry in history) and price > 0  # it over-contacted: the price rose
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"lagrangian/email_price", "lagrangian/contact_rate"} <= set(header)


# ----------------------------------------------------------------------------- calibration
def test_calibration_meets_the_target_rate_and_a_ceiling_only_lowers():
    preference = np.random.default_rng(0).normal(size=20_000)

    def request_rate(offset):
        return float(np.mean(preference + offset > 0)), preference

    for target in (0.05, 0.4, 0.9):
        result = calibrate_offset(request_rate, target, "match")
        assert abs(result.rate - target) <= 0.002 and result.uncalibrated_rate == pytest.approx(0.5, abs=0.01)
        assert result.evaluations <= 3
    below = calibrate_offset(request_rate, 0.8, "ceiling")
    assert below.offset == 0.0 and below.evaluations == 1
    above = calibrate_offset(request_rate, 0.2, "ceiling")
    assert above.offset < 0 and abs(above.rate - 0.2) <= 0.002


# ----------------------------------------------------------------------------- priorities, records, persistence
@pytest.mark.parametrize(("agent_class", "kwargs"), [(PPOAgent, PPO_FAST), (DQNAgent, DQN_FAST)])
def test_priority_is_the_email_preference_and_round_trips_with_the_price(
    synthetic_draws, tmp_path, agent_class, kwargs
):
    scenario = {"contact_budget": 0.3}
    agent = agent_class(contact_target="budget", **kwargs)
    agent.fit(factory(synthetic_draws, scenario), 8 * HORIZON * 3, seed=1)
    assert agent.evaluation_record()["email_price"] == agent.final_email_price >= 0.0
    assert agent.price_record["calibration_rollouts"] >= 1

    env = CustomerPopulationVectorEnv(50, artifact=synthetic_draws, horizon=HORIZON, scenario=scenario)
    observations = env.reset(seed=2)[0]
    for _ in range(2):
        actions = agent.act(observations)
        priority = agent.priority(observations)
        assert priority.shape == (50,) and np.isfinite(priority).all()
        np.testing.assert_array_equal(priority > 0, actions != 0)
        np.testing.assert_array_equal(agent.act(observations), actions)  # the same week: the belief moves once
        observations = env.step(actions)[0]

    agent.save(tmp_path / "agent")
    loaded = agent_class.load(tmp_path / "agent")
    assert loaded.final_email_price == agent.final_email_price
    assert loaded.preference_offset == agent.preference_offset
    assert loaded.evaluation_record() == agent.evaluation_record()
    assert loaded.get_params() == agent.get_params()
    runs = [
        rollout(
            AgentPolicy(a), n_customers=50, seed=3, artifact=synthetic_draws, params=0, horizon=HORIZON, scenario=scenario
        )
        for a in (agent, loaded)
    ]
    assert runs[0].enforcement == "priority"
    np.testing.assert_array_equal(runs[0].requested, runs[1].requested)
    np.testing.assert_array_equal(runs[0].returns, runs[1].returns)


def test_an_agent_without_a_price_records_none(synthetic_draws):
    agent = PPOAgent(**PPO_FAST).fit(factory(synthetic_draws), 8 * HORIZON, seed=0)
    assert agent.evaluation_record() == {"email_price": None}
    assert "email_price" not in agent.get_params()
    fixed = PPOAgent(email_price=0.02, **PPO_FAST).fit(factory(synthetic_draws), 8 * HORIZON, seed=0)
    assert fixed.evaluation_record() == {"email_price": 0.02} and fixed.price_record is None


# ----------------------------------------------------------------------------- contact rules in training
def test_a_lifted_budget_keeps_the_scenario_and_the_cap(synthetic_draws):
    env = CustomerPopulationVectorEnv(30, artifact=synthetic_draws, horizon=HORIZON, scenario=BUDGET_AND_CAP)
    env.reset(seed=0)
    lift_budget(env)
    assert env.assumptions.contact_budget == 0.2 and not env.contact_rules.has_budget
    emails = np.ones(30, dtype=np.int64)
    first = env.step(emails)[4]
    assert first["delivered"].sum() == first["requested"].sum() > 0.2 * 30  # nothing thinned
    second = env.step(emails)[4]
    assert second["capped"].sum() == first["delivered"].sum()  # the cap still blocks


@pytest.mark.parametrize("training_budget", ["lifted", "enforced"])
@pytest.mark.parametrize(("agent_class", "kwargs"), [(PPOAgent, PPO_FAST), (DQNAgent, DQN_FAST)])
def test_training_with_a_cap_and_a_budget_runs_and_evaluates(synthetic_draws, agent_class, kwargs, training_budget):
    agent = agent_class(contact_target="budget", training_budget=training_budget, **kwargs)
    agent.fit(factory(synthetic_draws, BUDGET_AND_CAP), 8 * HORIZON * 2, seed=0)
    run = rollout(
        AgentPolicy(agent), n_customers=40, seed=1, artifact=synthetic_draws, horizon=HORIZON, scenario=BUDGET_AND_CAP
    )
    assert run.returns.shape == (40,) and run.enforcement == "priority"


def test_the_belief_filter_ignores_the_cap_column_and_follows_delivered_actions(synthetic_draws):
    scenario = {"contact_budget": 0.1, "cap_emails": 1, "cap_weeks": 2}
    capped = CustomerPopulationVectorEnv(60, artifact=synthetic_draws, horizon=HORIZON, scenario=scenario)
    model = synthetic_draws.mean
    with_column, without_column = BeliefTracker(model, capped.assumptions), BeliefTracker(model, capped.assumptions)
    observations = capped.reset(seed=4)[0]
    for _ in range(4):
        np.testing.assert_array_equal(with_column.observe(observations), without_column.observe(observations[:, :-1]))
        observations, _, _, _, info = capped.step(np.ones(60, dtype=np.int64))
        assert (info["thinned"] | info["capped"]).any()
        # What the filter reads as last week's action is the delivered one, not the request.
        last_action = observations[:, -1 - 1 - model.n_actions : -1 - 1]
        np.testing.assert_array_equal(last_action[:, 0] == 1.0, ~info["delivered"])
