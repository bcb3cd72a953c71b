"""Atomic file writes (a reader never sees a half-written file, and a failed write keeps the old one),
checks that an output path can be written before a long computation starts, and UTF-8 input files
whose bad bytes are named by offset."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

__all__ = [
    "DISK_FULL_ERRNOS",
    "NotUTF8Error",
    "OutputPathError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_file",
    "ensure_output_dir",
    "is_disk_full",
    "not_utf8_error",
    "read_utf8_text",
    "sha256_of_file",
]

#: ``errno`` values of a write that failed for want of space: the device is full (ENOSPC) or the quota spent (EDQUOT).
DISK_FULL_ERRNOS: frozenset[int] = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is an :class:`OSError` of a full device or quota."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in DISK_FULL_ERRNOS:
            return True
        current = current.__cause__ or current.__context__
    return False


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory, then ``os.replace``.

    The file gets the usual permissions (``0o666`` less the umask), not the
    ``0o600`` of the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        if exc.filename is None and exc.errno is not None:  # a failed write names no file: name the one being written
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for text (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


class OutputPathError(ValueError):
    """An output path cannot be written: it is a file where a directory is expected (or the reverse), or not writable."""


def _nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_can_create_in(path: Path, what: str) -> None:
    """Raise :class:`OutputPathError` unless ``path`` (a directory to create or fill) can be written."""
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputPathError(
            f"cannot create the {what} {str(path)!r}: {str(existing)!r} is a file, not a directory; "
            "choose a path whose parent folders are directories."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"cannot write the {what} {str(path)!r}: {str(existing)!r} is not writable by this user; "
            "choose a writable place (or fix the permissions)."
        )


def ensure_output_dir(path: str | os.PathLike[str], what: str = "output directory") -> bool:
    """Create the directory ``path`` (and its parents) for writing; returns whether it was created.

    Raises
    ------
    OutputPathError
        If ``path`` is an existing file, a parent is a file, or the place is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(
            f"the {what} {str(path)!r} is an existing file, expected a directory; choose another path or move the file."
        )
    _check_can_create_in(path, what)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"cannot create the {what} {str(path)!r}: {exc.strerror or exc}; choose a writable place.") from None
    return created


def _probe_writable(folder: Path, path: Path, what: str) -> None:
    """Create ``folder`` (and its missing parents) and a temporary file in it, then remove what was created.

    Permission bits do not tell everything: root may write anywhere by them, yet not create a folder
    under ``/proc`` or on a read-only file system.  Trying is the only sure check.
    """
    created: list[Path] = []
    missing = Path(os.path.abspath(folder))
    while not missing.exists() and missing != missing.parent:
        created.append(missing)
        missing = missing.parent
    step = ""
    try:
        for directory in reversed(created):
            step = f"creating the folder {str(directory)!r}"
            directory.mkdir()
        step = f"creating a file in {str(folder)!r}"
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
        os.close(handle)
        os.unlink(temporary)
    except OSError as exc:
        raise OutputPathError(
            f"cannot write the {what} {str(path)!r}: {step} failed ({exc.strerror or exc}); choose a writable place."
        ) from None
    finally:
        for directory in created:  # deepest first: only folders this check created, and only while empty
            try:
                directory.rmdir()
            except OSError:
                pass


def check_output_file(path: str | os.PathLike[str], what: str = "output file") -> Path:
    """Check, before any work, that the file ``path`` can be written.

    The check creates the missing parent folders and a temporary file among
    them, and removes both: it leaves the file system as it was.

    Raises
    ------
    OutputPathError
        If ``path`` is a directory, a parent is a file, or the place is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"the {what} {str(path)!r} is a directory, expected a file name; add a file name to the path.")
    if path.exists() and not path.is_file():
        raise OutputPathError(f"the {what} {str(path)!r} is not a regular file; choose another path.")
    _check_can_create_in(path.parent, f"folder of the {what}")
    _probe_writable(path.parent, path, what)
    return path


class NotUTF8Error(ValueError):
    """A text input file holds bytes that are not UTF-8; the message names the file, the byte offset and the fix."""

    def __init__(self, message: str, path: Path, offset: int) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset


def not_utf8_error(path: str | os.PathLike[str], what: str = "file") -> NotUTF8Error | None:
    """The error describing the first bytes of ``path`` that are not UTF-8, or None when the file is UTF-8.

    The message gives the byte offset (0-based), the line and column (1-based),
    the text just before the bad byte, and how to convert the file.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:
        return None
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    near = data[max(line_start, start - 30) : start + 1].decode("utf-8", errors="backslashreplace")
    near = near.replace("\t", "\\t").replace("\r", "\\r")
    message = (
        f"{what} {str(path)!r} is not UTF-8 text: the byte 0x{data[start]:02x} at byte offset {start} "
        f"(line {line}, column {start - line_start + 1}: '{near}') is not valid UTF-8. Expected a UTF-8 "
        "text file; convert it, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8` for a Latin-1 or Windows-1252 "
        "file (or save it as UTF-8 from the program that wrote it)."
    )
    return NotUTF8Error(message, path, start)


def read_utf8_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The text of a UTF-8 file.

    Raises
    ------
    NotUTF8Error
        If the file holds bytes that are not UTF-8 (the message names the offset and the fix).
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        error = not_utf8_error(path, what)
        assert error is not None
        raise error from None


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
