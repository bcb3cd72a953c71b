"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import argparse
import os
import platform
import time

import journeygym


def header(title: str) -> None:
    """Print what was measured, where and with which version."""
    print(f"# {title}")
    print(f"# journeygym {journeygym.__version__}, python {platform.python_version()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")


def artifact_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--artifact`` (default: the shipped parameters)."""
    parser.add_argument("--artifact", default=None, help="parameter artifact (default: shipped)")
