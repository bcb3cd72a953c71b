"""Provenance recorded with every result and artifact: package version, config hash, seed.

A top-level module so that every part (calibration, baselines, experiments) can
use it without importing from ``experiments``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import journeygym


def config_hash(config: Mapping[str, Any]) -> str:
    """Short SHA-256 of a configuration's canonical JSON form."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def provenance(config: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """The record every table and artifact carries."""
    return {"version": journeygym.__version__, "config_hash": config_hash(config), "seed": seed}
