"""The results directory: one run at a time, damaged files named (and recomputed on resume), clear --out errors."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from journeygym.experiments.config import load_config
from journeygym.cli.report import report_command
from journeygym.cli.run import run_command
from journeygym.experiments.report import _training_returns_figure
from journeygym.experiments.runner import run_experiment
from journeygym.experiments.store import LOCK_FILE, ResultsLockedError, ResultStore, ResultsWarning

#: Takes the results directory's lock, says so, and waits to be killed.
_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from journeygym.experiments.store import ResultStore

    with ResultStore(sys.argv[1]).lock():
        print("locked", flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def config_file(tiny, tmp_path):
    """The tiny config with one seed, as a YAML file for ``journeygym run``."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny(seeds=[0])))
    return path


def _damage(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_second_run_on_a_locked_directory_fails_at_once_naming_the_other_process(config_file, tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert run_command([str(config_file), "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert f"PID {holder.pid}" in err and str(out) in err and "another journeygym run" in err
        assert not (out / "cells").exists()  # nothing was computed
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (out / LOCK_FILE).is_file()  # left behind by the killed process: it must not block
    assert run_command([str(config_file), "--out", str(out), "--no-progress"]) == 0
    assert not (out / LOCK_FILE).exists()  # a finished run releases and removes its lock


def test_the_lock_is_exclusive_within_a_process_and_released_on_error(tmp_path):
    store = ResultStore(tmp_path / "out")
    with store.lock():
        with pytest.raises(ResultsLockedError, match=f"PID {os.getpid()}") as caught:
            with ResultStore(tmp_path / "out").lock():
                pass
        assert caught.value.pid == os.getpid()
    with pytest.raises(KeyError):
        with store.lock():
            raise KeyError("boom")
    with store.lock():  # released by the failure above
        pass


def test_resume_computes_a_damaged_cell_again(tiny, tmp_path, comparable):
    config = load_config(tiny(seeds=[0]))
    first = run_experiment(config, tmp_path, progress=False, report=False)
    damaged = sorted(first.computed)[0]
    _damage(ResultStore(tmp_path).cell_path(damaged))
    with pytest.warns(ResultsWarning, match=rf"cells/{damaged}\.parquet' does not read back.*computing that cell again"):
        resumed = run_experiment(config, tmp_path, resume=True, progress=False, report=False)
    assert resumed.computed == [damaged]
    assert set(resumed.reused) == set(first.computed) - {damaged}
    pd.testing.assert_frame_equal(comparable(resumed.table), comparable(first.table))


def test_resume_command_names_the_damaged_cell_it_recomputes(config_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_command([str(config_file), "--out", str(out), "--no-progress"]) == 0
    cell = sorted((out / "cells").glob("*.parquet"))[0]
    _damage(cell)
    capsys.readouterr()
    assert run_command([str(config_file), "--out", str(out), "--resume", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"journeygym run: warning: cell file {str(cell)!r} does not read back" in err


def test_report_names_a_damaged_cell_file_and_how_to_fix_it(tiny, tmp_path, capsys):
    run_experiment(load_config(tiny(seeds=[0])), tmp_path, progress=False, report=False)
    cell = sorted((tmp_path / "cells").glob("*.parquet"))[0]
    _damage(cell)
    assert report_command([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(cell) in err and "does not read back" in err and "--resume" in err
    assert "Traceback" not in err


def test_a_damaged_manifest_is_named_by_report_and_resume(config_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_command([str(config_file), "--out", str(out), "--no-progress"]) == 0
    (out / "manifest.json").write_text('{"cells": [')
    capsys.readouterr()
    assert report_command([str(out)]) == 2
    assert "manifest.json' does not read back as JSON" in capsys.readouterr().err
    assert run_command([str(config_file), "--out", str(out), "--resume", "--no-progress"]) == 2
    assert "manifest.json' does not read back as JSON" in capsys.readouterr().err


def test_an_unreadable_training_log_is_named_and_left_out_of_the_report(tmp_path):
    logs = tmp_path / "models" / "ppo-s0-seed0-abc" / "logs"
    logs.mkdir(parents=True)
    # what two runs writing one progress.csv leave: rows of different widths
    (logs / "progress.csv").write_text("time/total_timesteps,rollout/ep_rew_mean\n8,1.0\n8,1.0,3,0.5,2\n")
    frame = pd.DataFrame(
        {"training": ["simulator"], "log_dir": [str(logs)], "setting": [0], "policy": ["ppo"], "seed": [0], "cell_id": ["ppo-s0-seed0-abc"]}
    )
    with pytest.warns(ResultsWarning, match=r"progress\.csv' does not read back \(ParserError.*--resume"):
        assert _training_returns_figure(frame, [SimpleNamespace(setting=0)], tmp_path / "curves.png") is None


def test_out_that_is_a_file_is_a_clear_error(config_file, tmp_path, capsys):
    existing = tmp_path / "results.txt"
    existing.write_text("not a directory")
    assert run_command([str(config_file), "--out", str(existing), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"--out: the results directory {str(existing)!r} is an existing file, expected a directory" in err
    assert run_command([str(config_file), "--out", str(existing / "run"), "--no-progress"]) == 2
    assert f"{str(existing)!r} is a file, not a directory" in capsys.readouterr().err


def test_out_in_an_unwritable_place_is_a_clear_error(config_file, tmp_path, capsys, monkeypatch):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    if os.geteuid() == 0:  # permissions do not bind root: let os.access answer as for another user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(read_only) else real_access(path, mode))
    try:
        assert run_command([str(config_file), "--out", str(read_only / "run"), "--no-progress"]) == 2
    finally:
        read_only.chmod(0o700)
    err = capsys.readouterr().err
    assert f"--out: cannot write the results directory {str(read_only / 'run')!r}" in err and "is not writable" in err
    assert not (read_only / "run").exists()


@pytest.mark.parametrize("code", ["ENOSPC", "EDQUOT"])
def test_a_full_disk_stops_the_run_keeping_the_stored_cells_and_says_how_to_resume(config_file, tmp_path, capsys, monkeypatch, code):
    """A full disk ended the run in a raw ``OSError: [Errno 28]`` traceback."""
    real_write = ResultStore.write_cell
    calls = []

    def fills_up(self, cell_id, *args, **kwargs):
        calls.append(cell_id)
        if len(calls) == 2:
            raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)), str(self.cell_path(cell_id)))
        return real_write(self, cell_id, *args, **kwargs)

    monkeypatch.setattr(ResultStore, "write_cell", fills_up)
    out = tmp_path / "out"
    assert run_command([str(config_file), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"writing {str(ResultStore(out).cell_path(calls[1]))!r} failed: {os.strerror(getattr(errno, code))} ({code})" in err
    assert f"1 of 3 cells are stored in {str(out)!r}, each complete" in err and "Traceback" not in err
    assert f"Continue with: journeygym run {config_file} --out {out} --resume" in err
    stored = {path.name: path.stat().st_mtime_ns for path in (out / "cells").glob("*.parquet")}
    assert list(stored) == [f"{calls[0]}.parquet"]
    assert not list((out / "cells").glob(".*.tmp"))  # nothing half-written left behind

    monkeypatch.setattr(ResultStore, "write_cell", real_write)
    assert run_command([str(config_file), "--out", str(out), "--resume", "--no-progress"]) == 0
    assert "2 cell(s) computed, 1 reused" in capsys.readouterr().out
    assert {name: (out / "cells" / name).stat().st_mtime_ns for name in stored} == stored  # not computed again


def test_a_run_that_fails_before_writing_leaves_no_empty_directory(tiny, tmp_path, monkeypatch):
    from journeygym.experiments import runner

    def broken(config):
        raise RuntimeError("artifact unreadable")

    monkeypatch.setattr(runner, "_artifact_record", broken)
    with pytest.raises(RuntimeError, match="artifact unreadable"):
        run_experiment(load_config(tiny(seeds=[0])), tmp_path / "new", progress=False, report=False)
    assert not (tmp_path / "new").exists()


def test_resume_simulates_a_damaged_campaign_log_again(tiny, tmp_path, comparable):
    config = load_config(tiny(policies=["never", "lookalike"], seeds=[0]))
    first = run_experiment(config, tmp_path, progress=False, report=False)
    store = ResultStore(tmp_path)
    lookalike = next(c for c in first.computed if c.startswith("lookalike"))
    store.cell_path(lookalike).unlink()
    log = next((tmp_path / "logs").glob("*.parquet"))
    _damage(log)
    with pytest.warns(ResultsWarning, match=rf"campaign log {str(log)!r} does not read back.*simulating it again"):
        resumed = run_experiment(config, tmp_path, resume=True, progress=False, report=False)
    assert resumed.computed == [lookalike]
    pd.testing.assert_frame_equal(comparable(resumed.table), comparable(first.table))
