"""Contact rules: input errors, the inactive rule path, the single env's cap, seeding and common random numbers."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from journeygym.baselines.base import Policy
from journeygym.baselines.rollout import rollout
from journeygym.envs import CustomerJourneyEnv, CustomerPopulationVectorEnv
from journeygym.envs.contact_rules import PriorityError
from journeygym.envs.kernel import draw_step_noise, step_population
from journeygym.envs.observation import ObservationBuffer
from journeygym.envs.parameters import ParameterError, ScenarioAssumptions

BUDGET = {"contact_budget": 0.3}
CAP = {"cap_emails": 2, "cap_weeks": 4}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"contact_budget": 0}, r"contact_budget: received 0, expected null or a share in \(0, 1\]"),
        ({"contact_budget": -0.1}, r"contact_budget: received -0\.1, expected"),
        ({"contact_budget": 1.5}, r"contact_budget: received 1\.5, expected"),
        ({"contact_budget": math.nan}, r"contact_budget: received nan, expected"),
        ({"contact_budget": "x"}, r"contact_budget: received 'x', expected"),
        ({"contact_budget": True}, r"contact_budget: received True, expected"),
        ({"contact_budget_per_1000": 0}, r"contact_budget_per_1000: received 0, expected null or a number in \(0, 1000\]"),
        ({"contact_budget_per_1000": 1001}, r"contact_budget_per_1000: received 1001, expected"),
        (
            {"contact_budget": 0.1, "contact_budget_per_1000": 50},
            r"received contact_budget=0\.1 and contact_budget_per_1000=50\.0, expected at most one weekly budget",
        ),
        ({"cap_emails": 0, "cap_weeks": 4}, r"cap_emails: received 0, expected null or an integer k >= 1"),
        ({"cap_emails": 3, "cap_weeks": 2}, r"cap_weeks: received 2, expected null or an integer w with cap_emails <= w"),
        ({"cap_emails": 1, "cap_weeks": 17}, r"cap_weeks: received 17, expected .* <= 16"),
        ({"cap_emails": 2.0, "cap_weeks": 4}, r"cap_emails: received 2\.0, expected"),
        ({"cap_emails": 2}, r"cap_weeks: received null while cap_emails is set; a frequency cap needs both"),
        ({"cap_weeks": 4}, r"cap_emails: received null while cap_weeks is set"),
    ],
)
def test_bad_rules_name_the_value(synthetic_draws, rules, message):
    with pytest.raises(ParameterError, match=message):
        ScenarioAssumptions(**rules)
    # The same errors through an env's scenario overrides.
    with pytest.raises(ParameterError, match=message):
        CustomerPopulationVectorEnv(num_envs=2, artifact=synthetic_draws, scenario=rules)


def test_rules_left_out_of_records_when_unset():
    assert not set(ScenarioAssumptions().to_dict()) & {"contact_budget", "cap_emails", "cap_weeks"}
    record = ScenarioAssumptions(contact_budget_per_1000=50, cap_emails=1, cap_weeks=2).to_dict()
    assert record["contact_budget_per_1000"] == 50.0 and record["cap_emails"] == 1 and "contact_budget" not in record


@pytest.mark.parametrize("budget", [{"contact_budget": 0.2}, {"contact_budget_per_1000": 100}])
def test_single_customer_env_refuses_a_budget(synthetic_draws, budget):
    with pytest.raises(ParameterError, match="weekly contact budget .* for CustomerJourneyEnv, which simulates one customer"):
        CustomerJourneyEnv(artifact=synthetic_draws, scenario=budget)
    CustomerJourneyEnv(artifact=synthetic_draws, scenario=CAP)  # a cap is fine


@pytest.mark.parametrize(
    ("priorities", "message"),
    [
        (np.zeros(4), r"received shape \(4,\), expected \(5,\), one priority per customer"),
        (np.zeros((5, 1)), r"received shape \(5, 1\), expected \(5,\)"),
        (np.array([0.0, 1.0, np.nan, 0.0, 0.0]), r"received the non-finite value nan for customer 2"),
        (np.array([0.0, np.inf, 0.0, 0.0, 0.0]), r"received the non-finite value inf for customer 1"),
        (np.array([0.0, 0.0, 0.0, 0.0, -np.inf]), r"received the non-finite value -inf for customer 4"),
        (np.array(["a", "b", "c", "d", "e"]), r"received dtype <U1, expected real numbers"),
        ([1.0, 2.0, 3.0, 4.0, 5.0j], r"received dtype complex128, expected real numbers"),
        ("ab", r"received shape \(\), expected \(5,\)"),
    ],
)
def test_prioritize_rejects_bad_priorities(synthetic_draws, priorities, message):
    env = CustomerPopulationVectorEnv(num_envs=5, artifact=synthetic_draws, scenario=BUDGET)
    env.reset(seed=0)
    with pytest.raises(PriorityError, match=message):
        env.prioritize(priorities)
    env.prioritize([5, 4, 3, 2, 1])  # integers and lists are fine
    env.step(np.ones(5, dtype=np.int64))


class _BadPriority(Policy):
    """E-mails everyone; its priority is broken in the way given."""

    name = "bad_priority"

    def __init__(self, broken: str) -> None:
        self.broken = broken

    def act(self, observations: np.ndarray) -> np.ndarray:
        return np.ones(observations.shape[0], dtype=np.int64)

    def priority(self, observations: np.ndarray) -> np.ndarray:
        n = observations.shape[0]
        if self.broken == "shape":
            return np.zeros(n + 1)
        values = np.zeros(n)
        values[-1] = np.nan if self.broken == "nan" else np.inf
        return values


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("shape", r"policy 'bad_priority': priority: received shape \(13,\), expected \(12,\)"),
        ("nan", r"policy 'bad_priority': priority: received the non-finite value nan for customer 11"),
        ("inf", r"policy 'bad_priority': priority: received the non-finite value inf for customer 11"),
    ],
)
def test_rollout_names_a_policy_with_bad_priorities(synthetic_draws, broken, message):
    with pytest.raises(PriorityError, match=message):
        rollout(_BadPriority(broken), n_customers=12, seed=0, artifact=synthetic_draws, scenario=BUDGET, horizon=3)
    # Without a budget the priorities are never asked for.
    result = rollout(_BadPriority(broken), n_customers=12, seed=0, artifact=synthetic_draws, horizon=3)
    assert result.enforcement == "none"


def test_without_rules_the_env_is_the_kernel_bit_for_bit(synthetic_draws):
    n, weeks = 80, 12
    env = CustomerPopulationVectorEnv(num_envs=n, artifact=synthetic_draws, horizon=weeks)
    assert not env.contact_rules.active
    observation, _ = env.reset(seed=17)
    rng = copy.deepcopy(env.np_random)
    state = env.state.copy()
    tables = env._selector.tables
    buffer = ObservationBuffer(n, env.parameters.population, env.parameters.action_names, weeks, env.assumptions.fatigue_stocks)
    buffer.write_static(state)
    np.testing.assert_array_equal(observation, buffer.write_dynamic(state))
    actions = np.random.default_rng(3).integers(0, 3, (weeks, n))
    for week in range(weeks):
        env.prioritize(np.random.default_rng(week).random(n))  # ignored without a budget
        observation, reward, _, _, info = env.step(actions[week])
        expected = step_population(state, actions[week], tables, draw_step_noise(rng, n))
        np.testing.assert_array_equal(reward, expected.reward)
        np.testing.assert_array_equal(info["delivered"], expected.delivered)
        np.testing.assert_array_equal(observation, buffer.write_dynamic(state))
        assert not {"requested", "capped", "thinned"} & set(info) and env.last_budget == -1
    np.testing.assert_array_equal(env.state.recent_emails, state.recent_emails)


@pytest.mark.parametrize(("cap_emails", "cap_weeks", "seed"), [(1, 1, 0), (1, 3, 1), (2, 4, 2), (3, 5, 3), (2, 16, 4)])
def test_single_env_cap_matches_the_population_env_at_one_customer(synthetic_draws, cap_emails, cap_weeks, seed):
    scenario = {"cap_emails": cap_emails, "cap_weeks": cap_weeks, "u0": -5.0}
    weeks = 30
    single = CustomerJourneyEnv(artifact=synthetic_draws, scenario=scenario, horizon=weeks)
    population = CustomerPopulationVectorEnv(num_envs=1, artifact=synthetic_draws, scenario=scenario, horizon=weeks)
    single_obs, _ = single.reset(seed=seed)
    population_obs, _ = population.reset(seed=seed)
    np.testing.assert_array_equal(single_obs, population_obs[0])
    actions = np.random.default_rng(seed).choice(3, weeks, p=[0.2, 0.4, 0.4])
    capped_weeks = 0
    for action in actions.tolist():
        single_obs, single_reward, _, single_truncated, single_info = single.step(action)
        population_obs, reward, _, truncated, info = population.step(np.array([action]))
        np.testing.assert_array_equal(single_obs, population_obs[0])
        assert single_reward == reward[0] and single_truncated == truncated[0]
        assert single_info["capped"] == info["capped"][0] and single_info["delivered"] == info["delivered"][0]
        capped_weeks += single_info["capped"]
    assert capped_weeks > 0 or cap_weeks == 1  # the cap was exercised (a 1-in-1 cap never binds)


def _budget_run(draws, seed, scenario, weeks=8, n=300):
    env = CustomerPopulationVectorEnv(num_envs=n, artifact=draws, scenario=scenario, horizon=weeks)
    observation, _ = env.reset(seed=seed)
    trace = [observation]
    actions = np.random.default_rng(99).choice(3, (weeks, n), p=[0.4, 0.3, 0.3])
    for week in range(weeks):
        observation, reward, _, _, info = env.step(actions[week])
        trace += [observation, reward, info["thinned"], info["capped"], info["delivered"]]
    return trace


@pytest.mark.parametrize("scenario", [BUDGET, {**BUDGET, **CAP}, {"contact_budget_per_1000": 150}])
def test_same_seed_same_numbers_under_random_thinning(synthetic_draws, scenario):
    first, second = _budget_run(synthetic_draws, 5, scenario), _budget_run(synthetic_draws, 5, scenario)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert sum(int(t.sum()) for t in first[3::5]) > 0  # the budget bound
    other = _budget_run(synthetic_draws, 6, scenario)
    assert not np.array_equal(first[3], other[3])


def test_policies_under_one_budget_meet_the_same_customers(synthetic_draws):
    """Common random numbers: the customers, and the random thinning of the same requests, do not depend on the policy."""
    n = 400

    def first_week(action):
        env = CustomerPopulationVectorEnv(num_envs=n, artifact=synthetic_draws, scenario=BUDGET)
        observation, _ = env.reset(seed=12)
        start = env.state.copy()
        *_, info = env.step(np.full(n, action))
        return observation, start, info

    mens_obs, mens_state, mens_info = first_week(1)
    womens_obs, womens_state, womens_info = first_week(2)
    np.testing.assert_array_equal(mens_obs, womens_obs)
    np.testing.assert_array_equal(mens_state.hidden_state, womens_state.hidden_state)
    np.testing.assert_array_equal(mens_state.continuous, womens_state.continuous)
    assert mens_info["thinned"].sum() == n - math.floor(0.3 * n)
    np.testing.assert_array_equal(mens_info["thinned"], womens_info["thinned"])
