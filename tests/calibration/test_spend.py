"""The spend model pools segment means towards the overall mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeygym.calibration.spend import fit_spend_model


def _trial(rng, means, counts):
    rows = []
    for g, (mean, count) in enumerate(zip(means, counts)):
        rows += [{"segment_idx": g, "conversion": 1, "spend": s} for s in np.exp(rng.normal(mean, 0.8, count))]
    rows += [{"segment_idx": 0, "conversion": 0, "spend": 0.0}] * 10
    return pd.DataFrame(rows)


def test_recovers_segment_means_with_many_converters():
    rng = np.random.default_rng(0)
    means = np.array([4.0, 4.2, 4.4, 4.6, 4.8, 5.0, 5.2])
    model = fit_spend_model(_trial(rng, means, [4000] * 7))
    np.testing.assert_allclose(model.log_mean, means, atol=0.05)
    assert model.log_sd == pytest.approx(0.8, abs=0.02)


def test_sparse_segment_is_shrunk_towards_the_overall_mean():
    rng = np.random.default_rng(1)
    means = np.array([4.4] * 6 + [6.0])
    model = fit_spend_model(_trial(rng, means, [500] * 6 + [3]))
    raw = np.log(_trial(np.random.default_rng(1), means, [500] * 6 + [3]).query("segment_idx == 6").spend).mean()
    assert abs(model.log_mean[6] - 4.4) < abs(raw - 4.4)
    assert model.log_mean_sd[6] > model.log_mean_sd[0]


def test_no_converters_is_a_clear_error():
    with pytest.raises(ValueError, match="no converters"):
        fit_spend_model(pd.DataFrame({"segment_idx": [0], "conversion": [0], "spend": [0.0]}))
