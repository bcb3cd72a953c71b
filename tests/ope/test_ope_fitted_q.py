"""Backward fitted-Q on the tiny MDP: exact with tabular regression, unbiased for FQE, optimal for FQI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from tiny_mdp import BEHAVIOR, HORIZON, REWARD, TO_ONE, TablePolicy, simulate, true_value
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

from journeygym.testing import default_observation_index
from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.fitted_q import FittedQ, fit_q_evaluation, fit_q_iteration
from journeygym.ope.target import target_probabilities

COLUMNS = default_observation_index(("no_action", "email"))
#: Exact tabular regression: a tree without depth limit ends in leaves of identical (state, action) features.
TABULAR = DecisionTreeRegressor()
DETERMINISTIC = np.array([[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])


def states(episodes: LoggedEpisodes) -> np.ndarray:
    return episodes.observations[:, :, COLUMNS["recency"]].round().astype(int)


def empirical_q(
    episodes: LoggedEpisodes, state_value: Callable[[np.ndarray, int], np.ndarray], gamma: float
) -> np.ndarray:
    """``(H, S, A)`` Q of the empirical MDP: per (week, state, action), the sample mean of the backup.

    ``state_value(q, week)`` maps the ``(S, A)`` Q of a week to its ``(S,)`` values; the value
    past a customer's last logged week is 0.
    """
    s = states(episodes)
    q = np.zeros((HORIZON, 2, 2))
    value_next = np.zeros(2)
    for week in reversed(range(HORIZON)):
        continues = episodes.mask[:, week + 1] if week + 1 < HORIZON else np.zeros(episodes.n_customers, dtype=bool)
        following = np.where(continues, value_next[s[:, min(week + 1, HORIZON - 1)]], 0.0)
        backup = episodes.rewards[:, week] + gamma * following
        logged = episodes.mask[:, week]
        for state in range(2):
            for action in range(2):
                rows = logged & (s[:, week] == state) & (episodes.actions[:, week] == action)
                q[week, state, action] = backup[rows].mean()
        value_next = state_value(q[week], week)
    return q


def q_at_log(q: np.ndarray, episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H, A)`` the table ``q`` read at every logged observation, 0 in padding."""
    return np.where(episodes.mask[:, :, None], q[np.arange(HORIZON)[None, :], states(episodes)], 0.0)


def truncated(episodes: LoggedEpisodes, seed: int) -> LoggedEpisodes:
    """The episodes with a random third cut short after week 0 or 1 (padding as episodes_from_frame writes it)."""
    rng = np.random.default_rng(seed)
    n = episodes.n_customers
    lengths = np.where(rng.random(n) < 1 / 3, rng.integers(1, HORIZON, n), HORIZON)
    mask = np.arange(HORIZON)[None, :] < lengths[:, None]
    fill = np.minimum(np.arange(HORIZON)[None, :], lengths[:, None] - 1)
    return replace(
        episodes,
        observations=np.take_along_axis(episodes.observations, fill[:, :, None], axis=1),
        actions=np.where(mask, episodes.actions, 0),
        rewards=np.where(mask, episodes.rewards, 0.0),
        mask=mask,
    )


@pytest.mark.parametrize("cut", [False, True])
def test_fqe_with_tabular_regression_is_the_empirical_mdp(tiny_target: TablePolicy, cut: bool) -> None:
    episodes = simulate(3000, seed=1)
    episodes = truncated(episodes, seed=2) if cut else episodes
    target = target_probabilities(tiny_target, episodes)
    fitted = fit_q_evaluation(episodes, target, model=TABULAR)
    expected = empirical_q(episodes, lambda q, week: np.sum(tiny_target.table[week] * q, axis=1), gamma=1.0)
    np.testing.assert_allclose(fitted.q_values, q_at_log(expected, episodes), atol=1e-9)
    np.testing.assert_allclose(fitted.state_values, np.sum(target * fitted.q_values, axis=2), atol=1e-12)
    assert np.all(fitted.q_values[~episodes.mask] == 0.0) and np.all(fitted.state_values[~episodes.mask] == 0.0)


def test_fqe_of_a_deterministic_target_with_discount_is_the_empirical_mdp() -> None:
    episodes = simulate(3000, seed=3)
    policy = TablePolicy(DETERMINISTIC, name="deterministic")
    fitted = fit_q_evaluation(episodes, target_probabilities(policy, episodes), gamma=0.9, model=TABULAR)
    expected = empirical_q(episodes, lambda q, week: np.sum(DETERMINISTIC[week] * q, axis=1), gamma=0.9)
    np.testing.assert_allclose(fitted.q_values, q_at_log(expected, episodes), atol=1e-9)


@pytest.mark.parametrize(("table_name", "gamma"), [("stochastic", 1.0), ("deterministic", 0.9)])
def test_fqe_direct_method_is_unbiased_with_tabular_regression(
    tiny_target: TablePolicy, table_name: str, gamma: float
) -> None:
    table = tiny_target.table if table_name == "stochastic" else DETERMINISTIC
    policy = TablePolicy(table)
    estimates = []
    for seed in range(20):
        episodes = simulate(10_000, seed=100 + seed)
        fitted = fit_q_evaluation(episodes, target_probabilities(policy, episodes), gamma=gamma, model=TABULAR)
        estimates.append(fitted.state_values[:, 0].mean())
    standard_error = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates) - true_value(table, gamma)) < 3 * standard_error


def optimal_actions(gamma: float = 1.0) -> np.ndarray:
    """``(H, S)`` the optimal action of every week and state, by exact dynamic programming."""
    value = np.zeros(2)
    best = np.empty((HORIZON, 2), dtype=int)
    for week in reversed(range(HORIZON)):
        q = REWARD + gamma * ((1 - TO_ONE) * value[0] + TO_ONE * value[1])
        best[week] = q.argmax(axis=1)
        value = q.max(axis=1)
    return best


def greedy_table(fitted: FittedQ) -> np.ndarray:
    """``(H, S)`` argmax of the fitted Q at an observation of each week and state."""
    best = np.empty((HORIZON, 2), dtype=int)
    for week in range(HORIZON):
        observations = np.zeros((2, len(COLUMNS)), dtype=np.float32)
        observations[:, COLUMNS["subscribed"]] = 1.0
        observations[:, COLUMNS["week_fraction"]] = week / HORIZON
        observations[:, COLUMNS["recency"]] = [0.0, 1.0]
        best[week] = fitted.predict(week, observations).argmax(axis=1)
    return best


def test_fqi_with_tabular_regression_is_the_empirical_mdp_and_finds_the_optimum() -> None:
    episodes = simulate(5000, seed=4)
    fitted = fit_q_iteration(episodes, model=TABULAR)
    expected = empirical_q(episodes, lambda q, week: q.max(axis=1), gamma=1.0)
    np.testing.assert_allclose(fitted.q_values, q_at_log(expected, episodes), atol=1e-9)
    np.testing.assert_allclose(fitted.state_values, fitted.q_values.max(axis=2))
    np.testing.assert_array_equal(greedy_table(fitted), optimal_actions())


@pytest.mark.parametrize("gamma", [1.0, 0.3])  # the optimum differs: e-mail state 0 early only when gamma is high
def test_fqi_with_the_default_regressor_finds_the_optimum(gamma: float) -> None:
    fitted = fit_q_iteration(simulate(5000, seed=5), gamma=gamma)
    np.testing.assert_array_equal(greedy_table(fitted), optimal_actions(gamma))


def test_unsubscribed_customers_are_valued_at_action_zero() -> None:
    """Once unsubscribed only action 0 is delivered: FQI's maximum is over it alone, whatever the regressor says."""
    episodes = simulate(4000, seed=6)
    gone = (np.arange(episodes.n_customers) % 4 == 0)[:, None] & (np.arange(HORIZON) >= 1)[None, :]
    observations = episodes.observations.copy()
    observations[:, :, COLUMNS["subscribed"]] = np.where(gone, 0.0, 1.0)
    episodes = replace(episodes, observations=observations, actions=np.where(gone, 0, episodes.actions))
    # A linear model adds the e-mail's effect learned on subscribed customers to everyone, unsubscribed ones included.
    fitted = fit_q_iteration(episodes, model=Ridge(alpha=1e-6), features="one_hot")
    assert not np.allclose(fitted.q_values[~gone, 1], fitted.q_values[~gone, 0])
    q = fitted.q_values[gone]
    np.testing.assert_array_equal(q[:, 1], q[:, 0])
    np.testing.assert_array_equal(fitted.state_values[gone], q[:, 0])
    np.testing.assert_array_equal(fitted.predict(1, observations[gone[:, 1], 1]).argmax(axis=1), 0)


def test_predict_matches_the_logged_q_values_and_the_fit_is_reproducible() -> None:
    episodes = simulate(2000, seed=7)
    first = fit_q_iteration(episodes, gamma=0.8, seed=3)
    second = fit_q_iteration(episodes, gamma=0.8, seed=3, n_threads=None)
    np.testing.assert_array_equal(first.q_values, second.q_values)
    for week in range(HORIZON):
        np.testing.assert_array_equal(first.predict(week, episodes.observations[:, week]), first.q_values[:, week])
    assert first.horizon == HORIZON and first.n_actions == 2 and first.method == "iteration"


def test_a_week_with_more_rows_than_the_cap_is_fitted_on_a_seeded_subset(tiny_target: TablePolicy) -> None:
    episodes = simulate(3000, seed=10)
    target = target_probabilities(tiny_target, episodes)
    everything = fit_q_evaluation(episodes, target, gamma=0.9, seed=2, max_fit_rows=None)
    # A cap at or above the week's rows is no cap: the same numbers bit for bit.
    np.testing.assert_array_equal(fit_q_evaluation(episodes, target, gamma=0.9, seed=2, max_fit_rows=3000).q_values, everything.q_values)
    capped = fit_q_evaluation(episodes, target, gamma=0.9, seed=2, max_fit_rows=1000)
    again = fit_q_evaluation(episodes, target, gamma=0.9, seed=2, max_fit_rows=1000)
    np.testing.assert_array_equal(capped.q_values, again.q_values)
    assert not np.array_equal(capped.q_values, everything.q_values)
    # Fitted on a third of the rows, predicted on all of them: within the sampling error of 1,000 customers of the truth.
    truth = true_value(tiny_target.table, 0.9)
    spread = episodes.rewards.sum(axis=1).std()
    assert abs(everything.state_values[:, 0].mean() - truth) < 3 * spread / np.sqrt(3000)
    assert abs(capped.state_values[:, 0].mean() - truth) < 3 * spread / np.sqrt(1000)
    assert capped.q_values.shape == everything.q_values.shape
    with pytest.raises(ValueError, match="max_fit_rows=0"):
        fit_q_evaluation(episodes, target, max_fit_rows=0)
    with pytest.raises(ValueError, match="max_fit_rows=2.5"):
        fit_q_iteration(episodes, max_fit_rows=2.5)


def test_the_default_model_s_q_values_are_scikit_learn_s_predictions_bit_for_bit(tiny_target: TablePolicy) -> None:
    from journeygym.ope.fitted_q import encode

    episodes = simulate(1500, seed=12)
    fitted = fit_q_evaluation(episodes, target_probabilities(tiny_target, episodes), gamma=0.9, seed=1)
    subscribed = episodes.observations[:, 0, COLUMNS["subscribed"]] > 0.5
    observations = episodes.observations[subscribed, 0]
    for action in range(2):
        features = encode(observations, np.full(observations.shape[0], action), 2, fitted.encoding)
        np.testing.assert_array_equal(fitted.q_values[subscribed, 0, action], fitted.regressors[0].predict(features))


def test_a_regressor_of_ones_own_is_cloned_per_week_with_its_encoding() -> None:
    episodes = simulate(2000, seed=8)
    ridge = Ridge(alpha=0.1)
    fitted = fit_q_iteration(episodes, model=ridge, features="interactions")
    assert not hasattr(ridge, "coef_")
    assert len({id(r) for r in fitted.regressors}) == HORIZON
    # The interaction encoding holds (1, observation) once per action.
    assert fitted.regressors[0].coef_.shape == (2 * (len(COLUMNS) + 1),)
    assert fitted.encoding == "interactions"


def test_bad_input_is_refused_with_what_to_do(tiny_target: TablePolicy) -> None:
    episodes = simulate(200, seed=9)
    target = target_probabilities(tiny_target, episodes)
    with pytest.raises(OPEInputError, match="expected LoggedEpisodes"):
        fit_q_iteration(episodes.rewards)
    with pytest.raises(OPEInputError, match=r"shape \(200, 2, 2\), expected \(200, 3, 2\)"):
        fit_q_evaluation(episodes, target[:, :2])
    with pytest.raises(OPEInputError, match="do not sum to 1"):
        fit_q_evaluation(episodes, target * 2)
    with pytest.raises(ValueError, match="unknown model 'forest'"):
        fit_q_iteration(episodes, model="forest")
    with pytest.raises(ValueError, match="scikit-learn regressor"):
        fit_q_iteration(episodes, model=42)
    with pytest.raises(ValueError, match="features='tabular'"):
        fit_q_iteration(episodes, features="tabular")
    with pytest.raises(ValueError, match="gamma=1.5"):
        fit_q_evaluation(episodes, target, gamma=1.5)
    with pytest.raises(ValueError, match="seed=-1"):
        fit_q_iteration(episodes, seed=-1)
    with pytest.raises(ValueError, match="n_threads=0"):
        fit_q_iteration(episodes, n_threads=0)
    fitted = fit_q_iteration(episodes, model=TABULAR)
    with pytest.raises(ValueError, match=r"week 3, expected an integer in \[0, 2\]"):
        fitted.predict(3, episodes.observations[:, 0])
    with pytest.raises(ValueError, match=r"shape \(200, 5\)"):
        fitted.predict(0, episodes.observations[:, 0, :5])


def test_behavior_table_is_a_valid_target(tiny_target: TablePolicy) -> None:
    """FQE of the behavior itself (on-policy) matches the mean logged return within 3 standard errors."""
    episodes = simulate(20_000, seed=10)
    behavior = TablePolicy(np.broadcast_to(BEHAVIOR, (HORIZON, 2, 2)).copy())
    fitted = fit_q_evaluation(episodes, target_probabilities(behavior, episodes), model=TABULAR)
    returns = episodes.rewards.sum(axis=1)
    assert abs(fitted.state_values[:, 0].mean() - returns.mean()) < 3 * returns.std() / np.sqrt(returns.size)


def test_a_regressor_per_action_is_the_empirical_mdp_with_tabular_regression(tiny_target: TablePolicy) -> None:
    from journeygym.ope.fitted_q import PerActionRegressor

    episodes = simulate(3000, seed=41)
    target = target_probabilities(tiny_target, episodes)
    fitted = fit_q_evaluation(episodes, target, model=PerActionRegressor(DecisionTreeRegressor()))
    expected = empirical_q(episodes, lambda q, week: np.sum(tiny_target.table[week] * q, axis=1), gamma=1.0)
    np.testing.assert_allclose(fitted.q_values, q_at_log(expected, episodes), atol=1e-9)
    assert all(len(regressor.models_) == 2 for regressor in fitted.regressors)
    built_in = fit_q_evaluation(episodes, target, model="hgb_per_action")
    assert np.isfinite(built_in.q_values).all()
    with pytest.raises(ValueError, match="PerActionRegressor reads the 'one_hot' encoding"):
        fit_q_evaluation(episodes, target, model=PerActionRegressor(DecisionTreeRegressor()), features="interactions")
