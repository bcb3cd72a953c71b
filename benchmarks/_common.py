"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import journeygym
from journeygym.datasets.hillstrom import DATA_DIR_ENV


def header(title: str) -> None:
    """Print what was measured, where and with which version."""
    print(f"# {title}")
    print(f"# journeygym {journeygym.__version__}, python {platform.python_version()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")


def artifact_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--artifact`` (default: the shipped parameters)."""
    parser.add_argument("--artifact", default=None, help="parameter artifact (default: shipped)")


def default_data_dir() -> Path:
    """``$JOURNEYGYM_DATA_DIR``, else ``../shared/data`` beside the repository."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    return (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
