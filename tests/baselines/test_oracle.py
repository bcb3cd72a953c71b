"""The oracle: its values equal an independent exhaustive solution and exact expectations, and simulation."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from journeygym.baselines.oracle import solve_oracle
from journeygym.baselines.oracle_loop import action_bits, packed_width, unpack_actions
from journeygym.baselines.oracle_policy import OraclePolicy
from journeygym.baselines.rollout import rollout
from journeygym.baselines.simple import ConstantPolicy, RandomPolicy
from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.envs.expectations import expected_schedule_outcome
from journeygym.envs.kernel import PopulationState, compile_tables, draw_reset_noise, initial_population
from journeygym.envs.parameters import DynamicsParameters, ScenarioAssumptions

#: A short horizon with costly e-mails, a coarse fatigue grid (memory 0.5: nine levels, stocks
#: 0, 1/64, ..., 1, 2, or sixteen in half-steps) with a strong multiplier and frequent unsubscribes:
#: the best action depends on the week, the state and the fatigue, so a wrong maximization shows.
TINY_HORIZON = 5


def _tiny_scenario(draws) -> ScenarioAssumptions:
    return draws.assumptions.replace(
        horizon=TINY_HORIZON, fatigue_memory=0.5, kappa=2.0, fatigue_power=1.0,
        u0=math.log(0.05 / 0.95), u1=1.0, action_costs=(0.0, 2.0, 1.5),
    )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _exhaustive_values(
    params: DynamicsParameters, scenario: ScenarioAssumptions, segment: int, covariate_logit: float, fixed_action: int | None = None
) -> np.ndarray:
    """Optimal expected return from week 0 per starting state, by expectimax over the whole decision tree.

    With ``fixed_action`` every subscribed week takes that action (the expected return of the constant policy).

    Written from docs/architecture.md, "The week of a customer" in scalar Python, independently of the response tables the oracle
    reads; the tree is memoized on its Markov state (week, z, fatigue level, subscribed).
    """
    tilt, _, purchase_effect = params.response_at(scenario.carryover)
    spend = math.exp(params.spend_log_mean[segment] + 0.5 * params.spend_log_sd**2)
    k = params.n_states
    stocks = [float(v) for v in scenario.fatigue_stocks]
    memory, kappa, power, trial = scenario.fatigue_memory, scenario.kappa, scenario.fatigue_power, scenario.trial_fatigue
    resolution = scenario.fatigue_resolution  # levels per factor lambda: a quiet week moves this many down

    def after_email(fatigue: int) -> int:
        """The level whose stock is nearest lambda F + 1 in log scale (the top when lambda F + 1 lies above the grid)."""
        target = memory * stocks[fatigue] + 1.0
        return min(range(1, len(stocks)), key=lambda level: abs(math.log(stocks[level] / target)))

    def week(z: int, action: int, fatigue: int) -> list[tuple[float, float]]:
        """(probability of z', expected margin in the week) for every next state z'."""
        share = ((1.0 + kappa * stocks[fatigue]) / (1.0 + kappa * trial)) ** -power
        weights = [params.transition[z, w] * (math.exp(tilt[action, segment] * share) if w > z else 1.0) for w in range(k)]
        total = sum(weights)
        out = []
        for w in range(k):
            pi = params.purchase_prob[w]
            buy = _sigmoid(params.purchase_offset + math.log(pi / (1 - pi)) + purchase_effect[action, segment] * share + covariate_logit)
            out.append((weights[w] / total, scenario.margin * buy * spend))
        return out

    @lru_cache(maxsize=None)
    def value(t: int, z: int, fatigue: int, subscribed: bool) -> float:
        if t == scenario.horizon:
            return 0.0
        best = -math.inf
        choices = range(params.n_actions) if fixed_action is None else (fixed_action,)
        for action in choices if subscribed else (0,):
            emailed = action != 0
            leave = _sigmoid(scenario.u0 + scenario.u1 * stocks[fatigue]) if emailed else 0.0
            after = after_email(fatigue) if emailed else (fatigue - resolution if fatigue > resolution else 0)
            total = -scenario.action_costs[action]
            for w, (p, margin) in enumerate(week(z, action, fatigue)):
                future = (1 - leave) * value(t + 1, w, after, subscribed) + leave * value(t + 1, w, after, False)
                total += p * (margin + future)
            best = max(best, total)
        return best

    return np.array([value(0, z, 0, True) for z in range(k)])


def _open_loop_values(params, scenario, customers: PopulationState) -> tuple[np.ndarray, np.ndarray]:
    """Exact expected return of every open-loop schedule (all A^H), per customer and starting state.

    Returns the ``(S, H)`` schedules and the ``(C, K, S)`` expected returns, from
    :func:`~journeygym.envs.expectations.expected_schedule_outcome`.
    """
    k = params.n_states
    schedules = np.array(list(itertools.product(range(params.n_actions), repeat=scenario.horizon)))
    n_schedules, n_customers = len(schedules), customers.n_customers
    customer = np.repeat(np.arange(n_customers), k * n_schedules)
    start = np.tile(np.repeat(np.arange(k), n_schedules), n_customers)
    schedule = np.tile(np.arange(n_schedules), n_customers * k)
    copies = PopulationState(**{name: getattr(customers, name)[customer] for name in customers.__dataclass_fields__})
    outcome = expected_schedule_outcome(params, scenario, copies, schedules[schedule].T, initial_belief=np.eye(k)[start])
    return schedules, outcome.reward.sum(axis=0).reshape(n_customers, k, n_schedules)


@pytest.fixture(scope="module", params=[1, 2], ids=["resolution1", "resolution2"])
def tiny_problem(synthetic_draws, request):
    params = synthetic_draws.draws[0]
    scenario = _tiny_scenario(synthetic_draws).replace(fatigue_resolution=request.param)
    customers = initial_population(compile_tables(params, scenario), draw_reset_noise(np.random.default_rng(0), 4))
    return params, scenario, customers


def test_oracle_values_equal_an_exhaustive_expectimax(tiny_problem):
    """The oracle's week-0 values equal a scalar expectimax over the tree, on the fatigue grid."""
    params, scenario, customers = tiny_problem
    assert scenario.max_fatigue == {1: 8, 2: 15}[scenario.fatigue_resolution]
    oracle = solve_oracle(params, scenario, customers.segment, customers.purchase_covariate_logit)
    for i in range(customers.n_customers):
        by_hand = _exhaustive_values(params, scenario, int(customers.segment[i]), float(customers.purchase_covariate_logit[i]))
        np.testing.assert_allclose(oracle.state_values[i], by_hand, rtol=1e-12)
    # The problem is not one where a single action is always best.
    assert set(np.unique(oracle.actions)) == {0, 1, 2}
    # E-mailing every week climbs the grid (fatigue and unsubscribes at the stocks 1 and 2): the constant policies too.
    for action in (1, 2):
        fixed = solve_oracle(params, scenario, customers.segment, customers.purchase_covariate_logit, fixed_action=action)
        for i in range(customers.n_customers):
            by_hand = _exhaustive_values(
                params, scenario, int(customers.segment[i]), float(customers.purchase_covariate_logit[i]), fixed_action=action
            )
            np.testing.assert_allclose(fixed.state_values[i], by_hand, rtol=1e-12)


def test_oracle_against_every_open_loop_schedule(tiny_problem):
    """Fixed actions equal exact expectations; the optimum is at least the best schedule and beats it where z matters."""
    params, scenario, customers = tiny_problem
    schedules, returns = _open_loop_values(params, scenario, customers)
    for action in range(params.n_actions):
        fixed = solve_oracle(params, scenario, customers.segment, customers.purchase_covariate_logit, fixed_action=action)
        constant = int(np.flatnonzero((schedules == action).all(axis=1))[0])
        np.testing.assert_allclose(fixed.state_values, returns[:, :, constant], rtol=1e-12)
    optimal = solve_oracle(params, scenario, customers.segment, customers.purchase_covariate_logit).state_values
    best_schedule = returns.max(axis=2)
    assert (optimal >= best_schedule - 1e-9).all()
    # Seeing z pays somewhere (a closed-loop policy), and the best schedule is not a constant one.
    assert (optimal - best_schedule).max() > 0.05
    constants = [int(np.flatnonzero((schedules == a).all(axis=1))[0]) for a in range(params.n_actions)]
    assert (best_schedule > returns[:, :, constants].max(axis=2) + 0.05).any()


def _population(draws, n, seed, params="mean", horizon=20):
    env = CustomerPopulationVectorEnv(num_envs=n, artifact=draws, params=params, horizon=horizon)
    env.reset(seed=seed)
    return env


@pytest.mark.parametrize("action", [0, 1, 2])
def test_exact_policy_evaluation_matches_simulation(synthetic_draws, action):
    env = _population(synthetic_draws, 20_000, seed=1)
    state = env.state
    exact = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit, fixed_action=action)
    belief = env.parameters.initial_state_by_recency[state.start]
    simulated = rollout(ConstantPolicy(action), n_customers=20_000, seed=1, artifact=synthetic_draws, horizon=20)
    difference = simulated.returns - exact.expected_values(belief)
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(difference.size)


@pytest.mark.parametrize("draw", [0, 1, 2])
def test_oracle_beats_simple_policies_in_simulation(synthetic_draws, draw):
    """On common random numbers, the oracle's simulated returns beat never, always and random."""
    oracle_run = rollout(OraclePolicy(), n_customers=2_000, seed=draw, params=draw, artifact=synthetic_draws, horizon=20)
    for policy in (ConstantPolicy(0), ConstantPolicy(1), RandomPolicy(seed=draw)):
        other = rollout(policy, n_customers=2_000, seed=draw, params=draw, artifact=synthetic_draws, horizon=20)
        difference = oracle_run.returns - other.returns
        assert difference.mean() > -2 * difference.std() / np.sqrt(difference.size)


def test_oracle_never_emails_unsubscribed_and_refuses_observations(synthetic_draws):
    env = _population(synthetic_draws, 500, seed=0)
    env.state.subscribed[:250] = False
    actions = OraclePolicy().act_on_state(env.state, env.parameters, env.assumptions)
    assert (actions[:250] == 0).all()
    with pytest.raises(TypeError, match="act_on_state"):
        OraclePolicy().act(np.zeros((2, 23), dtype=np.float32))


def test_the_oracle_bounds_the_undiscounted_return_whatever_the_discount(synthetic_draws):
    # The discount only shapes agents' training; the oracle solves the reported, undiscounted problem.
    env = _population(synthetic_draws, 300, seed=4)
    state = env.state
    solutions = [
        solve_oracle(env.parameters, env.assumptions.replace(discount=discount), state.segment, state.purchase_covariate_logit)
        for discount in (env.assumptions.discount, 0.5)
    ]
    np.testing.assert_array_equal(solutions[0].state_values, solutions[1].state_values)
    np.testing.assert_array_equal(solutions[0].actions, solutions[1].actions)


def test_the_solution_does_not_depend_on_the_number_of_threads(synthetic_draws):
    # Customers are solved in blocks on numba's threads; each block writes only its own customers.
    env = _population(synthetic_draws, 1_000, seed=5)
    state = env.state
    solve = lambda: solve_oracle(  # noqa: E731
        env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit, contacts=True, advantages=True
    )
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = solve()
    finally:
        numba.set_num_threads(previous)
    together = solve()
    for name in ("state_values", "packed_actions", "expected_contacts", "advantages", "never_values"):
        np.testing.assert_array_equal(getattr(alone, name), getattr(together, name), err_msg=name)


@given(
    codes=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=30), elements=st.integers(0, 3)),
    bits=st.sampled_from([2, 4, 8]),
)
def test_packed_actions_unpack_to_the_codes_written(codes, bits):
    per_byte = 8 // bits
    packed = np.zeros(packed_width(codes.size, bits), dtype=np.uint8)
    for level, code in enumerate(codes):
        packed[level // per_byte] |= np.uint8(code << (bits * (level % per_byte)))
    levels = np.arange(codes.size)
    np.testing.assert_array_equal(unpack_actions(packed[levels // per_byte], levels, bits), codes)


def test_action_bits_hold_every_action():
    assert [action_bits(n) for n in (2, 3, 4, 5, 16, 17, 200)] == [2, 2, 2, 4, 4, 8, 8]


def test_actions_at_reads_the_unpacked_policy(synthetic_draws):
    env = _population(synthetic_draws, 400, seed=6)
    state = env.state
    solution = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
    rng = np.random.default_rng(0)
    weeks, customers = rng.integers(0, 20, 400), np.arange(400)
    z, f = rng.integers(0, env.parameters.n_states, 400), rng.integers(0, solution.n_fatigue, 400)
    np.testing.assert_array_equal(solution.actions_at(weeks, customers, z, f), solution.actions[weeks, customers, z, f])
