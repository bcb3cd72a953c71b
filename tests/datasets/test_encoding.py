"""Arm identifiers and the covariate encoding: properties over many inputs."""

from __future__ import annotations

import keyword

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from journeygym.datasets.encoding import fit_encoding, level_text, python_identifiers
from journeygym.datasets.spec import label_text
from journeygym.errors import DataValidationError


def test_identifiers_of_the_hillstrom_arms():
    assert python_identifiers(["No E-Mail", "Mens E-Mail", "Womens E-Mail"]) == ("no_e_mail", "mens_e_mail", "womens_e_mail")


def test_identifiers_of_collisions_numbers_and_keywords():
    assert python_identifiers(["A b", "a-b", "a_b", "a_b_2"]) == ("a_b", "a_b_2", "a_b_3", "a_b_2_2")
    assert python_identifiers([0, "1", "", "!!", "class", "Ünïcode"]) == ("arm_0", "arm_1", "arm", "arm_2", "class_", "n_code")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.integers(-5, 50)), min_size=1, max_size=12))
def test_identifiers_are_unique_valid_and_lower_case(labels):
    names = python_identifiers(labels)
    assert len(names) == len(labels) and len(set(names)) == len(names)
    for name in names:
        assert name.isidentifier() and name.isascii() and name == name.lower() and not keyword.iskeyword(name)


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**9), 10**9))
def test_integral_labels_read_the_same_as_int_float_or_text(n):
    assert label_text(n) == label_text(float(n)) == label_text(str(n)) == level_text(float(n)) == str(n)


_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(1, 4)), elements=_finite))
def test_standardization_round_trips(values):
    frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(values.shape[1])])
    # a column without spread relative to its size is constant in floating point: the encoding refuses it
    if (values.std(axis=0) <= 1e-9 * np.maximum(np.abs(values).max(axis=0), 1.0)).any():
        return
    encoding = fit_encoding(frame, list(frame.columns), [], key="trial.covariates")
    design = encoding.transform(frame)
    assert np.allclose(design.mean(axis=0), 0, atol=1e-6) and np.allclose(design.std(axis=0), 1, atol=1e-6)
    assert np.allclose(encoding.numeric_values(design).to_numpy(), values, rtol=1e-9, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["b", "a", "c", "d"]), min_size=2, max_size=30).filter(lambda v: len(set(v)) > 1))
def test_one_hot_marks_each_row_once_with_the_first_level_as_reference(values):
    frame = pd.DataFrame({"g": values})
    encoding = fit_encoding(frame, [], ["g"], key="trial.covariates")
    levels = sorted(set(values))
    assert encoding.levels == (tuple(levels),)
    assert encoding.columns == tuple(f"g={level}" for level in levels[1:])
    design = encoding.transform(frame)
    assert np.array_equal(design.sum(axis=1), [0.0 if v == levels[0] else 1.0 for v in values])


def test_numeric_levels_sort_as_numbers():
    encoding = fit_encoding(pd.DataFrame({"k": [10, 9, 2, 10]}), [], ["k"], key="trial.covariates")
    assert encoding.levels == (("2", "9", "10"),)


def test_new_data_with_an_unknown_level_is_refused():
    encoding = fit_encoding(pd.DataFrame({"g": ["a", "b"]}), [], ["g"], key="trial.covariates")
    with pytest.raises(DataValidationError, match=r"column 'g' holds the level\(s\) \['z'\] that the trial did not have"):
        encoding.transform(pd.DataFrame({"g": ["a", "z"]}))


def test_text_in_a_numeric_covariate_is_refused():
    with pytest.raises(DataValidationError, match=r"numeric column 'x' holds values that are not finite numbers, e.g. \['n/a'\]"):
        fit_encoding(pd.DataFrame({"x": ["1", "n/a", "3"]}), ["x"], [], key="trial.covariates")
