"""Execution backends: local workers end with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc to inspect processes")

#: A task module the workers import from the run's sys.path: it marks that the worker reached its task.
_TASK_MODULE = textwrap.dedent(
    """
    import time
    from pathlib import Path


    def mark_and_sleep(path):
        Path(path).touch()
        time.sleep(60.0)
    """
)

#: A run whose two workers (and resource tracker) would live for a minute without their parent.
_LONG_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from marker_task import mark_and_sleep
    from journeygym.experiments.backends import LocalBackend

    for _ in LocalBackend(2).run(mark_and_sleep, [sys.argv[1] + "/started-0", sys.argv[1] + "/started-1"]):
        pass
    """
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has ended; only its entry waits to be reaped


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid:
                found.append(int(entry.name))
    return found


def test_workers_end_when_their_parent_is_killed(tmp_path):
    (tmp_path / "marker_task.py").write_text(_TASK_MODULE)
    parent = subprocess.Popen([sys.executable, "-c", _LONG_RUN, str(tmp_path)])
    children: list[int] = []
    try:
        deadline = time.monotonic() + 120
        started = []
        while len(started) < 2 and time.monotonic() < deadline:  # both workers are inside their task
            assert parent.poll() is None, "the run ended before its workers started"
            time.sleep(0.2)
            started = list(tmp_path.glob("started-*"))
        children = _children(parent.pid)
        assert len(started) == 2 and len(children) >= 3, (
            f"expected two workers in their task and a resource tracker, found markers {started}, children {children}"
        )
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = [pid for pid in children if _alive(pid)]
        assert not survivors, f"processes {survivors} outlived their killed parent {parent.pid}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


class _Planned(Exception):
    """Stops a run once the backend has seen its tasks."""


class _RecordingBackend:
    """A backend that records the order it is given the cells in, and runs none of them."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def run(self, function, tasks):
        self.order = [task.policy for task in tasks]
        raise _Planned
        yield  # a generator, like the real backends


def test_cells_run_longest_first(tiny, tmp_path):
    """Agents by training budget, then the log-trained policies by training time, then the rest."""
    from journeygym.experiments.config import load_config
    from journeygym.experiments.runner import run_experiment

    config = load_config(
        tiny(
            policies=["never", "lookalike", "ltv_uplift", {"name": "ppo", "timesteps": 30000}, "expected_ltv",
                      {"name": "dqn", "timesteps": 40000}, "oracle"],
            seeds=[0],
        )
    )
    backend = _RecordingBackend()
    with pytest.raises(_Planned):
        run_experiment(config, tmp_path / "run", progress=False, backend=backend)
    assert backend.order[:3] == ["dqn", "ppo", "ltv_uplift"]
    assert set(backend.order[3:5]) == {"lookalike", "expected_ltv"}
    assert set(backend.order[5:]) == {"never", "oracle"}


def _square(value: int) -> int:
    return value * value


def test_tasks_finished_when_the_caller_stops_are_handed_over_not_lost():
    """An interrupt while other tasks had finished abandoned their results: they are kept as ``unclaimed``."""
    from journeygym.experiments.backends import LocalBackend

    backend = LocalBackend(2)
    results = backend.run(_square, [1, 2, 3])
    first = next(results)
    time.sleep(3.0)  # the other tasks finish while the caller is busy
    results.close()  # the caller stops, as an interrupt does
    handed = sorted([first, *backend.unclaimed])
    assert handed == [(1, 1), (2, 4), (3, 9)]
