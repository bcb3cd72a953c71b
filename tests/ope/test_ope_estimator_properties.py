"""Invariants of the off-policy estimators on random logs (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.testing import default_observation_names
from journeygym.testing import default_observation_columns
from journeygym.ope.episodes import LoggedEpisodes
from journeygym.ope.estimators import ESTIMATORS, estimate_all
from journeygym.ope.formulas import cumulative_ratios

ACTIONS = ("no_action", "mens", "womens")


def random_log(seed: int, n: int, horizon: int, n_actions: int, deterministic_target: bool):
    """A log with random lengths, propensities, rewards, a random target, Q-hat and state ratios."""
    rng = np.random.default_rng(seed)
    names = ACTIONS[:n_actions]
    lengths = rng.integers(1, horizon + 1, size=n)
    mask = np.arange(horizon)[None, :] < lengths[:, None]
    behavior = rng.dirichlet(np.ones(n_actions), size=(n, horizon)) + 0.05
    behavior /= behavior.sum(axis=2, keepdims=True)
    actions = (rng.random((n, horizon, 1)) > behavior.cumsum(axis=2)).sum(axis=2)
    actions = np.where(mask, actions, 0)
    behavior[~mask] = np.eye(n_actions)[0]
    if deterministic_target:
        target = np.eye(n_actions)[rng.integers(0, n_actions, size=(n, horizon))]
    else:
        target = rng.dirichlet(np.ones(n_actions), size=(n, horizon))
    episodes = LoggedEpisodes(
        observations=np.zeros((n, horizon, len(default_observation_columns(names))), dtype=np.float32),
        actions=actions,
        rewards=np.where(mask, rng.normal(size=(n, horizon)) * rng.exponential(size=(n, 1)), 0.0),
        behavior_probabilities=behavior,
        mask=mask,
        action_names=names,
        observation_names=default_observation_names(names),
        customer_ids=np.arange(n),
    )
    q_values = np.where(mask[:, :, None], rng.normal(size=(n, horizon, n_actions)), 0.0)
    ratios = rng.exponential(size=(n, horizon))
    return episodes, target, q_values, ratios


logs = st.builds(
    random_log,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    horizon=st.integers(1, 6),
    n_actions=st.integers(2, 3),
    deterministic_target=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(log=logs, gamma=st.sampled_from([1.0, 0.9, 0.5]))
def test_estimates_do_not_depend_on_customer_order(log, gamma: float) -> None:
    episodes, target, q_values, ratios = log
    order = np.random.default_rng(0).permutation(episodes.n_customers)
    found = estimate_all(episodes, target, q_values, policy_name="p", state_ratios=ratios, gamma=gamma, n_bootstrap=5)
    shuffled = estimate_all(
        episodes.subset(order), target[order], q_values[order], policy_name="p", state_ratios=ratios[order],
        gamma=gamma, n_bootstrap=5,
    )
    for name in ESTIMATORS:
        assert np.isclose(found[name].value, shuffled[name].value, rtol=1e-10, atol=1e-10)
        if found[name].lower_bound_t is not None:
            # MAGIC's t bound takes its blend's deviation from the truncations' covariance (w' S w): near a
            # deviation of 0 the square root keeps about half the digits.
            tolerance = 1e-6 if name == "magic" else 1e-10
            assert np.isclose(found[name].lower_bound_t, shuffled[name].lower_bound_t, rtol=tolerance, atol=tolerance)


@settings(max_examples=60, deadline=None)
@given(log=logs, gamma=st.sampled_from([1.0, 0.7]))
def test_self_normalized_estimators_stay_within_the_logged_rewards(log, gamma: float) -> None:
    episodes, target, _, _ = log
    found = estimate_all(episodes, target, policy_name="p", estimators=["wis", "wpdis"], gamma=gamma, n_bootstrap=5)
    discounted = episodes.rewards * gamma ** np.arange(episodes.horizon)
    cumulative = cumulative_ratios(episodes, target)
    tolerance = 1e-9 * (1 + np.abs(discounted).max())
    # The weighted mean of the returns of the customers with a positive final weight (0 when there is none).
    followed = cumulative[:, -1] > 0
    returns = discounted.sum(axis=1)[followed]
    low, high = (returns.min(), returns.max()) if followed.any() else (0.0, 0.0)
    assert low - tolerance <= found["wis"].value <= high + tolerance
    # Week by week, the same with the rewards of the customers whose weight w_{0:t} is positive.
    positive = cumulative > 0
    low = np.where(positive, discounted, np.inf).min(axis=0)
    high = np.where(positive, discounted, -np.inf).max(axis=0)
    low, high = np.where(positive.any(axis=0), low, 0.0).sum(), np.where(positive.any(axis=0), high, 0.0).sum()
    assert low - tolerance <= found["wpdis"].value <= high + tolerance


@settings(max_examples=40, deadline=None)
@given(log=logs, seed=st.integers(0, 1_000))
def test_bootstrap_interval_contains_the_estimate_and_is_reproducible(log, seed: int) -> None:
    episodes, target, q_values, ratios = log
    found = estimate_all(episodes, target, q_values, policy_name="p", state_ratios=ratios, n_bootstrap=200, seed=seed)
    again = estimate_all(episodes, target, q_values, policy_name="p", state_ratios=ratios, n_bootstrap=200, seed=seed)
    for name, result in found.items():
        assert result == again[name]
        assert result.low <= result.high and result.standard_error >= 0
        scale = 1e-9 * (1 + abs(result.value))
        assert result.low - scale <= result.value <= result.high + scale, result
