"""The runner: identical tables for identical configs, resume without recomputation, any backend."""

from __future__ import annotations

import pandas as pd
import pytest

from journeygym.experiments import runner
from journeygym.experiments.backends import LocalBackend
from journeygym.experiments.cells import RESULT_SCHEMA
from journeygym.experiments.config import load_config
from journeygym.experiments.runner import ResultsExistError, run_experiment
from journeygym.experiments.store import ResultStore


def test_same_config_and_seed_give_identical_tables(tiny, tmp_path, comparable):
    config = load_config(tiny(policies=["never", "random", "lookalike", "oracle"]))
    first = run_experiment(config, tmp_path / "a", progress=False, report=False)
    second = run_experiment(config, tmp_path / "b", progress=False, report=False)
    assert len(first.table) == 4 * 2 * 2  # policies x seeds x draws
    pd.testing.assert_frame_equal(comparable(first.table), comparable(second.table))


def test_policies_share_customers_within_a_seed_and_draw(tiny, tmp_path):
    table = run_experiment(load_config(tiny()), tmp_path, progress=False, report=False).table
    seeds = table.groupby(["seed", "draw"])["evaluation_seed"].nunique()
    assert (seeds == 1).all()  # common random numbers
    assert table.groupby(["seed", "draw"])["evaluation_seed"].first().nunique() == 4


def test_interrupted_run_resumes_without_recomputing_finished_cells(tiny, tmp_path, monkeypatch, comparable):
    config = load_config(tiny())
    reference = run_experiment(config, tmp_path / "reference", progress=False, report=False)
    n_cells = len(reference.computed)

    calls: list[str] = []
    original = runner.execute_cell

    def interrupted_after_three(spec):
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated kill")
        calls.append(spec.cell_id)
        return original(spec)

    monkeypatch.setattr(runner, "execute_cell", interrupted_after_three)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, out, progress=False, report=False)
    assert ResultStore(out).finished() == set(calls)

    with pytest.raises(ResultsExistError, match="--resume"):
        run_experiment(config, out, progress=False, report=False)

    resumed_calls: list[str] = []

    def counting(spec):
        resumed_calls.append(spec.cell_id)
        return original(spec)

    monkeypatch.setattr(runner, "execute_cell", counting)
    resumed = run_experiment(config, out, resume=True, progress=False, report=False)
    assert set(resumed.reused) == set(calls)
    assert not set(resumed_calls) & set(calls)
    assert len(resumed_calls) == n_cells - 3
    pd.testing.assert_frame_equal(comparable(resumed.table), comparable(reference.table))


def test_resume_refuses_results_of_another_config(tiny, tmp_path):
    run_experiment(load_config(tiny()), tmp_path, progress=False, report=False)
    with pytest.raises(ResultsExistError, match="holds results of config"):
        run_experiment(load_config(tiny(seeds=[5])), tmp_path, resume=True, progress=False, report=False)


def test_rows_carry_version_config_hash_and_seed(tiny, tmp_path):
    table = run_experiment(load_config(tiny()), tmp_path, progress=False, report=False).table
    assert {"version", "config_hash", "seed", "draw", "artifact_sha256"} <= set(table.columns)
    assert table["config_hash"].nunique() == 1
    assert list(table.columns) == RESULT_SCHEMA.names
    assert len(pd.read_parquet(tmp_path / "cells")) == len(table)  # one schema: the directory is one dataset


@pytest.mark.slow
def test_results_do_not_depend_on_the_number_of_workers(tiny, tmp_path, comparable):
    config = load_config(tiny(policies=["never", "lookalike", {"name": "ppo", "timesteps": 256, "hyperparameters": {"n_envs": 8, "n_steps": 6}}]))
    serial = run_experiment(config, tmp_path / "serial", progress=False, report=False)
    parallel = run_experiment(config, tmp_path / "parallel", progress=False, report=False, backend=LocalBackend(2))
    pd.testing.assert_frame_equal(comparable(serial.table), comparable(parallel.table))


def test_the_posterior_mean_is_a_draw_the_runner_evaluates(tiny, tmp_path):
    """``evaluation.draws: mean`` runs (its seed key is non-negative) and its rows say draw -1."""
    from journeygym.experiments.cells import evaluation_seed

    result = run_experiment(load_config(tiny(evaluation={"customers": 100, "draws": "mean"})), tmp_path / "out", progress=False)
    assert set(result.table["draw"]) == {-1}
    assert set(result.table["evaluation_seed"]) == {evaluation_seed(0, "mean"), evaluation_seed(1, "mean")}
    assert evaluation_seed(0, "mean") not in {evaluation_seed(0, d) for d in range(3)}
