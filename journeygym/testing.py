"""Test support: small, well-formed synthetic parameters that need no data files.

Useful for testing code that runs on the simulator (for example a plug-in
agent) without the shipped artifact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from journeygym.datasets.hillstrom_columns import COVARIATE_NAMES, HISTORY_SEGMENTS, POPULATION_CELL_SHAPE, hillstrom_population
from journeygym.envs.parameters import (
    DEFAULT_ACTION_NAMES,
    DEFAULT_STATE_NAMES,
    DynamicsParameters,
    ParameterDraws,
    ScenarioAssumptions,
)
from journeygym.envs.observation import ObservationColumn, column_positions, observation_columns
from journeygym.envs.population import PopulationModel, StaticColumn, scaled_columns

#: Segments and start profiles of the synthetic population with other covariates.
SYNTHETIC_SEGMENTS = 3
SYNTHETIC_STARTS = 4


#: Carryover levels of the synthetic parameters: the ends and the default of the sensitivity sweep.
#: The synthetic e-mail effects are random, not solved for these ratios.
SYNTHETIC_CARRYOVER_LEVELS: tuple[float, ...] = (1.0, 1.5, 2.5)


def synthetic_action_names(n_arms: int) -> tuple[str, ...]:
    """``no_action`` and the arms: the default artifact's two e-mails for 2, ``arm_1 ... arm_K`` otherwise."""
    if n_arms < 1:
        raise ValueError(f"n_arms: received {n_arms}, expected at least 1 arm.")
    return DEFAULT_ACTION_NAMES if n_arms == 2 else ("no_action", *(f"arm_{k}" for k in range(1, n_arms + 1)))


def synthetic_population(rng: np.random.Generator, n_covariates: int, n_profiles: int = 200) -> PopulationModel:
    """A random population of ``n_profiles`` profiles over ``n_covariates`` covariates (half of them 0/1),
    :data:`SYNTHETIC_SEGMENTS` segments and :data:`SYNTHETIC_STARTS` start profiles."""
    design = rng.normal(0.0, 1.0, size=(n_profiles, n_covariates))
    design[:, ::2] = design[:, ::2] > 0
    names = tuple(f"x{j}" for j in range(n_covariates))
    start = rng.integers(0, SYNTHETIC_STARTS, n_profiles)
    columns = scaled_columns(names, design) + (
        StaticColumn("segment", "segment ordinal", "segment", (), 0.0, float(SYNTHETIC_SEGMENTS - 1)),
        StaticColumn("start_profile", "start profile ordinal", "start", (), 0.0, float(SYNTHETIC_STARTS - 1)),
    )
    weights = rng.random(n_profiles)
    return PopulationModel(
        weights=weights / weights.sum(),
        design=design,
        segment=np.arange(n_profiles) % SYNTHETIC_SEGMENTS,
        start=start,
        covariate_names=names,
        segment_labels=tuple(f"segment {g}" for g in range(SYNTHETIC_SEGMENTS)),
        start_labels=tuple(f"start {r}" for r in range(SYNTHETIC_STARTS)),
        start_weeks_since_purchase=np.array([2, 6, 13, 40]),
        static_columns=columns,
        segment_column=n_covariates,
        start_column=n_covariates + 1,
    )


def synthetic_parameters(
    rng: np.random.Generator, n_states: int = 5, n_arms: int = 2, n_covariates: int | None = None
) -> DynamicsParameters:
    """A random but well-formed parameter set (covariate effects non-zero, so they are exercised).

    ``n_arms`` e-mail arms besides no action (2, the default artifact's, unless asked).
    ``n_covariates`` None: the default artifact's Hillstrom covariates; a number: a
    :func:`synthetic_population` with that many other covariates.
    """
    transition = rng.dirichlet(np.full(n_states, 0.3), size=n_states) * 0.2 + np.eye(n_states) * 0.8
    if n_covariates is None:
        cells = rng.random(POPULATION_CELL_SHAPE)
        quantiles = np.sort(rng.uniform(1, 3000, size=(len(HISTORY_SEGMENTS), 11)), axis=1)
        population = hillstrom_population(cells / cells.sum(), quantiles)
        covariate_means = np.array([6.0, 5.5, 0.5, 0.5, 0.5, 0.4, 0.15, 0.44, 0.44])
    else:
        population = synthetic_population(rng, n_covariates)
        covariate_means = population.covariate_mean()
    n_cov = population.n_covariates
    n_segments = population.n_segments
    n_levels = len(SYNTHETIC_CARRYOVER_LEVELS)

    def effects(mean: float, sd: float) -> np.ndarray:
        values = rng.normal(mean, sd, size=(n_levels, n_arms + 1, n_segments))
        values[:, 0] = 0.0  # no action has no effect
        return values

    purchase_response = effects(0.4, 0.3)
    visit_response = effects(0.5, 0.3)
    tilt = effects(0.3, 0.2)
    tilt[0] = 0.0  # carryover 1: no persistence
    return DynamicsParameters(
        transition=transition / transition.sum(axis=1, keepdims=True),
        initial_state_by_recency=rng.dirichlet(np.ones(n_states), size=population.n_starts),
        purchase_prob=np.sort(rng.uniform(0.01, 0.4, n_states)),
        visit_prob=np.sort(rng.uniform(0.05, 0.6, n_states)),
        purchase_offset=-1.0,
        purchase_covariate_effects=rng.normal(0, 0.1, n_cov),
        visit_covariate_effects=rng.normal(0, 0.1, n_cov),
        covariate_means=covariate_means,
        purchase_response=purchase_response,
        visit_response=visit_response,
        engagement_tilt=tilt,
        spend_log_mean=rng.normal(4.4, 0.1, n_segments),
        spend_log_sd=0.8,
        population=population,
        state_names=DEFAULT_STATE_NAMES if n_states == 5 else tuple(f"s{k}" for k in range(n_states)),
        carryover_levels=SYNTHETIC_CARRYOVER_LEVELS,
        action_names=synthetic_action_names(n_arms),
    )


def make_synthetic_draws(
    seed: int = 0, n_draws: int = 3, n_arms: int = 2, n_covariates: int | None = None
) -> ParameterDraws:
    """Synthetic draws: the mean plus ``n_draws`` perturbed sets, with ``n_arms`` e-mail arms (each costing 0.05).

    ``n_covariates``: None for the default artifact's Hillstrom covariates, or a number of
    other covariates (:func:`synthetic_population`).
    """
    rng = np.random.default_rng(seed)
    mean = synthetic_parameters(rng, n_arms=n_arms, n_covariates=n_covariates)
    # The population model is an aggregate of the data, shared by every draw (as in a calibrated artifact).
    draws = tuple(
        replace(
            synthetic_parameters(np.random.default_rng(seed + 1 + i), n_arms=n_arms, n_covariates=n_covariates),
            population=mean.population,
        )
        for i in range(n_draws)
    )
    assumptions = ScenarioAssumptions(action_costs=(0.0,) + (0.05,) * n_arms)
    return ParameterDraws(draws=draws, mean=mean, assumptions=assumptions, metadata={"source": "synthetic test fixture"})


def default_observation_columns(
    action_names: tuple[str, ...] = DEFAULT_ACTION_NAMES, frequency_cap: bool = False
) -> tuple[ObservationColumn, ...]:
    """The observation columns of a model with the default artifact's (Hillstrom) covariates and these actions."""
    cells = np.ones(POPULATION_CELL_SHAPE)
    population = hillstrom_population(cells / cells.sum(), np.zeros((len(HISTORY_SEGMENTS), 2)))
    return observation_columns(population, tuple(action_names), frequency_cap)


def default_observation_names(action_names: tuple[str, ...] = DEFAULT_ACTION_NAMES, frequency_cap: bool = False) -> tuple[str, ...]:
    """Names of :func:`default_observation_columns`."""
    return tuple(column.name for column in default_observation_columns(action_names, frequency_cap))


def default_observation_index(action_names: tuple[str, ...] = DEFAULT_ACTION_NAMES, frequency_cap: bool = False) -> dict[str, int]:
    """Position of every column of :func:`default_observation_columns` by name."""
    return column_positions(default_observation_names(action_names, frequency_cap))
