"""One cell of an experiment: build a policy, train it if it learns, evaluate it on every draw.

A cell is (scenario setting, policy, seed) -- or (setting, policy, seed, draw)
when agents are trained per draw.  :func:`execute_cell` is a pure function of
its :class:`CellSpec`: every random number comes from seeds derived from the
spec, and torch and the gradient-boosting models run on one thread, so a cell
gives the same rows in any process, on any backend.

Seeds
-----
All derived with ``numpy.random.SeedSequence([seed, purpose, ...])``:

* evaluation of draw ``d``: ``(seed, EVALUATION, d)`` -- the same for every
  policy and every setting (common random numbers: paired comparisons); the
  posterior mean uses ``d = MEAN_SEED_KEY``;
* training of simulator agents: ``(seed, TRAINING[, d])``;
* the logged campaign data of the seed baselines: ``(seed, LOGGED)``;
* the validation rollouts that tune their operating point: ``(seed, VALIDATION, i)``;
* the held-out log on which the scoring models' metrics are measured: ``(seed, HOLDOUT)``;
* the offline benchmark's log ``i``: ``(seed, OFFLINE, i)`` (:mod:`journeygym.experiments.offline`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from journeygym.agents.protocol import AgentPolicy
from journeygym.agents.registry import resolve, training_mode
from journeygym.baselines.base import Policy
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.experiments.config import spread_draws
from journeygym.experiments.store import ResultsWarning, describe_error
from journeygym.experiments.tracing import TracedRollout, traced_rollout
from journeygym.records import config_hash, to_jsonable

__all__ = [
    "RESULT_SCHEMA",
    "CellSpec",
    "campaign_settings",
    "derived_seed",
    "evaluation_seed",
    "execute_cell",
    "fit_on_logged_data",
    "logged_data",
]

EVALUATION, TRAINING, LOGGED, VALIDATION, HOLDOUT = 1, 2, 3, 4, 5
#: Posterior draws the operating point of a seed baseline is tuned on (spread over the training draws).
MAX_TUNING_DRAWS = 4
#: Customers are split into this many blocks whose mean returns are stored; paired block
#: differences give intervals over customers when there is one seed and one draw.
N_BLOCKS = 32


def _result_schema() -> Any:
    import pyarrow as pa

    text, integer, real = pa.string(), pa.int64(), pa.float64()
    columns = {
        "experiment": text, "config_hash": text, "version": text, "artifact_sha256": text,
        "cell_id": text, "policy": text, "kind": text, "training": text, "uses_hidden_state": pa.bool_(),
        "setting": integer, "setting_label": text, "setting_overrides": text,
        "carryover": real, "kappa": real, "unsubscribe_probability": real, "u1": real,
        "seed": integer, "draw": integer, "draw_position": integer, "evaluation_seed": integer,
        "customers": integer, "horizon": integer,
        "mean_return": real, "std_return": real, "block_returns": pa.list_(real),
        "contacts_per_customer": real, "contact_rate": real, "email_gaps": pa.list_(integer),
        "repeat_contact_share": real, "unsubscribe_rate": real, "purchases_per_customer": real,
        "contacts_by_segment": pa.list_(integer), "weeks_by_segment": pa.list_(integer),
        "contacts_by_state": pa.list_(integer), "weeks_by_state": pa.list_(integer), "state_names": pa.list_(text),
        "timesteps": integer, "hyperparameters": text, "policy_params": text,
        "model_path": text, "log_dir": text, "tuning": text,
        "train_seconds": real, "eval_seconds": real, "worker_pid": integer,
        "offline": text, "offline_seconds": real,
        "contact_budget": real, "contact_budget_per_1000": real, "cap_emails": integer, "cap_weeks": integer,
        "enforcement": text, "requested_contact_rate": real, "capped_share": real, "thinned_share": real,
        "max_weekly_contact_share": real, "budget_violations": integer, "value_bound": real, "email_price": real,
    }
    return pa.schema(list(columns.items()))


#: Columns of the result rows (one per cell and draw), so every cell file has the same schema
#: and the ``cells/`` directory reads as one Parquet dataset.
RESULT_SCHEMA = _result_schema()


def derived_seed(seed: int, purpose: int, *extra: int) -> int:
    """A 32-bit seed for ``purpose`` derived from the experiment seed (independent streams); keys are non-negative."""
    return int(np.random.SeedSequence([int(seed), purpose, *(int(e) for e in extra)]).generate_state(1)[0])


@dataclass(frozen=True)
class CellSpec:
    """Everything a worker needs to compute one cell (picklable).

    Attributes
    ----------
    cell_id
        Unique id; also the result file's name.
    policy, kind, hyperparameters, timesteps
        The policy's label, registry reference, keyword arguments and training budget.
    setting_index, setting_label, setting_overrides, assumptions
        The scenario setting.
    seed
        The experiment seed of this cell.
    draws
        Evaluation draws: indices, or ``"mean"``.
    training_params
        What simulator agents train on (``"sample"``, ``"mean"`` or an index).
    training_draws
        Draws that logged data and operating-point tuning use.
    customers
        Customers per evaluation draw.
    artifact
        Artifact path (None: the shipped one).
    logged_customers, tune_customers, email_probability
        Seed baselines: size of the log, validation customers, behavior policy's e-mail rate.
    model_dir, log_cache_dir
        Where to save the trained agent and logs, and where logged data is cached.
    record
        Provenance columns written into every row (experiment, config hash, version).
    offline
        The config's ``offline:`` section, or None (see :mod:`journeygym.experiments.offline`).
    """

    cell_id: str
    policy: str
    kind: str
    hyperparameters: Mapping[str, Any]
    timesteps: int | None
    setting_index: int
    setting_label: str
    setting_overrides: Mapping[str, Any]
    assumptions: ScenarioAssumptions
    seed: int
    draws: tuple[int | str, ...]
    training_params: str | int
    training_draws: tuple[int | str, ...]
    customers: int
    artifact: str | None
    logged_customers: int
    tune_customers: int
    email_probability: float
    model_dir: str
    log_cache_dir: str
    record: Mapping[str, Any] = field(default_factory=dict)
    offline: Mapping[str, Any] | None = None


@contextlib.contextmanager
def _single_threaded() -> Iterator[None]:
    """Torch, numba and the OpenMP/BLAS pools on one thread (deterministic, no oversubscription)."""
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    previous, previous_numba = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(previous)
        numba.set_num_threads(previous_numba)


def _draw_number(draw: int | str) -> int:
    return -1 if draw == "mean" else int(draw)


#: Seed key of the posterior mean's evaluation (seed keys must be non-negative; no artifact holds this many draws).
MEAN_SEED_KEY = 2**32 - 1


def evaluation_seed(seed: int, draw: int | str) -> int:
    """The seed every policy is evaluated with on ``draw`` (an index or ``"mean"``): common random numbers."""
    return derived_seed(seed, EVALUATION, MEAN_SEED_KEY if draw == "mean" else int(draw))


def _env_factory(spec: CellSpec, params: str | int) -> Any:
    from journeygym.envs.sb3_adapter import JourneyVecEnv

    def factory(n_envs: int) -> Any:
        return JourneyVecEnv(n_envs, params=params, artifact=spec.artifact, scenario=spec.assumptions)

    return factory


def read_cached_log(path: Path) -> Any:
    """A cached campaign log, or None (with a :class:`ResultsWarning` naming it) when it does not read back."""
    import pyarrow as pa

    from journeygym.baselines.logged_data import read_logged_data

    try:
        return read_logged_data(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        warnings.warn(f"cached campaign log {str(path)!r} does not read back ({describe_error(exc)}); simulating it again.", ResultsWarning, stacklevel=3)
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


def _block_means(values: np.ndarray) -> list[float]:
    return [float(block.mean()) for block in np.array_split(values, min(N_BLOCKS, values.size))]


def _build(spec: CellSpec, training_params: str | int, model_dir: Path) -> tuple[Policy, str, dict[str, Any]]:
    """Create the policy, train it as it needs; returns (policy, training mode, training record)."""
    obj = resolve(spec.kind).create(**dict(spec.hyperparameters))
    obj.name = spec.policy
    mode = training_mode(obj)
    record: dict[str, Any] = {}
    started = time.perf_counter()
    if mode == "simulator":
        if getattr(obj, "tensorboard_log", "absent") is None:
            obj.tensorboard_log = str(model_dir / "logs")
        obj.fit(_env_factory(spec, training_params), int(spec.timesteps or 0), spec.seed)
        if callable(getattr(obj, "save", None)):
            obj.save(model_dir / "agent")
            record["model_path"] = str(model_dir / "agent")
        if getattr(obj, "tensorboard_log", None):
            record["log_dir"] = str(obj.tensorboard_log)
    elif mode == "logged_data":
        record["tuning"] = fit_on_logged_data(obj, spec)
    record["train_seconds"] = time.perf_counter() - started
    policy = obj if isinstance(obj, Policy) else AgentPolicy(obj)
    return policy, mode, record


def contact_columns(run: Any, assumptions: ScenarioAssumptions) -> dict[str, Any]:
    """The result columns of the contact rules: the rules, how they were enforced and what they blocked."""
    requested = int(run.requested.sum())
    subscribed = np.maximum(run.weekly_subscribed, 1)
    budgeted = run.weekly_budget >= 0
    return {
        "contact_budget": assumptions.contact_budget,
        "contact_budget_per_1000": assumptions.contact_budget_per_1000,
        "cap_emails": assumptions.cap_emails,
        "cap_weeks": assumptions.cap_weeks,
        "enforcement": run.enforcement,
        "requested_contact_rate": float(run.requested.mean() / run.horizon),
        "capped_share": run.capped / requested if requested else 0.0,
        "thinned_share": run.thinned / requested if requested else 0.0,
        "max_weekly_contact_share": float(np.max(run.weekly_contacts / subscribed)),
        "budget_violations": int(np.count_nonzero(run.weekly_contacts[budgeted] > run.weekly_budget[budgeted])),
    }


def execute_cell(spec: CellSpec) -> list[dict[str, Any]]:
    """Train (if needed) and evaluate one cell; returns one row per evaluation draw."""
    model_dir = Path(spec.model_dir)
    with _single_threaded():
        policy, mode, record = _build(spec, spec.training_params, model_dir)
        rows = []
        for position, draw in enumerate(spec.draws):
            started = time.perf_counter()
            eval_seed = evaluation_seed(spec.seed, draw)
            traced: TracedRollout = traced_rollout(
                policy, n_customers=spec.customers, seed=eval_seed, params=draw, artifact=spec.artifact,
                scenario=spec.assumptions,
            )
            run = traced.rollout
            rows.append(
                {
                    **dict(spec.record),
                    "cell_id": spec.cell_id,
                    "policy": spec.policy,
                    "kind": spec.kind,
                    "training": mode,
                    "uses_hidden_state": bool(policy.uses_hidden_state),
                    "setting": spec.setting_index,
                    "setting_label": spec.setting_label,
                    "setting_overrides": json.dumps(dict(spec.setting_overrides), sort_keys=True),
                    "carryover": spec.assumptions.carryover,
                    "kappa": spec.assumptions.kappa,
                    "unsubscribe_probability": spec.assumptions.unsubscribe_base_probability,
                    "u1": spec.assumptions.u1,
                    "seed": spec.seed,
                    "draw": _draw_number(draw),
                    "draw_position": position,
                    "evaluation_seed": eval_seed,
                    "customers": spec.customers,
                    "horizon": run.horizon,
                    "mean_return": float(run.returns.mean()),
                    "std_return": float(run.returns.std(ddof=1)) if run.returns.size > 1 else 0.0,
                    "block_returns": _block_means(run.returns),
                    "contacts_per_customer": float(run.contacts.mean()),
                    "contact_rate": float(run.contacts.mean() / run.horizon),
                    "email_gaps": run.email_gaps.tolist(),
                    "repeat_contact_share": float(np.mean(run.contacts >= 2)),
                    "unsubscribe_rate": float(run.unsubscribed.mean()),
                    "purchases_per_customer": float(run.purchases.mean()),
                    "contacts_by_segment": traced.contacts_by_segment.tolist(),
                    "weeks_by_segment": traced.weeks_by_segment.tolist(),
                    "contacts_by_state": traced.contacts_by_state.tolist(),
                    "weeks_by_state": traced.weeks_by_state.tolist(),
                    "state_names": list(traced.state_names),
                    "timesteps": spec.timesteps,
                    "hyperparameters": json.dumps(dict(spec.hyperparameters), sort_keys=True, default=str),
                    "policy_params": json.dumps(to_jsonable(policy.get_params()), sort_keys=True, default=str),
                    "model_path": record.get("model_path"),
                    "log_dir": record.get("log_dir"),
                    "tuning": json.dumps(record.get("tuning") or {}, sort_keys=True, default=str),
                    "train_seconds": float(record["train_seconds"]),
                    "eval_seconds": time.perf_counter() - started,
                    "worker_pid": os.getpid(),
                    "offline": None,
                    "offline_seconds": None,
                    **contact_columns(run, spec.assumptions),
                    **{key: policy.evaluation_record().get(key) for key in ("value_bound", "email_price")},
                }
            )
        if spec.offline is not None and rows:
            from journeygym.experiments.offline import offline_records

            started = time.perf_counter()
            records = offline_records(policy, spec)
            rows[0]["offline"] = json.dumps({"records": to_jsonable(records, nonfinite_as_none=True)}, sort_keys=True)
            rows[0]["offline_seconds"] = time.perf_counter() - started
    return rows

