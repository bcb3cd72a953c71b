"""Small logs and fitted models on the synthetic parameters, shared by the baseline tests."""

from __future__ import annotations

import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.scoring import ScoringModels
from journeygym.envs.parameters import ParameterDraws

SMALL_HORIZON = 16


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    # Gradient boosting with 2 OpenMP threads on a busy 2-core machine ran 5-10x slower.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def small_log(synthetic_draws: ParameterDraws) -> pd.DataFrame:
    """400 customers x 16 weeks over two synthetic draws, with the truth columns."""
    return simulate_logged_data(
        400, 11, params=[0, 1], artifact=synthetic_draws, horizon=SMALL_HORIZON, include_truth=True
    )


@pytest.fixture(scope="session")
def fitted_models(small_log: pd.DataFrame) -> ScoringModels:
    """Every scoring model fitted on the small log."""
    return ScoringModels(random_state=0).fit(small_log)
