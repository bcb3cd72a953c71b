"""The off-policy estimators on the tiny exact MDP: unbiased, consistent, padding-proof, reproducible."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tiny_mdp import BEHAVIOR, HORIZON, INITIAL, REWARD, TO_ONE, TablePolicy, simulate, true_value

from journeygym.testing import default_observation_index
from journeygym.ope.episodes import LoggedEpisodes
from journeygym.ope.estimators import ESTIMATORS, IMPORTANCE_ESTIMATORS, estimate, estimate_all
from journeygym.ope.formulas import cumulative_ratios
from journeygym.ope.target import target_probabilities


def exact_q_table(table: np.ndarray, gamma: float) -> np.ndarray:
    """``(H, S, A)`` the target's exact Q_t(s, a) by backward induction."""
    q = np.zeros((HORIZON, 2, 2))
    value = np.zeros(2)
    for t in reversed(range(HORIZON)):
        q[t] = REWARD + gamma * ((1 - TO_ONE) * value[0] + TO_ONE * value[1])
        value = np.sum(table[t] * q[t], axis=1)
    return q


def states(episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H)`` the tiny MDP's state of every logged week."""
    return episodes.observations[:, :, default_observation_index(episodes.action_names)["recency"]].round().astype(int)


def q_values_from(table_q: np.ndarray, episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H, A)`` a (H, S, A) Q table read at every logged observation."""
    return table_q[np.arange(HORIZON)[None, :], states(episodes)]


def values(episodes, policy, q_values=None, gamma=1.0, estimators=None, n_bootstrap=2) -> dict[str, float]:
    target = target_probabilities(policy, episodes)
    found = estimate_all(
        episodes, target, q_values, policy_name=policy.name, estimators=estimators, gamma=gamma, n_bootstrap=n_bootstrap
    )
    return {name: result.value for name, result in found.items()}


def test_target_equal_to_behavior_gives_ratio_one_and_the_on_policy_mean_return() -> None:
    episodes = simulate(500, seed=1)
    behavior = TablePolicy(np.stack([BEHAVIOR] * HORIZON), name="behavior")
    target = target_probabilities(behavior, episodes)
    np.testing.assert_allclose(cumulative_ratios(episodes, target), 1.0)
    mean_return = episodes.rewards.sum(axis=1).mean()
    for value in values(episodes, behavior, estimators=IMPORTANCE_ESTIMATORS).values():
        assert value == pytest.approx(mean_return, rel=1e-12)


def test_direct_method_with_exact_q_is_the_value_of_the_sampled_initial_states(tiny_target) -> None:
    episodes = simulate(2_000, seed=2)
    for gamma in (1.0, 0.8):
        q_table = exact_q_table(tiny_target.table, gamma)
        initial_values = np.sum(tiny_target.table[0] * q_table[0], axis=1)
        share_one = states(episodes)[:, 0].mean()
        expected = (1 - share_one) * initial_values[0] + share_one * initial_values[1]
        found = values(episodes, tiny_target, q_values_from(q_table, episodes), gamma=gamma, estimators=["dm"])["dm"]
        assert found == pytest.approx(expected, rel=1e-12)
        assert INITIAL @ initial_values == pytest.approx(true_value(tiny_target.table, gamma), rel=1e-12)


def test_doubly_robust_without_a_model_is_per_decision_importance_sampling(tiny_target) -> None:
    episodes = simulate(300, seed=3)
    no_model = np.zeros((300, HORIZON, 2))
    found = values(episodes, tiny_target, no_model, gamma=0.9, estimators=["pdis", "dr", "wpdis", "wdr"])
    assert found["dr"] == pytest.approx(found["pdis"], rel=1e-12)
    assert found["wdr"] == pytest.approx(found["wpdis"], rel=1e-12)


def test_doubly_robust_with_the_exact_model_has_a_smaller_standard_error(tiny_target) -> None:
    episodes = simulate(3_000, seed=4)
    q_values = q_values_from(exact_q_table(tiny_target.table, 1.0), episodes)
    target = target_probabilities(tiny_target, episodes)
    found = estimate_all(episodes, target, q_values, policy_name="tiny", n_bootstrap=100)
    assert found["dr"].standard_error < 0.8 * found["pdis"].standard_error
    assert found["pdis"].standard_error < found["is"].standard_error


def test_discounted_per_decision_importance_sampling_by_hand(tiny_target) -> None:
    episodes = simulate(50, seed=5)
    target = target_probabilities(tiny_target, episodes)
    gamma = 0.7
    ratio = np.take_along_axis(target, episodes.actions[:, :, None], 2)[:, :, 0] / episodes.logged_propensities
    by_hand = sum(
        gamma**t * np.prod(ratio[i, : t + 1]) * episodes.rewards[i, t] for i in range(50) for t in range(HORIZON)
    ) / 50
    assert values(episodes, tiny_target, gamma=gamma, estimators=["pdis"])["pdis"] == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_unbiased_estimators_average_to_the_true_value(tiny_target, gamma: float) -> None:
    q_table = exact_q_table(tiny_target.table, gamma)
    wrong_q_table = q_table + np.array([1.0, -2.0]) + 0.5 * np.arange(HORIZON)[:, None, None]
    found: dict[str, list[float]] = {"is": [], "pdis": [], "dr": [], "dr_wrong_model": []}
    for seed in range(200):
        episodes = simulate(400, seed=1_000 + seed)
        exact = q_values_from(q_table, episodes)
        run = values(episodes, tiny_target, exact, gamma=gamma, estimators=["is", "pdis", "dr"])
        for name in ("is", "pdis", "dr"):
            found[name].append(run[name])
        found["dr_wrong_model"].append(
            values(episodes, tiny_target, q_values_from(wrong_q_table, episodes), gamma=gamma, estimators=["dr"])["dr"]
        )
    truth = true_value(tiny_target.table, gamma)
    for name, estimates in found.items():
        estimates = np.asarray(estimates)
        standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
        assert abs(estimates.mean() - truth) < 3 * standard_error, (name, estimates.mean(), truth, standard_error)


def test_weighted_estimators_converge_to_the_true_value(tiny_target) -> None:
    episodes = simulate(200_000, seed=6)
    q_values = q_values_from(exact_q_table(tiny_target.table, 1.0) + 0.7, episodes)
    target = target_probabilities(tiny_target, episodes)
    found = estimate_all(
        episodes, target, q_values, policy_name="tiny", estimators=["wis", "wpdis", "wdr"], n_bootstrap=50
    )
    truth = true_value(tiny_target.table)
    for result in found.values():
        assert abs(result.value - truth) < max(4 * result.standard_error, 0.005), result
        assert result.standard_error < 0.02


def _padded(episodes: LoggedEpisodes, target: np.ndarray, q_values: np.ndarray, ratios: np.ndarray, extra: int):
    """The episodes with ``extra`` padding weeks whose target, Q-hat and state ratios are deliberately not neutral."""
    n = episodes.n_customers

    def pad(array: np.ndarray, fill: float) -> np.ndarray:
        return np.concatenate([array, np.full((n, extra, *array.shape[2:]), fill, dtype=array.dtype)], axis=1)

    behavior = pad(episodes.behavior_probabilities, 0.0)
    behavior[:, HORIZON:, 0] = 1.0
    padded = replace(
        episodes,
        observations=pad(episodes.observations, 0.0),
        actions=pad(episodes.actions, 0),
        rewards=pad(episodes.rewards, 0.0),
        behavior_probabilities=behavior,
        mask=pad(episodes.mask, False),
    )
    padded_target = pad(target, 0.5)
    padded_target[:, HORIZON:] = [0.25, 0.75]
    return padded, padded_target, pad(q_values, 3.0), pad(ratios, 5.0)


def test_padding_weeks_contribute_nothing(tiny_target) -> None:
    episodes = simulate(200, seed=7)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, 0.9) - 0.3, episodes)
    ratios = 0.5 + states(episodes)
    *padded, padded_ratios = _padded(episodes, target, q_values, ratios, extra=2)
    options = dict(policy_name="tiny", gamma=0.9, reward_lower_bound=-4.0)
    plain = estimate_all(episodes, target, q_values, state_ratios=ratios, **options)
    with_padding = estimate_all(*padded, state_ratios=padded_ratios, **options)
    for name in ESTIMATORS:
        a, b = plain[name], with_padding[name]
        for field in ("value", "low", "high", "standard_error", "lower_bound_t"):
            if getattr(a, field) is None:
                assert getattr(b, field) is None
            else:
                assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-12, abs=1e-12), (name, field)
    # The concentration bound shifts the padding's zero rewards too, so it is a bound for the longer horizon.
    assert with_padding["pdis"].lower_bound_concentration <= plain["pdis"].lower_bound_concentration


def test_episodes_of_different_lengths_average_their_own_terms(tiny_target) -> None:
    episodes = simulate(300, seed=8)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, 1.0) * 0.5, episodes)
    ratios = 0.5 + states(episodes)
    short = np.arange(300) < 120
    # Cut the first 120 customers after two weeks: their third week becomes padding.
    mask = episodes.mask.copy()
    mask[short, 2] = False
    behavior = episodes.behavior_probabilities.copy()
    behavior[short, 2] = [1.0, 0.0]
    ragged = replace(
        episodes,
        actions=np.where(mask, episodes.actions, 0),
        rewards=np.where(mask, episodes.rewards, 0.0),
        behavior_probabilities=behavior,
        mask=mask,
    )
    two_weeks = replace(
        ragged.subset(short),
        observations=episodes.observations[short, :2],
        actions=episodes.actions[short, :2],
        rewards=episodes.rewards[short, :2],
        behavior_probabilities=episodes.behavior_probabilities[short, :2],
        mask=episodes.mask[short, :2],
    )
    names = ["dm", "is", "pdis", "dr", "mis", "mdr"]
    options = dict(policy_name="t", estimators=names, n_bootstrap=2)
    found = estimate_all(ragged, target, q_values, state_ratios=ratios, **options)
    shorter = estimate_all(two_weeks, target[short, :2], q_values[short, :2], state_ratios=ratios[short, :2], **options)
    full = estimate_all(episodes.subset(~short), target[~short], q_values[~short], state_ratios=ratios[~short], **options)
    for name in names:
        expected = (120 * shorter[name].value + 180 * full[name].value) / 300
        assert found[name].value == pytest.approx(expected, rel=1e-12), name
    alone = estimate_all(
        ragged.subset(short), target[short], q_values[short], state_ratios=ratios[short], policy_name="t", n_bootstrap=20
    )
    shorter = estimate_all(
        two_weeks, target[short, :2], q_values[short, :2], state_ratios=ratios[short, :2], policy_name="t", n_bootstrap=20
    )
    for name in ESTIMATORS:
        assert alone[name].value == pytest.approx(shorter[name].value, rel=1e-12), name
        assert alone[name].high == pytest.approx(shorter[name].high, rel=1e-12), name


def test_estimates_by_blocks_of_customers_equal_the_whole_log_s(tiny_target, monkeypatch) -> None:
    from journeygym.ope import bootstrap
    from journeygym.ope.formulas import estimator_terms, reweighted_log

    episodes = simulate(403, seed=11)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, 0.9) - 0.2, episodes)
    options = dict(policy_name="tiny", gamma=0.9, n_bootstrap=40, reward_lower_bound=-4.0, state_ratios=0.5 + states(episodes))
    whole = estimate_all(episodes, target, q_values, **options)
    assert len(bootstrap.customer_blocks(403, 40)) == 1
    # MAGIC on one block is its formula on the whole log.
    log = reweighted_log(episodes, target, q_values, 0.9)
    assert whole["magic"].value == pytest.approx(estimator_terms("magic", log).value(), rel=1e-12)
    monkeypatch.setattr(bootstrap, "BLOCK_ELEMENTS", 40 * 50)  # 9 blocks, the last of 3 customers
    assert len(bootstrap.customer_blocks(403, 40)) == 9
    blocked = estimate_all(episodes, target, q_values, **options)
    for name in ESTIMATORS:
        a, b = whole[name], blocked[name]
        for field in ("value", "low", "high", "standard_error", "lower_bound_t", "lower_bound_concentration"):
            if getattr(a, field) is None:
                assert getattr(b, field) is None, (name, field)
            else:
                assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-10, abs=1e-12), (name, field)


def test_same_seed_same_numbers_and_estimate_matches_estimate_all(tiny_target) -> None:
    episodes = simulate(400, seed=9)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, 1.0), episodes)
    options = dict(policy_name="tiny", n_bootstrap=50, reward_lower_bound=-4.0, seed=3, state_ratios=0.5 + states(episodes))
    first = estimate_all(episodes, target, q_values, **options)
    again = estimate_all(episodes, target, q_values, **options)
    assert [r.as_dict() for r in first.values()] == [r.as_dict() for r in again.values()]
    for name in ESTIMATORS:
        assert estimate(name, episodes, target, q_values, **options) == first[name]
    other = estimate_all(episodes, target, q_values, **{**options, "seed": 4})
    assert other["pdis"].value == first["pdis"].value
    assert other["pdis"].low != first["pdis"].low


def test_estimate_fields(tiny_target) -> None:
    episodes = replace(simulate(100, seed=10), propensities_estimated=True)
    target = target_probabilities(tiny_target, episodes)
    found = estimate_all(episodes, target, policy_name="tiny", confidence=0.9, reward_lower_bound=-4.0, n_bootstrap=30)
    assert list(found) == list(IMPORTANCE_ESTIMATORS)
    record = found["is"].as_dict()
    assert record["policy"] == "tiny" and record["estimator"] == "is" and record["n_customers"] == 100
    assert record["confidence"] == 0.9 and record["propensities_estimated"] is True
    assert record["low"] <= record["value"] <= record["high"]
    assert found["wis"].lower_bound_t is None and found["wpdis"].lower_bound_concentration is None
    assert found["is"].lower_bound_concentration is not None and found["pdis"].lower_bound_t is not None
