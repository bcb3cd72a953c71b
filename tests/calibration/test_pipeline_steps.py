"""Steps of the calibration pipeline that run without the data or a fit: assembly, config, argument checks."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from journeygym.calibration.effects import MatchedEffects
from journeygym.calibration.pipeline import assemble_draws, calibrate, calibration_config
from journeygym.calibration.uplift import UpliftPriors
from journeygym.datasets.hillstrom_columns import COVARIATE_NAMES, HISTORY_SEGMENTS, RECENCY_MONTHS
from journeygym.envs.parameters import ScenarioAssumptions
from journeygym.records import config_hash
from journeygym.testing import synthetic_parameters

N_DRAWS, LEVELS, N_ACTIONS = 3, (1.0, 1.5), 3


def _matched_effects(rng: np.random.Generator) -> MatchedEffects:
    """Matched effects whose responses differ in every (draw, level, segment, action) cell; action 0 is zero."""
    shape = (N_DRAWS, len(LEVELS), len(HISTORY_SEGMENTS), N_ACTIONS)

    def responses() -> np.ndarray:
        values = rng.normal(size=shape)
        values[..., 0] = 0.0
        return values

    n_cov = len(COVARIATE_NAMES)
    return MatchedEffects(
        carryover_levels=LEVELS,
        covariate_means=rng.normal(size=n_cov),
        purchase_covariate_effects=rng.normal(size=(N_DRAWS, n_cov)),
        visit_covariate_effects=rng.normal(size=(N_DRAWS, n_cov)),
        purchase_offset=rng.normal(size=N_DRAWS),
        visit_level=rng.normal(size=N_DRAWS),
        purchase_segment_offset=rng.normal(size=(N_DRAWS, len(HISTORY_SEGMENTS))),
        visit_segment_offset=rng.normal(size=(N_DRAWS, len(HISTORY_SEGMENTS))),
        purchase_recency_offset=rng.normal(size=(N_DRAWS, len(RECENCY_MONTHS))),
        visit_recency_offset=rng.normal(size=(N_DRAWS, len(RECENCY_MONTHS))),
        engagement_tilt=np.abs(responses()),
        visit_response=responses(),
        purchase_response=responses(),
        clipped={},
        cells=pd.DataFrame(),
    )


def test_assembled_draws_hold_the_responses_in_the_artifact_layout() -> None:
    rng = np.random.default_rng(7)
    reference = synthetic_parameters(rng)
    effects = _matched_effects(rng)
    hmm = SimpleNamespace(
        transmat_=reference.transition, purchase_prob_=reference.purchase_prob, state_names_=list(reference.state_names)
    )
    spend_log_means = rng.normal(4.4, 0.1, size=(N_DRAWS, len(HISTORY_SEGMENTS)))
    draws = assemble_draws(
        hmm, reference.initial_state_by_recency, effects, SimpleNamespace(log_sd=0.8), spend_log_means,
        SimpleNamespace(population=reference.population, arm_ids=reference.action_names, has_visit=True),
        ScenarioAssumptions(carryover=1.5),
    )
    assert len(draws) == N_DRAWS
    for name in ("engagement_tilt", "visit_response", "purchase_response"):
        matched = getattr(effects, name)  # (S, R, G, A)
        for s, parameters in enumerate(draws.draws):
            stored = getattr(parameters, name)  # (R, A, G)
            assert stored.shape == (len(LEVELS), N_ACTIONS, len(HISTORY_SEGMENTS))
            np.testing.assert_array_equal(stored, np.transpose(matched[s], (0, 2, 1)))
        np.testing.assert_array_equal(getattr(draws.mean, name), np.transpose(matched.mean(axis=0), (0, 2, 1)))
    tilt, _, _ = draws.draws[1].response_at(1.5)
    assert tilt[2, 4] == effects.engagement_tilt[1, 1, 4, 2]  # (A, G): womens e-mail, segment 5


def _model() -> SimpleNamespace:
    return SimpleNamespace(draws=1000, tune=600, chains=4, target_accept=0.95, mass_matrix="low_rank", priors=UpliftPriors())


def test_the_config_hash_covers_the_anchored_assumptions_and_the_sampler() -> None:
    checksums = {"hillstrom.csv": "a" * 64, "cdnow_master.txt": "b" * 64}
    models = {"visit": _model(), "conversion": _model()}
    config = calibration_config(200, 0, checksums, models, (1.0, 1.5), ScenarioAssumptions())
    assert config["assumptions"] == ScenarioAssumptions().to_dict()
    assert config["fatigue_anchor"] == {"weekly_revenue_uplift": 0.30, "frequency_elasticity": 0.41}
    assert "max_fatigue" not in config["assumptions"]
    # Every fatigue assumption (the anchored kappa and power, the stated memory and trial fatigue) is in the hash.
    for change in ({"kappa": 0.05}, {"fatigue_power": 0.5}, {"fatigue_memory": 0.7}, {"trial_fatigue": 0.07}):
        anchored = calibration_config(200, 0, checksums, models, (1.0, 1.5), ScenarioAssumptions().replace(**change))
        assert config_hash(anchored) != config_hash(config), change
    models["conversion"].tune = 700
    assert config_hash(calibration_config(200, 0, checksums, models, (1.0, 1.5), ScenarioAssumptions())) != config_hash(config)


def test_carryover_levels_without_the_default_are_refused_before_any_data_is_read(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"received levels \[1.0, 2.5\], which miss the default carryover 1.5"):
        calibrate(tmp_path / "absent", carryover_levels=(2.5, 1.0), carryover=1.5)
