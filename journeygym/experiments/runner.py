"""The experiment runner: expand the grid, run the cells, store each at once, resume, report.

``run_experiment(config)`` plans one cell per (scenario setting, policy, seed)
-- per (setting, policy, seed, draw) with ``training.per_draw`` -- skips cells
already in the results directory when resuming, runs the others on the
configured backend, and writes every finished cell to the
:class:`~journeygym.experiments.store.ResultStore` as soon as it arrives.
Agents train once per cell and are evaluated on every draw of the cell, with
the same customers and weekly noise as every other policy.

``journeygym run CONFIG.yaml|PRESET [--out DIR] [--resume]`` (presets: quick, full, sensitivity, offline, offline-realistic, budgets)
is :func:`run_command`.

A run stops cleanly, every finished cell kept and resumable with ``--resume``:

- on SIGINT or SIGTERM (:mod:`journeygym.experiments.interrupts`): within
  seconds, raising :class:`~journeygym.experiments.interrupts.RunInterrupted`
  with the number of cells stored; a cell being stored is stored first, the
  cells being computed are abandoned;
- when the disk is full or the quota spent (ENOSPC, EDQUOT), raising
  :class:`ResultsDiskFullError`: every file is written atomically, so what is
  stored is complete.
"""

from __future__ import annotations

import errno
import re
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

import journeygym
from journeygym.envs.artifact import load_parameters
from journeygym.envs.parameters import assumptions_with_overrides
from journeygym.experiments.backends import Backend, TaskFailed, make_backend
from journeygym.experiments.cells import RESULT_SCHEMA, CellSpec, execute_cell
from journeygym.experiments.config import ExperimentConfig, settings_of, spread_draws
from journeygym.experiments.interrupts import InterruptGuard, RunInterrupted
from journeygym.experiments.store import (
    ResultStore,
    ResultsWarning,
    atomic_write_text,
)
from journeygym.files import ensure_output_dir, is_disk_full, sha256_of_file
from journeygym.records import config_hash

__all__ = [
    "NONDETERMINISTIC_COLUMNS",
    "CellError",
    "ResultsDiskFullError",
    "ResultsExistError",
    "RunInterrupted",
    "RunResult",
    "default_output_dir",
    "load_results",
    "plan_cells",
    "run_experiment",
    "stored_cells_text",
]

#: Columns that legitimately differ between two runs of the same config (timings, paths, processes).
NONDETERMINISTIC_COLUMNS: tuple[str, ...] = (
    "train_seconds", "eval_seconds", "offline_seconds", "learning_curve_seconds", "worker_pid", "model_path", "log_dir",
)
#: Training-draw count used for logged data and tuning when agents train on "sample".
_MAX_TRAINING_DRAWS = 50


class CellError(RuntimeError):
    """A cell failed; finished cells are stored, and the run can be resumed once the cause is fixed."""


class ResultsExistError(FileExistsError):
    """The output directory already holds results of a run; resume it or choose another directory."""


class ResultsDiskFullError(RuntimeError):
    """Writing the results failed for want of space (ENOSPC, EDQUOT); every stored cell is complete.

    ``stored`` and ``total`` count the cells stored and planned; the cause is the ``OSError``.
    """

    def __init__(self, message: str, stored: int, total: int | None) -> None:
        super().__init__(message)
        self.stored = stored
        self.total = total


@dataclass(frozen=True)
class RunResult:
    """What :func:`run_experiment` did.

    Attributes
    ----------
    output_dir
        The results directory.
    table
        Every row of the planned cells (one per cell and draw).
    computed, reused
        Ids of the cells computed by this call and of those found finished.
    config
        The config that ran.
    """

    output_dir: Path
    table: pd.DataFrame
    computed: list[str]
    reused: list[str]
    config: ExperimentConfig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "policy"


def _artifact_record(config: ExperimentConfig) -> dict[str, Any]:
    from journeygym.envs.artifact import default_artifact_path

    draws = load_parameters(config.artifact)
    path = Path(config.artifact) if config.artifact else default_artifact_path()
    return {
        "path": str(path),
        "sha256": sha256_of_file(path)[:16],
        "n_draws": len(draws),
        "label": draws.metadata.get("label", ""),
        "calibrated": draws.metadata.get("calibrated"),
    }


def default_output_dir(config: ExperimentConfig) -> Path:
    """``output_dir`` of the config, else ``results/<name>``."""
    return Path(config.output_dir) if config.output_dir else Path("results") / _slug(config.name)


#: Relative training time of the policies that learn from a campaign log, for the order of the
#: cells (not their results).  Measured in ``journeygym run quick`` (2 cores): ltv_uplift 17.6 s
#: (it scores every arm each week, in fitting and in tuning) against 6-8 s for lookalike and
#: expected_ltv.  The offline agents fit on larger logs (CQL's fit alone takes about 85 s).
LOG_TRAINING_COST: dict[str, int] = {"cql": 4, "fqi": 3, "ltv_uplift": 2, "expected_ltv": 1, "lookalike": 1}


def plan_cells(config: ExperimentConfig, output_dir: str | Path, artifact: dict[str, Any] | None = None) -> list[CellSpec]:
    """Every cell of the grid, in a stable order (setting, seed, policy[, draw])."""
    output_dir = Path(output_dir)
    artifact = artifact or _artifact_record(config)
    draws_available = artifact["n_draws"]
    parameter_draws = load_parameters(config.artifact)
    base = parameter_draws.assumptions
    if config.horizon is not None:
        base = assumptions_with_overrides(base, {"horizon": config.horizon})
    settings = settings_of(config, base)
    evaluation_draws = tuple(config.draws.indices(draws_available))
    if isinstance(config.training_params, int):
        training_draws: tuple[int | str, ...] = (config.training_params,)
    elif config.training_params == "mean":
        training_draws = ("mean",)
    else:
        training_draws = tuple(spread_draws(min(draws_available, _MAX_TRAINING_DRAWS), draws_available))
    record = {
        "experiment": config.name,
        "config_hash": config_hash(config.result_dict()),
        "version": journeygym.__version__,
        "artifact_sha256": artifact["sha256"],
    }
    cells = []
    for index, setting in enumerate(settings):
        for seed in config.seeds:
            for policy in config.policies:
                groups: list[tuple[tuple[int | str, ...], str | int, tuple[int | str, ...], str]] = []
                if config.train_per_draw:
                    for draw in evaluation_draws:
                        groups.append(((draw,), draw, (draw,), f"-d{draw}"))
                else:
                    groups.append((evaluation_draws, config.training_params, training_draws, ""))
                for draws, training_params, train_draws, suffix in groups:
                    identity = {
                        "policy": policy.to_dict(),
                        "setting": setting.assumptions.to_dict(),
                        "seed": seed,
                        "draws": [str(d) for d in draws],
                        "training_params": training_params,
                        "training_draws": [str(d) for d in train_draws],
                        "customers": config.customers,
                        "logged": [config.logged_customers, config.logged_tune_customers, config.logged_email_probability],
                        "artifact": artifact["sha256"],
                        "version": journeygym.__version__,
                        **({"offline": dict(config.offline)} if config.offline is not None else {}),
                        **({"device": config.train_device} if config.train_device is not None else {}),
                    }
                    cell_id = f"{_slug(policy.name)}-s{index}-seed{seed}{suffix}-{config_hash(identity)[:10]}"
                    cells.append(
                        CellSpec(
                            cell_id=cell_id,
                            policy=policy.name,
                            kind=policy.kind,
                            hyperparameters=dict(policy.hyperparameters),
                            timesteps=policy.timesteps,
                            setting_index=index,
                            setting_label=setting.label,
                            setting_overrides=dict(setting.overrides),
                            assumptions=setting.assumptions,
                            seed=seed,
                            draws=draws,
                            training_params=training_params,
                            training_draws=train_draws,
                            customers=config.customers,
                            artifact=config.artifact,
                            logged_customers=config.logged_customers,
                            tune_customers=config.logged_tune_customers,
                            email_probability=config.logged_email_probability,
                            model_dir=str((output_dir / "models" / cell_id).resolve()),
                            log_cache_dir=str((output_dir / "logs").resolve()),
                            record=record,
                            offline=None if config.offline is None else dict(config.offline),
                            device=config.train_device,
                        )
                    )
    return cells


def _check_output_dir(store: ResultStore, config: ExperimentConfig, resume: bool) -> None:
    manifest_path = store.root / "manifest.json"
    if not manifest_path.is_file():
        if store.finished():
            raise ResultsExistError(f"{str(store.root)!r} holds result cells but no manifest.json; choose another --out.")
        return
    if not resume:
        raise ResultsExistError(
            f"{str(store.root)!r} already holds results; pass --resume to continue that run, or choose another --out."
        )
    manifest = store.read_json("manifest.json")
    current = config_hash(config.result_dict())
    if manifest.get("config_hash") != current:
        raise ResultsExistError(
            f"{str(store.root)!r} holds results of config {manifest.get('config_hash')}, this config is {current}; "
            "resume with the same config, or choose another --out."
        )


def run_experiment(
    config: ExperimentConfig,
    output_dir: str | Path | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    backend: Backend | None = None,
    report: bool = True,
) -> RunResult:
    """Run (or resume) an experiment and return its table.

    Parameters
    ----------
    config
        A validated config (:func:`~journeygym.experiments.config.load_config`).
    output_dir
        Results directory; default: the config's ``output_dir``, else ``results/<name>``.
    resume
        Continue a run in ``output_dir``: finished cells are kept, not recomputed.
    progress
        Show a tqdm progress bar.
    backend
        Override the config's backend (tests).
    report
        Write the summary and the report when the run completes.

    Raises
    ------
    ResultsExistError
        If ``output_dir`` holds results and ``resume`` is False (or they come from another config).
    ResultsLockedError
        At once, if another run is using ``output_dir`` (it is locked for the run's lifetime).
    OutputPathError
        If ``output_dir`` is a file or cannot be written.
    DamagedFileError
        If ``manifest.json`` does not read back.
    CellError
        If a cell fails; finished cells are stored.
    ResultsDiskFullError
        If the disk is full or the quota spent; finished cells are stored.
    RunInterrupted
        On SIGINT or SIGTERM (when called from the main thread), within seconds; finished cells are stored.

    Warns
    -----
    ResultsWarning
        For each finished cell whose file does not read back: it is computed again.
    """
    output = Path(output_dir) if output_dir is not None else default_output_dir(config)
    created = ensure_output_dir(output, "results directory")
    store = ResultStore(output)
    try:
        with InterruptGuard() as guard, store.lock():
            return _run_locked(config, store, guard, resume=resume, progress=progress, backend=backend, report=report)
    finally:
        if created and output.is_dir() and not any(output.iterdir()):
            output.rmdir()  # nothing was written: leave no empty directory behind


def _finished_cells(store: ResultStore, cells: Sequence[CellSpec]) -> set[str]:
    """The planned cells whose files read back; a damaged cell file is reported and its cell computed again."""
    planned = {c.cell_id for c in cells}
    finished = store.finished() & planned
    for cell_id, problem in store.damaged(finished).items():
        warnings.warn(f"{problem}; computing that cell again.", ResultsWarning, stacklevel=3)
        finished.discard(cell_id)
    return finished


def _stored_cells(store: ResultStore, cells: Sequence[CellSpec]) -> tuple[int, int | None]:
    """(cells stored, cells planned); before the plan, every cell file of the directory counts, and the total is None."""
    finished = store.finished()
    if not cells:
        return len(finished), None
    return len(finished & {c.cell_id for c in cells}), len(cells)


def stored_cells_text(stored: int | None, total: int | None) -> str:
    """``"3 of 6 cells are stored"`` (or ``"3 cell(s) are stored"`` when the total is not known)."""
    if stored is None:
        return "the finished cells are stored"
    return f"{stored} of {total} cells are stored" if total is not None else f"{stored} cell(s) are stored"


def _run_locked(
    config: ExperimentConfig,
    store: ResultStore,
    guard: InterruptGuard,
    *,
    resume: bool,
    progress: bool,
    backend: Backend | None,
    report: bool,
) -> RunResult:
    """:func:`run_experiment` once the results directory is locked; stops clean on a signal or a full disk."""
    cells: list[CellSpec] = []
    try:
        return _run_cells(config, store, guard, cells, resume=resume, progress=progress, backend=backend, report=report)
    except RunInterrupted as interrupted:
        interrupted.stored, interrupted.total = _stored_cells(store, cells)
        raise
    except KeyboardInterrupt as exc:  # the guard's signal re-raised by a backend (Ray), or a handler of its own
        interrupted = RunInterrupted(guard.raised or signal.SIGINT)
        interrupted.stored, interrupted.total = _stored_cells(store, cells)
        raise interrupted from exc
    except (OSError, CellError) as exc:
        if not is_disk_full(exc):
            raise
        stored, total = _stored_cells(store, cells)
        raise ResultsDiskFullError(
            f"{_disk_full_text(exc)}; {stored_cells_text(stored, total)} in {str(store.root)!r}, each complete (files "
            "are written atomically). Free space (or raise the quota) and resume the run (--resume): stored cells are "
            "not computed again.",
            stored,
            total,
        ) from exc


def _disk_full_text(exc: BaseException) -> str:
    """``writing 'FILE' failed: No space left on device (ENOSPC)`` for the disk-full error in ``exc``'s chain."""
    current: BaseException | None = exc
    while current is not None and not (isinstance(current, OSError) and current.errno is not None):
        current = current.__cause__ or current.__context__
    if current is None:
        return f"the disk is full or the quota spent ({exc})"
    assert isinstance(current, OSError)
    what = f"writing {str(current.filename)!r}" if current.filename else "writing the results"
    return f"{what} failed: {current.strerror or current} ({errno.errorcode.get(current.errno or 0, current.errno)})"


def _run_cells(
    config: ExperimentConfig,
    store: ResultStore,
    guard: InterruptGuard,
    cells: list[CellSpec],
    *,
    resume: bool,
    progress: bool,
    backend: Backend | None,
    report: bool,
) -> RunResult:
    """Plan (into ``cells``), run and store the cells, then write the summary and the report."""
    from tqdm.auto import tqdm

    output = store.root
    _check_output_dir(store, config, resume)
    artifact = _artifact_record(config)
    cells.extend(plan_cells(config, output, artifact))
    atomic_write_text(output / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    store.write_json(
        "manifest.json",
        {
            "journeygym_version": journeygym.__version__,
            "config_hash": config_hash(config.result_dict()),
            "experiment": config.name,
            "artifact": artifact,
            "policies": [p.to_dict() for p in config.policies],
            "cells": [c.cell_id for c in cells],
            "python": sys.version.split()[0],
        },
    )
    finished = _finished_cells(store, cells)
    reused = [c.cell_id for c in cells if c.cell_id in finished]
    # Longest cells first (agents by budget, then the policies that train on logs): a worker
    # that starts the last long cell late would leave the others idle.  Order never changes results.
    todo = sorted(
        (c for c in cells if c.cell_id not in finished),
        key=lambda c: (c.timesteps or 0, LOG_TRAINING_COST.get(c.kind, 0)),
        reverse=True,
    )
    runner = backend if backend is not None else make_backend(config.backend, config.n_workers, config.ray_address)
    computed: list[str] = []
    bar = tqdm(total=len(cells), initial=len(reused), desc=f"{config.name}: cells", unit="cell", disable=not progress)
    started = time.perf_counter()
    results = runner.run(execute_cell, todo)
    try:
        for spec, rows in results:
            with guard.deferred():  # a signal waits until the finished cell is stored
                store.write_cell(spec.cell_id, rows, metadata={"cell": spec.cell_id, **spec.record}, schema=RESULT_SCHEMA)
                computed.append(spec.cell_id)
            bar.set_postfix_str(f"{spec.policy} seed {spec.seed} setting {spec.setting_index}", refresh=False)
            bar.update()
    except KeyboardInterrupt:
        # Cells a worker finished while the signal arrived are kept, not computed again on --resume.
        close = getattr(results, "close", None)
        if callable(close):
            close()
        for spec, rows in getattr(runner, "unclaimed", ()):
            store.write_cell(spec.cell_id, rows, metadata={"cell": spec.cell_id, **spec.record}, schema=RESULT_SCHEMA)
            computed.append(spec.cell_id)
        raise
    except TaskFailed as failure:
        spec = failure.task
        cause = failure.__cause__
        raise CellError(
            f"cell {spec.cell_id} (policy {spec.policy!r}, seed {spec.seed}, setting {spec.setting_label!r}) failed: "
            f"{type(cause).__name__}: {cause}. {len(reused) + len(computed)} of {len(cells)} cells are stored in "
            f"{str(output)!r}; fix the cause and rerun with --resume."
        ) from cause
    finally:
        bar.close()
    table = store.read([c.cell_id for c in cells])
    store.write_json(
        "run.json",
        {"computed": computed, "reused": reused, "wall_seconds": time.perf_counter() - started, "n_cells": len(cells)},
    )
    if report:
        from journeygym.experiments.report import build_report

        build_report(output)
    return RunResult(output_dir=output, table=table, computed=computed, reused=reused, config=config)


def load_results(output_dir: str | Path) -> pd.DataFrame:
    """The rows of the cells planned in ``output_dir``'s manifest."""
    store = ResultStore(output_dir)
    manifest = store.read_json("manifest.json")
    return store.read(manifest["cells"])

