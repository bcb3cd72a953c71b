"""Memory: the population env per customer, and the peak of a whole command.

``python benchmarks/bench_memory.py env --customers 1000000`` builds the
population env, resets it and steps it through a season, and reports from
``tracemalloc`` (numpy's arrays are traced): the state the env keeps per
customer, its observation buffer, and the peak while stepping; plus the
process's peak resident memory.

``python benchmarks/bench_memory.py command -- journeygym run full --out DIR``
runs a command and samples the resident memory of its whole process tree
(the runner's workers included) every 0.2 s from ``/proc``: the peak of the
sum and of the largest single process.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from _common import artifact_argument, header

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _env(n_customers: int, weeks: int, artifact: str | None) -> None:
    from journeygym.envs import CustomerPopulationVectorEnv
    from journeygym.envs.artifact import load_parameters

    load_parameters(artifact)  # the artifact's arrays are shared by every env: not per customer
    # The compiled step and observation loops load (numba, their machine code) on first use: code, not per customer.
    warm = CustomerPopulationVectorEnv(num_envs=2, artifact=artifact)
    warm.reset(seed=0)
    warm.step(np.zeros(2, dtype=np.int64))
    del warm
    actions = np.random.default_rng(0).integers(0, 3, (weeks, n_customers))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    env = CustomerPopulationVectorEnv(num_envs=n_customers, artifact=artifact)
    returned: tuple = env.reset(seed=0)
    buffer = returned[0].nbytes
    del returned  # what reset and step return belongs to the caller, not to the env
    after_reset = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.reset_peak()
    for week in range(weeks):
        returned = env.step(actions[week])
        del returned
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = sum(value.nbytes for value in vars(env.state).values() if isinstance(value, np.ndarray))
    print(f"customers: {n_customers:,}, weeks stepped: {weeks}")
    print(f"observation buffer: {buffer / n_customers:.0f} B per customer ({buffer / 2**20:.1f} MiB)")
    print(f"customer state arrays (env.state): {state / n_customers:.0f} B per customer")
    print(f"held by the env after reset, beyond its observation buffer: {(after_reset - buffer) / n_customers:.0f} B per "
          "customer (target <= 200)")
    print(f"held by the env after {weeks} steps, beyond its observation buffer: "
          f"{(current - before - buffer) / n_customers:.0f} B per customer")
    print(f"peak while stepping, beyond the observation buffer: {(peak - before - buffer) / n_customers:.0f} B per customer "
          "(the step's temporaries and the arrays it returns included)")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory: {peak_rss:.0f} MiB (interpreter, numpy, scipy, gymnasium and the artifact included)")


def _tree_rss_kib(root: int) -> tuple[int, int]:
    """Resident KiB of ``root`` and its descendants: (sum, largest process)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(statm[1]) * PAGE_KIB
    total, largest, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        largest = max(largest, rss.get(pid, 0))
        todo.extend(children.get(pid, []))
    return total, largest


def _command(argv: list[str]) -> int:
    started = time.perf_counter()
    process = subprocess.Popen(argv)
    peak_total = peak_single = 0
    while process.poll() is None:
        total, single = _tree_rss_kib(process.pid)
        peak_total, peak_single = max(peak_total, total), max(peak_single, single)
        time.sleep(0.2)
    print(f"command: {' '.join(argv)}")
    print(f"exit status {process.returncode}, wall {time.perf_counter() - started:.1f} s")
    print(f"peak resident memory of the process tree: {peak_total / 1024:.0f} MiB (sum over processes, sampled every 0.2 s)")
    print(f"peak resident memory of one process: {peak_single / 1024:.0f} MiB")
    return process.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)
    env = modes.add_parser("env", help="the population env's memory per customer")
    env.add_argument("--customers", type=int, default=1_000_000)
    env.add_argument("--weeks", type=int, default=52)
    artifact_argument(env)
    command = modes.add_parser("command", help="peak memory of a command and its workers")
    command.add_argument("argv", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    header("memory")
    if args.mode == "env":
        _env(args.customers, args.weeks, args.artifact)
        return 0
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        parser.error("command: give the command to run after --, e.g. -- journeygym run quick --out /tmp/q")
    return _command(argv)


if __name__ == "__main__":
    sys.exit(main())
