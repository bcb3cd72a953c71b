"""Nothing assumes three actions or Hillstrom's covariates: one arm, and four arms with 30 other covariates, through
the env, oracle, baselines, agents, runner and OPE."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.baselines import make_policy
from journeygym.baselines.logged_data.simulator import simulate_logged_data
from journeygym.baselines.oracle import solve_oracle
from journeygym.baselines.registry import policy_names
from journeygym.baselines.rollout import rollout
from journeygym.baselines.simple import RandomPolicy
from journeygym.envs import CustomerPopulationVectorEnv
from journeygym.envs.actions import arm_names
from journeygym.envs.artifact import save_artifact
from journeygym.experiments.config import ConfigError, load_config
from journeygym.experiments.runner import run_experiment
from journeygym.ope.episodes import episodes_from_frame
from journeygym.ope.evaluate import evaluate_policies
from journeygym.testing import make_synthetic_draws

#: (arms, other covariates or None for the default artifact's Hillstrom covariates) of each variant.
VARIANTS = ((1, None), (4, 30))


@pytest.fixture(scope="module", params=VARIANTS, ids=lambda v: f"{v[0]}_arms" + (f"_{v[1]}_covariates" if v[1] else ""))
def draws(request):
    n_arms, n_covariates = request.param
    return make_synthetic_draws(n_arms=n_arms, n_covariates=n_covariates)


@pytest.fixture(scope="module")
def artifact(draws, tmp_path_factory):
    return str(save_artifact(draws, tmp_path_factory.mktemp("arms") / "artifact.npz"))


def test_the_env_has_one_action_per_arm_and_names_them(draws):
    n_arms = len(draws.mean.action_names) - 1
    env = CustomerPopulationVectorEnv(num_envs=50, artifact=draws, horizon=4)
    observations, _ = env.reset(seed=0)
    assert env.single_action_space.n == n_arms + 1 and env.action_names[0] == "no_action"
    assert len(env.observation_names) == observations.shape[1]
    assert sum(name.startswith("last_action_") for name in env.observation_names) == n_arms + 1
    for week in range(4):
        _, _, _, _, info = env.step(np.full(50, n_arms))  # the last arm
    assert env.state.last_action[env.state.subscribed].tolist() == [n_arms] * int(env.state.subscribed.sum())


def test_arm_policies_are_named_after_the_artifacts_arms(draws):
    names = draws.mean.action_names
    arms = arm_names(names)
    assert [f"always_{arm}" for arm in arms] == [n for n in policy_names(names) if n.startswith("always_")]
    for number, arm in enumerate(arms, start=1):
        run = rollout(make_policy(f"always_{arm}"), n_customers=100, seed=0, artifact=draws, horizon=3)
        assert run.contacts.sum() > 0
        policy = make_policy(f"always_{arm}").bind_actions(names)
        assert policy.act(np.zeros((2, 5), dtype=np.float32)).tolist() == [number, number]
    with pytest.raises(ValueError, match=r"arm 'mens', expected one of the artifact's arms"):
        make_policy("always_mens").bind_actions(names)


def test_random_spreads_over_every_action(draws):
    n_actions = len(draws.mean.action_names)
    policy = RandomPolicy(seed=0).bind_actions(draws.mean.action_names)
    counts = np.bincount(policy.act(np.zeros((50_000, 3), dtype=np.float32)), minlength=n_actions) / 50_000
    np.testing.assert_allclose(counts, 1.0 / n_actions, atol=0.01)
    np.testing.assert_allclose(policy.action_probabilities(np.zeros((2, 3), dtype=np.float32), n_actions), 1.0 / n_actions)


def test_the_oracle_solves_every_arm_and_beats_each_constant(draws):
    env = CustomerPopulationVectorEnv(num_envs=300, artifact=draws, horizon=8)
    env.reset(seed=1)
    state = env.state
    belief = env.parameters.initial_state_by_recency[state.start]
    optimal = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit)
    assert set(np.unique(optimal.actions)) <= set(range(len(env.action_names)))
    for action in range(len(env.action_names)):
        fixed = solve_oracle(env.parameters, env.assumptions, state.segment, state.purchase_covariate_logit, fixed_action=action)
        assert (optimal.expected_values(belief) >= fixed.expected_values(belief) - 1e-9).all()


def test_the_runner_runs_every_kind_of_policy(artifact, draws, tmp_path):
    arm = arm_names(draws.mean.action_names)[-1]
    config = load_config({
        "name": "arms",
        "scenario": {"artifact": artifact, "horizon": 6},
        "policies": ["never", "random", f"always_{arm}", f"biweekly_{arm}", "lookalike", "expected_ltv", "ltv_uplift",
                     "oracle", {"name": "ppo", "timesteps": 96, "hyperparameters": {"n_envs": 8, "n_steps": 6, "batch_size": 48}}],
        "seeds": [0],
        "evaluation": {"customers": 200, "draws": 1},
        "logged_data": {"customers": 150, "tune_customers": 100},
        "n_workers": 1,
    })
    table = run_experiment(config, tmp_path / "run", progress=False, report=False).table
    returns = table.set_index("policy")["mean_return"]
    assert set(returns.index) == {"never", "random", f"always_{arm}", f"biweekly_{arm}", "lookalike", "expected_ltv",
                                  "ltv_uplift", "oracle", "ppo"}
    assert np.isfinite(returns).all()
    # The oracle records its exact mean optimal return on these customers (its dominance is
    # checked exactly in test_the_oracle_solves_every_arm_and_beats_each_constant).
    assert np.isfinite(table.set_index("policy").loc["oracle", "value_bound"])


def test_a_config_naming_an_arm_the_artifact_lacks_is_refused(artifact):
    with pytest.raises(ConfigError, match=r"policies\[1\].*arm 'womens'"):
        load_config({"name": "x", "scenario": {"artifact": artifact}, "policies": ["never", "always_womens"], "seeds": [0]})


def test_ope_estimates_policies_on_a_log_of_any_number_of_arms(artifact, draws):
    names = draws.mean.action_names
    log = simulate_logged_data(400, 3, params=[0], artifact=artifact, horizon=5)
    episodes = episodes_from_frame(log)
    assert episodes.action_names == names
    arm = arm_names(names)[0]
    result = evaluate_policies(
        {"never": make_policy("never"), f"always_{arm}": make_policy(f"always_{arm}")}, episodes,
        estimators=["wis", "dr"], n_bootstrap=20,
    )
    frame = result.frame()
    assert len(frame) == 4 and np.isfinite(frame["value"]).all()
