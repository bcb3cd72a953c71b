"""docs/figures.py draws the docs' figures again from a run's results directory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from journeygym.experiments.config import load_config
from journeygym.experiments.runner import run_experiment

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "figures.py"


def _figures():
    spec = importlib.util.spec_from_file_location("docs_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_run_s_figure_is_drawn_again_into_the_docs(tiny, tmp_path):
    figures = _figures()
    results = tmp_path / "run"
    run_experiment(load_config(tiny(policies=["never", "oracle"], seeds=[0])), results, progress=False, report=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    written = figures.draw("full", results, docs)
    assert written == docs / "full_run_returns.png" and written.stat().st_size > 1000
    with pytest.raises(FileNotFoundError, match="budgets.png"):
        figures.draw("budgets", results, docs)
    with pytest.raises(ValueError, match="expected one of"):
        figures.draw("fuller", results, docs)
