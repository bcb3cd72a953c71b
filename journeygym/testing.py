"""Test support: small, well-formed synthetic parameters that need no data files.

Useful for testing code that runs on the simulator (for example a plug-in
agent) without the shipped artifact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from journeygym.envs.covariates import COVARIATE_NAMES, HISTORY_SEGMENTS
from journeygym.envs.parameters import (
    DEFAULT_ACTION_NAMES,
    DEFAULT_STATE_NAMES,
    POPULATION_CELL_SHAPE,
    DynamicsParameters,
    ParameterDraws,
    PopulationModel,
    ScenarioAssumptions,
)


#: Carryover levels of the synthetic parameters: the ends and the default of the sensitivity sweep.
#: The synthetic e-mail effects are random, not solved for these ratios.
SYNTHETIC_CARRYOVER_LEVELS: tuple[float, ...] = (1.0, 1.5, 2.5)


def synthetic_action_names(n_arms: int) -> tuple[str, ...]:
    """``no_action`` and the arms: the default artifact's two e-mails for 2, ``arm_1 ... arm_K`` otherwise."""
    if n_arms < 1:
        raise ValueError(f"n_arms: received {n_arms}, expected at least 1 arm.")
    return DEFAULT_ACTION_NAMES if n_arms == 2 else ("no_action", *(f"arm_{k}" for k in range(1, n_arms + 1)))


def synthetic_parameters(rng: np.random.Generator, n_states: int = 5, n_arms: int = 2) -> DynamicsParameters:
    """A random but well-formed parameter set (covariate effects non-zero, so they are exercised).

    ``n_arms`` e-mail arms besides no action (2, the default artifact's, unless asked).
    """
    transition = rng.dirichlet(np.full(n_states, 0.3), size=n_states) * 0.2 + np.eye(n_states) * 0.8
    cells = rng.random(POPULATION_CELL_SHAPE)
    quantiles = np.sort(rng.uniform(1, 3000, size=(len(HISTORY_SEGMENTS), 11)), axis=1)
    n_cov = len(COVARIATE_NAMES)
    n_levels = len(SYNTHETIC_CARRYOVER_LEVELS)

    def effects(mean: float, sd: float) -> np.ndarray:
        values = rng.normal(mean, sd, size=(n_levels, n_arms + 1, len(HISTORY_SEGMENTS)))
        values[:, 0] = 0.0  # no action has no effect
        return values

    purchase_response = effects(0.4, 0.3)
    visit_response = effects(0.5, 0.3)
    tilt = effects(0.3, 0.2)
    tilt[0] = 0.0  # carryover 1: no persistence
    return DynamicsParameters(
        transition=transition / transition.sum(axis=1, keepdims=True),
        initial_state_by_recency=rng.dirichlet(np.ones(n_states), size=12),
        purchase_prob=np.sort(rng.uniform(0.01, 0.4, n_states)),
        visit_prob=np.sort(rng.uniform(0.05, 0.6, n_states)),
        purchase_offset=-1.0,
        purchase_covariate_effects=rng.normal(0, 0.1, n_cov),
        visit_covariate_effects=rng.normal(0, 0.1, n_cov),
        covariate_means=np.array([6.0, 5.5, 0.5, 0.5, 0.5, 0.4, 0.15, 0.44, 0.44])[:n_cov],
        purchase_response=purchase_response,
        visit_response=visit_response,
        engagement_tilt=tilt,
        spend_log_mean=rng.normal(4.4, 0.1, len(HISTORY_SEGMENTS)),
        spend_log_sd=0.8,
        population=PopulationModel(cell_probabilities=cells / cells.sum(), history_quantiles=quantiles),
        state_names=DEFAULT_STATE_NAMES if n_states == 5 else tuple(f"s{k}" for k in range(n_states)),
        carryover_levels=SYNTHETIC_CARRYOVER_LEVELS,
        action_names=synthetic_action_names(n_arms),
    )


def make_synthetic_draws(seed: int = 0, n_draws: int = 3, n_arms: int = 2) -> ParameterDraws:
    """Synthetic draws: the mean plus ``n_draws`` perturbed sets, with ``n_arms`` e-mail arms (each costing 0.05)."""
    rng = np.random.default_rng(seed)
    mean = synthetic_parameters(rng, n_arms=n_arms)
    # The population model is an aggregate of the data, shared by every draw (as in a calibrated artifact).
    draws = tuple(
        replace(synthetic_parameters(np.random.default_rng(seed + 1 + i), n_arms=n_arms), population=mean.population)
        for i in range(n_draws)
    )
    assumptions = ScenarioAssumptions(action_costs=(0.0,) + (0.05,) * n_arms)
    return ParameterDraws(draws=draws, mean=mean, assumptions=assumptions, metadata={"source": "synthetic test fixture"})
