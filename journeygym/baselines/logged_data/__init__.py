"""Logged campaign data: run a behavior policy in the simulator and keep what a practitioner would.

The seed baselines are trained the way a practitioner trains on past
campaigns (docs/architecture.md, "The seed baselines and logged campaigns"): on a log of who was e-mailed, with which probability,
and what they did afterwards.  Four modules:

* :mod:`~journeygym.baselines.logged_data.schema` -- the table's schema,
  :func:`validate_logged_data`, and its Parquet storage
  (:func:`write_logged_data`, :func:`read_logged_data`);
* :mod:`~journeygym.baselines.logged_data.behavior` -- the policy that chose
  the logged actions, with its propensities (:class:`RandomizedBehavior`);
* :mod:`~journeygym.baselines.logged_data.simulator` -- :func:`simulate_logged_data`
  runs a behavior policy on simulated customers and logs the episode;
* :mod:`~journeygym.baselines.logged_data.ground_truth` -- the exact effects
  (:func:`two_week_purchase_effects`) a log can carry as ground truth.

The names below are the public interface; import them from here.
"""

from __future__ import annotations

from journeygym.baselines.logged_data.behavior import BehaviorPolicy, EpsilonGreedyBehavior, RandomizedBehavior
from journeygym.baselines.logged_data.ground_truth import two_week_purchase_effects
from journeygym.baselines.logged_data.schema import (
    LOGGED_DATA_SCHEMA_VERSION,
    METADATA_KEY,
    LoggedDataError,
    check_propensities,
    log_observation_names,
    logged_data_columns,
    propensity_columns,
    read_logged_data,
    validate_logged_data,
    write_logged_data,
)
from journeygym.baselines.logged_data.simulator import delivered_propensities, episode_plan, simulate_logged_data

__all__ = [
    "LOGGED_DATA_SCHEMA_VERSION",
    "METADATA_KEY",
    "BehaviorPolicy",
    "EpsilonGreedyBehavior",
    "LoggedDataError",
    "RandomizedBehavior",
    "check_propensities",
    "delivered_propensities",
    "episode_plan",
    "log_observation_names",
    "logged_data_columns",
    "propensity_columns",
    "read_logged_data",
    "simulate_logged_data",
    "two_week_purchase_effects",
    "validate_logged_data",
    "write_logged_data",
]
