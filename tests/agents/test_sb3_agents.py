"""PPO and DQN agents: train on a tiny budget, act, save and load, and their training wrappers."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.agents.protocol import Agent, AgentPolicy, SavableAgent
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent
from journeygym.agents.sb3_wrappers import ExpectedRewardWrapper
from journeygym.baselines.rollout import rollout
from journeygym.envs import CustomerPopulationVectorEnv, JourneyVecEnv
from journeygym.envs.belief import BeliefTracker

HORIZON = 6


def factory(draws):
    return lambda n_envs: JourneyVecEnv(n_envs, artifact=draws, params="sample", horizon=HORIZON)


@pytest.mark.parametrize(
    ("agent_class", "kwargs", "timesteps"),
    [
        (PPOAgent, {"n_envs": 8, "n_epochs": 2}, 8 * HORIZON * 2),
        (DQNAgent, {"n_envs": 8, "learning_starts": 16, "buffer_size": 1000, "batch_size": 16}, 8 * HORIZON * 2),
        (DQNAgent, {"n_envs": 8, "learning_starts": 16, "buffer_size": 1000, "batch_size": 16, "double_q": True}, 8 * HORIZON * 2),
        (DQNAgent, {"n_envs": 8, "learning_starts": 16, "buffer_size": 1000, "batch_size": 16, "dueling": True}, 8 * HORIZON * 2),
    ],
)
def test_agent_trains_acts_and_round_trips_through_save_and_load(synthetic_draws, tmp_path, agent_class, kwargs, timesteps):
    agent = agent_class(tensorboard_log=tmp_path / "logs", **kwargs)
    assert isinstance(agent, Agent) and isinstance(agent, SavableAgent)
    agent.fit(factory(synthetic_draws), timesteps, seed=0)
    assert (tmp_path / "logs" / "progress.csv").is_file()

    agent.save(tmp_path / "agent")
    for name in ("agent.json", "model.zip", "vecnormalize.pkl", "belief_model.npz"):
        assert (tmp_path / "agent" / name).is_file()
    loaded = agent_class.load(tmp_path / "agent")
    assert loaded.get_params() == agent.get_params()
    assert type(loaded.model) is type(agent.model) is agent.algorithm_class()
    assert type(loaded.model.policy) is type(agent.model.policy)

    runs = [
        rollout(AgentPolicy(a), n_customers=50, seed=3, artifact=synthetic_draws, params=0, horizon=HORIZON)
        for a in (agent, loaded)
    ]
    np.testing.assert_array_equal(runs[0].returns, runs[1].returns)
    np.testing.assert_array_equal(runs[0].contacts, runs[1].contacts)


def test_training_is_reproducible_with_the_same_seed(synthetic_draws):
    actions = []
    observations = CustomerPopulationVectorEnv(30, artifact=synthetic_draws, horizon=HORIZON).reset(seed=1)[0]
    for _ in range(2):
        agent = PPOAgent(n_envs=8, n_epochs=1).fit(factory(synthetic_draws), 8 * HORIZON, seed=7)
        actions.append(agent.act(observations))
    np.testing.assert_array_equal(*actions)


@pytest.mark.parametrize(
    ("agent_class", "kwargs"),
    [(PPOAgent, {"n_envs": 8, "n_epochs": 1}), (DQNAgent, {"n_envs": 8, "learning_starts": 8, "buffer_size": 100, "batch_size": 8})],
)
def test_gamma_is_the_scenario_discount_unless_set(synthetic_draws, agent_class, kwargs):
    def trained_gamma(scenario, **extra):
        def make(n_envs):
            return JourneyVecEnv(n_envs, artifact=synthetic_draws, params="sample", horizon=HORIZON, scenario=scenario)

        agent = agent_class(**kwargs, **extra).fit(make, 8 * HORIZON, seed=0)
        assert agent.vec_normalize.gamma == agent.model.gamma  # the reward scale discounts alike
        assert agent.get_params()["gamma"] == agent.model.gamma
        return agent.model.gamma

    assert trained_gamma(None) == 0.995  # the default scenario: the gamma the agents always had
    assert trained_gamma({"discount": 0.9}) == 0.9
    assert trained_gamma({"discount": 1.0}) == 1.0
    assert trained_gamma({"discount": 0.9}, gamma=0.97) == 0.97  # an explicit hyperparameter wins
    assert "gamma" not in agent_class(**kwargs).get_params()  # untrained: no scenario yet


def test_budget_below_one_rollout_is_refused(synthetic_draws):
    with pytest.raises(ValueError, match="expected at least 48"):
        PPOAgent(n_envs=8).fit(factory(synthetic_draws), 10, seed=0)


def test_unknown_training_reward_is_refused():
    with pytest.raises(ValueError, match="training_reward"):
        PPOAgent(training_reward="shaped")


def test_act_before_fit_says_what_to_do():
    with pytest.raises(RuntimeError, match="call fit"):
        PPOAgent().act(np.zeros((2, 23), dtype=np.float32))


def test_expected_reward_has_the_same_mean_as_the_sampled_reward(synthetic_draws):
    venv = JourneyVecEnv(4000, artifact=synthetic_draws, params=0, horizon=HORIZON)
    wrapped = ExpectedRewardWrapper(venv)
    wrapped.seed(0)
    wrapped.reset()
    rng = np.random.default_rng(0)
    expected, sampled = [], []
    for _ in range(HORIZON):
        actions = rng.integers(0, 3, size=4000)
        _, reward, _, _ = wrapped.step(actions)
        expected.append(reward.astype(np.float64))
        sampled.append(venv.last_info["spend"] * venv.population.assumptions.margin
                       - np.where(venv.last_info["delivered"], 0.05, 0.0))
    expected, sampled = np.concatenate(expected), np.concatenate(sampled)
    standard_error = sampled.std() / np.sqrt(sampled.size)
    assert abs(expected.mean() - sampled.mean()) < 4 * standard_error
    assert expected.std() < sampled.std() / 2  # the point: much less noise


def test_belief_is_calibrated_against_the_hidden_state(synthetic_draws):
    env = CustomerPopulationVectorEnv(20_000, artifact=synthetic_draws, params="mean", horizon=12)
    observations, _ = env.reset(seed=0)
    tracker = BeliefTracker(env.parameters, env.assumptions)
    rng = np.random.default_rng(1)
    for _ in range(12):
        belief = tracker.observe(observations)
        frequency = np.bincount(env.state.hidden_state, minlength=belief.shape[1]) / belief.shape[0]
        np.testing.assert_allclose(belief.mean(axis=0), frequency, atol=0.015)
        observations, *_ = env.step(rng.integers(0, 3, size=20_000))


def test_the_batched_timeout_bootstrap_is_the_per_customer_one(synthetic_draws, monkeypatch):
    import torch

    trained = []
    for batched in (True, False):
        monkeypatch.setattr(PPOAgent, "batched_bootstrap", batched)
        agent = PPOAgent(n_envs=16, n_epochs=2, learning_curve=None).fit(factory(synthetic_draws), 16 * HORIZON * 3, seed=0)
        trained.append(torch.cat([p.detach().flatten() for p in agent.model.policy.parameters()]))
    # the same update up to float rounding (one batched forward pass against one per customer)
    torch.testing.assert_close(trained[0], trained[1], atol=1e-5, rtol=0)


def test_a_callback_passed_to_fit_can_end_training_early(synthetic_draws):
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAfterOneRollout(BaseCallback):
        def _on_step(self) -> bool:
            return self.num_timesteps < 8 * HORIZON

    agent = PPOAgent(n_envs=8, n_epochs=1, learning_curve={"checkpoints": 2, "customers": 20, "episodes": 1})
    agent.fit(factory(synthetic_draws), 8 * HORIZON * 10, seed=0, callback=StopAfterOneRollout())
    assert agent.model.num_timesteps == 8 * HORIZON
    assert agent.learning_curve_.points[-1].timesteps == 8 * HORIZON  # the curve ends where training ended


def test_the_learning_rate_schedule_is_linear_by_default_for_ppo_and_checked(synthetic_draws):
    from stable_baselines3.common.utils import LinearSchedule

    agent = PPOAgent(n_envs=8, learning_curve=None).fit(factory(synthetic_draws), 8 * HORIZON * 4, seed=0)
    assert isinstance(agent.model.learning_rate, LinearSchedule) and agent.model.learning_rate.start == 5e-3
    assert agent.model.policy.optimizer.param_groups[0]["lr"] < 5e-3 / 2  # it fell over the budget
    assert agent.get_params()["learning_rate_schedule"] == "linear"
    constant = PPOAgent(n_envs=8, learning_rate_schedule="constant", learning_curve=None)
    constant.fit(factory(synthetic_draws), 8 * HORIZON, seed=0)
    assert constant.model.learning_rate == 5e-3
    with pytest.raises(ValueError, match="learning_rate_schedule received 'cosine'"):
        PPOAgent(learning_rate_schedule="cosine")


def test_double_q_values_the_online_networks_choice_with_the_target_network(synthetic_draws):
    import torch
    from stable_baselines3 import DQN

    from journeygym.agents.dqn_variants import DoubleDQN

    agent = DQNAgent(n_envs=8, learning_starts=16, buffer_size=1000, batch_size=16, double_q=True, learning_curve=None)
    agent.fit(factory(synthetic_draws), 8 * HORIZON * 2, seed=0)
    model = agent.model
    assert isinstance(model, DoubleDQN) and DQNAgent(learning_curve=None).algorithm_class() is DQN
    with torch.no_grad():
        for parameter in model.q_net_target.parameters():  # the two networks now disagree
            parameter.add_(torch.randn_like(parameter))
        states = torch.as_tensor(np.random.default_rng(0).random((64, model.observation_space.shape[0])), dtype=torch.float32)
        online, target = model.q_net(states), model.q_net_target(states)
        expected = target.gather(1, online.argmax(dim=1, keepdim=True))
        torch.testing.assert_close(model._next_state_values(states), expected)
        assert not torch.allclose(expected, target.max(dim=1, keepdim=True).values)  # not DQN's maximum
    with pytest.raises(ValueError, match="double_q received 'yes'"):
        DQNAgent(double_q="yes")


def test_training_without_a_log_directory_writes_nothing_to_the_temp_directory(synthetic_draws, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    PPOAgent(n_envs=8, n_epochs=1, learning_curve=None).fit(factory(synthetic_draws), 8 * HORIZON, seed=0)
    DQNAgent(n_envs=8, learning_starts=8, buffer_size=100, batch_size=8, learning_curve=None).fit(
        factory(synthetic_draws), 8 * HORIZON, seed=0
    )
    assert list(tmp_path.iterdir()) == []


def test_the_dueling_network_adds_centred_advantages_to_a_state_value(synthetic_draws):
    import torch

    from journeygym.agents.dqn_variants import DuelingDQNPolicy, DuelingHead

    agent = DQNAgent(n_envs=8, learning_starts=16, buffer_size=1000, batch_size=16, dueling=True, learning_curve=None)
    agent.fit(factory(synthetic_draws), 8 * HORIZON * 2, seed=0)
    policy = agent.model.policy
    assert isinstance(policy, DuelingDQNPolicy)
    for network in (policy.q_net, policy.q_net_target):
        assert isinstance(network.q_net, DuelingHead)
    head = policy.q_net.q_net
    with torch.no_grad():
        features = torch.as_tensor(np.random.default_rng(0).random((16, head.trunk[0].in_features)), dtype=torch.float32)
        hidden = head.trunk(features)
        advantages = head.advantage(hidden)
        expected = head.value(hidden) + advantages - advantages.mean(dim=1, keepdim=True)
        torch.testing.assert_close(head(features), expected)
        torch.testing.assert_close(head(features).mean(dim=1, keepdim=True), head.value(hidden))  # V is the mean Q
    with pytest.raises(ValueError, match="dueling received 1"):
        DQNAgent(dueling=1)
