"""Logged data: schema, behavior propensities, ground truth, storage and validation errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import journeygym
from journeygym.testing import default_observation_names
from journeygym.baselines.logged_data import (
    LOGGED_DATA_SCHEMA_VERSION,
    METADATA_KEY,
    LoggedDataError,
    RandomizedBehavior,
    logged_data_columns,
    propensity_columns,
    read_logged_data,
    simulate_logged_data,
    two_week_purchase_effects,
    validate_logged_data,
    write_logged_data,
)
from journeygym.calibration.two_week import two_week_event_probability
from journeygym.envs.kernel import PopulationState, compile_tables, draw_step_noise, step_population
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.envs.population_env import CustomerPopulationVectorEnv

SMALL_HORIZON = 16  # as in tests/baselines/conftest.py

ACTIONS = DEFAULT_ACTION_NAMES


def test_schema_columns_order_and_types(small_log: pd.DataFrame) -> None:
    truth = ["true_hidden_state"] + [f"true_{kind}_{a}" for a in ACTIONS[1:] for kind in ("effect", "logged_effect")]
    assert list(small_log.columns[: len(logged_data_columns(default_observation_names(ACTIONS), ACTIONS))]) == logged_data_columns(default_observation_names(ACTIONS), ACTIONS)
    assert sorted(small_log.columns[len(logged_data_columns(default_observation_names(ACTIONS), ACTIONS)) :]) == sorted(truth)
    assert len(small_log) == 400 * SMALL_HORIZON
    assert small_log["customer_id"].is_monotonic_increasing
    assert small_log.groupby("customer_id")["week"].apply(lambda w: list(w) == list(range(SMALL_HORIZON))).all()
    assert small_log["recency"].dtype == np.float32
    assert small_log["action"].dtype == np.int64
    assert small_log.attrs["journeygym"]["schema_version"] == LOGGED_DATA_SCHEMA_VERSION
    validate_logged_data(small_log)


def test_propensities_are_the_behavior_policy(small_log: pd.DataFrame) -> None:
    propensity = small_log[propensity_columns(ACTIONS)].to_numpy()
    np.testing.assert_allclose(propensity.sum(axis=1), 1.0)
    subscribed = small_log["subscribed"].to_numpy() > 0.5
    np.testing.assert_allclose(propensity[subscribed], 1 / 3)
    np.testing.assert_array_equal(propensity[~subscribed], [[1.0, 0.0, 0.0]] * int((~subscribed).sum()))
    assert np.all(small_log.loc[~subscribed, "action"] == 0)
    shares = np.bincount(small_log.loc[subscribed, "action"], minlength=3) / subscribed.sum()
    np.testing.assert_allclose(shares, 1 / 3, atol=0.02)


def test_reward_and_spend_are_consistent(small_log: pd.DataFrame) -> None:
    bought = small_log["purchase"] == 1
    assert (small_log.loc[bought, "spend"] > 0).all() and (small_log.loc[~bought, "spend"] == 0).all()
    costs = np.array([0.0, 0.05, 0.05])[small_log["action"]]
    np.testing.assert_allclose(small_log["reward"], 0.30 * small_log["spend"] - costs)


def test_multi_draw_log_keeps_customers_distinct(small_log: pd.DataFrame) -> None:
    assert sorted(small_log["draw"].unique()) == [0, 1]
    assert small_log["customer_id"].nunique() == 400
    assert (small_log.groupby("customer_id")["draw"].nunique() == 1).all()


def test_same_seed_same_log(synthetic_draws) -> None:
    first = simulate_logged_data(50, 3, artifact=synthetic_draws, horizon=6)
    second = simulate_logged_data(50, 3, artifact=synthetic_draws, horizon=6)
    pd.testing.assert_frame_equal(first, second)
    other = simulate_logged_data(50, 4, artifact=synthetic_draws, horizon=6)
    assert not first["action"].equals(other["action"])


def test_behavior_weights_and_errors() -> None:
    behavior = RandomizedBehavior(email_probability=0.5, arm_weights=(3.0, 1.0))
    np.testing.assert_allclose(behavior.subscribed_probabilities(3), [0.5, 0.375, 0.125])
    with pytest.raises(ValueError, match="email_probability"):
        RandomizedBehavior(email_probability=1.5)
    with pytest.raises(ValueError, match="arm_weights"):
        RandomizedBehavior(arm_weights=(-1.0, 1.0))
    with pytest.raises(ValueError, match="n_customers"):
        simulate_logged_data(0, 1)


def _env_after(synthetic_draws, weeks: int, n: int = 300) -> CustomerPopulationVectorEnv:
    env = CustomerPopulationVectorEnv(n, params=0, artifact=synthetic_draws, horizon=20)
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(weeks):
        env.step(rng.integers(0, 3, n))
    return env


def test_true_effect_equals_the_two_week_experiment(synthetic_draws) -> None:
    env = _env_after(synthetic_draws, weeks=4)
    state, parameters, assumptions = env.state, env.parameters, env.assumptions
    effects = two_week_purchase_effects(state, parameters, assumptions)
    assert np.all(effects[:, 0] == 0.0)
    assert np.all(effects[~state.subscribed] == 0.0)
    # m(F) = ((1 + kappa F) / (1 + kappa F0))^-p at each customer's fatigue stock, written out.
    stock = assumptions.fatigue_stocks[state.fatigue]
    m = ((1.0 + assumptions.kappa * stock) / (1.0 + assumptions.kappa * assumptions.trial_fatigue)) ** -assumptions.fatigue_power
    assert m.min() < 0.5  # four weeks of random e-mail leave some customers fatigued
    eta, _, beta = parameters.response_at(assumptions.carryover)
    belief = np.eye(parameters.n_states)[state.hidden_state][:, None, :]
    logit = parameters.purchase_offset + np.log(parameters.purchase_prob / (1 - parameters.purchase_prob))
    event_logit = (logit[None, :] + state.purchase_covariate_logit[:, None])[:, None, :]
    control = two_week_event_probability(belief, parameters.transition, event_logit)[:, 0]
    for a in (1, 2):
        treated = two_week_event_probability(
            belief,
            parameters.transition,
            event_logit,
            tilt=eta[a, state.segment] * m,
            effect=beta[a, state.segment] * m,
        )[:, 0]
        expected = np.where(state.subscribed, treated - control, 0.0)
        np.testing.assert_allclose(effects[:, a], expected, atol=1e-12)


def _replicate(state: PopulationState, row: int, copies: int) -> PopulationState:
    return PopulationState(
        **{name: np.repeat(getattr(state, name)[row : row + 1], copies) for name in state.__dataclass_fields__}
    )


def test_logged_effect_matches_the_kernel_by_monte_carlo(synthetic_draws) -> None:
    """The behavior-mixture effect is checked against the simulator itself, customer by customer."""
    env = _env_after(synthetic_draws, weeks=3)
    behavior = RandomizedBehavior().subscribed_probabilities(3)
    exact = two_week_purchase_effects(env.state, env.parameters, env.assumptions, behavior)
    tables = compile_tables(env.parameters, env.assumptions)
    rng = np.random.default_rng(123)
    copies = 200_000
    rows = [int(r) for r in np.argsort(-np.abs(exact[:, 1]))[:2]]
    for row in rows:
        bought = {}
        for a in (0, 1):
            state = _replicate(env.state, row, copies)
            first = step_population(state, np.full(copies, a), tables, draw_step_noise(rng, copies))
            second_actions = rng.choice(3, size=copies, p=behavior)
            second = step_population(state, second_actions, tables, draw_step_noise(rng, copies))
            bought[a] = np.mean(first.purchased | second.purchased)
        standard_error = np.sqrt(2 * 0.25 / copies)
        assert abs((bought[1] - bought[0]) - exact[row, 1]) < 4 * standard_error


def test_write_read_round_trip(tmp_path, small_log: pd.DataFrame) -> None:
    path = write_logged_data(small_log, tmp_path / "logs" / "log.parquet", config={"n": 400}, seed=11)
    assert [p.name for p in path.parent.iterdir()] == ["log.parquet"]  # no temporary file left behind
    metadata = json.loads(pq.read_schema(path).metadata[METADATA_KEY])
    assert metadata["schema_version"] == LOGGED_DATA_SCHEMA_VERSION
    assert metadata["version"] == journeygym.__version__
    assert metadata["seed"] == 11 and len(metadata["config_hash"]) == 16
    back = read_logged_data(path)
    pd.testing.assert_frame_equal(back, small_log, check_like=False)
    assert back.attrs["journeygym"]["config_hash"] == metadata["config_hash"]


def test_read_rejects_other_files(tmp_path, small_log: pd.DataFrame) -> None:
    with pytest.raises(LoggedDataError, match="no file"):
        read_logged_data(tmp_path / "missing.parquet")
    plain = tmp_path / "plain.parquet"
    small_log.to_parquet(plain)
    with pytest.raises(LoggedDataError, match="metadata"):
        read_logged_data(plain)
    path = write_logged_data(small_log.head(100), tmp_path / "old.parquet")
    table = pq.read_table(path)
    record = json.loads(table.schema.metadata[METADATA_KEY])
    record["schema_version"] = 0
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, METADATA_KEY: json.dumps(record).encode()}), path
    )
    with pytest.raises(LoggedDataError, match="schema version 0"):
        read_logged_data(path)


def test_failed_write_leaves_nothing(tmp_path, small_log: pd.DataFrame) -> None:
    broken = small_log.head(50).copy()
    broken.loc[0, "action"] = 7
    with pytest.raises(LoggedDataError):
        write_logged_data(broken, tmp_path / "log.parquet")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda f: f.iloc[0:0], "empty table"),
        (
            lambda f: f.drop(columns=["visit", "fatigue"]),
            r"missing columns \['fatigue', 'visit'\]|missing columns \['visit', 'fatigue'\]|expected columns",
        ),
        (lambda f: f.assign(spend=f["spend"].where(f.index != 3)), "NaN"),
        (lambda f: f.assign(propensity_no_action=0.5), "do not sum to 1"),
        (lambda f: f.assign(action=np.where(f.index == 2, 3, f["action"])), "out of range"),
        (lambda f: f.assign(action=np.where(f.index == 2, -1, f["action"])), "out of range"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "repeat a"),
        (lambda f: f.assign(recency="x"), "not numeric"),
        (lambda f: f.drop(columns=propensity_columns(ACTIONS)), "propensity_"),
    ],
)
def test_validation_errors(small_log: pd.DataFrame, corrupt, message: str) -> None:
    frame = small_log.head(200).copy()
    with pytest.raises(LoggedDataError, match=message):
        validate_logged_data(corrupt(frame))


def test_validation_names_the_expected_columns(small_log: pd.DataFrame) -> None:
    with pytest.raises(LoggedDataError) as info:
        validate_logged_data(small_log.drop(columns=["week"]))
    assert "expected columns" in str(info.value) and "'customer_id'" in str(info.value)


def test_validation_rejects_impossible_actions(small_log: pd.DataFrame) -> None:
    frame = small_log.head(200).copy()
    unsubscribed = frame.index[:1]
    frame.loc[unsubscribed, propensity_columns(ACTIONS)] = [1.0, 0.0, 0.0]
    frame.loc[unsubscribed, "action"] = 1
    with pytest.raises(LoggedDataError, match="propensity is 0"):
        validate_logged_data(frame)


def test_validation_rejects_non_frames() -> None:
    with pytest.raises(LoggedDataError, match="expected a pandas DataFrame"):
        validate_logged_data(np.zeros((3, 3)))
