"""The budgeted oracle: expected contacts of the DP, the Lagrangian bound and the budget-aware oracle policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.agents.myopic import MyopicOraclePolicy
from journeygym.baselines.budgeted_oracle import dual_value, solve_budgeted_oracle, weekly_contact_share
from journeygym.baselines.oracle import solve_oracle
from journeygym.baselines.oracle_policy import OraclePolicy
from journeygym.baselines.rollout import rollout
from journeygym.baselines.simple import ConstantPolicy, RandomPolicy
from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.envs.expectations import expected_schedule_outcome

#: A weekly budget that binds: with fatigue the unconstrained oracle e-mails a customer about once a quarter.
BUDGET = {"contact_budget": 0.03}


def _customers(n: int, seed: int, horizon: int | None = None, scenario=None):
    """The shipped artifact's customers at week 0, as ``rollout`` with the same seed meets them."""
    env = CustomerPopulationVectorEnv(num_envs=n, scenario=scenario, horizon=horizon)
    env.reset(seed=seed)
    return env.parameters, env.assumptions, env.state


def _solve(parameters, assumptions, state, **options):
    return solve_oracle(parameters, assumptions, state.segment, state.purchase_covariate_logit, **options)


def _at_start(array: np.ndarray, state) -> np.ndarray:
    return array[np.arange(state.n_customers), state.hidden_state]


@pytest.fixture(scope="module")
def short_problem():
    return _customers(300, seed=5, horizon=12)


def test_a_price_per_email_is_a_raised_email_cost(short_problem):
    parameters, assumptions, state = short_problem
    price = 0.37
    priced = _solve(parameters, assumptions, state, email_price=price)
    costs = tuple(c + (price if a else 0.0) for a, c in enumerate(assumptions.action_costs))
    raised = _solve(parameters, assumptions.replace(action_costs=costs), state)
    np.testing.assert_allclose(priced.state_values, raised.state_values, rtol=1e-12, atol=1e-12)
    assert priced.email_price == price


@pytest.mark.parametrize("action", [0, 1, 2])
def test_expected_contacts_and_never_values_of_fixed_actions_are_exact(short_problem, action):
    """A fixed action is an open-loop schedule: its contacts equal the exact expectations, state by state."""
    parameters, assumptions, state = short_problem
    solution = _solve(parameters, assumptions, state, fixed_action=action, contacts=True)
    for z in range(parameters.n_states):
        start = np.zeros((state.n_customers, parameters.n_states))
        start[:, z] = 1.0
        outcome = expected_schedule_outcome(parameters, assumptions, state, np.full(assumptions.horizon, action), start)
        never = expected_schedule_outcome(parameters, assumptions, state, np.zeros(assumptions.horizon, int), start)
        np.testing.assert_allclose(solution.expected_contacts[:, z], outcome.contacts.sum(axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(solution.never_values[:, z], never.reward.sum(axis=0), rtol=1e-12)
    if action:
        # Unsubscribes stop the e-mails: fewer than one a week, but more than none.
        assert (solution.expected_contacts < assumptions.horizon).all() and (solution.expected_contacts > 1).all()


@pytest.mark.parametrize("price", [0.0, 0.5])
def test_advantages_agree_with_the_actions(short_problem, price):
    parameters, assumptions, state = short_problem
    solution = _solve(parameters, assumptions, state, email_price=price, advantages=True)
    assert np.array_equal(solution.advantages > 0, solution.actions != 0)
    # Without contacts or advantages asked for, the actions and values are the same.
    plain = _solve(parameters, assumptions, state, email_price=price)
    assert np.array_equal(plain.actions, solution.actions) and np.array_equal(plain.state_values, solution.state_values)


@settings(max_examples=15, deadline=None)
@given(first=st.floats(0.0, 3.0), second=st.floats(0.0, 3.0), share=st.floats(0.0, 0.5))
def test_the_dual_is_convex_with_the_expected_contacts_as_subgradient(short_problem, first, second, share):
    """D(l2) >= D(l1) + (bH - C(l1)) (l2 - l1): wrong contacts of the priced policy would break it."""
    parameters, assumptions, state = short_problem
    allowance = share * assumptions.horizon
    one = _solve(parameters, assumptions, state, email_price=first, contacts=True)
    two = _solve(parameters, assumptions, state, email_price=second, contacts=True)
    slope = allowance - _at_start(one.expected_contacts, state).mean()
    assert dual_value(two, state.hidden_state, allowance) >= dual_value(one, state.hidden_state, allowance) + slope * (
        second - first
    ) - 1e-9


def test_expected_contacts_match_a_simulation_of_the_priced_policy():
    n, seed, horizon, price = 4_000, 11, 20, 0.02
    parameters, assumptions, state = _customers(n, seed, horizon)
    solution = _solve(parameters, assumptions, state, email_price=price, contacts=True)
    expected_contacts = _at_start(solution.expected_contacts, state)
    expected_return = _at_start(solution.state_values, state) + price * expected_contacts
    run = rollout(OraclePolicy(email_price=price), n_customers=n, seed=seed, horizon=horizon)
    assert 1 < expected_contacts.mean() < 0.6 * horizon  # the price changes the e-mails, without stopping them
    for simulated, exact in ((run.contacts, expected_contacts), (run.returns, expected_return)):
        difference = simulated - exact
        assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(n)


def test_the_bound_is_the_unconstrained_oracle_when_the_budget_does_not_bind():
    n, seed = 1_000, 2
    parameters, assumptions, state = _customers(n, seed)
    free = _solve(parameters, assumptions, state, contacts=True)
    share = 0.5
    assert _at_start(free.expected_contacts, state).mean() <= share * assumptions.horizon
    result = solve_budgeted_oracle(
        parameters, assumptions, state.segment, state.purchase_covariate_logit, state.hidden_state, weekly_share=share
    )
    exact = _at_start(free.state_values, state).mean()
    assert (result.email_price, result.gap, result.solves, result.binding) == (0.0, 0.0, 1, False)
    assert result.value_bound == exact == result.unconstrained_value
    # The policy under that budget acts as the unbudgeted oracle and records the same value.
    budgeted, plain = OraclePolicy(), OraclePolicy()
    scenario = assumptions.replace(contact_budget=share)
    actions = budgeted.act_on_state(state, parameters, scenario)
    assert np.array_equal(actions, plain.act_on_state(state, parameters, assumptions))
    assert budgeted.evaluation_record() == {"value_bound": exact, "email_price": 0.0}
    assert plain.evaluation_record() == {"value_bound": exact, "email_price": None}


def test_the_bound_shrinks_with_the_budget_down_to_never_emailing():
    parameters, assumptions, state = _customers(1_000, seed=3, horizon=26)
    customers = (parameters, assumptions, state.segment, state.purchase_covariate_logit, state.hidden_state)
    results = [solve_budgeted_oracle(*customers, weekly_share=b) for b in (0.5, 0.06, 0.04, 0.02, 0.01, 0.005, 0.0)]
    for larger, smaller in zip(results, results[1:]):
        # Each bound is within its gap of the dual's minimum, which is monotone in the budget.
        assert smaller.value_bound <= larger.value_bound + smaller.gap
        assert smaller.email_price >= larger.email_price
    binding = [r for r in results if r.binding]
    assert len(binding) >= 5
    for result in binding:
        assert result.gap <= 1e-3 * abs(result.value_bound)
        assert result.allowance == 0 or abs(result.expected_contacts - result.allowance) < 0.1 * result.allowance + 0.05
    never = _at_start(_solve(parameters, assumptions, state, fixed_action=0).state_values, state).mean()
    assert results[0].value_bound > results[-2].value_bound > never
    np.testing.assert_allclose(results[-1].value_bound, never, rtol=1e-12)


def _rotation(n: int, horizon: int, period: int, arm: np.ndarray) -> np.ndarray:
    """Customer i gets its arm in the weeks t with (i + t) % period == 0: exactly n / period e-mails a week."""
    weeks = np.arange(horizon)[:, None]
    return np.where((np.arange(n)[None, :] + weeks) % period == 0, arm[None, :], 0)


def test_the_bound_is_above_the_exact_value_of_budget_feasible_schedules():
    n = 2_000
    parameters, assumptions, state = _customers(n, seed=7, scenario={"contact_budget_per_1000": 100})
    assert weekly_contact_share(assumptions) == pytest.approx(0.1)
    result = solve_budgeted_oracle(
        parameters, assumptions, state.segment, state.purchase_covariate_logit, state.hidden_state
    )
    start = np.eye(parameters.n_states)[state.hidden_state]
    never = expected_schedule_outcome(parameters, assumptions, state, np.zeros(assumptions.horizon, int), start)
    for arm in (np.ones(n, int), np.full(n, 2), 1 + (state.profile % 2)):
        schedule = _rotation(n, assumptions.horizon, 10, arm)
        assert (np.count_nonzero(schedule, axis=1) <= n // 10).all()  # the weekly budget of 100 per 1,000
        value = expected_schedule_outcome(parameters, assumptions, state, schedule, start).reward.sum(axis=0).mean()
        assert value < result.value_bound
        if arm[0] == 1 and (arm == 1).all():
            assert never.reward.sum(axis=0).mean() < value  # the mens e-mail every 10 weeks pays; the womens one need not


@pytest.fixture(scope="module")
def budgeted_runs():
    """Budget-feasible policies on the same 3,000 customers under a weekly budget of 10% of the subscribed."""
    n, seed = 3_000, 4
    parameters, assumptions, state = _customers(n, seed, scenario=BUDGET)
    result = solve_budgeted_oracle(
        parameters, assumptions, state.segment, state.purchase_covariate_logit, state.hidden_state
    )
    policies = {
        "random": RandomPolicy(seed=1),
        "always_mens": ConstantPolicy(1, "always_mens"),
        "oracle": OraclePolicy(),
        "myopic_oracle": MyopicOraclePolicy(),
    }
    runs = {name: rollout(policy, n_customers=n, seed=seed, scenario=BUDGET) for name, policy in policies.items()}
    return result, policies, runs


def test_the_bound_is_above_every_budget_feasible_policy(budgeted_runs):
    result, _, runs = budgeted_runs
    assert result.binding and result.value_bound < result.unconstrained_value
    for name, run in runs.items():
        standard_error = run.returns.std(ddof=1) / np.sqrt(run.returns.size)
        assert run.returns.mean() < result.value_bound + 3 * standard_error, name


def test_the_budgeted_oracle_keeps_the_budget_and_records_its_bound(budgeted_runs):
    result, policies, runs = budgeted_runs
    for name, run in runs.items():
        assert (run.weekly_budget >= 0).all() and (run.weekly_contacts <= run.weekly_budget).all(), name
    oracle = runs["oracle"]
    assert oracle.enforcement == "priority" and oracle.thinned > 0
    record = policies["oracle"].evaluation_record()
    assert record == {"value_bound": pytest.approx(result.value_bound, rel=1e-12), "email_price": result.email_price}
    assert policies["myopic_oracle"].evaluation_record() == {}
    # Acting on the priced policy with its gains as priorities beats the simple policies under the budget.
    assert oracle.returns.mean() > max(runs[name].returns.mean() for name in ("random", "always_mens"))


def test_priorities_are_the_priced_gains_of_the_requested_emails():
    parameters, assumptions, state = _customers(500, seed=8, scenario=BUDGET)
    policy = OraclePolicy()
    actions = policy.act_on_state(state, parameters, assumptions)
    priorities = policy.priority_on_state(state, parameters, assumptions)
    assert priorities.dtype == np.float64 and np.isfinite(priorities).all()
    assert np.array_equal(priorities > 0, actions != 0)
    # A fixed price above lambda* gives a valid but looser bound and fewer requests.
    price = policy.evaluation_record()["email_price"]
    dearer = OraclePolicy(email_price=price + 0.5)
    fewer = dearer.act_on_state(state, parameters, assumptions)
    assert np.count_nonzero(fewer) < np.count_nonzero(actions)
    assert dearer.evaluation_record()["value_bound"] > policy.evaluation_record()["value_bound"]
    assert dearer.evaluation_record()["email_price"] == price + 0.5 and dearer.get_params() == {"email_price": price + 0.5}


def test_each_episode_is_solved_for_its_own_customers():
    policy = OraclePolicy()
    for seed in (1, 2):
        rollout(policy, n_customers=400, seed=seed, horizon=8)
        parameters, assumptions, state = _customers(400, seed, horizon=8)
        exact = _at_start(_solve(parameters, assumptions, state).state_values, state).mean()
        assert policy.evaluation_record() == {"value_bound": exact, "email_price": None}


def test_malformed_inputs_are_refused_with_a_fix(short_problem):
    parameters, assumptions, state = short_problem
    customers = (parameters, assumptions, state.segment, state.purchase_covariate_logit)
    with pytest.raises(ValueError, match="expected a budget"):
        solve_budgeted_oracle(*customers, state.hidden_state)
    with pytest.raises(ValueError, match="initial_state"):
        solve_budgeted_oracle(*customers, state.hidden_state[:-1], weekly_share=0.1)
    with pytest.raises(ValueError, match="email_price"):
        solve_oracle(*customers, email_price=-1.0)
    with pytest.raises(ValueError, match="fixed_action"):
        solve_oracle(*customers, fixed_action=1, advantages=True)
    with pytest.raises(ValueError, match="email_price"):
        OraclePolicy(email_price=float("nan"))
