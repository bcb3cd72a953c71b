"""Statistical check on the default scenario: the seed baselines against never and random, paired.

On the calibrated default artifact's mean parameters every seed baseline beats
never, and LTV uplift beats random (95% paired intervals over 20,000
customers).  ``journeygym evaluate`` reports the same comparisons with
intervals over posterior draws.

The pipeline is the practitioner's and the runner's: a log of 5,000 customers
under the Hillstrom-like randomization, scoring models fitted on it, operating
points tuned on 5,000 validation customers, then 20,000 evaluation customers on
common random numbers; the log, the tuning and the evaluation use the seeds the
runner derives for them (``derived_seed``), so none shares another's noise.  It
runs on the mean parameters, so it needs no particular number of posterior
draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.baselines.rollout import rollout
from journeygym.baselines.scoring import ScoringModels
from journeygym.envs.artifact import load_parameters
from journeygym.experiments.cell_spec import LOGGED, VALIDATION, derived_seed, evaluation_seed
from journeygym.experiments.tuning import tune_operating_point
from journeygym.intervals import mean_interval

SEED = 0
EVALUATION_CUSTOMERS = 20_000


@pytest.fixture(scope="module")
def default_scenario_returns() -> dict[str, np.ndarray]:
    parameters = load_parameters(None)
    with threadpool_limits(limits=1):
        log = simulate_logged_data(5_000, derived_seed(SEED, LOGGED), params="mean", artifact=parameters)
        models = ScoringModels(components=("response", "ltv", "t_learner"), random_state=SEED).fit(log)
        returns = {}
        for name in ("never", "random", "lookalike", "expected_ltv", "ltv_uplift"):
            kwargs = (
                {"models": models, "assumptions": parameters.assumptions} if name not in ("never", "random") else {}
            )
            policy = make_policy(name, **kwargs)
            if "models" in kwargs:
                tune_operating_point(
                    policy,
                    log,
                    n_customers=5_000,
                    seeds=[derived_seed(SEED, VALIDATION, 0)],
                    draws=["mean"],
                    artifact=parameters,
                )
            run = rollout(
                policy, n_customers=EVALUATION_CUSTOMERS, seed=evaluation_seed(SEED, "mean"), params="mean", artifact=parameters
            )
            returns[name] = run.returns
    return returns


@pytest.mark.slow
@pytest.mark.parametrize(
    ("baseline", "reference"),
    [("lookalike", "never"), ("expected_ltv", "never"), ("ltv_uplift", "never"), ("ltv_uplift", "random")],
)
def test_seed_baseline_beats_reference(
    default_scenario_returns: dict[str, np.ndarray], baseline: str, reference: str
) -> None:
    difference = mean_interval([default_scenario_returns[baseline] - default_scenario_returns[reference]])
    assert difference.low > 0.0, f"{baseline} - {reference}: {difference}"
