"""Bad input to the off-policy estimators gets an error saying what was received and what to do."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tiny_mdp import simulate

from journeygym.ope.episodes import OPEInputError
from journeygym.ope.estimators import estimate, estimate_all
from journeygym.ope.target import target_probabilities


@pytest.fixture
def log(tiny_target):
    episodes = simulate(30, seed=0)
    return episodes, target_probabilities(tiny_target, episodes)


def test_unknown_estimator_suggests_the_closest_name(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=r"unknown \['wpids'\] \(did you mean 'wpdis'\?\)"):
        estimate("wpids", episodes, target, policy_name="t")
    with pytest.raises(OPEInputError, match="Expected a non-empty list"):
        estimate_all(episodes, target, policy_name="t", estimators=[])


@pytest.mark.parametrize("name", ["dm", "dr", "wdr"])
def test_model_estimators_need_q_values(log, name: str) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=rf"estimators \['{name}'\] need q_values"):
        estimate(name, episodes, target, policy_name="t")


def test_episodes_must_carry_propensities_and_two_customers(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match="no behavior propensities"):
        estimate("is", replace(episodes, behavior_probabilities=None), target, policy_name="t")
    with pytest.raises(OPEInputError, match="at least 2 are needed"):
        estimate("is", episodes.subset([0]), target[:1], policy_name="t")
    with pytest.raises(OPEInputError, match="expected LoggedEpisodes"):
        estimate("is", {"rewards": []}, target, policy_name="t")


def test_arrays_must_have_the_episodes_shape_and_be_probabilities(log) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=r"target: received shape \(30, 3\), expected \(30, 3, 2\)"):
        estimate("is", episodes, target[:, :, 0], policy_name="t")
    with pytest.raises(OPEInputError, match="do not sum to 1"):
        estimate("is", episodes, target * 2, policy_name="t")
    with pytest.raises(OPEInputError, match=r"q_values: received shape \(30, 2, 2\)"):
        estimate("dr", episodes, target, np.zeros((30, 2, 2)), policy_name="t")
    with pytest.raises(OPEInputError, match="q_values: has 1 non-finite"):
        q_values = np.zeros((30, 3, 2))
        q_values[4, 1, 0] = np.nan
        estimate("dm", episodes, target, q_values, policy_name="t")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("gamma", 0.0, r"gamma: received 0.0, expected a discount in \(0, 1\]"),
        ("gamma", 1.5, "gamma: received 1.5"),
        ("n_bootstrap", 1, "n_bootstrap: received 1, expected an integer >= 2"),
        ("confidence", 1.0, r"confidence: received 1.0, expected a level in \(0, 1\)"),
        ("seed", -1, "seed: received -1, expected a non-negative integer"),
    ],
)
def test_options_out_of_range(log, option: str, value: object, message: str) -> None:
    episodes, target = log
    with pytest.raises(OPEInputError, match=message):
        estimate("is", episodes, target, policy_name="t", **{option: value})


def test_weights_that_overflow_are_reported(log) -> None:
    episodes, _ = log
    # The logged action 0 had probability 5e-201 each week: its ratio 1e200 overflows by the third week.
    unlikely = replace(
        episodes,
        behavior_probabilities=np.broadcast_to([5e-201, 1 - 5e-201], (30, 3, 2)).copy(),
        actions=np.zeros((30, 3), dtype=np.int64),
    )
    with pytest.raises(OPEInputError, match="importance weights overflow for customer 0"):
        estimate("is", unlikely, np.full((30, 3, 2), 0.5), policy_name="t")
