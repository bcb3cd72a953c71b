"""Experiments: configs, the runner, summaries with paired intervals, and reports.

What a user needs, imported on first use::

    from journeygym.experiments import load_config, run_experiment, load_results, summarize
    result = run_experiment(load_config("quick"), "results/quick")
"""

from typing import TYPE_CHECKING

from journeygym.lazy import lazy_attributes

_EXPORTS: dict[str, str] = {
    "ConfigError": "journeygym.experiments.config",
    "ExperimentConfig": "journeygym.experiments.config",
    "config_json_schema": "journeygym.experiments.config",
    "load_config": "journeygym.experiments.config",
    "RunResult": "journeygym.experiments.runner",
    "load_results": "journeygym.experiments.runner",
    "run_experiment": "journeygym.experiments.runner",
    "summarize": "journeygym.experiments.summary",
    "format_summary": "journeygym.experiments.summary",
    "rollout": "journeygym.baselines.rollout",
    "build_report": "journeygym.experiments.report",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from journeygym.baselines.rollout import rollout
    from journeygym.experiments.config import ConfigError, ExperimentConfig, config_json_schema, load_config
    from journeygym.experiments.report import build_report
    from journeygym.experiments.runner import RunResult, load_results, run_experiment
    from journeygym.experiments.summary import format_summary, summarize

__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS)
