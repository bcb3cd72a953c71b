"""Lower bounds on a policy's value: the formulas, and their coverage on repeated tiny logs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tiny_mdp import HORIZON, simulate, true_value
from scipy import stats

from journeygym.ope.bounds import (
    choose_clip,
    concentration_lower_bound,
    empirical_bernstein_lower_bound,
    student_t_lower_bound,
)
from journeygym.ope.episodes import OPEInputError
from journeygym.ope.estimators import estimate_all
from journeygym.ope.target import target_probabilities

#: The tiny MDP's rewards are R[s, a] >= -0.5 plus N(0, 0.5^2) noise: below -4 only with probability ~1e-12.
TINY_REWARD_LOWER_BOUND = -4.0


def test_student_t_bound_is_the_one_sided_t_interval() -> None:
    terms = np.random.default_rng(0).exponential(size=40)
    expected = terms.mean() - stats.t.ppf(0.9, 39) * terms.std(ddof=1) / np.sqrt(40)
    assert student_t_lower_bound(terms, 0.9) == pytest.approx(expected, rel=1e-12)


def test_empirical_bernstein_bound_by_hand() -> None:
    samples = np.random.default_rng(1).exponential(size=500)
    clip, delta = 2.5, 0.05
    clipped = np.minimum(samples, clip)
    log_term = np.log(2 / delta)
    expected = (
        clipped.mean()
        - np.sqrt(2 * clipped.var(ddof=1) * log_term / 500)
        - 7 * clip * log_term / (3 * 499)
    )
    assert empirical_bernstein_lower_bound(samples, clip, 0.95) == pytest.approx(expected, rel=1e-12)
    # A huge clip pays for its range; a bound below 0 is replaced by the trivial 0.
    assert empirical_bernstein_lower_bound(samples, 1e6, 0.95) == 0.0


def test_clip_is_a_held_out_value_that_beats_the_extremes() -> None:
    held_out = np.random.default_rng(2).pareto(1.5, size=400)
    clip = choose_clip(held_out, 1_600, 0.95)
    assert clip in held_out
    rest = np.random.default_rng(3).pareto(1.5, size=1_600)
    chosen = empirical_bernstein_lower_bound(rest, clip, 0.95)
    assert chosen > empirical_bernstein_lower_bound(rest, held_out.max(), 0.95)
    assert chosen > empirical_bernstein_lower_bound(rest, np.quantile(held_out, 0.01), 0.95)
    assert choose_clip(np.zeros(10), 40, 0.95) is None


def test_concentration_bound_is_seeded_and_needs_enough_customers() -> None:
    terms = np.random.default_rng(4).exponential(size=1_000)
    first = concentration_lower_bound(terms, 0.95, np.random.default_rng(5))
    assert first == concentration_lower_bound(terms, 0.95, np.random.default_rng(5))
    assert 0.0 < first < terms.mean()
    assert concentration_lower_bound(np.zeros(50), 0.95, np.random.default_rng(5)) == 0.0
    with pytest.raises(OPEInputError, match="at least 2 more"):
        concentration_lower_bound(terms[:2], 0.95, np.random.default_rng(5))
    with pytest.raises(OPEInputError, match="must be >= 0"):
        concentration_lower_bound(terms - 1.0, 0.95, np.random.default_rng(5))


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_bounds_cover_the_true_value_on_repeated_logs(tiny_target, gamma: float) -> None:
    truth = true_value(tiny_target.table, gamma)
    concentration, student_t = [], []
    for seed in range(200):
        episodes = simulate(300, seed=5_000 + seed)
        found = estimate_all(
            episodes, target_probabilities(tiny_target, episodes), policy_name="tiny", estimators=["is", "pdis"],
            gamma=gamma, n_bootstrap=2, reward_lower_bound=TINY_REWARD_LOWER_BOUND, seed=seed,
        )
        concentration.append([found[name].lower_bound_concentration for name in ("is", "pdis")])
        student_t.append([found[name].lower_bound_t for name in ("is", "pdis")])
    concentration, student_t = np.array(concentration), np.array(student_t)
    trivial = TINY_REWARD_LOWER_BOUND * sum(gamma**t for t in range(HORIZON))
    assert (concentration <= truth).mean(axis=0).min() >= 0.95
    assert (student_t <= truth).mean(axis=0).min() >= 0.9
    assert (concentration <= student_t).mean(axis=0).min() >= 0.9
    # Not the trivial bound: the per-decision one is informative on every log.
    assert (concentration[:, 1] > trivial).all()


def test_reward_lower_bound_must_hold_on_the_log(tiny_target) -> None:
    episodes = simulate(50, seed=6)
    target = target_probabilities(tiny_target, episodes)
    with pytest.raises(OPEInputError, match="the log has a reward of"):
        estimate_all(episodes, target, policy_name="t", reward_lower_bound=0.0)
    with pytest.raises(OPEInputError, match="expected a finite number"):
        estimate_all(episodes, target, policy_name="t", reward_lower_bound=float("nan"))
    # Positive rewards, but customer 0's last week is padding, which counts as reward 0.
    mask = episodes.mask.copy()
    mask[0, -1] = False
    behavior = episodes.behavior_probabilities.copy()
    behavior[0, -1] = [1.0, 0.0]
    actions = np.where(mask, episodes.actions, 0)
    positive = replace(
        episodes, rewards=np.where(mask, np.abs(episodes.rewards) + 1.0, 0.0), mask=mask, actions=actions,
        behavior_probabilities=behavior,
    )
    found = estimate_all(positive, target, policy_name="t", reward_lower_bound=0.0)
    assert found["is"].lower_bound_concentration is not None and np.isfinite(found["is"].lower_bound_concentration)
    with pytest.raises(OPEInputError, match="padding weeks, which count as reward 0"):
        estimate_all(positive, target, policy_name="t", reward_lower_bound=0.5)


def test_the_clip_is_chosen_the_same_a_few_candidates_at_a_time(monkeypatch) -> None:
    from journeygym.ope import bounds

    terms = np.random.default_rng(12).exponential(size=3_000) ** 2
    whole = bounds.concentration_lower_bound(terms, 0.95, np.random.default_rng(13))
    monkeypatch.setattr(bounds, "_CLIPPED_ELEMENTS", 7 * 600)  # 7 of the 256 candidates at a time
    assert bounds.concentration_lower_bound(terms, 0.95, np.random.default_rng(13)) == whole
