"""The frequency response: the exact curve, the anchor's fit, and the curve through the public env API."""

from __future__ import annotations

import numpy as np
import pytest

from journeygym.calibration.frequency import (
    CADENCES,
    FrequencyReport,
    anchored_ratio,
    cadence_schedule,
    frequency_curve,
    measure_frequency_with_env,
    reference_population,
)
from journeygym.testing import make_synthetic_draws


def test_cadence_schedule_e_mails_every_k_weeks_from_week_zero():
    """Every k weeks from week 0, the arm; otherwise no action."""
    schedule = cadence_schedule(4, 2, weeks=10)
    np.testing.assert_array_equal(schedule, [2, 0, 0, 0, 2, 0, 0, 0, 2, 0])
    assert cadence_schedule(1, 1, weeks=5).tolist() == [1] * 5


def test_anchored_ratios_are_the_evidence_curve():
    """k^-0.41: 0.75, 0.57, 0.43 of the weekly lift at k = 2, 4, 8."""
    assert [round(anchored_ratio(k), 2) for k in (1, 2, 4, 8)] == [1.0, 0.75, 0.57, 0.43]


def test_without_fatigue_e_mailing_less_often_earns_less_in_proportion():
    """With no fatigue (p = 0) each e-mail earns the same, so lift(k) falls about as 1/k, far below k^-0.41."""
    draws = make_synthetic_draws()
    scenario = draws.assumptions.replace(fatigue_power=0.0, u1=0.0)
    params = draws.draws[0]
    customers = reference_population(params, scenario, 300, seed=0)
    curve = frequency_curve(params, scenario, customers, (1,))[0]
    assert (curve > 0).all()
    ratios = curve[1:] / curve[0]
    assert (ratios < np.array([anchored_ratio(k) for k in CADENCES[1:]]) - 0.1).all(), ratios


def test_fatigue_flattens_the_curve_towards_the_anchor():
    """The anchored fatigue keeps more of the weekly lift at sparse cadences than no fatigue does."""
    draws = make_synthetic_draws()
    params = draws.draws[0]
    tired = draws.assumptions
    rested = tired.replace(fatigue_power=0.0)
    customers = reference_population(params, tired, 300, seed=0)
    with_fatigue = frequency_curve(params, tired, customers, (1,))[0]
    without = frequency_curve(params, rested, customers, (1,))[0]
    assert with_fatigue[0] < without[0]  # weekly e-mail loses most to fatigue
    assert (with_fatigue[1:] / with_fatigue[0] > without[1:] / without[0]).all()


def test_report_fails_a_draw_whose_sparse_cadence_outearns_weekly():
    """A curve that rises with k (the old counter's shape) fails, however good its weekly lift."""
    good = np.array([[0.30, 0.225, 0.171, 0.129], [0.15, 0.11, 0.085, 0.065]])
    bad = good.copy()
    bad[0] = [0.30, 0.45, 0.30, 0.20]
    names = ("no_action", "mens_email", "womens_email")
    assert FrequencyReport(1.5, names, 1, np.stack([good] * 4)).passed()
    report = FrequencyReport(1.5, names, 1, np.stack([good] * 3 + [bad]))
    assert not report.passed()
    assert "3 of 4 draws pass" in report.checks()[0][1]


def test_every_arm_must_pass_on_every_draw():
    """One near-null draw of the other arm fails the report, as one of the anchor arm does."""
    good = np.array([[0.30, 0.225, 0.171, 0.129], [0.15, 0.11, 0.085, 0.065]])
    near_null = good.copy()
    near_null[1] = [0.01, 0.03, 0.04, 0.04]
    names = ("no_action", "mens_email", "womens_email")
    assert FrequencyReport(1.5, names, 1, np.stack([good] * 40)).passed()
    report = FrequencyReport(1.5, names, 1, np.stack([good] * 39 + [near_null]))
    assert not report.passed()
    assert "39 of 40 draws pass" in report.checks()[1][1] and "(every draw)" in report.checks()[1][0]


@pytest.mark.slow
def test_the_env_api_gives_the_exact_curve_within_monte_carlo_error():
    """40,000 customers, 5 draws, both arms, every 1, 2, 4, 8 weeks against never: within 4 standard errors."""
    from journeygym.envs.artifact import load_artifact

    measured = measure_frequency_with_env(load_artifact(), n_customers=40_000, seed=3)
    assert measured.lifts.shape == (5, 2, len(CADENCES))
    assert np.abs(measured.z_scores).max() < 4.0, "\n".join(measured.lines())
    mens = measured.lifts[:, 0]
    assert (mens[:, 1] < mens[:, 0]).all()  # biweekly no longer out-earns weekly
