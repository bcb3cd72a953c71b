"""SIGINT and SIGTERM stop ``journeygym run`` within seconds, keep every finished cell, and say how to resume.

The run is a subprocess on the tiny config with two policies of one agent class: ``quick`` (the larger
budget, so it runs first) finishes at once; ``slow`` holds its cell while a file exists.  The signal is
sent to the run's process alone once the quick cell is stored and the slow one has started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")

#: An agent whose fit waits while the file ``hold`` exists (at most two minutes), after touching ``hold.started``.
_AGENT_MODULE = textwrap.dedent(
    """
    import time
    from pathlib import Path

    import numpy as np


    class Holder:
        def __init__(self, name="holder", hold=None):
            self.name = name
            self.hold = hold

        def fit(self, env_factory, total_timesteps, seed):
            if self.hold and Path(self.hold).exists():
                Path(self.hold + ".started").touch()
                deadline = time.monotonic() + 120
                while Path(self.hold).exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
            return self

        def act(self, observations):
            return np.zeros(len(observations), dtype=np.int64)
    """
)

_MAIN = "import sys; from journeygym.cli import main; sys.exit(main())"
#: A run stopped by a signal ends within this many seconds (it takes about one; the bound leaves room for a busy machine).
STOP_SECONDS = 10.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize(
    ("workers", "backend"),
    [(1, "local"), (2, "local"), pytest.param(2, "ray", marks=pytest.mark.slow)],
    ids=["serial", "process-pool", "ray"],
)
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_within_seconds_keeping_finished_cells(tiny, tmp_path, workers, backend, signal_number):
    """Before: SIGINT to the parent alone took 23 s with the process pool and SIGTERM exited 143 without a word."""
    (tmp_path / "holding_agents.py").write_text(_AGENT_MODULE)
    hold = tmp_path / "hold"
    config = tiny(
        policies=[
            {"name": "quick", "kind": "holding_agents:Holder", "timesteps": 12},
            {"name": "slow", "kind": "holding_agents:Holder", "timesteps": 6, "hyperparameters": {"hold": str(hold)}},
        ],
        seeds=[0],
        n_workers=workers,
        backend=backend,
    )
    if backend == "ray":
        pytest.importorskip("ray")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    command = [sys.executable, "-c", _MAIN, "run", str(config_path), "--out", str(out), "--no-progress"]
    hold.touch()
    # A shell's background job ignores SIGINT, and its children inherit that: the run gets Ctrl-C's default back.
    run = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
    )
    children: list[int] = []
    try:
        deadline = time.monotonic() + 420  # starting Ray on a loaded 2-core machine can take minutes
        while not (Path(f"{hold}.started").exists() and list((out / "cells").glob("*.parquet"))):
            assert run.poll() is None, f"the run ended before it could be interrupted: {run.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "the quick cell was not stored within 7 minutes"
            time.sleep(0.1)
        stored = {path.name: path.stat().st_mtime_ns for path in (out / "cells").glob("*.parquet")}
        assert [name.split("-")[0] for name in stored] == ["quick"]
        children = _children(run.pid)
        sent = time.monotonic()
        run.send_signal(signal_number)
        _, err = run.communicate(timeout=60)
        elapsed = time.monotonic() - sent
    finally:
        hold.unlink(missing_ok=True)
        if run.poll() is None:
            run.kill()
            run.communicate()
    name = signal.Signals(signal_number).name
    assert elapsed < STOP_SECONDS, f"the run took {elapsed:.1f} s to stop after {name}"
    assert run.returncode == 128 + signal_number, err
    assert f"journeygym run: interrupted ({name}); 1 of 2 cells are stored in {str(out)!r}" in err
    assert f"Continue with: journeygym run {config_path} --out {out} --resume" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], "workers outlived the interrupted run"

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 cell(s) computed, 1 reused" in resumed.stdout
    assert {name: (out / "cells" / name).stat().st_mtime_ns for name in stored} == stored  # not computed again
    assert len(list((out / "cells").glob("*.parquet"))) == 2


def test_the_guard_defers_a_signal_while_a_cell_is_stored_and_restores_the_handlers():
    from journeygym.experiments.interrupts import InterruptGuard, RunInterrupted

    before = signal.getsignal(signal.SIGTERM)
    stored = []
    with pytest.raises(RunInterrupted) as caught:
        with InterruptGuard() as guard:
            with guard.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler runs here, and waits
                stored.append("cell")
    assert stored == ["cell"]
    assert caught.value.signal_name == "SIGTERM" and caught.value.exit_status == 143
    assert signal.getsignal(signal.SIGTERM) == before
