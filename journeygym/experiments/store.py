"""The result store: one Parquet file per finished cell, written atomically.

Layout of a results directory::

    config.yaml              the normalized config of the run
    manifest.json            provenance and the planned cells
    cells/<cell_id>.parquet  one row per (cell, posterior draw)
    models/<cell_id>/        trained agents and their training logs
    logs/                    logged campaign data the seed baselines trained on
    report/                  report.md, report.html, figures
    .journeygym-run.lock     present while a run holds the directory

A cell file appears complete or not at all (written to a temporary file in the
same directory, then renamed with ``os.replace``), so an interrupted run never
leaves a half-written cell, and a cell file's presence means the cell is done.
Each cell's id hashes everything that determines its result, so a changed
config never reuses a stale cell.

One run at a time: :meth:`ResultStore.lock` takes an exclusive ``flock`` on
``.journeygym-run.lock`` for the run's lifetime, so a second run on the same
directory fails at once instead of computing every cell again and mixing its
files with the first run's.  The kernel releases the lock when its process
ends, however it ends, so a lock file left by a killed run never blocks.

A file that does not read back (damaged by a full disk, a copy or an editor)
is reported by name with what to do: :meth:`ResultStore.damaged` finds the
cell files a resumed run must compute again.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from journeygym.files import atomic_write_bytes, atomic_write_text

try:
    import fcntl
except ImportError:  # not on POSIX: runs are not locked
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_FILE",
    "DamagedFileError",
    "ResultStore",
    "ResultsLockedError",
    "ResultsWarning",
    "atomic_write_bytes",
    "atomic_write_text",
    "results_warnings_as_lines",
]

_CELL_SUFFIX = ".parquet"
#: Lock file of a results directory, held (``flock``) by the run using it.
LOCK_FILE = ".journeygym-run.lock"


class ResultsLockedError(RuntimeError):
    """Another run holds the results directory; ``pid`` is its process id (None if unknown)."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


class DamagedFileError(ValueError):
    """A file of a results directory does not read back; the message names it and says how to fix it."""


class ResultsWarning(UserWarning):
    """A file of a results directory could not be used, and what was done instead (recomputed, left out)."""


@contextlib.contextmanager
def results_warnings_as_lines(command: str) -> Iterator[None]:
    """Inside the block, show each :class:`ResultsWarning` as one ``COMMAND: warning: ...`` line on stderr.

    Other warnings are shown as usual.
    """
    import sys

    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
        if issubclass(category, ResultsWarning):
            print(f"{command}: warning: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", ResultsWarning)
        warnings.showwarning = show
        yield


def describe_error(exc: BaseException) -> str:
    """``Type: message`` on one line (parser messages often end with a newline)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _read_lock_holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", errors="replace").split()
        return int(text[0]) if text else None
    except (OSError, ValueError):
        return None


def _acquire_lock(path: Path) -> int | None:
    """Take the exclusive lock on ``path``; returns the open descriptor that holds it (None without ``fcntl``)."""
    if fcntl is None:
        return None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_lock_holder(fd)
            os.close(fd)
            who = f"PID {holder}" if holder is not None else "PID unknown"
            raise ResultsLockedError(
                f"{str(path.parent)!r} is in use by another journeygym run ({who}); two runs on one directory would "
                f"both compute every cell and mix their files. Wait for that run to finish (or stop it"
                f"{f': kill {holder}' if holder is not None else ''}), or choose another --out.",
                holder,
            ) from None
        except OSError as exc:  # a file system without flock: run unlocked rather than not at all
            os.close(fd)
            warnings.warn(f"cannot lock {str(path)!r} ({exc}); nothing stops a second run on this directory.", ResultsWarning, stacklevel=3)
            return None
        # A run that was releasing the lock may have removed the file after we opened it: lock the new one.
        try:
            current = os.stat(path)
            held = os.fstat(fd)
            if (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _release_lock(path: Path, fd: int | None) -> None:
    if fd is None:
        return
    try:
        path.unlink(missing_ok=True)  # while still holding the lock; see _acquire_lock
    finally:
        os.close(fd)


class ResultStore:
    """Reads and writes the cells of one results directory.

    Parameters
    ----------
    root
        The results directory (created when the first file is written).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.cells_dir = self.root / "cells"

    def cell_path(self, cell_id: str) -> Path:
        """Where the cell's rows live."""
        return self.cells_dir / f"{cell_id}{_CELL_SUFFIX}"

    def model_dir(self, cell_id: str) -> Path:
        """Where the cell's trained agent and training logs live."""
        return self.root / "models" / cell_id

    @contextlib.contextmanager
    def lock(self) -> Iterator[Path]:
        """Hold the directory exclusively while the block runs (created if needed); yields the lock file's path.

        Raises
        ------
        ResultsLockedError
            At once, if another process holds the directory; the message names its PID.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_FILE
        fd = _acquire_lock(path)
        try:
            yield path
        finally:
            _release_lock(path, fd)

    def has(self, cell_id: str, *, verify: bool = False) -> bool:
        """Whether the cell is finished (with ``verify``: and its file reads back)."""
        if not self.cell_path(cell_id).is_file():
            return False
        return not verify or self.cell_problem(cell_id) is None

    def cell_problem(self, cell_id: str) -> str | None:
        """None if the cell's file reads back, else what is wrong with it (naming the file)."""
        path = self.cell_path(cell_id)
        try:
            pq.read_table(path)
        except (OSError, ValueError, pa.ArrowException) as exc:
            return f"cell file {str(path)!r} does not read back ({describe_error(exc)})"
        return None

    def damaged(self, cell_ids: Iterable[str] | None = None) -> dict[str, str]:
        """The finished cells (of ``cell_ids``, default all) whose file does not read back: id -> problem."""
        finished = self.finished()
        ids = sorted(finished if cell_ids is None else set(cell_ids) & finished)
        problems = {cell_id: self.cell_problem(cell_id) for cell_id in ids}
        return {cell_id: problem for cell_id, problem in problems.items() if problem is not None}

    def finished(self) -> set[str]:
        """Ids of every finished cell in the directory."""
        if not self.cells_dir.is_dir():
            return set()
        return {p.name[: -len(_CELL_SUFFIX)] for p in self.cells_dir.glob(f"*{_CELL_SUFFIX}") if not p.name.startswith(".")}

    def write_cell(
        self,
        cell_id: str,
        rows: Sequence[Mapping[str, Any]],
        metadata: Mapping[str, Any] | None = None,
        schema: pa.Schema | None = None,
    ) -> Path:
        """Write a finished cell (its rows, one per draw) atomically, with ``schema`` when given."""
        if not rows:
            raise ValueError(f"ResultStore.write_cell: cell {cell_id!r} has no rows; expected one per draw.")
        table = pa.Table.from_pylist([dict(r) for r in rows], schema=schema)
        if metadata:
            table = table.replace_schema_metadata({b"journeygym": json.dumps(dict(metadata), default=str).encode()})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return atomic_write_bytes(self.cell_path(cell_id), sink.getvalue().to_pybytes())

    def read_cell(self, cell_id: str) -> pd.DataFrame:
        """The rows of one finished cell.

        Raises
        ------
        DamagedFileError
            If the cell's file does not read back.
        """
        try:
            return pd.read_parquet(self.cell_path(cell_id))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise DamagedFileError(
                f"cell file {str(self.cell_path(cell_id))!r} does not read back ({describe_error(exc)}); "
                "delete it and run the experiment again with --resume to compute that cell again."
            ) from None

    def read(self, cell_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Rows of the given cells (default: every finished cell), sorted by cell and draw."""
        ids = sorted(self.finished() if cell_ids is None else cell_ids)
        missing = [c for c in ids if not self.has(c)]
        if missing:
            raise FileNotFoundError(
                f"ResultStore.read: {len(missing)} cell(s) not finished in {str(self.root)!r} (e.g. {missing[0]!r}); "
                "run the experiment with --resume to complete them."
            )
        if not ids:
            return pd.DataFrame()
        frame = pd.concat([self.read_cell(c) for c in ids], ignore_index=True)
        return frame.sort_values(["cell_id", "draw_position"], kind="stable").reset_index(drop=True)

    def write_json(self, name: str, payload: Mapping[str, Any]) -> Path:
        """Write a JSON document at the root atomically."""
        return atomic_write_text(self.root / name, json.dumps(dict(payload), indent=2, sort_keys=True, default=str))

    def read_json(self, name: str) -> dict[str, Any]:
        """Read a JSON document written by :meth:`write_json`."""
        path = self.root / name
        if not path.is_file():
            raise FileNotFoundError(f"{str(path)!r} not found; is {str(self.root)!r} a journeygym results directory?")
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DamagedFileError(
                f"{str(path)!r} does not read back as JSON ({describe_error(exc)}); it is written by "
                "journeygym run. Restore it from a copy, or move the results directory aside and run the experiment again."
            ) from None
        if not isinstance(payload, dict):
            raise DamagedFileError(
                f"{str(path)!r} holds a JSON {type(payload).__name__}, expected an object as journeygym run writes; "
                "restore it from a copy, or move the results directory aside and run the experiment again."
            )
        return payload
