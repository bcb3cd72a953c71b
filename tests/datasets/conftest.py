"""Small synthetic trials and logs written to a temporary directory, and specs naming them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from journeygym.datasets.spec import DatasetSpec, validate_spec

ARMS = ("No", "Mens E-Mail", "Womens E-Mail")
ROWS_PER_ARM = 40


def _trial_frame(rows_per_arm: int = ROWS_PER_ARM, seed: int = 0) -> pd.DataFrame:
    """A randomized trial: control ``No`` and two arms, 0/1 outcomes, spend, numeric and text covariates."""
    rng = np.random.default_rng(seed)
    arms = rng.permutation(np.repeat(ARMS, rows_per_arm))
    n = len(arms)
    purchase = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "customer": np.arange(1, n + 1),
            "Promotion": arms,
            "purchase": purchase,
            "visited": np.maximum(purchase, rng.integers(0, 2, n)),
            "spend": np.round(purchase * rng.gamma(2.0, 20.0, n), 2),
            "V1": rng.normal(50.0, 10.0, n),
            "V2": rng.choice(["north", "south", "west"], n),
            "V3": rng.integers(0, 5, n),
            "months": rng.integers(1, 13, n),
        }
    )


def _log_frame(customers: int = 3 * ROWS_PER_ARM, seed: int = 1) -> pd.DataFrame:
    """A transaction log of ``customers`` customers (ids 1..n), two to four purchases each in the first half of 2020."""
    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(1, customers + 1):
        for day in rng.choice(180, size=rng.integers(2, 5), replace=False):
            date = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(day))
            rows.append({"customer_id": customer, "timestamp": f"{date:%Y-%m-%d}", "amount": round(float(rng.gamma(2.0, 15.0)) + 1, 2)})
    return pd.DataFrame(rows)


def _spec_data(**sections: Any) -> dict[str, Any]:
    """The keys of a spec naming ``trial.csv`` and ``log.csv``; ``trial={...}`` etc. update a section's keys."""
    data: dict[str, Any] = {
        "trial": {
            "path": "trial.csv",
            "treatment": "Promotion",
            "control": "No",
            "window_weeks": 2,
            "outcomes": {"conversion": "purchase", "visit": "visited", "spend": "spend"},
            "covariates": ["V1", "V2", "V3"],
            "customer_id": "customer",
        },
        "log": {"path": "log.csv"},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return data


MakeSpec = Callable[..., DatasetSpec]


@pytest.fixture
def make_spec(tmp_path: Path) -> MakeSpec:
    """``make_spec(trial_csv=frame, log_csv=frame, **sections)``: write the files and return the validated spec.

    ``trial_csv`` and ``log_csv`` default to the ``trial_frame()`` and ``log_frame()``
    fixtures' frames; ``sections`` update the keys of ``spec_data()``.
    """

    def make(trial_csv: pd.DataFrame | None = None, log_csv: pd.DataFrame | None = None, **sections: Any) -> DatasetSpec:
        (_trial_frame() if trial_csv is None else trial_csv).to_csv(tmp_path / "trial.csv", index=False)
        (_log_frame() if log_csv is None else log_csv).to_csv(tmp_path / "log.csv", index=False)
        return validate_spec(_spec_data(**sections), base_dir=tmp_path)

    return make


@pytest.fixture
def trial_frame() -> Callable[..., pd.DataFrame]:
    """``trial_frame(rows_per_arm=40, seed=0)``: a synthetic trial (see :func:`_trial_frame`)."""
    return _trial_frame


@pytest.fixture
def log_frame() -> Callable[..., pd.DataFrame]:
    """``log_frame(customers=120, seed=1)``: a synthetic log of customers 1..n."""
    return _log_frame


@pytest.fixture
def spec_data() -> Callable[..., dict[str, Any]]:
    """``spec_data(**sections)``: the keys of a spec naming ``trial.csv`` and ``log.csv``."""
    return _spec_data
