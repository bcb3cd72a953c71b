"""``backend: ray`` gives the same table as the local backend, on a local Ray instance, even when a worker dies.

The ``ray`` extra is part of the test install, so CI runs this; without ray the
tests are skipped.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from journeygym.experiments.backends import RayBackend
from journeygym.experiments.config import load_config
from journeygym.experiments.runner import run_experiment

#: Seconds the watcher waits for the stalled worker to publish its process id.
KILL_DEADLINE = 240.0


@pytest.mark.slow
def test_the_same_config_with_backend_ray_gives_the_same_table(tiny, tmp_path, comparable):
    pytest.importorskip("ray", reason="the optional 'ray' extra is not installed")
    policies = ["never", "random", "lookalike", "oracle"]
    local = run_experiment(load_config(tiny(policies=policies)), tmp_path / "local", progress=False, report=False)
    on_ray = load_config(tiny(policies=policies, backend="ray", n_workers=2))
    distributed = run_experiment(on_ray, tmp_path / "ray", progress=False, report=False)
    assert len(distributed.table) == len(local.table) > 0
    pd.testing.assert_frame_equal(comparable(local.table), comparable(distributed.table))


@dataclass(frozen=True)
class _StallOnFirstAttempt:
    """Computes the cell; on the first attempt at ``victim`` then publishes its process id and waits to be killed.

    The cell has done all its work (its campaign log is cached on disk) when it
    stalls, so the retry starts from what a killed worker leaves behind.
    """

    function: Callable[[Any], Any]
    victim: str
    marker: str

    def __call__(self, spec: Any) -> Any:
        rows = self.function(spec)
        if spec.cell_id == self.victim:
            staged = Path(f"{self.marker}.{os.getpid()}")
            staged.write_text(str(os.getpid()))
            try:
                os.link(staged, self.marker)  # atomic: only the first attempt creates the marker
            except FileExistsError:
                return rows
            time.sleep(KILL_DEADLINE + 60.0)  # the test kills this process long before
        return rows


class _OneWorkerDies:
    """A Ray backend whose first task stalls on its first attempt (see :class:`_StallOnFirstAttempt`)."""

    def __init__(self, marker: Path) -> None:
        self.backend = RayBackend(n_workers=2)
        self.marker = marker
        self.victim: str | None = None

    def run(self, function: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        tasks = list(tasks)
        self.victim = tasks[0].cell_id
        yield from self.backend.run(_StallOnFirstAttempt(function, self.victim, str(self.marker)), tasks)


def _kill_when_published(marker: Path, killed: list[int]) -> None:
    deadline = time.monotonic() + KILL_DEADLINE
    while time.monotonic() < deadline:
        if marker.is_file():
            pid = int(marker.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc to inspect processes")
def test_a_worker_killed_mid_cell_is_retried_and_the_table_is_unchanged(tiny, tmp_path, comparable):
    pytest.importorskip("ray", reason="the optional 'ray' extra is not installed")
    config = load_config(tiny(policies=["never", "lookalike"], seeds=[0]))
    undisturbed = run_experiment(config, tmp_path / "undisturbed", progress=False, report=False)

    marker = tmp_path / "stalled-worker.pid"
    backend = _OneWorkerDies(marker)
    killed: list[int] = []
    watcher = threading.Thread(target=_kill_when_published, args=(marker, killed), daemon=True)
    watcher.start()
    disturbed = run_experiment(config, tmp_path / "disturbed", progress=False, report=False, backend=backend)
    watcher.join(timeout=5)

    assert len(killed) == 1, "the stalled worker never published its process id"
    assert not _alive(killed[0])
    table = disturbed.table
    assert len(table) == len(undisturbed.table) > 0
    pd.testing.assert_frame_equal(comparable(undisturbed.table), comparable(table))
    victim_rows = table[table["cell_id"] == backend.victim]
    assert len(victim_rows) > 0 and killed[0] not in set(victim_rows["worker_pid"])  # a retry computed it
