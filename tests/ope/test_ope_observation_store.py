"""WeeklyObservations: the compact observations index exactly as numpy indexes the full array."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.baselines.registry import make_policy
from journeygym.ope import episodes_from_frame, target_probabilities
from journeygym.ope.behavior import estimate_behavior_policy
from journeygym.ope.episodes import LoggedEpisodes
from journeygym.ope.fitted_q import fit_q_evaluation
from journeygym.ope.observation_store import WeeklyObservations
from journeygym.ope.ratios import fit_state_ratios

#: Values with ties, signed zeros and extremes (compared bit for bit, so -0.0 is not 0.0).
VALUES = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 3.0, -2.5, 1e30, np.float32(1e-40)])


def assert_same(found: Any, expected: np.ndarray) -> None:
    """Same dtype, shape and bits (stricter than np.array_equal: -0.0 is not 0.0)."""
    assert isinstance(found, np.ndarray)
    assert found.dtype == expected.dtype and found.shape == expected.shape
    assert np.array_equal(found.view(np.uint32), expected.view(np.uint32))
    assert np.array_equal(found, expected)


@st.composite
def stores(draw: st.DrawFn) -> tuple[WeeklyObservations, np.ndarray]:
    """A store of random small (N, H, D) with random per-customer columns, and its full array built by hand."""
    n, horizon, width = draw(st.integers(0, 5)), draw(st.integers(1, 4)), draw(st.integers(0, 5))
    constant = draw(st.lists(st.booleans(), min_size=width, max_size=width))
    columns = [c for c in range(width) if constant[c]]
    others = [c for c in range(width) if not constant[c]]
    per_customer = draw(hnp.arrays(np.float32, (n, len(columns)), elements=VALUES))
    per_week = draw(hnp.arrays(np.float32, (n, horizon, len(others)), elements=VALUES))
    full = np.empty((n, horizon, width), dtype=np.float32)
    full[:, :, columns] = per_customer[:, None, :]
    full[:, :, others] = per_week
    return WeeklyObservations(per_customer, per_week, columns), full


def customer_keys(draw: st.DrawFn, n: int) -> Any:
    """A slice, a 1-D integer array (repeats, negatives) or a bool (N,) mask over the customers."""
    kind = draw(st.sampled_from(["slice", "int", "bool"]))
    if kind == "slice":
        bound = st.none() | st.integers(-n - 1, n + 1)
        return slice(draw(bound), draw(bound), draw(st.none() | st.sampled_from([1, 2, -1, -2])))
    if kind == "int":
        positions = draw(st.lists(st.integers(-n, n - 1), max_size=6)) if n else []
        return np.array(positions, dtype=draw(st.sampled_from([np.int64, np.intp, np.int32])))
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


def integer(draw: st.DrawFn, low: int, high: int) -> Any:
    """An integer in [low, high], a Python or a numpy one."""
    value = draw(st.integers(low, high))
    return draw(st.sampled_from([int, np.int64, np.int32]))(value)


@settings(max_examples=200, deadline=None)
@given(stores(), st.data())
def test_every_supported_key_indexes_as_numpy(
    store_and_full: tuple[WeeklyObservations, np.ndarray], data: st.DataObject
) -> None:
    store, full = store_and_full
    n, horizon, width = full.shape
    assert_same(np.asarray(store), full)
    assert (store.shape, store.ndim, store.dtype, store.size, len(store)) == (full.shape, 3, full.dtype, full.size, n)
    draw = data.draw
    week = integer(draw, -horizon, horizon - 1)
    assert_same(store[:, week], full[:, week])
    assert_same(store.week(week), full[:, week])
    rows = customer_keys(draw, n)
    assert_same(store[rows, week], full[rows, week])
    assert store.week(week, rows).flags.c_contiguous
    if width:
        column = integer(draw, -width, width - 1)
        assert_same(np.array(store[:, :, column]), full[:, :, column])
        assert_same(np.array(store.column(column)), full[:, :, column])
    key = customer_keys(draw, n)
    subset = store[key]
    assert isinstance(subset, WeeklyObservations)
    assert_same(np.asarray(subset), full[key])
    mask = draw(hnp.arrays(bool, (n, horizon)))
    assert_same(store[mask], full[mask])
    assert_same(store[(mask,)], full[(mask,)])
    if n:
        customer = integer(draw, -n, n - 1)
        assert_same(store[customer], full[customer])
    # Any other key: the full array indexed (only the customers of a leading slice built).
    others = [(slice(None), slice(None)), (..., 0), (slice(1, None), slice(None), [0, -1]), (slice(None), [0, -1])]
    for other in others:
        try:
            expected = full[other]
        except IndexError:
            with pytest.raises(IndexError):
                store[other]
            continue
        assert_same(store[other], expected)


@settings(max_examples=100, deadline=None)
@given(stores())
def test_from_array_round_trips_exactly_and_is_smaller(store_and_full: tuple[WeeklyObservations, np.ndarray]) -> None:
    store, full = store_and_full
    compact = WeeklyObservations.from_array(full)
    assert_same(np.asarray(compact), full)
    assert set(store.customer_columns) <= set(compact.customer_columns)  # a column may be constant by chance
    assert compact.per_week.flags.c_contiguous and compact.per_customer.flags.c_contiguous
    n, horizon, _ = full.shape
    assert compact.nbytes <= full.nbytes
    if compact.customer_columns and n and horizon > 1:
        assert compact.nbytes < full.nbytes


@settings(max_examples=100, deadline=None)
@given(stores(), st.data())
def test_from_array_with_a_mask_keeps_the_logged_weeks_and_fills_the_padding_with_the_customer_s_value(
    store_and_full: tuple[WeeklyObservations, np.ndarray], data: st.DataObject
) -> None:
    store, full = store_and_full
    n, horizon, width = full.shape
    mask = data.draw(hnp.arrays(bool, (n, horizon)))
    padded = full.copy()  # the padding weeks hold anything
    padded[~mask] = data.draw(hnp.arrays(np.float32, (int((~mask).sum()), width), elements=VALUES))
    compact = WeeklyObservations.from_array(padded, mask)
    assert set(store.customer_columns) <= set(compact.customer_columns)
    found = np.asarray(compact)
    assert_same(found[mask], padded[mask])
    first = np.argmax(mask, axis=1)
    expected = padded.copy()
    for column in compact.customer_columns:
        expected[:, :, column] = padded[np.arange(n), first, column][:, None]
    assert_same(found, expected)
    if mask.all():
        assert_same(found, padded)


def test_columns_of_either_kind() -> None:
    full = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    full[:, :, 1] = full[:, :1, 1]
    store = WeeklyObservations.from_array(full)
    assert store.customer_columns == (1,) and store.week_columns == (0, 2, 3)
    constant = store.column(1)
    assert not constant.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        constant[0, 0] = 5.0
    assert np.shares_memory(store.column(-1), store.per_week)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 2 with size 4"):
        store.column(4)
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 1 with size 3"):
        store[:, -4]
    assert np.shares_memory(store[1:].per_week, store.per_week)
    with pytest.raises(ValueError, match="copy"):
        np.asarray(store, copy=False)
    assert np.asarray(store, dtype=np.float64).dtype == np.float64
    assert "shape=(2, 3, 4)" in repr(store)


@pytest.mark.parametrize(
    ("per_customer", "per_week", "columns", "message"),
    [
        (np.zeros((2,)), np.zeros((2, 3, 1)), [], r"per_customer of shape \(2,\).*expected \(N, S\)"),
        (np.zeros((2, 1)), np.zeros((2, 3)), [0], r"per_week of shape \(2, 3\).*\(N, H, D - S\)"),
        (np.zeros((2, 1)), np.zeros((3, 4, 1)), [0], "per_customer for 2 customers and per_week for 3"),
        (np.zeros((2, 1), np.float32), np.zeros((2, 3, 1)), [0], "dtype float32 .* dtype float64; expected the same"),
        (np.zeros((2, 1)), np.zeros((2, 3, 1)), [2], r"columns \[2\]; expected 1 sorted, distinct integers in \[0, 2\)"),
        (np.zeros((2, 1)), np.zeros((2, 3, 1)), [-1], r"customer_columns \[-1\]"),
        (np.zeros((2, 2)), np.zeros((2, 3, 1)), [1, 1], r"customer_columns \[1, 1\]"),
        (np.zeros((2, 2)), np.zeros((2, 3, 1)), [2, 0], r"customer_columns \[2, 0\]"),
        (np.zeros((2, 2)), np.zeros((2, 3, 1)), [0], r"customer_columns \[0\]; expected 2"),
        (np.zeros((2, 1)), np.zeros((2, 3, 1)), [0.0], r"customer_columns \[0.0\]"),
    ],
)
def test_constructor_errors_name_what_was_received(per_customer, per_week, columns, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WeeklyObservations(per_customer, per_week, columns)


def test_from_array_errors() -> None:
    with pytest.raises(ValueError, match=r"observations of shape \(2, 3\); expected \(N, H, D\)"):
        WeeklyObservations.from_array(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mask of dtype int64 and shape \(2, 3\); expected bool of shape \(2, 3\)"):
        WeeklyObservations.from_array(np.zeros((2, 3, 1)), np.ones((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match=r"shape \(3, 2\); expected bool of shape \(2, 3\)"):
        WeeklyObservations.from_array(np.zeros((2, 3, 1)), np.ones((3, 2), dtype=bool))


@pytest.fixture(scope="module")
def log() -> tuple[LoggedEpisodes, Any]:
    """A small simulated log with shorter episodes (padding) and estimated propensities; a look-alike fitted on it."""
    frame = simulate_logged_data(300, 4, horizon=6)
    episodes = episodes_from_frame(frame)
    lengths = np.where(np.arange(episodes.n_customers) % 5 == 0, 3, episodes.horizon)
    mask = np.arange(episodes.horizon)[None, :] < lengths[:, None]
    fill = np.minimum(np.arange(episodes.horizon)[None, :], lengths[:, None] - 1)
    episodes = replace(
        episodes,
        observations=np.take_along_axis(episodes.observations, fill[:, :, None], axis=1),
        actions=np.where(mask, episodes.actions, 0).astype(episodes.actions.dtype),
        rewards=np.where(mask, episodes.rewards, 0.0),
        mask=mask,
    )
    return estimate_behavior_policy(episodes), make_policy("lookalike").fit(frame)


def test_the_estimators_give_identical_results_on_the_compact_observations(
    log: tuple[LoggedEpisodes, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, lookalike = log
    compact = replace(log, observations=WeeklyObservations.from_array(log.observations, log.mask))
    assert_same(np.asarray(compact.observations), log.observations)
    assert len(compact.observations.customer_columns) == 12 and compact.observations.nbytes < log.observations.nbytes
    policies = (make_policy("random"), make_policy("biweekly_mens"), lookalike)
    targets = [target_probabilities(policy, log) for policy in policies]
    target = targets[-1]
    full_results = (
        estimate_behavior_policy(log).behavior_probabilities,
        fit_q_evaluation(log, target, model="ridge").q_values,
        *(fit_state_ratios(log, target, learner=learner).ratios for learner in ("regression", "binned")),
    )
    extra = np.random.default_rng(0).random((log.n_customers, log.horizon, 2))
    with_features = fit_q_evaluation(log, target, model="ridge", state_features=extra).q_values
    with monkeypatch.context() as patch:  # none of these builds the full (N, H, D) array
        patch.setattr(WeeklyObservations, "__array__", lambda *_, **__: pytest.fail("the full array was built"))
        assert np.array_equal(compact.subscribed, log.subscribed)
        for policy, expected in zip(policies, targets):
            assert np.array_equal(target_probabilities(policy, compact), expected)
        compact_results = (
            estimate_behavior_policy(compact).behavior_probabilities,
            fit_q_evaluation(compact, target, model="ridge").q_values,
            *(fit_state_ratios(compact, target, learner=learner).ratios for learner in ("regression", "binned")),
        )
        subsets = [compact.subset(c) for c in (np.arange(log.n_customers) % 3 == 0, np.arange(log.n_customers)[::-4])]
    for found, expected in zip(compact_results, full_results, strict=True):
        assert np.array_equal(found, expected)
    with_features_compact = fit_q_evaluation(compact, target, model="ridge", state_features=extra).q_values
    assert np.array_equal(with_features_compact, with_features)
    for customers, part in zip((np.arange(log.n_customers) % 3 == 0, np.arange(log.n_customers)[::-4]), subsets):
        full = log.subset(customers)
        assert isinstance(part.observations, WeeklyObservations)
        assert_same(np.asarray(part.observations), full.observations)
        assert np.array_equal(part.mask, full.mask) and np.array_equal(part.customer_ids, full.customer_ids)
