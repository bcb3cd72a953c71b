"""Fitted-Q with extra state features: the filter's belief over the hidden state, and a hidden state supplied directly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.tree import DecisionTreeRegressor
from test_ope_fitted_q import COLUMNS, DETERMINISTIC, empirical_q, q_at_log, states
from tiny_mdp import HORIZON, TablePolicy, simulate

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.simple import ConstantPolicy
from journeygym.ope import belief_features, evaluate_policies
from journeygym.ope.episodes import OPEInputError, episodes_from_frame
from journeygym.ope.fitted_q import fit_q_evaluation
from journeygym.ope.target import target_probabilities


@pytest.fixture(scope="module")
def small_log():
    return episodes_from_frame(simulate_logged_data(300, 4, horizon=6))


def test_a_hidden_state_given_as_a_state_feature_makes_tabular_fqe_exact_again() -> None:
    episodes = simulate(3_000, seed=31)
    target = target_probabilities(TablePolicy(DETERMINISTIC), episodes)
    hidden = replace(episodes, observations=episodes.observations.copy())
    hidden.observations[:, :, COLUMNS["recency"]] = 0.0  # the state no longer shows in the observation
    state = states(episodes)[:, :, None].astype(np.float32)

    def under_target(q: np.ndarray, week: int) -> np.ndarray:
        return np.sum(DETERMINISTIC[week] * q, axis=1)

    exact = q_at_log(empirical_q(episodes, under_target, 1.0), episodes)
    with_state = fit_q_evaluation(hidden, target, model=DecisionTreeRegressor(), state_features=state)
    np.testing.assert_allclose(with_state.q_values, exact, atol=1e-9)
    assert with_state.n_state_features == 1
    np.testing.assert_allclose(
        with_state.predict(0, np.concatenate([hidden.observations[:, 0], state[:, 0]], axis=1)), exact[:, 0], atol=1e-9
    )
    blind = fit_q_evaluation(hidden, target, model=DecisionTreeRegressor())
    assert np.abs(blind.q_values - exact).max() > 0.1
    with pytest.raises(ValueError, match="state features it was fitted with"):
        with_state.predict(0, hidden.observations[:, 0])


def test_state_features_of_the_wrong_shape_are_refused() -> None:
    episodes = simulate(50, seed=32)
    target = target_probabilities(TablePolicy(DETERMINISTIC), episodes)
    with pytest.raises(OPEInputError, match=r"shape \(50, 4, 1\), expected finite numbers of shape \(50, 3, K\)"):
        fit_q_evaluation(episodes, target, state_features=np.zeros((50, HORIZON + 1, 1)))
    with pytest.raises(OPEInputError, match="finite"):
        fit_q_evaluation(episodes, target, state_features=np.full((50, HORIZON, 1), np.nan))


def test_the_belief_is_a_distribution_per_customer_and_week(small_log) -> None:
    beliefs = belief_features(small_log)
    assert beliefs.shape == (300, 6, 5) and beliefs.dtype == np.float32
    np.testing.assert_allclose(beliefs.sum(axis=2), 1.0, atol=1e-5)
    assert np.all(beliefs >= 0)


def test_each_customer_is_filtered_on_their_own_history(small_log) -> None:
    order = np.random.default_rng(0).permutation(small_log.n_customers)
    np.testing.assert_allclose(belief_features(small_log.subset(order)), belief_features(small_log)[order], atol=1e-6)


def test_a_log_of_other_actions_cannot_use_the_artifact_filter(small_log) -> None:
    renamed = replace(small_log, action_names=("none", "mail_a", "mail_b"))
    with pytest.raises(OPEInputError, match=r"actions \['none', 'mail_a', 'mail_b'\] are not the artifact's"):
        belief_features(renamed)


def test_evaluate_policies_records_the_features_and_refuses_unknown_ones(small_log) -> None:
    never = ConstantPolicy(0, name="never")
    options = dict(estimators=["dm"], n_bootstrap=2)
    with_belief = evaluate_policies([never], small_log, fqe_features="belief", **options)
    plain = evaluate_policies([never], small_log, **options)
    assert with_belief.settings["fqe_features"] == "belief" and plain.settings["fqe_features"] == "observation"
    assert with_belief.evaluations[0].estimates["dm"].value != plain.evaluations[0].estimates["dm"].value
    with pytest.raises(OPEInputError, match=r"fqe_features: received 'beleif', expected one of \['belief', 'observation'\]"):
        evaluate_policies([never], small_log, fqe_features="beleif", **options)
