"""The marginal estimators (mis, mdr) and their state-ratio learners on the tiny exact MDP."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ope_estimator_properties import random_log
from test_ope_estimators import exact_q_table, q_values_from, states
from tiny_mdp import BEHAVIOR, HORIZON, INITIAL, TO_ONE, TablePolicy, simulate, true_value

from journeygym.ope.episodes import LoggedEpisodes, OPEInputError
from journeygym.ope.estimators import estimate, estimate_all
from journeygym.ope.ratios import RATIO_LEARNERS, StateRatios, fit_state_ratios
from journeygym.ope.target import target_probabilities


def state_distributions(table: np.ndarray) -> np.ndarray:
    """``(H, S)`` the probability of each state in each week under the policy ``table`` (H, S, A)."""
    found = np.empty((HORIZON, 2))
    found[0] = INITIAL
    for t in range(HORIZON - 1):
        to_one = found[t] @ np.sum(table[t] * TO_ONE, axis=1)
        found[t + 1] = [1.0 - to_one, to_one]
    return found


def true_ratio_table(table: np.ndarray) -> np.ndarray:
    """``(H, S)`` the exact ``w_t(s) = d_t^pi(s) / d_t^mu(s)`` of the target ``table`` against the behavior."""
    return state_distributions(table) / state_distributions(np.stack([BEHAVIOR] * HORIZON))


def true_ratios(table: np.ndarray, episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H)`` the exact state ratios at every logged week of the tiny MDP."""
    return true_ratio_table(table)[np.arange(HORIZON)[None, :], states(episodes)]


def ratio_error(found: StateRatios, table: np.ndarray, episodes: LoggedEpisodes) -> float:
    """Mean absolute error of learned ratios over the logged rows of weeks 1..H-1 (week 0 is 1 by construction)."""
    return float(np.abs(found.ratios - true_ratios(table, episodes))[:, 1:].mean())


def recency(episodes: LoggedEpisodes) -> np.ndarray:
    """``(N, H, 1)`` the tiny MDP's state as the binned learner's state."""
    return states(episodes)[:, :, None].astype(np.float64)


def shifting_target() -> TablePolicy:
    """E-mails almost always: state 1 becomes more common than under the behavior (ratios 0.4 to 1.5)."""
    return TablePolicy(np.stack([np.array([[0.05, 0.95], [0.05, 0.95]])] * HORIZON), name="shifting")


def learned(episodes: LoggedEpisodes, target: np.ndarray, learner: str, **options) -> StateRatios:
    state = recency(episodes) if learner == "binned" else None
    return fit_state_ratios(episodes, target, learner=learner, state_features=state, **options)


def test_the_true_ratios_weigh_the_behavior_state_distribution_into_the_target_one(tiny_target) -> None:
    ratios = true_ratio_table(tiny_target.table)
    behavior = state_distributions(np.stack([BEHAVIOR] * HORIZON))
    np.testing.assert_allclose(ratios[0], 1.0)
    np.testing.assert_allclose(np.sum(behavior * ratios, axis=1), 1.0, rtol=1e-12)
    assert not np.allclose(ratios, 1.0)


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_with_the_true_ratios_mis_and_mdr_average_to_the_true_value(tiny_target, gamma: float) -> None:
    q_table = exact_q_table(tiny_target.table, gamma)
    wrong_q_table = q_table + np.array([1.0, -2.0]) + 0.5 * np.arange(HORIZON)[:, None, None]
    found: dict[str, list[float]] = {"mis": [], "mdr": [], "mdr_wrong_model": [], "mdr_wrong_ratios": []}
    for seed in range(200):
        episodes = simulate(400, seed=5_000 + seed)
        target = target_probabilities(tiny_target, episodes)
        ratios = true_ratios(tiny_target.table, episodes)
        exact = q_values_from(q_table, episodes)
        run = estimate_all(
            episodes, target, exact, policy_name="t", estimators=["mis", "mdr"], state_ratios=ratios, gamma=gamma,
            n_bootstrap=2,
        )
        found["mis"].append(run["mis"].value)
        found["mdr"].append(run["mdr"].value)
        wrong = q_values_from(wrong_q_table, episodes)
        found["mdr_wrong_model"].append(
            estimate("mdr", episodes, target, wrong, policy_name="t", state_ratios=ratios, gamma=gamma, n_bootstrap=2).value
        )
        # Doubly robust: with the exact Q, ratios that are wrong (and state 1 weighed 3 times state 0) do no harm.
        wrong_ratios = ratios * (1.0 + 2.0 * states(episodes))
        found["mdr_wrong_ratios"].append(
            estimate("mdr", episodes, target, exact, policy_name="t", state_ratios=wrong_ratios, gamma=gamma, n_bootstrap=2).value
        )
    truth = true_value(tiny_target.table, gamma)
    for name, estimates in found.items():
        estimates = np.asarray(estimates)
        standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
        assert abs(estimates.mean() - truth) < 3 * standard_error, (name, estimates.mean(), truth, standard_error)


def test_mis_with_wrong_ratios_is_biased(tiny_target) -> None:
    """The check above can fail: ratios of 1 (the behavior's state distribution) give a mean 10 errors away."""
    estimates = []
    for seed in range(100):
        episodes = simulate(400, seed=7_000 + seed)
        target = target_probabilities(tiny_target, episodes)
        ones = np.ones((400, HORIZON))
        estimates.append(estimate("mis", episodes, target, policy_name="t", state_ratios=ones, n_bootstrap=2).value)
    estimates = np.asarray(estimates)
    standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
    assert abs(estimates.mean() - true_value(tiny_target.table)) > 10 * standard_error


def test_mdr_without_a_model_is_mis_and_mis_by_hand(tiny_target) -> None:
    episodes = simulate(300, seed=11)
    target = target_probabilities(tiny_target, episodes)
    ratios = true_ratios(tiny_target.table, episodes)
    found = estimate_all(
        episodes, target, np.zeros((300, HORIZON, 2)), policy_name="t", estimators=["mis", "mdr"],
        state_ratios=ratios, gamma=0.8, n_bootstrap=2,
    )
    assert found["mdr"].value == pytest.approx(found["mis"].value, rel=1e-12)
    rho = np.take_along_axis(target, episodes.actions[:, :, None], 2)[:, :, 0] / episodes.logged_propensities
    by_hand = np.sum(0.8 ** np.arange(HORIZON) * ratios * rho * episodes.rewards) / 300
    assert found["mis"].value == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("learner", RATIO_LEARNERS)
def test_learned_ratios_converge_to_the_true_ratios(learner: str) -> None:
    policy = shifting_target()
    errors = {}
    for n in (300, 30_000):
        episodes = simulate(n, seed=12)
        found = learned(episodes, target_probabilities(policy, episodes), learner)
        errors[n] = ratio_error(found, policy.table, episodes)
        for week in range(HORIZON):
            assert found.ratios[:, week].mean() == pytest.approx(1.0, rel=1e-12)
    # The true ratios are 0.4 to 1.5: at 30,000 customers within 0.01 on average (measured: 0.002 by regression,
    # 0.004 binned); the small log's error is larger.
    assert errors[30_000] < 0.01, errors
    assert errors[30_000] < errors[300], errors


@pytest.mark.parametrize("learner", RATIO_LEARNERS)
def test_learned_ratios_give_mis_and_mdr_close_to_the_truth(tiny_target, learner: str) -> None:
    episodes = simulate(30_000, seed=13)
    target = target_probabilities(tiny_target, episodes)
    q_values = q_values_from(exact_q_table(tiny_target.table, 1.0) + 0.7, episodes)
    ratios = learned(episodes, target, learner, clip=20.0)
    found = estimate_all(episodes, target, q_values, policy_name="t", estimators=["mis", "mdr"], state_ratios=ratios,
                         n_bootstrap=50)
    truth = true_value(tiny_target.table)
    for result in found.values():
        assert abs(result.value - truth) < 4 * result.standard_error + 0.01, result
        assert result.ratio_learner == learner and result.ratio_clip == 20.0
        assert result.lower_bound_t is not None and result.low <= result.value <= result.high


def test_clipping_caps_the_ratios_and_is_reported() -> None:
    episodes = simulate(2_000, seed=14)
    target = target_probabilities(shifting_target(), episodes)
    free = learned(episodes, target, "binned", clip=np.inf)
    capped = learned(episodes, target, "binned", clip=1.2)
    assert free.clipped_share == 0.0 and free.max_ratio > 1.4
    assert capped.clip == 1.2 and 0.0 < capped.clipped_share < 1.0
    # Clipped at 1.2, then divided by a mean below 1: the cap moves up, not far.
    assert capped.max_ratio < 1.2 / 0.8
    assert capped.ess_share > free.ess_share


def test_padding_and_shorter_episodes(tiny_target) -> None:
    """A customer cut after two weeks adds no row to week 2's ratios; each week's rows average 1."""
    episodes = simulate(3_000, seed=15)
    short = np.arange(3_000) < 1_000
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
    target = target_probabilities(tiny_target, ragged)
    found = learned(ragged, target, "binned")
    assert found.ratios[~short, 2].mean() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_array_equal(found.ratios[short, 2], 1.0)
    full = learned(episodes.subset(~short), target[~short], "binned")
    np.testing.assert_allclose(found.ratios[~short, 2], full.ratios[:, 2], rtol=0.25)


logs = st.builds(
    random_log,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    horizon=st.integers(1, 6),
    n_actions=st.integers(2, 3),
    deterministic_target=st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(log=logs, learner=st.sampled_from(RATIO_LEARNERS), gamma=st.sampled_from([1.0, 0.8]))
def test_the_logging_policy_as_target_has_ratios_one_and_mis_is_the_on_policy_mean(log, learner: str, gamma: float) -> None:
    episodes, _, q_values, _ = log
    behavior = episodes.behavior_probabilities
    state = np.random.default_rng(0).normal(size=(episodes.n_customers, episodes.horizon, 2))
    ratios = fit_state_ratios(episodes, behavior, learner=learner, state_features=state)
    np.testing.assert_array_equal(ratios.ratios, 1.0)
    assert ratios.clipped_share == 0.0
    found = estimate_all(episodes, behavior, q_values, policy_name="mu", state_ratios=ratios, gamma=gamma, n_bootstrap=5)
    on_policy = np.mean(np.sum(episodes.rewards * gamma ** np.arange(episodes.horizon), axis=1))
    assert found["mis"].value == pytest.approx(on_policy, rel=1e-9, abs=1e-12)
    assert found["mis"].value == pytest.approx(found["pdis"].value, rel=1e-9, abs=1e-12)
    assert found["mdr"].value == pytest.approx(found["dr"].value, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(log=logs, learner=st.sampled_from(RATIO_LEARNERS), clip=st.sampled_from([1.5, 10.0, np.inf]))
def test_every_week_s_ratios_are_non_negative_with_mean_one(log, learner: str, clip: float) -> None:
    episodes, target, _, _ = log
    state = np.random.default_rng(1).normal(size=(episodes.n_customers, episodes.horizon, 1))
    try:
        found = fit_state_ratios(episodes, target, learner=learner, clip=clip, state_features=state)
    except OPEInputError as exc:  # a deterministic target that no logged customer follows through a week
        assert "so every ratio of week" in str(exc)
        return
    assert np.all(found.ratios >= 0) and np.all(found.ratios[~episodes.mask] == 1.0)
    for week in range(episodes.horizon):
        rows = episodes.mask[:, week]
        if rows.any():
            assert found.ratios[rows, week].mean() == pytest.approx(1.0, rel=1e-9)


# ------------------------------------------------------------------------------ bad input


@pytest.fixture
def log(tiny_target):
    episodes = simulate(60, seed=16)
    return episodes, target_probabilities(tiny_target, episodes)


def test_a_target_of_another_action_set_is_refused(log) -> None:
    episodes, target = log
    three = np.concatenate([target, np.zeros((60, HORIZON, 1))], axis=2)
    with pytest.raises(OPEInputError, match=r"probabilities over 3 actions, but the log has 2 \(\['no_action', 'email'\]\).*target_probabilities"):
        fit_state_ratios(episodes, three)
    with pytest.raises(OPEInputError, match=r"acts on \['no_action', 'mens_email', 'womens_email'\], but the log's actions are"):
        fit_state_ratios(episodes, target, action_names=("no_action", "mens_email", "womens_email"))


def test_the_binned_learner_s_belief_needs_the_artifact_s_action_set(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=r"ratio learner 'binned': its default state is the calibrated model's belief.*state_features of your own"):
        fit_state_ratios(episodes, target, learner="binned")


def test_a_log_with_a_missing_week_is_refused(log) -> None:
    episodes, target = log
    mask = episodes.mask.copy()
    mask[7, 1] = False
    with pytest.raises(OPEInputError, match=r"customer_id 7 has no row in week 1 but one in week 2 \(its logged weeks: \[0, 2\]\).*Drop the customers"):
        fit_state_ratios(replace(episodes, mask=mask), target)
    mask[:, 1] = False
    with pytest.raises(OPEInputError, match=r"week 1 has no logged row at all, but week 2 has 60"):
        fit_state_ratios(replace(episodes, mask=mask), target)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"learner": "binnd"}, r"ratio_learner: received 'binnd' \(did you mean 'binned'\?\); expected one of \['regression', 'binned'\]"),
        ({"clip": 1.0}, r"ratio_clip: received 1.0, expected a number > 1"),
        ({"clip": float("nan")}, r"ratio_clip: received nan"),
        ({"n_bins": 1}, r"n_bins: received 1, expected an integer >= 2"),
        ({"seed": -1}, r"seed: received -1"),
        ({"state_features": np.zeros((60, HORIZON))}, r"state_features of dtype float64 and shape \(60, 3\), expected"),
    ],
)
def test_options_out_of_range(log, options: dict, message: str) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=message):
        fit_state_ratios(episodes, target, **options)


def test_a_log_without_propensities_or_not_episodes_is_refused(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match="no behavior propensities"):
        fit_state_ratios(replace(episodes, behavior_probabilities=None), target)
    with pytest.raises(OPEInputError, match="expected LoggedEpisodes"):
        fit_state_ratios({"rewards": []}, target)


def test_a_target_no_logged_customer_follows_is_refused(log) -> None:
    episodes, _ = log
    never_logged = 1 - episodes.actions  # the action the log did not take, every week: no customer follows it
    target = np.eye(2)[never_logged]
    with pytest.raises(OPEInputError, match=r"in week 0 none of the 60 customers logged in week 1 took an action the target"):
        fit_state_ratios(episodes, target)


def test_the_marginal_estimators_need_state_ratios_of_the_log_s_shape(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=r"estimators \['mis'\] need state_ratios.*fit_state_ratios"):
        estimate("mis", episodes, target, policy_name="t")
    with pytest.raises(OPEInputError, match=r"estimators \['mdr'\] need q_values"):
        estimate("mdr", episodes, target, policy_name="t", state_ratios=np.ones((60, HORIZON)))
    with pytest.raises(OPEInputError, match=r"state_ratios: received shape \(60, 2\), expected \(60, 3\)"):
        estimate("mis", episodes, target, policy_name="t", state_ratios=np.ones((60, 2)))
    negative = np.ones((60, HORIZON))
    negative[3, 1] = -1.0
    with pytest.raises(OPEInputError, match="state_ratios: received non-finite or negative"):
        estimate("mis", episodes, target, policy_name="t", state_ratios=negative)


def test_estimates_record_the_learner_and_clip_only_for_the_marginal_estimators(log) -> None:
    episodes, target = log
    ratios = learned(episodes, target, "binned", clip=7.0)
    found = estimate_all(episodes, target, policy_name="t", state_ratios=ratios, n_bootstrap=5)
    assert list(found) == ["is", "wis", "pdis", "wpdis", "mis"]
    assert found["mis"].ratio_learner == "binned" and found["mis"].ratio_clip == 7.0
    assert found["pdis"].ratio_learner is None and found["pdis"].ratio_clip is None
    given = estimate("mis", episodes, target, policy_name="t", state_ratios=ratios.ratios, n_bootstrap=5)
    assert given.ratio_learner == "given" and given.ratio_clip is None and given.value == found["mis"].value

