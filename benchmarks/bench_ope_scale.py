"""Off-policy evaluation at a real list's size: a uniform log of a million customers x 52 weeks, time and memory.

Simulates a uniform campaign log (the Hillstrom-like randomized behavior,
``simulate_logged_data`` on posterior draws 0-3) of ``--customers`` customers
(default 1,000,000: 52 million customer-weeks) in blocks of ``--block``
customers, written into preallocated columns of compact types (float32
observations, int8 weeks and actions and outcomes, int16 draws, int32 customer
ids; float64 propensities and money), so the table is never held twice.  With
``--parquet FILE`` the blocks are written to one Parquet file instead and read
back the way ``journeygym ope`` reads a log, a column at a time into the
episodes (``episodes_from_parquet``), the table never in memory.  Then, as
``journeygym ope`` does:

* the log read as episodes (``episodes_from_frame``), and the table dropped (or read from the Parquet file);
* for each of the 8 target policies of ``bench_ope.py``: its action
  probabilities and overlap diagnostics, and every estimator (dm, is, wis, pdis,
  wpdis, dr, wdr, magic, mis, mdr with ``--bootstrap`` replicates and the
  concentration bounds) on a random Q-hat and random state ratios standing in for
  fitted-Q evaluation and the ratio learner, which are timed apart;
* fitted-Q evaluation (``--fqe-model``, one thread) for the first ``--fqe-policies``
  policies, and the state-ratio learner for the first ``--ratio-policies``, one
  line per policy.

After each stage it prints the stage's peak resident memory (Linux: the
high-water mark, reset per stage) over the stage's start, against the episodes'
own size, and at the end the run's peak (``resource.getrusage``): the
estimators should hold a few copies of the log, not tens.  On a small log the
allocator's reuse of freed pages blurs the resident figures; ``--trace`` adds
each stage's peak of the allocations themselves (``tracemalloc``).

Run: ``python benchmarks/bench_ope_scale.py [--customers 1000000] [--bootstrap 200] [--fqe-policies 8]
[--ratio-policies 1] [--parquet FILE [--reuse-parquet]]``; ``--customers 20000 --fqe-policies 1 --ratio-policies 0``
checks it in under a minute.  The memory target (8 GB at a million customers) is for a log read from a
file, ``--parquet``: without it the simulated table is held beside the episodes while they are read.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import artifact_argument, header
from bench_ope import REWARD_LOWER_BOUND, policies
from journeygym.arguments import positive_int_or_all
from journeygym.baselines.logged_data import simulate_logged_data
from journeygym.cli.ope import read_episodes
from journeygym.ope import episodes_from_frame, estimate_all, fit_q_evaluation, fit_state_ratios, target_probabilities
from journeygym.ope.behavior import overlap_diagnostics
from journeygym.ope.fitted_q import DEFAULT_MODEL, MAX_FIT_ROWS
from journeygym.ope.ratios import DEFAULT_RATIO_LEARNER

#: Compact column types of the simulated table (the others keep the simulator's: float32 observations,
#: float64 propensities, spend and reward).
COMPACT = {
    "customer_id": np.int32, "week": np.int8, "action": np.int8, "requested_action": np.int8, "draw": np.int16,
    "visit": np.int8, "purchase": np.int8, "unsubscribed": np.int8,
}
GIB = 1 << 30


def _status_gib(field: str) -> float | None:
    """A ``/proc/self/status`` memory field in GiB (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024 / GIB
    except OSError:
        return None
    return None


class Memory:
    """Peak resident memory of the run (``resource.getrusage``) and of each stage.

    On Linux each stage's own peak is read from the high-water mark, reset at the stage's start
    (``/proc/self/clear_refs``); resetting it resets ``ru_maxrss`` too, so the run's peak is the largest reading.
    """

    def __init__(self, trace: bool = False) -> None:
        self.run_peak = self._maxrss()
        self.stage_start = _status_gib("VmRSS") or self.run_peak
        self.trace = trace
        if trace:
            tracemalloc.start()
        self.traced_start = tracemalloc.get_traced_memory()[0] if trace else 0

    @staticmethod
    def _maxrss() -> float:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
        return peak / GIB if sys.platform == "darwin" else peak * 1024 / GIB

    @property
    def peak(self) -> float:
        """The run's peak so far, in GiB."""
        self.run_peak = max(self.run_peak, self._maxrss())
        return self.run_peak

    def stage(self, what: str, episodes: float | None = None) -> str:
        """The peak of the stage that ends here, in words; starts the next stage."""
        peak = _status_gib("VmHWM")
        self.run_peak = max(self.peak, peak or 0.0)
        if peak is None:
            text = f"{what}: run peak {self.run_peak:.2f} GiB (no stage peak on this system)"
        else:
            grown = peak - self.stage_start
            share = "" if episodes is None else f" = {grown / episodes:.1f} x the episodes"
            text = f"{what}: stage peak {peak:.2f} GiB, {grown:+.2f} GiB over its start{share}"
        if self.trace:
            # What Python and numpy allocated: unlike the resident memory, blind to the allocator keeping freed pages.
            traced = (tracemalloc.get_traced_memory()[1] - self.traced_start) / GIB
            share = "" if episodes is None else f" = {traced / episodes:.2f} x the episodes"
            text += f"; allocations at the stage's peak {traced:+.3f} GiB over its start{share}"
            tracemalloc.reset_peak()
            self.traced_start = tracemalloc.get_traced_memory()[0]
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
        self.stage_start = _status_gib("VmRSS") or self.run_peak
        return text


def blocks(customers: int, block: int, seed: int, artifact: Any) -> Iterator[tuple[int, pd.DataFrame]]:
    """``(first customer, log of the block)`` for blocks of ``block`` customers, each its own seeds."""
    for start in range(0, customers, block):
        size = min(block, customers - start)
        draws = [0, 1, 2, 3][: max(1, min(4, size))]
        part = simulate_logged_data(size, seed + start, params=draws, artifact=artifact)
        part["customer_id"] += start
        yield start, part


def _compact(part: pd.DataFrame) -> pd.DataFrame:
    return part.astype({name: kind for name, kind in COMPACT.items() if name in part.columns})


def simulated_table(customers: int, block: int, seed: int, artifact: Any) -> pd.DataFrame:
    """The whole log in preallocated compact columns (one table, filled block by block)."""
    columns: dict[str, np.ndarray] = {}
    attrs: dict[str, Any] = {}
    rows_per_customer = 0
    for start, part in blocks(customers, block, seed, artifact):
        attrs = attrs or dict(part.attrs["journeygym"])
        part = _compact(part)
        if not columns:
            rows_per_customer = len(part) // part["customer_id"].nunique()
            columns = {name: np.empty(customers * rows_per_customer, dtype=part[name].dtype) for name in part.columns}
        rows = slice(start * rows_per_customer, start * rows_per_customer + len(part))
        for name in part.columns:
            columns[name][rows] = part[name].to_numpy()
    frame = pd.DataFrame(columns, copy=False)  # one block per column: no consolidating copy
    frame.attrs["journeygym"] = {**attrs, "n_customers": customers, "seed": seed}
    return frame


def write_parquet(customers: int, block: int, seed: int, artifact: Any, path: Path) -> None:
    """The log written block by block to one Parquet file (run in a child process: see ``main``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    started = time.perf_counter()
    for _, part in blocks(customers, block, seed, artifact):
        table = pa.Table.from_pandas(_compact(part), preserve_index=False).replace_schema_metadata(None)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()
    print(f"parquet: {path.stat().st_size / GIB:.2f} GiB written in {time.perf_counter() - started:.1f} s (in a child "
          "process, so the simulator's memory is not counted here)", flush=True)


def episodes_bytes(episodes: Any) -> int:
    """The bytes of the episodes' arrays."""
    arrays = (episodes.observations, episodes.actions, episodes.rewards, episodes.behavior_probabilities,
              episodes.mask, episodes.customer_ids)
    return sum(a.nbytes for a in arrays if a is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--block", type=int, default=50_000, help="customers simulated at a time")
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--fqe-policies", type=int, default=8, help="policies whose fitted-Q evaluation is timed")
    parser.add_argument("--fqe-model", default=DEFAULT_MODEL, help=f"fitted-Q regressor (default {DEFAULT_MODEL})")
    parser.add_argument(
        "--fqe-max-rows", type=positive_int_or_all, default=MAX_FIT_ROWS,
        help=f"rows each week's fitted-Q regressor is fitted on, at most (default {MAX_FIT_ROWS:,}; 'all')",
    )
    parser.add_argument("--estimator-policies", type=int, default=8, help="policies whose estimators are timed (0: none)")
    parser.add_argument("--ratio-policies", type=int, default=1, help="policies whose state-ratio learner is timed")
    parser.add_argument("--parquet", type=Path, default=None, help="write the log to this Parquet file and read it back")
    parser.add_argument(
        "--reuse-parquet", action="store_true", help="read the --parquet file a previous run wrote instead of writing it"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trace", action="store_true", help="also report each stage's peak of traced allocations (tracemalloc)")
    artifact_argument(parser)
    args = parser.parse_args()
    header(f"off-policy evaluation of a uniform log of {args.customers:,} customers x 52 weeks: time and peak memory")
    memory = Memory(trace=args.trace)
    print(f"peak RSS at start {memory.peak:.2f} GiB")

    started = time.perf_counter()
    if args.parquet is None:
        frame = simulated_table(args.customers, args.block, args.seed, args.artifact)
        table = f"the table ({frame.memory_usage(deep=True).sum() / GIB:.2f} GiB) dropped after"
        print(f"table: {len(frame):,} rows, made in {time.perf_counter() - started:.1f} s; {memory.stage('making the table')}")
        started = time.perf_counter()
        episodes = episodes_from_frame(frame)
        del frame
        gc.collect()
    else:
        if not args.reuse_parquet:
            # In a child process: this one then holds what `journeygym ope` holds reading the file, not the simulator.
            writer = multiprocessing.get_context("spawn").Process(
                target=write_parquet, args=(args.customers, args.block, args.seed, args.artifact, args.parquet)
            )
            writer.start()
            writer.join()
            if writer.exitcode != 0:
                raise SystemExit(f"writing {args.parquet} failed (exit code {writer.exitcode})")
        memory.stage("simulating")
        table = "from the Parquet file a column at a time, as journeygym ope reads it"
        started = time.perf_counter()
        episodes = read_episodes(args.parquet)
        if episodes.n_customers != args.customers:
            raise SystemExit(f"{args.parquet} holds {episodes.n_customers:,} customers, not --customers {args.customers:,}")
    size = episodes_bytes(episodes) / GIB
    print(f"episodes: {episodes.n_customers:,} x {episodes.horizon} weeks, {size:.2f} GiB, read in "
          f"{time.perf_counter() - started:.1f} s ({table}); {memory.stage('reading', size)}")

    rng = np.random.default_rng(0)
    q_values = rng.normal(size=(episodes.n_customers, episodes.horizon, episodes.n_actions))
    state_ratios = rng.exponential(size=(episodes.n_customers, episodes.horizon))
    targets = estimators = 0.0
    for policy in policies()[: args.estimator_policies]:
        started = time.perf_counter()
        target = target_probabilities(policy, episodes)
        diagnostics = overlap_diagnostics(episodes, target)
        target_seconds = time.perf_counter() - started
        started = time.perf_counter()
        found = estimate_all(
            episodes, target, q_values, policy_name=policy.name, n_bootstrap=args.bootstrap,
            state_ratios=state_ratios, reward_lower_bound=REWARD_LOWER_BOUND,
        )
        seconds = time.perf_counter() - started
        targets, estimators = targets + target_seconds, estimators + seconds
        del target
        print(f"{policy.name:<14} estimators {seconds:7.2f} s, target and overlap {target_seconds:6.2f} s; ESS share "
              f"{diagnostics.ess_per_decision_share:.4f}; pdis {found['pdis'].value:.3f}")
    del q_values, state_ratios
    print(f"{args.estimator_policies} policies: every estimator but fitted-Q {estimators:.1f} s, target probabilities and overlap {targets:.1f} s "
          f"(a random Q-hat and random state ratios held throughout); {memory.stage('estimating', size)}")

    for policy in policies()[: args.fqe_policies]:
        target = target_probabilities(policy, episodes)
        started = time.perf_counter()
        fitted = fit_q_evaluation(episodes, target, model=args.fqe_model, seed=0, max_fit_rows=args.fqe_max_rows)
        value = float(fitted.state_values[:, 0].mean())
        del fitted
        seconds = time.perf_counter() - started
        del target  # before the stage ends: the next stage starts without this policy's arrays
        cap = "every row" if args.fqe_max_rows is None else f"at most {args.fqe_max_rows:,} rows a week"
        print(f"{policy.name:<14} fitted-Q evaluation ({args.fqe_model}, fitted on {cap}) {seconds:7.1f} s, direct-method value "
              f"{value:.3f}; {memory.stage('fitting', size)}")
    for policy in policies()[: args.ratio_policies]:
        target = target_probabilities(policy, episodes)
        started = time.perf_counter()
        ess_share = fit_state_ratios(episodes, target, seed=0).ess_share
        seconds = time.perf_counter() - started
        del target
        print(f"{policy.name:<14} state ratios ({DEFAULT_RATIO_LEARNER}) {seconds:7.1f} s, ESS share {ess_share:.3f}; "
              f"{memory.stage('learning', size)}")
    print(f"peak RSS of the run {memory.peak:.2f} GiB (episodes {size:.2f} GiB)")


if __name__ == "__main__":
    main()
