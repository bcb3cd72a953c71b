"""The fatigue stock on its exact grid: levels, the weekly move, the multiplier and the forgotten tail.

The stock follows ``F' = lambda F + d``; the grid holds ``0`` and ``lambda^(e / r)``
for ``e = J r, ..., 0, -1, ...`` up to where weekly e-mail from rest settles
(``r`` levels per factor ``lambda``).  Expected values are written out here from
those rules, independently of :mod:`journeygym.envs.fatigue`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.envs.fatigue import (
    FORGOTTEN_SHARE,
    MAX_TAIL_WEEKS,
    fatigue_levels,
    fatigue_multiplier,
    nearest_level,
    next_fatigue_level,
    tail_weeks,
    weekly_stock,
)
from journeygym.envs.parameters import DEFAULT_FATIGUE_MEMORY, DEFAULT_FATIGUE_POWER, DEFAULT_KAPPA, ScenarioAssumptions
from journeygym.envs.response import effect_multiplier, next_fatigue

memories = st.floats(0.05, 0.95)
tails = st.integers(0, 40)
resolutions = st.integers(1, 8)
kappas = st.floats(0.0, 1000.0)
# Powers below about 7e-5 overflow tail_weeks (0.95 ** (-1 / p)); see the report, not exercised here.
powers = st.floats(1e-3, 2.0)


def _multiplier(stock, kappa: float, power: float, trial: float):
    """``((1 + kappa F) / (1 + kappa F0))^-p``, written out."""
    return ((1.0 + kappa * np.asarray(stock, dtype=np.float64)) / (1.0 + kappa * trial)) ** -power


def _quiet(level: int, memory: float, tail: int, resolution: int) -> int:
    return int(next_fatigue_level(False, level, memory, tail, resolution))


def _email(level: int, memory: float, tail: int, resolution: int) -> int:
    return int(next_fatigue_level(True, level, memory, tail, resolution))


def test_a_coarse_grid_by_hand():
    """lambda = 0.5, J = 3: stocks 0, 1/8, 1/4, 1/2, 1, 2; quiet weeks go down, e-mails to the nearest of 0.5 F + 1."""
    np.testing.assert_allclose(fatigue_levels(0.5, 3), [0.0, 0.125, 0.25, 0.5, 1.0, 2.0], rtol=1e-15)
    assert weekly_stock(0.5) == 2.0
    levels = np.arange(6)
    np.testing.assert_array_equal(next_fatigue_level(np.zeros(6, dtype=bool), levels, 0.5, 3), [0, 0, 1, 2, 3, 4])
    # 0.5 F + 1 = 1, 1.0625, 1.125, 1.25, 1.5, 2: log2 = 0, 0.09, 0.17, 0.32, 0.58, 1 -> stock 1 or 2.
    np.testing.assert_array_equal(next_fatigue_level(np.ones(6, dtype=bool), levels, 0.5, 3), [4, 4, 4, 4, 5, 5])
    # lambda = 0.8, J = 0: weekly e-mail from rest climbs 1, 1.25, 1.56, 1.95, 2.44, 3.05, 3.81 and holds there
    # (0.8 * 3.81 + 1 = 4.05 is nearer 3.81 than 4.77 in log scale), below 1 / (1 - 0.8) = 5: the grid's top.
    np.testing.assert_allclose(fatigue_levels(0.8, 0), np.r_[0.0, 0.8 ** -np.arange(7.0)], rtol=1e-12)
    # Resolution 2: half-steps, lambda^(e / 2); a quiet week moves two levels down, below level 1 to 0.
    np.testing.assert_allclose(fatigue_levels(0.5, 1, 2), [0.0, 0.5, 2**-0.5, 1.0, 2**0.5, 2.0], rtol=1e-12)
    np.testing.assert_array_equal(next_fatigue_level(np.zeros(6, dtype=bool), levels, 0.5, 1, 2), [0, 0, 0, 1, 2, 3])
    # 0.5 F + 1 = 1, 1.25, 1.35, 1.5, 1.71, 2: 2 log2 = 0, 0.64, 0.87, 1.17, 1.55, 2 -> levels 3, 4, 4, 4, 5, 5.
    np.testing.assert_array_equal(next_fatigue_level(np.ones(6, dtype=bool), levels, 0.5, 1, 2), [3, 4, 4, 4, 5, 5])


@settings(max_examples=200, deadline=None)
@given(memory=memories, tail=tails, resolution=resolutions)
def test_the_grid_is_increasing_holds_one_and_ends_where_weekly_email_settles(memory, tail, resolution):
    """Level 0 is rested, stocks increase as lambda^(1/r) steps, level J r + 1 is 1, and the top is weekly e-mail's fixed point."""
    stocks = fatigue_levels(memory, tail, resolution)
    one = tail * resolution + 1
    assert stocks[0] == 0.0
    assert np.all(np.diff(stocks) > 0)
    assert stocks[one] == 1.0
    np.testing.assert_allclose(stocks[2:] * memory ** (1.0 / resolution), stocks[1:-1], rtol=1e-12)
    np.testing.assert_allclose(stocks[1], memory**tail, rtol=1e-12)
    top, weekly = stocks[-1], 1.0 / (1.0 - memory)
    # The top holds under weekly e-mail: lambda top + 1 rounds back to it (within half a grid step in log scale) ...
    assert _email(stocks.size - 1, memory, tail, resolution) == stocks.size - 1
    assert abs(math.log((memory * top + 1.0) / top)) <= -0.5 * math.log(memory) / resolution + 1e-9
    # ... so it is at least 1 / (lambda^(-1/2r) - lambda), and at most the first grid step at or above 1 / (1 - lambda).
    assert top >= 1.0 / (memory ** (-0.5 / resolution) - memory) * (1 - 1e-9)
    assert top < weekly * memory ** (-1.0 / resolution) * (1 + 1e-9)
    # Every level below the top is left by weekly e-mail (no level of the grid is a dead end).
    assert all(_email(level, memory, tail, resolution) > level for level in range(one, stocks.size - 1))
    assert weekly_stock(memory) == pytest.approx(weekly, rel=1e-15)


@settings(max_examples=200, deadline=None)
@given(memory=memories, tail=tails, resolution=resolutions)
def test_a_quiet_week_is_exactly_one_factor_lambda_down(memory, tail, resolution):
    """Without an e-mail level l goes to l - r (to 0 below level 1), and the stock is exactly lambda times the stock."""
    stocks = fatigue_levels(memory, tail, resolution)
    levels = np.arange(stocks.size)
    after = next_fatigue_level(np.zeros(stocks.size, dtype=bool), levels, memory, tail, resolution)
    np.testing.assert_array_equal(after, np.where(levels - resolution >= 1, levels - resolution, 0))
    kept = levels > resolution
    np.testing.assert_allclose(stocks[after[kept]], memory * stocks[kept], rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(memory=memories, tail=tails, resolution=resolutions)
def test_an_emails_stock_is_within_half_a_grid_step_of_lambda_f_plus_one(memory, tail, resolution):
    """With an e-mail the new stock is lambda F + 1 up to a factor lambda^(1/2r) either way, unless capped at the top."""
    stocks = fatigue_levels(memory, tail, resolution)
    levels = np.arange(stocks.size)
    after = next_fatigue_level(np.ones(stocks.size, dtype=bool), levels, memory, tail, resolution)
    target = memory * stocks + 1.0
    assert np.all(after >= tail * resolution + 1)  # at least the stock 1
    error = np.abs(np.log(stocks[after] / target))
    within = error <= -0.5 * math.log(memory) / resolution + 1e-9
    capped = (after == stocks.size - 1) & (target >= stocks[-1])
    assert np.all(within | capped)
    # And it is the nearest grid stock in log scale (ties aside).
    nearest = np.min(np.abs(np.log(stocks[1:][None, :] / target[:, None])), axis=1)
    np.testing.assert_allclose(error, nearest, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(memory=memories, tail=tails, resolution=resolutions)
def test_weekly_email_climbs_to_the_top_level(memory, tail, resolution):
    """E-mailed every week from rested, the level rises every week until it reaches the top, and stays there."""
    stocks = fatigue_levels(memory, tail, resolution)
    level, path = 0, []
    for _ in range(stocks.size + 2):
        level = _email(level, memory, tail, resolution)
        path.append(level)
    assert path[0] == tail * resolution + 1
    climbing = path[: path.index(stocks.size - 1) + 1]
    assert np.all(np.diff(climbing) > 0)
    assert set(path[len(climbing) :]) <= {stocks.size - 1}


@settings(max_examples=200, deadline=None)
@given(memory=memories, tail=tails, resolution=resolutions)
def test_a_single_email_lands_on_one_and_is_forgotten_after_j_plus_one_quiet_weeks(memory, tail, resolution):
    """From rested one e-mail gives the stock 1, then lambda, ..., lambda^J, and level 0 after exactly J + 1 quiet weeks."""
    stocks = fatigue_levels(memory, tail, resolution)
    level = _email(0, memory, tail, resolution)
    assert stocks[level] == 1.0
    for week in range(1, tail + 1):
        level = _quiet(level, memory, tail, resolution)
        assert level > 0
        np.testing.assert_allclose(stocks[level], memory**week, rtol=1e-12)
    assert _quiet(level, memory, tail, resolution) == 0


@settings(max_examples=200, deadline=None)
@given(
    kappa=st.floats(1e-3, 1000.0),
    power=powers,
    trial=st.one_of(st.just(0.0), st.floats(0.01, 10.0)),
    memory=memories,
    tail=tails,
    resolution=resolutions,
)
def test_the_multiplier_falls_with_the_stock_and_is_one_at_the_trials_fatigue(kappa, power, trial, memory, tail, resolution):
    """m(F) decreases on the grid (strictly from the stock 1 up), m(F0) = 1, m(0) = 1 when F0 = 0; the written-out formula."""
    stocks = fatigue_levels(memory, tail, resolution)
    m = fatigue_multiplier(stocks, kappa, power, trial)
    np.testing.assert_allclose(m, _multiplier(stocks, kappa, power, trial), rtol=1e-12)
    assert np.all(np.diff(m) <= 0)  # the tiniest stocks may round to the same m
    assert np.all(np.diff(m[tail * resolution + 1 :]) < 0) and m[-1] < m[0]
    assert fatigue_multiplier(trial, kappa, power, trial) == pytest.approx(1.0, rel=1e-12)
    assert fatigue_multiplier(0.0, kappa, power, 0.0) == 1.0
    assert (m[0] > 1.0) == (trial > 0.0)


@pytest.mark.parametrize(("kappa", "power"), [(0.0, 0.3), (162.0, 0.0)])
def test_without_kappa_or_power_there_is_no_fatigue(kappa, power):
    """kappa = 0 or p = 0: m = 1 at every stock, and no tail (a single e-mail is forgotten after one quiet week)."""
    stocks = fatigue_levels(0.8, 10)
    np.testing.assert_array_equal(fatigue_multiplier(stocks, kappa, power, 0.3), 1.0)
    assert tail_weeks(0.8, kappa, power) == 0
    scenario = ScenarioAssumptions(kappa=kappa, fatigue_power=power)
    np.testing.assert_array_equal(effect_multiplier(scenario, np.arange(scenario.max_fatigue + 1)), 1.0)


@settings(max_examples=300, deadline=None)
@given(memory=memories, kappa=kappas, power=powers)
def test_the_tail_ends_where_a_single_email_leaves_the_forgotten_share(memory, kappa, power):
    """J is the fewest weeks with m(lambda^J) >= 0.95 of rested: m(lambda^J) >= 0.95 > m(lambda^(J-1)) when J > 0."""
    tail = tail_weeks(memory, kappa, power)
    assert 0 <= tail <= MAX_TAIL_WEEKS
    if tail < MAX_TAIL_WEEKS:
        assert _multiplier(memory**tail, kappa, power, 0.0) >= FORGOTTEN_SHARE - 1e-9
    if tail > 0:
        assert _multiplier(memory ** (tail - 1), kappa, power, 0.0) < FORGOTTEN_SHARE + 1e-9
    else:
        assert _multiplier(1.0, kappa, power, 0.0) >= FORGOTTEN_SHARE - 1e-9


def test_the_default_tail_and_levels():
    """Defaults: J is the first week with m(0.8^J) >= 0.95 (by hand); levels 0, 0.8^J, ..., 1, ..., 0.8^-6 = 3.81."""
    scenario = ScenarioAssumptions()
    memory, kappa, power = DEFAULT_FATIGUE_MEMORY, DEFAULT_KAPPA, DEFAULT_FATIGUE_POWER
    assert (scenario.fatigue_memory, scenario.kappa, scenario.fatigue_power) == (memory, kappa, power)
    tail = next(j for j in range(MAX_TAIL_WEEKS) if _multiplier(memory**j, kappa, power, 0.0) >= FORGOTTEN_SHARE)
    assert 0 < tail < MAX_TAIL_WEEKS
    assert scenario.fatigue_tail_weeks == tail == tail_weeks(memory, kappa, power)
    assert _multiplier(memory**tail, kappa, power, 0.0) >= FORGOTTEN_SHARE > _multiplier(memory ** (tail - 1), kappa, power, 0.0)
    # Weekly e-mail at lambda = 0.8 settles at 0.8^-6 = 3.81 (see test_a_coarse_grid_by_hand): J + 8 levels in all.
    np.testing.assert_allclose(scenario.fatigue_stocks, np.r_[0.0, memory ** np.arange(tail, -7.0, -1.0)], rtol=1e-12)
    assert scenario.max_fatigue == tail + 7
    # Twice the resolution: half-steps, twice the levels above rest (the top is again where weekly e-mail settles).
    finer = scenario.replace(fatigue_resolution=2)
    assert finer.fatigue_stocks[2 * tail + 1] == 1.0 and finer.fatigue_stocks[-1] == pytest.approx(memory ** -6.5)


def test_the_scenario_wires_the_grid_into_the_response_model():
    """next_fatigue and effect_multiplier of the response model follow the scenario's grid and formula, per level."""
    scenario = ScenarioAssumptions(fatigue_memory=0.5, kappa=2.0, fatigue_power=1.0, trial_fatigue=0.25)
    stocks = scenario.fatigue_stocks
    np.testing.assert_allclose(stocks, [0.0, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0, 2.0], rtol=1e-15)
    levels = np.arange(stocks.size)
    np.testing.assert_allclose(effect_multiplier(scenario, levels), (1.0 + 2.0 * stocks) ** -1.0 * 1.5, rtol=1e-12)
    np.testing.assert_array_equal(next_fatigue(np.zeros(9, dtype=bool), levels, scenario), [0, 0, 1, 2, 3, 4, 5, 6, 7])
    # 0.5 F + 1 = 1.25 from the stock 1/2 is nearer 1 than 2 in log scale; 1.5 from the stock 1 is nearer 2.
    np.testing.assert_array_equal(next_fatigue(np.ones(9, dtype=bool), levels, scenario), [7, 7, 7, 7, 7, 7, 7, 8, 8])
    # Customers start at the level nearest the trial's fatigue F0 = 1/4.
    assert nearest_level(stocks, 0.25) == 5 == scenario.initial_fatigue_level
    assert nearest_level(stocks, 0.0) == 0 == ScenarioAssumptions().initial_fatigue_level
    # At resolution 2 the scenario's quiet week moves two levels (one factor 1/2) down.
    finer = scenario.replace(fatigue_resolution=2)
    n = finer.max_fatigue + 1
    assert n == 2 * 6 + 1 + 2 + 1  # 0, 2^-6 .. 1 in half-steps, 2^0.5, 2
    np.testing.assert_array_equal(next_fatigue(np.zeros(n, dtype=bool), np.arange(n), finer), np.r_[0, 0, 0, np.arange(1, n - 2)])
