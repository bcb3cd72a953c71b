"""One cell of an experiment: build a policy, train it if it learns, evaluate it on every draw.

A cell is (scenario setting, policy, seed) -- or (setting, policy, seed, draw)
when agents are trained per draw.  :func:`execute_cell` is a pure function of
its :class:`~journeygym.experiments.cell_spec.CellSpec`: every random number
comes from seeds derived from the spec (listed in
:mod:`journeygym.experiments.cell_spec`), and torch and the gradient-boosting
models run on one thread, so a cell gives the same rows in any process, on any
backend.  The seed baselines learn from the cell's campaign log
(:mod:`journeygym.experiments.campaign_logs`); with an ``offline:`` section the
cell also runs the offline benchmark (:mod:`journeygym.experiments.offline`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from journeygym.agents.learning_curves import curve_record
from journeygym.agents.registry import resolve, training_mode
from journeygym.baselines.agent_protocol import AgentPolicy
from journeygym.baselines.base import Policy
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.experiments.campaign_logs import fit_on_logged_data
from journeygym.experiments.cell_spec import CellSpec, evaluation_seed
from journeygym.experiments.offline import offline_records
from journeygym.experiments.tracing import TracedRollout, traced_rollout
from journeygym.records import to_jsonable

# CellSpec, evaluation_seed and fit_on_logged_data are defined in cell_spec and campaign_logs; the runner
# and scripts import them from here.
__all__ = ["RESULT_SCHEMA", "CellSpec", "evaluation_seed", "execute_cell", "fit_on_logged_data"]

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
        "segment_names": pa.list_(text),
        "timesteps": integer, "hyperparameters": text, "policy_params": text,
        "model_path": text, "log_dir": text, "tuning": text,
        "train_seconds": real, "eval_seconds": real, "worker_pid": integer,
        "offline": text, "offline_seconds": real, "learning_curve": text, "learning_curve_seconds": pa.list_(real),
        "contact_budget": real, "contact_budget_per_1000": real, "cap_emails": integer, "cap_weeks": integer,
        "enforcement": text, "requested_contact_rate": real, "capped_share": real, "thinned_share": real,
        "max_weekly_contact_share": real, "budget_violations": integer, "value_bound": real, "email_price": real,
    }
    return pa.schema(list(columns.items()))


#: Columns of the result rows (one per cell and draw), so every cell file has the same schema
#: and the ``cells/`` directory reads as one Parquet dataset.
RESULT_SCHEMA = _result_schema()


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


def _env_factory(spec: CellSpec, params: str | int) -> Any:
    from journeygym.envs.sb3_adapter import JourneyVecEnv

    def factory(n_envs: int) -> Any:
        return JourneyVecEnv(n_envs, params=params, artifact=spec.artifact, scenario=spec.assumptions)

    return factory


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _block_means(values: np.ndarray) -> list[float]:
    return [float(block.mean()) for block in np.array_split(values, min(N_BLOCKS, values.size))]


def _build(spec: CellSpec, training_params: str | int, model_dir: Path) -> tuple[Policy, str, dict[str, Any]]:
    """Create the policy, train it as it needs; returns (policy, training mode, training record)."""
    obj = resolve(spec.kind).create(**dict(spec.hyperparameters))
    obj.name = spec.policy
    mode = training_mode(obj)
    record: dict[str, Any] = {}
    started = time.perf_counter()
    if spec.device is not None and hasattr(obj, "device") and "device" not in spec.hyperparameters:
        obj.device = spec.device  # the torch agents: PPO and DQN in the simulator, CQL on the log
    if mode == "simulator":
        if getattr(obj, "tensorboard_log", "absent") is None:
            obj.tensorboard_log = str(model_dir / "logs")
        obj.fit(_env_factory(spec, training_params), int(spec.timesteps or 0), spec.seed)
        record["learning_curve"], record["learning_curve_seconds"] = curve_record(getattr(obj, "learning_curve_", None))
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
                    "mean_return": run.mean_return,
                    "std_return": float(run.returns.std(ddof=1)) if run.returns.size > 1 else 0.0,
                    "block_returns": _block_means(run.returns),
                    "contacts_per_customer": float(run.contacts.mean()),
                    "contact_rate": run.contact_rate,
                    "email_gaps": run.email_gaps.tolist(),
                    "repeat_contact_share": float(np.mean(run.contacts >= 2)),
                    "unsubscribe_rate": float(run.unsubscribed.mean()),
                    "purchases_per_customer": float(run.purchases.mean()),
                    "contacts_by_segment": traced.contacts_by_segment.tolist(),
                    "weeks_by_segment": traced.weeks_by_segment.tolist(),
                    "contacts_by_state": traced.contacts_by_state.tolist(),
                    "weeks_by_state": traced.weeks_by_state.tolist(),
                    "state_names": list(traced.state_names),
                    "segment_names": list(traced.segment_names),
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
                    "learning_curve": _json_or_none(record.get("learning_curve")),
                    "learning_curve_seconds": record.get("learning_curve_seconds"),
                    **contact_columns(run, spec.assumptions),
                    **{key: policy.evaluation_record().get(key) for key in ("value_bound", "email_price")},
                }
            )
        if spec.offline is not None and rows:
            started = time.perf_counter()
            records = offline_records(policy, spec)
            rows[0]["offline"] = json.dumps({"records": to_jsonable(records, nonfinite_as_none=True)}, sort_keys=True)
            rows[0]["offline_seconds"] = time.perf_counter() - started
    return rows

