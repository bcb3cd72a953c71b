"""Atomic file writes (a reader never sees a half-written file, and a failed write keeps the old one),
and checks that an output path can be written before a long computation starts."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = [
    "OutputPathError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_file",
    "ensure_output_dir",
    "sha256_of_file",
]


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


def check_output_file(path: str | os.PathLike[str], what: str = "output file") -> Path:
    """Check, before any work, that the file ``path`` can be written (its missing parent folders created).

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
    return path


def sha256_of_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
