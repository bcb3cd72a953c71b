"""Behavior probabilities as distinct rows and codes: exact, indexed like the dense array, dense when too varied."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.ope import episodes_from_frame
from journeygym.ope.coded_probabilities import CodedProbabilities, encode_probabilities


@st.composite
def coded_arrays(draw):
    n, horizon, n_actions = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = draw(st.integers(1, 5))
    rows = np.asarray(draw(st.lists(st.lists(st.sampled_from([0.0, 1.0, 1 / 3, 0.05, 0.9, 1e-300]), min_size=n_actions,
                                             max_size=n_actions), min_size=k, max_size=k)))
    codes = np.asarray(draw(st.lists(st.integers(0, k - 1), min_size=n * horizon, max_size=n * horizon))).reshape(n, horizon)
    return rows[codes], draw(st.integers(0, 2**32 - 1))


@settings(max_examples=150, deadline=None)
@given(coded_arrays())
def test_coded_probabilities_are_the_dense_array_under_every_supported_key(case) -> None:
    dense, seed = case
    coded = encode_probabilities(dense)
    assert isinstance(coded, CodedProbabilities)
    np.testing.assert_array_equal(np.asarray(coded), dense)
    assert coded.shape == dense.shape and coded.dtype == dense.dtype
    rng = np.random.default_rng(seed)
    n, horizon, n_actions = dense.shape
    customers = rng.integers(0, n, size=rng.integers(0, 2 * n + 1))
    mask = rng.random((n, horizon)) < 0.5
    actions = rng.integers(0, n_actions, size=(n, horizon))
    for key in (slice(1, None), slice(None, None, -1), customers, rng.random(n) < 0.5):
        part = coded[key]
        assert isinstance(part, CodedProbabilities)
        np.testing.assert_array_equal(np.asarray(part), dense[key])
    np.testing.assert_array_equal(coded[mask], dense[mask])
    for action in range(n_actions):
        np.testing.assert_array_equal(coded[:, :, action], dense[:, :, action])
    np.testing.assert_array_equal(coded.chosen(actions), np.take_along_axis(dense, actions[:, :, None], axis=2)[:, :, 0])
    np.testing.assert_array_equal(coded.min(axis=2), dense.min(axis=2))
    np.testing.assert_array_equal(coded.sum(axis=2), dense.sum(axis=2))
    np.testing.assert_array_equal(coded[0, :, 1:], dense[0, :, 1:])  # any other key: the dense array's answer
    assert coded.nbytes <= dense.nbytes + coded.rows.nbytes


def test_varied_probabilities_stay_dense() -> None:
    dense = np.random.default_rng(1).dirichlet([1.0, 1.0, 1.0], size=(20, 30))
    assert encode_probabilities(dense) is not None and isinstance(encode_probabilities(dense), np.ndarray)
    np.testing.assert_array_equal(encode_probabilities(dense, max_rows=600), dense)
    assert isinstance(encode_probabilities(dense, max_rows=600), CodedProbabilities)


def test_a_logged_log_reads_its_propensities_coded_and_exact() -> None:
    frame = simulate_logged_data(50, 3, horizon=4)
    episodes = episodes_from_frame(frame)
    assert isinstance(episodes.behavior_probabilities, CodedProbabilities)
    rows = frame.sort_values(["customer_id", "week"])
    dense = rows[[c for c in frame.columns if c.startswith("propensity_")]].to_numpy().reshape(50, 4, -1)
    np.testing.assert_array_equal(np.asarray(episodes.behavior_probabilities), dense)
    assert episodes.behavior_probabilities.nbytes < dense.nbytes / 5


def test_bad_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="expected codes below K = 2"):
        CodedProbabilities(np.eye(2), np.array([[0, 2]], dtype=np.uint8))
    with pytest.raises(ValueError, match="unsigned integer codes"):
        CodedProbabilities(np.eye(2), np.array([[0, 1]]))
    with pytest.raises(ValueError, match="cannot be returned without a copy"):
        np.asarray(CodedProbabilities(np.eye(2), np.zeros((1, 1), dtype=np.uint8)), copy=False)
