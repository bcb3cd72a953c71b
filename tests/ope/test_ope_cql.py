"""Discrete CQL trained on campaign logs: exact Q-values on a tiny MDP, masking, reproducibility, persistence, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_mdp import ACTION_NAMES, BEHAVIOR, HORIZON, REWARD, TO_ONE, simulate

from journeygym.testing import default_observation_names
from journeygym.agents.cql import DiscreteCQLPolicy, allowed_actions
from journeygym.agents.registry import make, training_mode
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.rollout import rollout
from journeygym.testing import default_observation_columns, default_observation_index
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError

COLUMNS = default_observation_index(ACTION_NAMES)
#: Small, fast settings for the tiny logs (a wide Huber threshold: the mean, not a median, of the TD targets).
QUICK = {
    "gradient_steps": 1500,
    "batch_size": 128,
    "net_arch": (32, 32),
    "learning_rate": 3e-3,
    "target_update_interval": 100,
    "huber_delta": 10.0,
}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Train on one thread, as the experiment runner does (and fast on a shared machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def as_frame(episodes: LoggedEpisodes) -> pd.DataFrame:
    """The episodes as a table in the logged-data schema (with propensity columns naming the actions)."""
    n, horizon, _ = episodes.observations.shape
    frame = pd.DataFrame(
        episodes.observations.reshape(n * horizon, -1), columns=[c.name for c in default_observation_columns(ACTION_NAMES)]
    )
    frame.insert(0, "customer_id", np.repeat(episodes.customer_ids, horizon))
    frame.insert(1, "week", np.tile(np.arange(horizon), n))
    frame["action"] = episodes.actions.reshape(-1)
    frame["reward"] = episodes.rewards.reshape(-1)
    for a, name in enumerate(ACTION_NAMES):
        frame[f"propensity_{name}"] = episodes.behavior_probabilities[:, :, a].reshape(-1)
    return frame


def state_observations(week: int, state: int, subscribed: float = 1.0) -> np.ndarray:
    row = np.zeros((1, len(COLUMNS)), dtype=np.float32)
    row[0, COLUMNS["recency"]] = state
    row[0, COLUMNS["week_fraction"]] = week / HORIZON
    row[0, COLUMNS["subscribed"]] = subscribed
    return row


def exact_q() -> np.ndarray:
    """``(H, S, A)`` optimal undiscounted Q of the tiny MDP."""
    q = np.zeros((HORIZON, 2, 2))
    value = np.zeros(2)
    for t in reversed(range(HORIZON)):
        q[t] = REWARD + (1 - TO_ONE) * value[0] + TO_ONE * value[1]
        value = q[t].max(axis=1)
    return q


@pytest.fixture(scope="module")
def tiny_log() -> pd.DataFrame:
    return as_frame(simulate(3000, seed=11))


@pytest.fixture(scope="module")
def trained(tiny_log) -> DiscreteCQLPolicy:
    return DiscreteCQLPolicy(alpha=0.0, seed=3, **QUICK).fit(tiny_log)


def test_offline_dqn_recovers_the_exact_q_values_of_the_tiny_mdp(trained):
    q = exact_q()
    learned = np.array([[trained.q_values(state_observations(t, s))[0] for s in range(2)] for t in range(HORIZON)])
    np.testing.assert_allclose(learned, q, atol=0.2)
    greedy = np.array([[trained.act(state_observations(t, s))[0] for s in range(2)] for t in range(HORIZON)])
    np.testing.assert_array_equal(greedy, q.argmax(axis=2))


def test_a_large_alpha_keeps_the_greedy_policy_on_the_behavior_s_most_frequent_action(tiny_log):
    policy = DiscreteCQLPolicy(alpha=50.0, seed=3, **QUICK).fit(tiny_log)
    greedy = np.array([[policy.act(state_observations(t, s))[0] for s in range(2)] for t in range(HORIZON)])
    np.testing.assert_array_equal(greedy, np.tile(BEHAVIOR.argmax(axis=1), (HORIZON, 1)))
    assert not np.array_equal(greedy, exact_q().argmax(axis=2))  # where the log is confident, and wrong, CQL follows it


def test_act_and_q_values_have_the_batch_shape_and_unsubscribed_customers_get_action_0(trained):
    observations = np.concatenate([state_observations(t, s, sub) for t in range(HORIZON) for s in (0, 1) for sub in (0.0, 1.0)])
    actions = trained.act(observations)
    q = trained.q_values(observations)
    assert actions.shape == (observations.shape[0],) and actions.dtype == np.int64
    assert q.shape == (observations.shape[0], 2)
    unsubscribed = observations[:, COLUMNS["subscribed"]] == 0
    assert np.all(actions[unsubscribed] == 0) and np.all(np.isneginf(q[unsubscribed, 1]))
    assert np.all(np.isfinite(q[~unsubscribed])) and np.any(actions[~unsubscribed] == 1)


def test_allowed_actions_masks_e_mails_for_unsubscribed_customers():
    allowed = allowed_actions(torch.tensor([True, False]), 3)
    assert allowed.tolist() == [[True, True, True], [True, False, False]]


def unsubscribe_log(n: int, seed: int) -> pd.DataFrame:
    """Two weeks: half the customers unsubscribe after week 0 whatever they got; in week 1 an e-mail earns 10.

    Week 0 is randomized; in week 1 every subscribed customer is e-mailed.  The
    e-mail's value for an unsubscribed customer is never logged, and a network
    extrapolates it from the subscribed ones: only the mask keeps it out of the target.
    """
    rng = np.random.default_rng(seed)
    observations = np.zeros((n, 2, len(COLUMNS)), dtype=np.float32)
    observations[:, 1, COLUMNS["week_fraction"]] = 0.5
    observations[:, 0, COLUMNS["subscribed"]] = 1.0
    observations[:, 1, COLUMNS["subscribed"]] = rng.random(n) < 0.5
    actions = np.stack([rng.random(n) < 0.5, observations[:, 1, COLUMNS["subscribed"]] > 0.5], axis=1).astype(np.int64)
    probabilities = np.full((n, 2, 2), 0.5)
    probabilities[:, 1] = np.eye(2)[actions[:, 1]]
    episodes = LoggedEpisodes(
        observations=observations,
        actions=actions,
        rewards=np.where(np.arange(2) == 1, 10.0 * actions, 0.0),
        behavior_probabilities=probabilities,
        mask=np.ones((n, 2), dtype=bool),
        action_names=ACTION_NAMES,
        observation_names=default_observation_names(ACTION_NAMES),
        customer_ids=np.arange(n),
    )
    return as_frame(episodes)


def test_the_target_never_counts_e_mails_to_customers_who_unsubscribed():
    policy = DiscreteCQLPolicy(alpha=0.0, seed=0, **QUICK).fit(unsubscribe_log(2000, seed=5))
    # Half the customers reach week 1 subscribed and earn 10; the others can earn nothing.
    np.testing.assert_allclose(policy.q_values(state_observations(0, 0))[0], [5.0, 5.0], atol=1.0)


def test_the_same_seed_gives_the_same_network_and_another_seed_another(tiny_log):
    observations = np.concatenate([state_observations(t, s) for t in range(HORIZON) for s in (0, 1)])
    settings = {**QUICK, "gradient_steps": 200}
    first, second, other = (DiscreteCQLPolicy(seed=seed, **settings).fit(tiny_log) for seed in (1, 1, 2))
    np.testing.assert_array_equal(first.q_values(observations), second.q_values(observations))
    assert not np.array_equal(first.q_values(observations), other.q_values(observations))
    from_episodes = DiscreteCQLPolicy(seed=1, **settings).fit(simulate(3000, seed=11))
    np.testing.assert_array_equal(from_episodes.q_values(observations), first.q_values(observations))


def test_the_device_setting_is_checked_recorded_and_auto_trains_where_torch_can(tiny_log):
    import torch

    observations = np.concatenate([state_observations(t, s) for t in range(HORIZON) for s in (0, 1)])
    settings = {**QUICK, "gradient_steps": 200}
    on_cpu = DiscreteCQLPolicy(seed=1, **settings).fit(tiny_log)
    automatic = DiscreteCQLPolicy(seed=1, device="auto", **settings).fit(tiny_log)
    assert on_cpu.get_params()["device"] == "cpu" and automatic.get_params()["device"] == "auto"
    assert next(automatic.q_network.parameters()).device.type == "cpu"  # it acts on the CPU
    if not torch.cuda.is_available():  # auto is the CPU here: the same numbers
        np.testing.assert_array_equal(automatic.q_values(observations), on_cpu.q_values(observations))
    with pytest.raises(ValueError, match="device received 'gpu'"):
        DiscreteCQLPolicy(device="gpu")


def test_fit_learns_in_units_of_the_reward_std_and_reports_in_dollars(tiny_log, trained):
    rewards = tiny_log["reward"].to_numpy()
    assert trained.reward_scale_ == pytest.approx(rewards.std())
    summary = trained.training_summary_
    assert summary["n_transitions"] == len(tiny_log) and summary["fit_seconds"] > 0
    week, state, action = (tiny_log[c].to_numpy().astype(int) for c in ("week", "recency", "action"))
    assert summary["mean_q_logged_dollars"] == pytest.approx(exact_q()[week, state, action].mean(), abs=0.1)


def test_save_and_load_round_trip(trained, tmp_path):
    trained.save(tmp_path / "cql")
    loaded = DiscreteCQLPolicy.load(tmp_path / "cql")
    observations = np.concatenate([state_observations(t, s, sub) for t in range(HORIZON) for s in (0, 1) for sub in (0.0, 1.0)])
    np.testing.assert_array_equal(loaded.q_values(observations), trained.q_values(observations))
    assert loaded.get_params() == trained.get_params()
    assert loaded.action_names_ == ACTION_NAMES and loaded.name == trained.name


def test_registry_builds_it_by_name_as_a_logged_data_policy():
    policy = make("cql", alpha=2.0)
    assert isinstance(policy, DiscreteCQLPolicy) and policy.get_params()["alpha"] == 2.0
    assert training_mode(policy) == "logged_data"


def test_errors_say_what_to_do(tiny_log, trained, tmp_path):
    untrained = DiscreteCQLPolicy()
    with pytest.raises(RuntimeError, match="not trained"):
        untrained.act(state_observations(0, 0))
    with pytest.raises(RuntimeError, match="nothing to save"):
        untrained.save(tmp_path / "x")
    with pytest.raises(OPEInputError, match="missing columns"):
        untrained.fit(tiny_log.drop(columns=["reward"]))
    with pytest.raises(ValueError, match="columns, expected"):
        trained.act(np.zeros((2, len(COLUMNS) + 1), dtype=np.float32))
    with pytest.raises(FileNotFoundError, match="agent.json"):
        DiscreteCQLPolicy.load(tmp_path)
    for bad in ({"alpha": -1.0}, {"gamma": 1.5}, {"batch_size": 0}, {"net_arch": (0,)}, {"tau": 0.0}, {"seed": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            DiscreteCQLPolicy(**bad)


@pytest.mark.slow
def test_cql_trained_on_a_uniform_log_beats_the_logging_policy_in_the_simulator():
    torch.set_num_threads(1)
    log = simulate_logged_data(8000, seed=21, params=[0, 1, 2, 3])
    policy = DiscreteCQLPolicy(gradient_steps=4000, seed=0).fit(log)
    differences = []
    for draw in range(4):
        seed = 500 + draw
        cql = rollout(policy, n_customers=6000, seed=seed, params=draw).returns
        logging = rollout(make_policy("random"), n_customers=6000, seed=seed, params=draw).returns
        differences.append(cql - logging)
    paired = np.concatenate(differences)
    half_width = 1.96 * paired.std(ddof=1) / np.sqrt(paired.size)
    assert paired.mean() - half_width > 0, f"CQL - random = {paired.mean():.3f} +/- {half_width:.3f} dollars per customer"
