"""Provenance recorded with every result and artifact (package version, config hash, seed), and their JSON form.

A top-level module so that every part (calibration, baselines, experiments) can
use it without importing from ``experiments``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

import journeygym


def config_hash(config: Mapping[str, Any]) -> str:
    """Short SHA-256 of a configuration's canonical JSON form."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def provenance(config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The record every table and artifact carries."""
    return {"version": journeygym.__version__, "config_hash": config_hash(config), "seed": seed}


def to_jsonable(value: Any, *, nonfinite_as_none: bool = False) -> Any:
    """``value`` in plain JSON types: mappings, lists and tuples recursively, numpy scalars and
    arrays as Python numbers and lists, data frames as lists of records.

    ``nonfinite_as_none`` replaces NaN and infinities by ``None`` (strict JSON has neither).
    """
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item, nonfinite_as_none=nonfinite_as_none) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, nonfinite_as_none=nonfinite_as_none) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), nonfinite_as_none=nonfinite_as_none)
    pandas = sys.modules.get("pandas")  # a data frame can only exist once pandas is imported
    if pandas is not None and isinstance(value, pandas.DataFrame):
        return to_jsonable(value.to_dict(orient="records"), nonfinite_as_none=nonfinite_as_none)
    if isinstance(value, np.generic):
        value = value.item()
    if nonfinite_as_none and isinstance(value, float) and not math.isfinite(value):
        return None
    return value
