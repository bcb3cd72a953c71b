"""Ground truth of a simulated log: each policy rolled out on the log's own customers."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.baselines.logged_data import (
    EpsilonGreedyBehavior,
    read_logged_data,
    simulate_logged_data,
    write_logged_data,
)
from journeygym.baselines.registry import make_policy
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.ope import OPEInputError, episodes_from_frame, true_values, true_values_of_log


def log_returns(frame) -> np.ndarray:
    return frame.groupby("customer_id", sort=True)["reward"].sum().to_numpy()


@pytest.mark.parametrize("name", ["never", "always_mens"])
def test_truth_replays_the_logs_customers_exactly(name):
    # A log whose behavior is the policy itself: the truth must reproduce every customer's return.
    behavior = EpsilonGreedyBehavior(make_policy(name), 0.0)
    frame = simulate_logged_data(700, 5, behavior=behavior, params=[0, 2, 1], horizon=12)
    truth = true_values_of_log([make_policy(name)], frame)[name]
    np.testing.assert_allclose(truth.returns, log_returns(frame), rtol=1e-12, atol=1e-12)
    assert truth.mean == pytest.approx(log_returns(frame).mean())


def test_truth_of_random_matches_the_uniform_logs_mean_return():
    frame = simulate_logged_data(4_000, 11, params=[0, 1])
    truth = true_values_of_log([make_policy("random", seed=3)], frame)["random"]
    logged = log_returns(frame)
    # Same customers and weekly noise, same action distribution: the paired difference is pure action noise.
    difference = truth.returns - logged
    standard_error = difference.std(ddof=1) / np.sqrt(difference.size)
    assert abs(difference.mean()) < 4 * standard_error
    assert truth.standard_error == pytest.approx(truth.returns.std(ddof=1) / np.sqrt(4_000))


def test_truth_is_deterministic_given_the_seed():
    kwargs = dict(n_customers=500, seed=2, params=[1, 3], horizon=10)
    first = true_values([make_policy("random"), make_policy("always_womens")], **kwargs)
    second = true_values([make_policy("random"), make_policy("always_womens")], **kwargs)
    for name in first:
        np.testing.assert_array_equal(first[name].returns, second[name].returns)
    other_seed = true_values([make_policy("always_womens")], **{**kwargs, "seed": 3})
    assert not np.array_equal(other_seed["always_womens"].returns, first["always_womens"].returns)


def test_the_oracle_has_a_true_value_above_the_simple_policies():
    values = true_values(
        {"oracle": make_policy("oracle"), "never": make_policy("never"), "mens": make_policy("always_mens")},
        n_customers=1_500,
        seed=0,
        params="mean",
        horizon=12,
    )
    assert values["oracle"].mean > max(values["never"].mean, values["mens"].mean)
    assert values["oracle"].as_dict()["n_customers"] == 1_500


def test_truth_from_episodes_metadata_and_a_parquet_round_trip(tmp_path):
    frame = simulate_logged_data(300, 4, horizon=6, scenario={"margin": 0.5})
    expected = true_values_of_log([make_policy("always_mens")], frame)["always_mens"].returns
    path = tmp_path / "log.parquet"
    write_logged_data(frame, path)
    for log in (episodes_from_frame(frame), frame.attrs["journeygym"], read_logged_data(path)):
        replayed = true_values_of_log([make_policy("always_mens")], log)["always_mens"].returns
        np.testing.assert_array_equal(replayed, expected)
    # The recorded scenario is used: the default scenario gives other returns.
    default = true_values([make_policy("always_mens")], n_customers=300, seed=4, params="mean", horizon=6)
    assert not np.array_equal(default["always_mens"].returns, expected)
    # A scenario that agrees with the log is accepted; one that contradicts it is not.
    true_values_of_log([make_policy("always_mens")], frame, scenario={"margin": 0.5})
    with pytest.raises(OPEInputError, match="kappa"):
        true_values_of_log([make_policy("always_mens")], frame, scenario={"kappa": 0.5})
    with pytest.raises(OPEInputError, match=r"'margin': \(0.3, 0.5\)"):
        true_values_of_log([make_policy("always_mens")], frame, scenario=ScenarioAssumptions(horizon=6))


def test_unusable_logs_and_policies_raise_clear_errors():
    frame = simulate_logged_data(50, 0, horizon=4)
    metadata = dict(frame.attrs["journeygym"])
    with pytest.raises(OPEInputError, match=r"lacks \['seed'\]"):
        true_values_of_log([make_policy("never")], {k: v for k, v in metadata.items() if k != "seed"})
    with pytest.raises(OPEInputError, match="does not record its scenario"):
        true_values_of_log([make_policy("never")], {k: v for k, v in metadata.items() if k != "scenario"})
    unrecorded = {k: v for k, v in metadata.items() if k != "scenario"}
    passed = true_values_of_log([make_policy("never")], unrecorded, scenario={})["never"].returns
    never_log = simulate_logged_data(50, 0, behavior=EpsilonGreedyBehavior(make_policy("never"), 0), horizon=4)
    np.testing.assert_allclose(passed, log_returns(never_log), rtol=1e-12, atol=1e-12)
    with pytest.raises(OPEInputError, match="holds 10 customers but was simulated with 50"):
        true_values_of_log([make_policy("never")], episodes_from_frame(frame).subset(np.arange(10)))
    with pytest.raises(OPEInputError, match="expected a simulated log"):
        true_values_of_log([make_policy("never")], [1, 2])
    with pytest.raises(OPEInputError, match="two policies are named 'never'"):
        true_values([make_policy("never"), make_policy("never")], n_customers=5, seed=0, params="mean")
    with pytest.raises(OPEInputError, match="received no policies"):
        true_values([], n_customers=5, seed=0, params="mean")
