"""The action table: one definition of what each action is, read by every layer."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeygym.envs import CustomerJourneyEnv, CustomerPopulationVectorEnv
from journeygym.envs.actions import ActionKind, ActionSpec, ActionTable, action_table
from journeygym.testing import default_observation_columns


@given(n_arms=st.integers(1, 8), cost=st.floats(0.0, 5.0))
def test_a_table_of_emails_marks_every_arm_and_only_the_arms(n_arms, cost):
    names = ("no_action", *(f"arm_{i}" for i in range(n_arms)))
    table = action_table(names, (0.0,) + (cost,) * n_arms)
    assert table.n_actions == n_arms + 1 and table.names == names
    np.testing.assert_array_equal(table.is_email, np.arange(n_arms + 1) > 0)
    np.testing.assert_array_equal(table.is_contact, table.is_email)
    assert table.contacts == tuple(range(1, n_arms + 1))
    np.testing.assert_array_equal(table.costs, [0.0] + [cost] * n_arms)


def test_action_zero_must_be_no_action_and_the_only_one():
    email = ActionSpec("mail", ActionKind.EMAIL, 0.05)
    with pytest.raises(ValueError, match="action 0 must be of kind 'none'"):
        ActionTable((email,))
    with pytest.raises(ValueError, match="only action 0 may be of kind 'none'.*'idle'"):
        ActionTable((ActionSpec("no_action", ActionKind.NONE, 0.0), ActionSpec("idle", ActionKind.NONE, 0.0)))
    with pytest.raises(ValueError, match="unique"):
        ActionTable((ActionSpec("no_action", ActionKind.NONE, 0.0), email, email))
    with pytest.raises(ValueError, match="received 2 costs for 3 actions"):
        action_table(("no_action", "a", "b"), (0.0, 0.1))


def test_both_env_faces_name_their_actions_and_observation_columns(synthetic_draws):
    single = CustomerJourneyEnv(artifact=synthetic_draws)
    population = CustomerPopulationVectorEnv(num_envs=3, artifact=synthetic_draws)
    expected_columns = tuple(column.name for column in default_observation_columns(synthetic_draws.mean.action_names))
    for env in (single, population):
        assert env.unwrapped.action_names == synthetic_draws.mean.action_names
        assert env.unwrapped.action_names[0] == "no_action"
        assert env.unwrapped.observation_names == expected_columns
        assert all(isinstance(name, str) for name in env.unwrapped.observation_names)
    assert len(single.observation_names) == single.observation_space.shape[0]
    assert len(population.observation_names) == population.single_observation_space.shape[0]
    wrapped = gym.wrappers.RecordEpisodeStatistics(single)
    assert wrapped.unwrapped.action_names == single.action_names


def test_observation_names_follow_the_frequency_cap(synthetic_draws):
    capped = CustomerJourneyEnv(artifact=synthetic_draws, scenario={"cap_emails": 1, "cap_weeks": 2})
    assert len(capped.observation_names) == capped.observation_space.shape[0]
    assert set(capped.observation_names) > set(CustomerJourneyEnv(artifact=synthetic_draws).observation_names)


def test_an_artifact_records_its_actions_labels_and_kinds(synthetic_draws, tmp_path):
    from dataclasses import replace

    from journeygym.envs.artifact import ArtifactError, load_artifact, save_artifact

    records = action_table(synthetic_draws.mean.action_names, synthetic_draws.assumptions.action_costs).records()
    records = [{**record, "label": label} for record, label in zip(records, ("No E-Mail", "Mens E-Mail", "Womens E-Mail"))]
    labelled = replace(synthetic_draws, metadata={**synthetic_draws.metadata, "actions": records})
    env = CustomerJourneyEnv(artifact=load_artifact(save_artifact(labelled, tmp_path / "labelled.npz")))
    assert env.actions.labels == ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    assert env.actions.records() == records
    wrong = replace(synthetic_draws, metadata={**synthetic_draws.metadata, "actions": records[:2]})
    with pytest.raises(ArtifactError, match="recorded actions"):
        load_artifact(save_artifact(wrong, tmp_path / "wrong.npz"))
    unknown_kind = [records[0], {**records[1], "kind": "discount"}, records[2]]
    with pytest.raises(ArtifactError, match="'discount' is not a valid ActionKind"):
        load_artifact(save_artifact(replace(synthetic_draws, metadata={**synthetic_draws.metadata, "actions": unknown_kind}), tmp_path / "k.npz"))


def test_a_table_without_records_names_its_labels_after_the_actions(synthetic_draws):
    table = action_table(synthetic_draws.mean.action_names, synthetic_draws.assumptions.action_costs)
    assert table.labels == table.names
