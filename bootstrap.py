"""Set up the project and run it: ``python3 bootstrap.py run`` or ``python3 bootstrap.py test``.

Needs only Python 3.11.  The first call creates ``.venv`` and installs the
project with the tested pins of ``constraints.txt``; later calls reuse it
(they reinstall when ``pyproject.toml`` or ``constraints.txt`` change).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".journeygym-install"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
#: The main job: the command the README's first line runs.
MAIN_JOB = ["journeygym", "run", "quick", "--resume"]
#: The whole test suite, slow statistical tests included, on every core.
TEST_COMMAND = ["-m", "pytest", "-n", "auto", "--dist", "loadfile"]


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _has_working_pip() -> bool:
    if not PYTHON.exists():
        return False
    return subprocess.run([str(PYTHON), "-m", "pip", "--version"], capture_output=True).returncode == 0


def _torch_pin() -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.startswith("torch=="):
            return line.strip()
    sys.exit("bootstrap: constraints.txt pins no torch version (expected a line 'torch==...').")


def ensure_environment() -> None:
    """Create the virtual environment and install the project if needed."""
    if sys.version_info[:2] < (3, 11):
        sys.exit(f"bootstrap: received Python {sys.version.split()[0]}, expected 3.11 or newer; run it with python3.11.")
    fingerprint = _install_fingerprint()
    if STAMP.is_file() and STAMP.read_text() == fingerprint:
        return
    if not _has_working_pip():
        # Also repairs a .venv left half-built by an interrupted or failed first run.
        print("bootstrap: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    print("bootstrap: installing journeygym and its pinned dependencies (first run takes a few minutes)", flush=True)
    # PyTorch first and alone, at its pin in constraints.txt, so that no dependency pulls a larger build.
    subprocess.run([*pip, _torch_pin()], check=True)
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(fingerprint)


def main(argv: list[str]) -> int:
    """Run ``run`` (the main job, or ``run PRESET|CONFIG [ARGS...]``) or ``test`` (the whole test suite, extra arguments to pytest)."""
    if not argv or argv[0] not in ("run", "test"):
        print("usage: python3 bootstrap.py run [PRESET|CONFIG] [ARGS...] | test [PYTEST ARGS...]", file=sys.stderr)
        return 2
    ensure_environment()
    if argv[0] == "run":
        extra = argv[1:]
        # "run full" or "run my.yaml" names what to run; otherwise the main job, with any options.
        job = ["journeygym", "run", *extra] if extra and not extra[0].startswith("-") else [*MAIN_JOB, *extra]
        command = [str(BIN / job[0]), *job[1:]]
    else:
        command = [str(PYTHON), *TEST_COMMAND, *argv[1:]]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
