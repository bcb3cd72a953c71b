"""Validation of the parameter dataclasses: every rule names field, value and rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from journeygym.envs.parameters import (
    DEFAULT_FATIGUE_MEMORY,
    DEFAULT_FATIGUE_POWER,
    DEFAULT_KAPPA,
    ParameterError,
    ScenarioAssumptions,
    assumptions_with_overrides,
)


def test_valid_synthetic_parameters_construct(synthetic_draws):
    assert synthetic_draws.mean.n_states == 5
    assert synthetic_draws.mean.n_actions == 3
    assert len(synthetic_draws) == 3


def test_rows_not_summing_to_one_are_rejected(synthetic_draws):
    transition = synthetic_draws.mean.transition.copy()
    transition[2, 0] += 0.1
    with pytest.raises(ParameterError, match=r"transition: row 2 sums to 1\.1.*expected every row to sum to 1"):
        synthetic_draws.mean.replace(transition=transition)


def test_wrong_shape_is_rejected(synthetic_draws):
    with pytest.raises(ParameterError, match=r"purchase_prob: received shape \(4,\), expected shape \(5,\)"):
        synthetic_draws.mean.replace(purchase_prob=np.full(4, 0.1))


@pytest.mark.parametrize("bad", [1.5, -0.2, 0.0])
def test_probabilities_outside_open_unit_interval_are_rejected(synthetic_draws, bad):
    probs = synthetic_draws.mean.visit_prob.copy()
    probs[1] = bad
    with pytest.raises(ParameterError, match=r"visit_prob: received .* at index \(1,\)"):
        synthetic_draws.mean.replace(visit_prob=probs)


def test_nan_is_rejected(synthetic_draws):
    effects = synthetic_draws.mean.purchase_covariate_effects.copy()
    effects[3] = np.nan
    with pytest.raises(ParameterError, match="non-finite value .*nan.* at index \\(3,\\)"):
        synthetic_draws.mean.replace(purchase_covariate_effects=effects)


def test_no_action_must_have_no_effect(synthetic_draws):
    for name in ("purchase_response", "visit_response", "engagement_tilt"):
        effects = getattr(synthetic_draws.mean, name).copy()
        effects[1, 0, 0] = 0.2
        with pytest.raises(ParameterError, match="action 0 .* expected zeros"):
            synthetic_draws.mean.replace(**{name: effects})


def test_carryover_must_be_calibrated_and_at_least_one(synthetic_draws):
    from journeygym.envs.response import compile_response

    with pytest.raises(ParameterError, match="carryover: received 0.5, expected a finite number >= 1"):
        ScenarioAssumptions(carryover=0.5)
    with pytest.raises(ParameterError, match="carryover: received nan"):
        ScenarioAssumptions(carryover=float("nan"))
    with pytest.raises(ParameterError, match=r"received 1.7, but these parameters were calibrated at carryover \[1.0, 1.5, 2.5\].*--carryover 1,1.5,1.7,2.5"):
        compile_response(synthetic_draws.mean, ScenarioAssumptions(carryover=1.7))
    with pytest.raises(ParameterError, match=r"carryover_levels: received \(1.5, 1.0\)"):
        synthetic_draws.mean.replace(carryover_levels=(1.5, 1.0))


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("action_costs", (0.0, -0.05, 0.05), "action_costs"),
        ("action_costs", (0.1, 0.05, 0.05), "the first \\(no action\\) 0"),
        ("margin", 1.5, "margin"),
        ("horizon", 0, "horizon"),
        ("horizon", 52.5, "horizon"),
        ("discount", 0.0, "discount"),
        ("kappa", -0.1, "kappa"),
        ("u0", float("nan"), "u0"),
        ("fatigue_memory", 1.0, "fatigue_memory: .*in \\(0, 1\\)"),
        ("fatigue_memory", 0.0, "fatigue_memory"),
        ("fatigue_memory", True, "fatigue_memory"),
        ("fatigue_power", -0.5, "fatigue_power"),
        ("trial_fatigue", -0.01, "trial_fatigue"),
        ("trial_fatigue", float("inf"), "trial_fatigue"),
        ("fatigue_resolution", 0, "fatigue_resolution: .*integer in \\[1, 8\\]"),
        ("fatigue_resolution", 9, "fatigue_resolution"),
        ("fatigue_resolution", 1.5, "fatigue_resolution"),
    ],
)
def test_invalid_assumptions_are_rejected(field, value, rule):
    """Each invalid assumption names its field, the value received and the rule."""
    with pytest.raises(ParameterError, match=rule) as info:
        ScenarioAssumptions(**{field: value})
    assert repr(value) in str(info.value) or str(value) in str(info.value)


def test_assumption_typo_suggests_the_right_name():
    with pytest.raises(ParameterError, match="unknown assumption 'kapa' \\(did you mean 'kappa'\\?\\)"):
        assumptions_with_overrides(ScenarioAssumptions(), {"kapa": 0.5})


def test_max_fatigue_is_derived_from_the_grid_not_an_assumption():
    """``max_fatigue`` is the highest level of the stock grid (J + 7 at lambda = 0.8); setting it is an error."""
    scenario = ScenarioAssumptions()
    assert (scenario.fatigue_memory, scenario.kappa, scenario.fatigue_power, scenario.trial_fatigue) == (
        DEFAULT_FATIGUE_MEMORY, DEFAULT_KAPPA, DEFAULT_FATIGUE_POWER, 0.0
    )
    assert scenario.fatigue_resolution == 1
    tail = scenario.fatigue_tail_weeks
    # The grid: rested, then 0.8^J, ..., 0.8, 1, 1.25, ..., up to 0.8^-6 = 3.81, where weekly e-mail settles.
    assert scenario.max_fatigue == tail + 7 == scenario.fatigue_stocks.size - 1
    np.testing.assert_allclose(scenario.fatigue_stocks, np.r_[0.0, 0.8 ** np.arange(tail, -7, -1)], rtol=1e-12)
    # No fatigue effect: no tail; a coarse grid (lambda = 0.5): 0, 1/64, ..., 1, 2.
    assert ScenarioAssumptions(kappa=0.0).max_fatigue == 1 + 6
    assert ScenarioAssumptions(fatigue_memory=0.5, kappa=2.0, fatigue_power=1.0).max_fatigue == 8
    assert scenario.replace(fatigue_resolution=2).max_fatigue > scenario.max_fatigue
    with pytest.raises(ParameterError, match="unknown assumption 'max_fatigue'"):
        scenario.replace(max_fatigue=5)
    with pytest.raises(TypeError, match="max_fatigue"):
        ScenarioAssumptions(max_fatigue=5)
    assert "max_fatigue" not in scenario.to_dict()


def test_default_unsubscribes_rise_from_one_to_three_per_mille():
    """0.1% per delivered e-mail when rested, 0.3% at the top stock (where weekly e-mail settles), logistic in F."""
    from journeygym.envs.response import unsubscribe_probability

    scenario = ScenarioAssumptions()
    top = 0.8**-6  # the stock weekly e-mail settles at with lambda = 0.8
    u0 = math.log(0.001 / 0.999)
    u1 = (math.log(0.003 / 0.997) - u0) / top
    assert scenario.fatigue_stocks[-1] == pytest.approx(top, rel=1e-12)
    assert scenario.u0 == pytest.approx(u0, rel=1e-12) and scenario.u1 == pytest.approx(u1, rel=1e-12)
    assert scenario.unsubscribe_base_probability == pytest.approx(0.001, rel=1e-12)
    levels = np.arange(scenario.max_fatigue + 1)
    curve = unsubscribe_probability(scenario, levels)
    # The slope is per unit of stock, not per level.
    by_hand = [1.0 / (1.0 + math.exp(-(u0 + u1 * stock))) for stock in scenario.fatigue_stocks]
    np.testing.assert_allclose(curve, by_hand, rtol=1e-12)
    assert curve[0] == pytest.approx(0.001, rel=1e-12) and curve[-1] == pytest.approx(0.003, rel=1e-12)
    assert np.all(np.diff(curve) > 0)
    # The slope alone moves it: with u1 = 0 every fatigue level unsubscribes at the base rate.
    flat = unsubscribe_probability(scenario.replace(u1=0.0), levels)
    np.testing.assert_allclose(flat, 0.001, rtol=1e-12)


def test_select_resolves_mean_sample_and_index(synthetic_draws):
    rng = np.random.default_rng(0)
    assert synthetic_draws.select("mean", rng) == (-1, synthetic_draws.mean)
    index, params = synthetic_draws.select(2, rng)
    assert index == 2 and params is synthetic_draws.draws[2]
    sampled = {synthetic_draws.select("sample", rng)[0] for _ in range(50)}
    assert sampled == {0, 1, 2}
    with pytest.raises(ParameterError, match="draw index 7, expected an integer in \\[0, 2\\]"):
        synthetic_draws.select(7, rng)
    with pytest.raises(ParameterError, match="received 'average'"):
        synthetic_draws.select("average", rng)
