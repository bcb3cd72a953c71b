"""``journeygym validate`` on the shipped artifact: the trial replay, the plausibility and frequency checks, as a user runs it."""

from __future__ import annotations

import pytest

from journeygym.envs.artifact import default_artifact_path
from journeygym.cli import main


@pytest.mark.slow
def test_validate_prints_every_check_and_passes(data_dir, capsys):
    """Every check of the trial, an e-mail's year and the frequency response is printed, and each passes."""
    artifact = str(default_artifact_path())
    code = main(["validate", "--data-dir", str(data_dir), "--env-customers", "5000", artifact])
    out = capsys.readouterr().out
    assert code == 0, out
    for line in (
        "PASS: observed rate inside the simulator's 90% posterior predictive interval",
        "PASS: single-e-mail visit carryover ratio within 2% of rho = 1.5, every draw",
        "PASS: one e-mail's 52-week incremental margin at most 3x its two-week one",
        "PASS: carryover level 1:",
        "PASS: carryover level 2.5:",
        "through the env API, 10 draws: one e-mail earns",
        "Frequency response (ASSUMPTIONS: fatigue memory 0.8",
        "(anchor arm, every draw): weekly to everyone +20% to +40% annual revenue over never",
        "womens_email (every draw): weekly to everyone +5% to +40% annual revenue over never",
        "through the env API (5,000 customers",
    ):
        assert line in out, line
    frequency_checks = [line for line in out.splitlines() if "weekly to everyone" in line]
    assert len(frequency_checks) == 2 and all(line.startswith("PASS: ") for line in frequency_checks), frequency_checks


def test_validate_fails_on_an_implausible_scenario(synthetic_draws):
    """Synthetic e-mail effects are not anchored: the plausibility report must say FAIL, not pass silently."""
    from journeygym.calibration.plausibility import plausibility_report

    report = plausibility_report(synthetic_draws, n_customers=300)
    assert not report.passed()
    assert any(line.startswith("FAIL: single-e-mail visit carryover ratio") for line in report.lines())


def test_frequency_report_fails_on_unanchored_effects(synthetic_draws):
    """Synthetic e-mail effects earn far less than +20% a year from weekly e-mail: the anchor arm's check says FAIL."""
    from journeygym.calibration.frequency import frequency_report

    report = frequency_report(synthetic_draws, n_customers=300)
    assert not report.passed()
    assert report.lifts.shape == (len(synthetic_draws), 2, 4)
    assert (report.lifts[:, :, 0] < 0.20).all()
    assert any(line.startswith("FAIL: ") and "(anchor arm, every draw)" in line for line in report.lines())


def test_validate_refuses_data_other_than_the_artifact_was_calibrated_on(synthetic_draws, tmp_path, capsys):
    from dataclasses import replace

    from journeygym.envs.artifact import save_artifact

    (tmp_path / "hillstrom.csv").write_text("recency,history\n1,2\n")
    recorded = {"hillstrom.csv": "0" * 64}
    artifact = save_artifact(replace(synthetic_draws, metadata={**synthetic_draws.metadata, "data_sha256": recorded}), tmp_path / "a.npz")
    assert main(["validate", str(artifact), "--data-dir", str(tmp_path)]) == 2
    message = capsys.readouterr().err
    assert "hillstrom.csv" in message and "0" * 64 in message and "calibrated on" in message
