"""A cell's campaign logs, and the seed baselines fitted on them.

The seed baselines (the score policies) learn from a campaign log as a
practitioner would: :func:`logged_data` simulates the behavior policy
(:func:`campaign_settings`) over the cell's training draws, once per (setting,
seed), and caches it on disk for the other cells; :func:`fit_on_logged_data`
fits a policy on it and tunes its operating point.  The offline benchmark
(:mod:`journeygym.experiments.offline`) simulates its logs with the same
settings and reads them back as episodes, a column at a time.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeygym.baselines.base import Policy
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.experiments.cell_spec import LOGGED, VALIDATION, CellSpec, derived_seed
from journeygym.experiments.config import spread_draws
from journeygym.experiments.store import ResultsWarning, describe_error
from journeygym.records import config_hash

__all__ = ["MAX_TUNING_DRAWS", "campaign_settings", "fit_on_logged_data", "logged_data", "read_cached_log"]

#: Posterior draws the operating point of a seed baseline is tuned on (spread over the training draws).
MAX_TUNING_DRAWS = 4


def read_cached_log(path: Path, read: Callable[[Path], Any] | None = None, kind: str = "campaign") -> Any:
    """A cached log read by ``read`` (default: as a table), or None when it does not read back.

    A file that does not read back is named, with the ``kind`` of log, in a :class:`ResultsWarning`.
    """
    import pyarrow as pa

    from journeygym.baselines.logged_data import read_logged_data

    try:
        return (read_logged_data if read is None else read)(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        warnings.warn(f"cached {kind} log {str(path)!r} does not read back ({describe_error(exc)}); simulating it again.", ResultsWarning, stacklevel=3)
        return None


def campaign_settings(spec: CellSpec) -> dict[str, Any]:
    """How a cell's campaign logs are simulated: its behavior policy, training draws and scenario."""
    from journeygym.baselines.logged_data import RandomizedBehavior

    draws = [d for d in spec.training_draws if d != "mean"]
    return {
        "behavior": RandomizedBehavior(email_probability=spec.email_probability),
        "params": draws if draws else "mean",
        "artifact": spec.artifact,
        "scenario": spec.assumptions,
    }


def logged_data(spec: CellSpec) -> Any:
    """The campaign log of this (setting, seed), simulated once and cached on disk for the other baselines."""
    from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data

    identity = [spec.setting_index, spec.seed, spec.logged_customers, spec.email_probability, [str(d) for d in spec.training_draws]]
    key = f"setting{spec.setting_index}-seed{spec.seed}-{config_hash({'log': identity})[:10]}"
    path = Path(spec.log_cache_dir) / f"{key}.parquet"
    if path.is_file():
        cached = read_cached_log(path)
        if cached is not None:
            return cached
    frame = simulate_logged_data(spec.logged_customers, derived_seed(spec.seed, LOGGED), **campaign_settings(spec))
    write_logged_data(frame, path)
    return frame


def fit_on_logged_data(policy: Policy, spec: CellSpec) -> dict[str, Any]:
    """Adapter for the seed baselines: log a campaign, fit the scoring models, tune the operating point.

    The practitioner's pipeline (``journeygym evaluate`` runs these cells): the
    behavior policy (Hillstrom-like randomization) is logged on the training
    draws, the policy fits its scoring models on that log, and its operating
    point (threshold or contact budget) is chosen on validation rollouts.

    Returns
    -------
    dict
        What was tuned (recorded with the cell).
    """
    from journeygym.baselines.targeting import ScorePolicy
    from journeygym.experiments.tuning import customers_per_part, tune_operating_point

    if isinstance(getattr(policy, "assumptions", None), ScenarioAssumptions):
        policy.assumptions = spec.assumptions  # the net gain uses the setting's margin and costs
    frame = logged_data(spec)
    policy.fit(frame)
    if not isinstance(policy, ScorePolicy):
        return {}
    # Tuning rolls out every candidate on each draw: a few draws with more customers each
    # cost far less than many small rollouts (per-week model calls dominate small batches).
    draws = [spec.training_draws[i] for i in spread_draws(min(len(spec.training_draws), MAX_TUNING_DRAWS), len(spec.training_draws))]
    per_draw = customers_per_part(spec.tune_customers, len(draws))
    tuned = tune_operating_point(
        policy,
        frame,
        n_customers=per_draw,
        seeds=[derived_seed(spec.seed, VALIDATION, i) for i in range(len(draws))],
        draws=draws,
        artifact=spec.artifact,
        scenario=spec.assumptions,
    )
    return {"threshold": tuned["threshold"], "budget": tuned["budget"], "validation_return": tuned["mean_return"]}
