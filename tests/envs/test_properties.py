"""Property tests (hypothesis) of the kernel's invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.envs.kernel import (
    CustomerState,
    compile_tables,
    draw_reset_noise,
    draw_step_noise,
    initial_population,
    step_customer,
    step_population,
)
from journeygym.envs.observation import DynamicColumnWriter, ObservationBuffer
from journeygym.envs.parameters import ScenarioAssumptions

from journeygym.testing import default_observation_index, make_synthetic_draws

DRAWS = make_synthetic_draws()

scenarios = st.builds(
    ScenarioAssumptions,
    horizon=st.integers(1, 60),
    # A grid of at most a few hundred levels: kappa up to 50 keeps the tail short.
    fatigue_memory=st.floats(0.3, 0.9),
    kappa=st.floats(0.0, 50.0),
    # Powers below about 7e-5 overflow tail_weeks (0.95 ** (-1 / p)); reported, not exercised here.
    fatigue_power=st.one_of(st.just(0.0), st.floats(1e-3, 1.0)),
    trial_fatigue=st.sampled_from([0.0, 0.07, 1.0]),
    fatigue_resolution=st.integers(1, 3),
    u0=st.floats(-12.0, 2.0),
    u1=st.floats(-1.0, 3.0),
    margin=st.floats(0.0, 1.0),
    action_costs=st.tuples(st.just(0.0), st.floats(0.0, 5.0), st.floats(0.0, 5.0)),
)


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), weeks=st.integers(1, 25))
def test_kernel_invariants(scenario, seed, n, weeks):
    """Fatigue stays on its grid and moves by the grid rule; rewards finite; unsubscribed never e-mailed; obs in space."""
    tables = compile_tables(DRAWS.mean, scenario)
    rng = np.random.default_rng(seed)
    state = initial_population(tables, draw_reset_noise(rng, n))
    buffer = ObservationBuffer(n, DRAWS.mean.population, DRAWS.mean.action_names, max(scenario.horizon, weeks), scenario.fatigue_stocks)
    space, obs = buffer.space, buffer.array
    space_fatigue_column = default_observation_index(DRAWS.mean.action_names)["fatigue"]
    buffer.write_static(state)
    writer = buffer
    stocks, memory = scenario.fatigue_stocks, scenario.fatigue_memory
    for _ in range(weeks):
        was_subscribed = state.subscribed.copy()
        before = state.fatigue.copy()
        actions = rng.integers(0, 3, n)
        outcome = step_population(state, actions, tables, draw_step_noise(rng, n))
        assert ((state.fatigue >= 0) & (state.fatigue <= scenario.max_fatigue)).all()
        # Quiet: r levels (one factor lambda) down, to 0 below level 1.  E-mailed: a stock within a factor
        # lambda^(1/2r) of lambda F + 1.
        quiet, r = ~outcome.delivered, scenario.fatigue_resolution
        np.testing.assert_array_equal(state.fatigue[quiet], np.where(before[quiet] > r, before[quiet] - r, 0))
        target = memory * stocks[before[~quiet]] + 1.0
        assert (np.abs(np.log(stocks[state.fatigue[~quiet]] / target)) <= -0.5 * np.log(memory) / r + 1e-9).all()
        assert np.isfinite(outcome.reward).all()
        # Unsubscribed customers are never e-mailed and never charged.
        assert not outcome.delivered[~was_subscribed].any()
        np.testing.assert_array_equal(outcome.reward[~was_subscribed], scenario.margin * outcome.spend[~was_subscribed])
        assert not (state.subscribed & ~was_subscribed).any()
        for p in (outcome.purchase_prob, outcome.visit_prob):
            assert ((p >= 0) & (p <= 1)).all()
        assert ((state.hidden_state >= 0) & (state.hidden_state < 5)).all()
        writer.write_dynamic(state)
        assert space.contains(obs[0])
        # The fatigue column is the stock over the top level's stock.
        np.testing.assert_allclose(obs[:, space_fatigue_column], stocks[state.fatigue] / stocks[-1], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_hidden_state_never_reaches_the_observation(seed, n):
    """Two populations differing only in the hidden state give the same observation."""
    tables = compile_tables(DRAWS.mean, ScenarioAssumptions())
    state = initial_population(tables, draw_reset_noise(np.random.default_rng(seed), n))
    observations = []
    for hidden in (np.zeros(n, dtype=np.int64), np.full(n, 4, dtype=np.int64)):
        state.hidden_state = hidden
        buffer = ObservationBuffer(n, DRAWS.mean.population, DRAWS.mean.action_names, 52, ScenarioAssumptions().fatigue_stocks)
        buffer.write_static(state)
        observations.append(buffer.write_dynamic(state).copy())
    np.testing.assert_array_equal(*observations)


@settings(max_examples=60, deadline=None)
@given(
    scenario=scenarios,
    seed=st.integers(0, 2**32 - 1),
    weeks=st.integers(1, 40),
    forced_purchases=st.lists(st.booleans(), min_size=40, max_size=40),
)
def test_scalar_step_equals_the_vector_kernel_bit_for_bit(scenario, seed, weeks, forced_purchases):
    """``step_customer`` (the single env's path) must be ``step_population`` at N = 1, exactly."""
    tables = compile_tables(DRAWS.draws[seed % len(DRAWS)], scenario)
    rng = np.random.default_rng(seed)
    vector = initial_population(tables, draw_reset_noise(rng, 1))
    scalar = CustomerState.from_population(vector)
    n_static = len(DRAWS.mean.population.static_columns)
    vector_obs = np.zeros((1, len(default_observation_index(DRAWS.mean.action_names))), dtype=np.float32)
    scalar_obs = vector_obs.copy()
    vector_writer = DynamicColumnWriter(vector_obs, n_static, scenario.horizon, scenario.fatigue_stocks, 3)
    scalar_writer = DynamicColumnWriter(scalar_obs, n_static, scenario.horizon, scenario.fatigue_stocks, 3)
    for week in range(weeks):
        action = int(rng.integers(0, 3))
        noise = draw_step_noise(rng, 1)
        if forced_purchases[week]:
            noise[3] = 0.0  # a purchase whatever the probability, to exercise the spend draw
        expected = step_population(vector, np.array([action]), tables, noise)
        outcome = step_customer(scalar, action, tables, noise.ravel().tolist())
        for name, value in outcome._asdict().items():
            assert value == getattr(expected, name)[0], name
        assert scalar == CustomerState.from_population(vector)
        vector_writer.write(vector)
        scalar_writer.write_customer(scalar)
        np.testing.assert_array_equal(scalar_obs, vector_obs)
