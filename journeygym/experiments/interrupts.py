"""Stopping a run on SIGINT or SIGTERM: within seconds, every finished cell kept, the run resumable.

While :class:`InterruptGuard` is active (in the main thread), SIGINT (Ctrl-C,
``kill -INT``) and SIGTERM (``kill``, a job scheduler, a container stop) raise
:class:`RunInterrupted` in the main thread, wherever it is: inside a cell of
the serial backend, or waiting for the workers of the process pool (which
then stops its workers at once, see
:class:`~journeygym.experiments.backends.LocalBackend`).  Inside
:meth:`InterruptGuard.deferred` -- while a finished cell is being stored --
the signal waits until the block ends, so a cell that was computed is never
lost to an interrupt.  A second signal while the run is stopping is ignored:
stopping takes a few seconds at most.

Only a signal whose handler is Python's default is taken over (a SIGINT that
the shell ignores, as for a background job, stays ignored), and the previous
handlers are restored when the guard ends.  Outside the main thread the guard
does nothing: Python delivers signals to the main thread only.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType, TracebackType

__all__ = ["InterruptGuard", "RunInterrupted"]


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by a signal.

    A :class:`KeyboardInterrupt`, so code that handles Ctrl-C handles it too.

    Attributes
    ----------
    signal_number
        The signal (``signal.SIGINT`` or ``signal.SIGTERM``).
    stored, total
        Cells stored in the results directory and cells planned (None until the runner knows them).
    """

    def __init__(self, signal_number: int, stored: int | None = None, total: int | None = None) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = int(signal_number)
        self.stored = stored
        self.total = total

    @property
    def signal_name(self) -> str:
        """``"SIGINT"`` or ``"SIGTERM"``."""
        return signal.Signals(self.signal_number).name

    @property
    def exit_status(self) -> int:
        """The shell's status of a process ended by the signal: 128 + its number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signal_number


def _is_default(signal_number: int, handler: object) -> bool:
    if signal_number == signal.SIGINT:
        return handler is signal.default_int_handler
    return handler == signal.SIG_DFL


class InterruptGuard:
    """Turns SIGINT and SIGTERM into :class:`RunInterrupted` while active (a context manager)."""

    SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}
        self._deferring = 0
        self._pending: int | None = None
        self._stopping = False
        #: The signal the guard turned into :class:`RunInterrupted` (a backend may re-raise it as a plain Ctrl-C).
        self.raised: int | None = None

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        for number in self.SIGNALS:
            current = signal.getsignal(number)
            if _is_default(number, current):
                self._previous[number] = current
                signal.signal(number, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, signal_number: int, frame: FrameType | None) -> None:
        if self._stopping:
            return  # already stopping: let the clean-up finish
        if self._deferring:
            self._pending = signal_number
            return
        self._stopping = True
        self.raised = signal_number
        raise RunInterrupted(signal_number)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside the block a signal waits; it is raised when the block ends (normally)."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if not self._deferring and self._pending is not None and not self._stopping:
            signal_number, self._pending = self._pending, None
            self._stopping = True
            self.raised = signal_number
            raise RunInterrupted(signal_number)
