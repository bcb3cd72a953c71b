"""The offline benchmark of a cell: off-policy estimates of its policy on simulated logs, with the truth.

For each logging seed ``i`` of the config's ``offline:`` section, a log of the
behavior policy (uniform, or a policy run epsilon-greedy) is simulated on
``offline.customers`` customers over the cell's training draws with seed
``(seed, OFFLINE, i)`` (:mod:`journeygym.experiments.cell_spec`) and cached on
disk for the other cells (:mod:`journeygym.experiments.campaign_logs`).  The
cell's policy is then estimated from that log by every estimator
(:func:`journeygym.ope.evaluate.evaluate_policies`) and rolled out in the
simulator on the log's own customers for its true value
(:func:`journeygym.ope.truth.true_values_of_log`).  A policy that needs the
hidden state (the oracle) gets its true value only: it is the reference of the
regret.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from journeygym.baselines.base import Policy
from journeygym.experiments.campaign_logs import campaign_settings, fit_on_logged_data, read_cached_log
from journeygym.experiments.cell_spec import OFFLINE, CellSpec, derived_seed
from journeygym.records import config_hash

__all__ = ["offline_log", "offline_records"]


def _behavior(spec: CellSpec, offline: Mapping[str, Any]) -> Any:
    from journeygym.agents.registry import resolve, training_mode
    from journeygym.baselines.agent_protocol import as_policy
    from journeygym.baselines.logged_data import EpsilonGreedyBehavior, RandomizedBehavior

    if offline["behavior"] == "uniform":
        from journeygym.envs.artifact import load_parameters

        n_actions = load_parameters(spec.artifact).mean.n_actions
        return RandomizedBehavior(email_probability=(n_actions - 1) / n_actions)
    policy = resolve(offline["behavior"]).create()
    policy.name = offline["behavior"]
    if training_mode(policy) == "logged_data":
        fit_on_logged_data(policy, spec)
    return EpsilonGreedyBehavior(as_policy(policy), float(offline["epsilon"]))


def offline_log(spec: CellSpec, index: int) -> pd.DataFrame:
    """The ``index``-th offline log of this (setting, seed), simulated once and cached for the other cells."""
    from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data

    offline = dict(spec.offline)
    identity = [
        spec.setting_index, spec.seed, index, offline["behavior"], offline["epsilon"], offline["customers"],
        [str(d) for d in spec.training_draws], spec.logged_customers, spec.email_probability,
    ]
    path = Path(spec.log_cache_dir) / f"offline-setting{spec.setting_index}-seed{spec.seed}-log{index}-{config_hash({'offline': identity})[:10]}.parquet"
    if path.is_file():
        cached = read_cached_log(path)
        if cached is not None:
            return cached
    settings = {**campaign_settings(spec), "behavior": _behavior(spec, offline)}
    frame = simulate_logged_data(int(offline["customers"]), derived_seed(spec.seed, OFFLINE, index), **settings)
    write_logged_data(frame, path)
    return frame


def _ratio_options(offline: Mapping[str, Any]) -> dict[str, Any]:
    """The state-ratio learner and clip level of the section (the package's defaults where it leaves them out)."""
    return {key: offline[key] for key in ("ratio_learner", "ratio_clip") if offline.get(key) is not None}


def offline_records(policy: Policy, spec: CellSpec) -> list[dict[str, Any]]:
    """One record per (logging seed, estimator) with the estimate and the true value on the log's customers."""
    from journeygym.ope.episodes import episodes_from_frame
    from journeygym.ope.evaluate import evaluate_policies
    from journeygym.ope.truth import true_values_of_log

    offline = dict(spec.offline)
    records: list[dict[str, Any]] = []
    for index in range(int(offline["logging_seeds"])):
        frame = offline_log(spec, index)
        truth = true_values_of_log({policy.name: policy}, frame, artifact=spec.artifact, scenario=spec.assumptions)[policy.name]
        base = {
            "logging_seed": index,
            "behavior": offline["behavior"],
            "epsilon": None if offline["behavior"] == "uniform" else float(offline["epsilon"]),
            "log_customers": int(offline["customers"]),
            "true_value": float(truth.mean),
            "true_standard_error": float(truth.standard_error),
        }
        if policy.uses_hidden_state:
            records.append({**base, "estimator": None})
            continue
        result = evaluate_policies(
            {policy.name: policy},
            episodes_from_frame(frame),
            estimators=offline.get("estimators"),
            fqe_model=offline.get("fqe_model"),
            fqe_features=offline.get("fqe_features", "observation"),
            artifact=spec.artifact,
            **_ratio_options(offline),
            n_bootstrap=int(offline["bootstrap"]),
            confidence=float(offline["confidence"]),
            seed=spec.seed,
        )
        evaluation = result.evaluations[0]
        diagnostics = evaluation.diagnostics.as_dict()
        for name, estimate in evaluation.estimates.items():
            records.append(
                {**base, **estimate.as_dict(), "estimator": name, "diagnostics": diagnostics}
            )
    return records
