"""The fitted-Q iteration agent: trained on a log, it beats the policy that made the log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from journeygym.agents.fqi import FittedQIterationPolicy
from journeygym.agents.registry import make, training_mode
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.rollout import rollout
from journeygym.baselines.simple import RandomPolicy
from journeygym.testing import default_observation_index
from journeygym.envs.parameters import DEFAULT_ACTION_NAMES
from journeygym.ope.episodes import OPEInputError

COLUMNS = default_observation_index(DEFAULT_ACTION_NAMES)


@pytest.fixture(scope="module")
def trained() -> FittedQIterationPolicy:
    """Trained on a uniform 5,000-customer log."""
    return FittedQIterationPolicy(seed=1).fit(simulate_logged_data(5000, 21, params=[0, 1, 2, 3]))


def test_the_registry_builds_it_and_the_runner_trains_it_on_the_log() -> None:
    agent = make("fqi", gamma=0.9, model="ridge", seed=3)
    assert isinstance(agent, FittedQIterationPolicy)
    assert training_mode(agent) == "logged_data"
    assert agent.get_params() == {"gamma": 0.9, "model": "ridge", "seed": 3, "features": None, "n_threads": 1}


def test_it_beats_the_logging_policy_on_common_random_numbers(trained: FittedQIterationPolicy) -> None:
    assert trained.fitted_q_.horizon == 52
    learned = rollout(trained, n_customers=4000, seed=5, params="mean").returns
    logging = rollout(RandomPolicy(), n_customers=4000, seed=5, params="mean").returns
    difference = learned - logging
    assert difference.mean() - 3 * difference.std(ddof=1) / np.sqrt(difference.size) > 0


def test_it_acts_greedily_by_week_and_never_mails_the_unsubscribed(trained: FittedQIterationPolicy) -> None:
    frame = simulate_logged_data(300, 22)
    observations = frame[[c for c in frame.columns if c in COLUMNS]].to_numpy(dtype=np.float32)
    actions = trained.act(observations)
    weeks = frame["week"].to_numpy()
    expected = np.empty_like(actions)
    for week in np.unique(weeks):
        rows = weeks == week
        expected[rows] = trained.fitted_q_.predict(int(week), observations[rows]).argmax(axis=1)
    expected[observations[:, COLUMNS["subscribed"]] <= 0.5] = 0
    np.testing.assert_array_equal(actions, expected)
    unsubscribed = observations[:, COLUMNS["subscribed"]] <= 0.5
    assert unsubscribed.any() and np.all(actions[unsubscribed] == 0)
    # Past the log's horizon the last week's Q-function decides.
    late = observations[:5].copy()
    late[:, COLUMNS["week_fraction"]] = 1.5
    np.testing.assert_array_equal(trained.q_values(late), trained.fitted_q_.predict(51, late))


def test_it_refuses_to_act_before_fit_and_a_table_that_is_not_a_log() -> None:
    agent = FittedQIterationPolicy()
    with pytest.raises(NotFittedError, match=r"call fit\(logged_data\)"):
        agent.act(np.zeros((2, len(COLUMNS)), dtype=np.float32))
    with pytest.raises(OPEInputError, match="missing columns"):
        agent.fit(pd.DataFrame({"customer_id": [0], "week": [0]}))
