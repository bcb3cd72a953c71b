"""Execution backends: run independent cells in this process, in local processes, or on Ray.

Every backend maps a picklable function over picklable tasks and yields
``(task, result)`` as each finishes, so the runner can store results at once.
A cell's result depends only on its task (each cell seeds everything it uses
and runs torch on one thread), so results do not depend on the backend or
the number of workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

__all__ = [
    "RAY_TASK_RETRIES",
    "Backend",
    "LocalBackend",
    "RayBackend",
    "SerialBackend",
    "TaskFailed",
    "die_with_parent",
    "make_backend",
]

T = TypeVar("T")
R = TypeVar("R")


class TaskFailed(RuntimeError):
    """A task raised; ``task`` is the task, the original exception is the ``__cause__``."""

    def __init__(self, task: Any) -> None:
        super().__init__(f"task failed: {task!r}")
        self.task = task


class Backend(Protocol):
    """Runs tasks and yields ``(task, result)`` pairs in completion order."""

    def run(self, function: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        """Apply ``function`` to every task; a failing task raises :class:`TaskFailed` (pending tasks are cancelled)."""
        ...


class SerialBackend:
    """Runs every task in this process, one after another (``n_workers: 1``)."""

    def run(self, function: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        for task in tasks:
            try:
                result = function(task)
            except Exception as exc:
                raise TaskFailed(task) from exc
            yield task, result


#: Seconds between two checks of a worker that its parent is still alive.
PARENT_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _kill_me_with_parent() -> None:
    """Linux: ask the kernel to SIGKILL this process when its parent dies (best effort).

    Strictly, when the parent *thread* that started the process ends: the pool's
    workers are started by the thread that iterates :meth:`LocalBackend.run`,
    which outlives the pool.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the polling thread still ends the worker


def _watch_parent(parent_pid: int, interval: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(1)  # the parent is gone: nobody will read this worker's results


def die_with_parent(parent_pid: int, interval: float = PARENT_POLL_SECONDS) -> None:
    """Make this process end when the process ``parent_pid`` (its parent) ends, even by ``kill -9``.

    On Linux the kernel sends SIGKILL at once (``prctl(PR_SET_PDEATHSIG)``);
    everywhere, a daemon thread checks every ``interval`` seconds that the
    parent is still this process's parent and calls ``os._exit`` otherwise
    (an orphan is adopted by another process).  Without this, workers of a
    killed run would keep computing and writing, then wait forever to return
    their results; their resource tracker would live as long as they do.
    """
    _kill_me_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the kernel was asked
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid, interval), name="journeygym-parent-watch", daemon=True).start()


def _initialize_worker(path: list[str], parent_pid: int | None = None) -> None:
    if parent_pid is not None:
        die_with_parent(parent_pid)
    # Ctrl-C reaches every process of the terminal's group: the parent alone decides to stop (and
    # then stops its workers, see LocalBackend.run), so a worker does not die printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Spawned workers start with a fresh sys.path: give them the parent's, so user
    # agents importable in the parent ("package.module:Class") are importable here.
    for entry in reversed(path):
        if entry not in sys.path:
            sys.path.insert(0, entry)


class LocalBackend:
    """Runs tasks in ``n_workers`` local processes (``concurrent.futures.ProcessPoolExecutor``).

    Workers are *spawned* (not forked): torch and forked threads do not mix, and
    a spawned worker behaves the same on every platform.  Workers end with the
    process that started them, even when it is killed (:func:`die_with_parent`).

    Workers ignore SIGINT: the parent decides.  When the iteration stops before
    every task is done -- the parent is interrupted (SIGINT, SIGTERM, see
    :mod:`journeygym.experiments.interrupts`), a task fails, or the caller stops
    iterating -- the workers are stopped at once (SIGTERM, then SIGKILL after
    :data:`WORKER_STOP_SECONDS`), instead of finishing the tasks they are running
    for results nobody would read.
    """

    def __init__(self, n_workers: int) -> None:
        if n_workers < 1:
            raise ValueError(f"LocalBackend: n_workers received {n_workers}, expected an integer >= 1.")
        self.n_workers = n_workers
        #: Tasks that had finished, but were not yet handed out, when the last run stopped early (an interrupt):
        #: the caller may still keep their results.
        self.unclaimed: list[tuple[Any, Any]] = []

    def run(self, function: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        self.unclaimed = []
        pending_tasks = list(tasks)
        if not pending_tasks:
            return
        context = multiprocessing.get_context("spawn")
        workers = min(self.n_workers, len(pending_tasks))
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_initialize_worker, initargs=(list(sys.path), os.getpid()))
        futures: dict[Future[R], T] = {}
        finished = False
        try:
            futures = {pool.submit(function, task): task for task in pending_tasks}
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    task = futures.pop(future)
                    try:
                        result = future.result()
                    except Exception as exc:
                        raise TaskFailed(task) from exc
                    yield task, result
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:
                for future in futures:
                    future.cancel()
                self.unclaimed = [
                    (task, future.result()) for future, task in futures.items()
                    if future.done() and not future.cancelled() and future.exception() is None
                ]
                _stop_workers(pool)


#: Seconds a worker is given to end after SIGTERM before it is killed (SIGKILL).
WORKER_STOP_SECONDS = 2.0


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now (their running tasks are abandoned) and release the pool without waiting."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # not public; absent: shutdown alone
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + WORKER_STOP_SECONDS
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0.0))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    pool.shutdown(wait=False, cancel_futures=True)


#: Times Ray runs a task again when its worker process dies (killed, out of memory, node lost).  A
#: task that raises is not retried: each cell seeds everything it uses, so it would raise again.
RAY_TASK_RETRIES = 3


def _apply(function: Callable[[T], R], task: T) -> R:
    """The Ray task: any picklable callable, not only a plain function, can be mapped."""
    return function(task)


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """Restore the SIGINT and SIGTERM handlers after the block (in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in kept.items():
            if handler is not None:
                signal.signal(number, handler)


class RayBackend:
    """Runs tasks as Ray tasks (one CPU each) on a cluster or a local Ray instance.

    A task whose worker process dies is run again, up to :data:`RAY_TASK_RETRIES`
    times; its result is the same, because a cell's result depends only on its task.

    Parameters
    ----------
    address
        Address of a running cluster (``"auto"``, ``"ray://host:10001"``); None starts a local instance.
    n_workers
        CPUs of the local instance when ``address`` is None.
    """

    def __init__(self, address: str | None = None, n_workers: int | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ImportError(
                "backend 'ray' needs the ray package: pip install 'journeygym[ray]' (or pip install 'ray>=2.9'), "
                "or use backend: local."
            ) from exc
        self._ray = ray
        self.address = address
        self.n_workers = n_workers

    def run(self, function: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R]]:
        ray = self._ray
        pending_tasks = list(tasks)
        if not pending_tasks:
            return
        started_here = not ray.is_initialized()
        if started_here:
            kwargs: dict[str, Any] = (
                {"address": self.address} if self.address else {"num_cpus": self.n_workers, "include_dashboard": False}
            )
            with _signal_handlers_kept():  # Ray installs its own; the run's interrupt guard must keep SIGINT and SIGTERM
                ray.init(**kwargs, runtime_env={"env_vars": {"PYTHONPATH": ":".join(p for p in sys.path if p)}}, log_to_driver=False)
        remote = ray.remote(num_cpus=1, max_retries=RAY_TASK_RETRIES, retry_exceptions=False)(_apply)
        shared = ray.put(function)  # serialized once, not with every task
        refs = {remote.remote(shared, task): task for task in pending_tasks}
        try:
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                for ref in done:
                    task = refs.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:
                        raise TaskFailed(task) from exc
                    yield task, result
        finally:
            for ref in refs:
                ray.cancel(ref)
            if started_here:
                ray.shutdown()


def make_backend(name: str, n_workers: int = 1, ray_address: str | None = None) -> Backend:
    """The backend named in a config: ``local`` (serial when ``n_workers`` is 1) or ``ray``."""
    if name == "local":
        return SerialBackend() if n_workers == 1 else LocalBackend(n_workers)
    if name == "ray":
        return RayBackend(ray_address, n_workers)
    raise ValueError(f"backend: received {name!r}, expected 'local' or 'ray'.")
