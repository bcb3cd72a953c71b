"""What one cell of an experiment is (:class:`CellSpec`), and the seeds derived from it.

A cell is (scenario setting, policy, seed) -- or (setting, policy, seed, draw)
when agents are trained per draw; :func:`journeygym.experiments.cells.execute_cell`
computes it.  The spec and the seeds are shared by everything that works on a
cell: the cell itself, its campaign logs (:mod:`journeygym.experiments.campaign_logs`),
the offline benchmark (:mod:`journeygym.experiments.offline`) and the scoring
models' metrics (:mod:`journeygym.experiments.model_metrics`).

Seeds
-----
All derived with ``numpy.random.SeedSequence([seed, purpose, ...])``
(:func:`derived_seed`):

* evaluation of draw ``d``: ``(seed, EVALUATION, d)`` -- the same for every
  policy and every setting (common random numbers: paired comparisons); the
  posterior mean uses ``d = MEAN_SEED_KEY`` (:func:`evaluation_seed`);
* training of simulator agents: ``(seed, TRAINING[, d])``;
* the logged campaign data of the seed baselines: ``(seed, LOGGED)``;
* the validation rollouts that tune their operating point: ``(seed, VALIDATION, i)``;
* the held-out log on which the scoring models' metrics are measured: ``(seed, HOLDOUT)``;
* the offline benchmark's log ``i``: ``(seed, OFFLINE, i)`` (:mod:`journeygym.experiments.offline`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from journeygym.envs.parameters import ScenarioAssumptions

__all__ = [
    "EVALUATION",
    "HOLDOUT",
    "LOGGED",
    "MEAN_SEED_KEY",
    "OFFLINE",
    "TRAINING",
    "VALIDATION",
    "CellSpec",
    "derived_seed",
    "evaluation_seed",
]

#: Seed purposes: every stream of random numbers a cell uses is derived from the experiment seed and one of these.
EVALUATION, TRAINING, LOGGED, VALIDATION, HOLDOUT, OFFLINE = 1, 2, 3, 4, 5, 6


def derived_seed(seed: int, purpose: int, *extra: int) -> int:
    """A 32-bit seed for ``purpose`` derived from the experiment seed (independent streams); keys are non-negative."""
    return int(np.random.SeedSequence([int(seed), purpose, *(int(e) for e in extra)]).generate_state(1)[0])


@dataclass(frozen=True)
class CellSpec:
    """Everything a worker needs to compute one cell (picklable).

    Attributes
    ----------
    cell_id
        Unique id; also the result file's name.
    policy, kind, hyperparameters, timesteps
        The policy's label, registry reference, keyword arguments and training budget.
    setting_index, setting_label, setting_overrides, assumptions
        The scenario setting.
    seed
        The experiment seed of this cell.
    draws
        Evaluation draws: indices, or ``"mean"``.
    training_params
        What simulator agents train on (``"sample"``, ``"mean"`` or an index).
    training_draws
        Draws that logged data and operating-point tuning use.
    customers
        Customers per evaluation draw.
    artifact
        Artifact path (None: the shipped one).
    logged_customers, tune_customers, email_probability
        Seed baselines: size of the log, validation customers, behavior policy's e-mail rate.
    model_dir, log_cache_dir
        Where to save the trained agent and logs, and where logged data is cached.
    record
        Provenance columns written into every row (experiment, config hash, version).
    offline
        The config's ``offline:`` section, or None (see :mod:`journeygym.experiments.offline`).
    device
        The config's ``training.device`` for the torch agents (None: each agent's own default).
    """

    cell_id: str
    policy: str
    kind: str
    hyperparameters: Mapping[str, Any]
    timesteps: int | None
    setting_index: int
    setting_label: str
    setting_overrides: Mapping[str, Any]
    assumptions: ScenarioAssumptions
    seed: int
    draws: tuple[int | str, ...]
    training_params: str | int
    training_draws: tuple[int | str, ...]
    customers: int
    artifact: str | None
    logged_customers: int
    tune_customers: int
    email_probability: float
    model_dir: str
    log_cache_dir: str
    record: Mapping[str, Any] = field(default_factory=dict)
    offline: Mapping[str, Any] | None = None
    device: str | None = None


#: Seed key of the posterior mean's evaluation (seed keys must be non-negative; no artifact holds this many draws).
MEAN_SEED_KEY = 2**32 - 1


def evaluation_seed(seed: int, draw: int | str) -> int:
    """The seed every policy is evaluated with on ``draw`` (an index or ``"mean"``): common random numbers."""
    return derived_seed(seed, EVALUATION, MEAN_SEED_KEY if draw == "mean" else int(draw))
