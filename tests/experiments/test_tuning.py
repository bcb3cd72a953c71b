"""Tuning a score policy's operating point on validation rollouts."""

from __future__ import annotations

import math

import pytest

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.scoring import ScoringModels
from journeygym.envs.parameters import ParameterDraws
from journeygym.experiments.tuning import customers_per_part, tune_operating_point


def test_tuning_refines_around_the_best_and_keeps_it(synthetic_draws: ParameterDraws) -> None:
    log = simulate_logged_data(300, 5, artifact=synthetic_draws, params=[0], horizon=8)
    policy = make_policy("lookalike", models=ScoringModels(components=("response",)).fit(log))
    result = tune_operating_point(
        policy, log, n_customers=60, seeds=[9], draws=[0], artifact=synthetic_draws, scenario={"horizon": 8}
    )
    assert len(result["candidates"]) >= 7
    assert result["mean_return"] == max(c["mean_return"] for c in result["candidates"])
    assert (policy.threshold, policy.budget) == (result["threshold"], result["budget"])
    assert policy.get_params()["tuning"] == result["candidates"]
    assert math.isfinite(result["mean_return"])
    with pytest.raises(ValueError, match="seeds"):
        tune_operating_point(policy, log, n_customers=10, seeds=[1, 2], draws=[0], artifact=synthetic_draws)


@pytest.mark.parametrize(("total", "parts", "expected"), [(10, 3, 4), (9, 3, 3), (1, 4, 1)])
def test_customers_per_part_rounds_up(total: int, parts: int, expected: int) -> None:
    assert customers_per_part(total, parts) == expected
