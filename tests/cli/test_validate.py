"""``journeygym validate`` on the shipped artifact: the trial replay and the plausibility checks, as a user runs it."""

from __future__ import annotations

import pytest

from journeygym.envs.artifact import default_artifact_path
from journeygym.cli import main


@pytest.mark.slow
def test_validate_prints_every_check_and_passes(data_dir, capsys):
    artifact = str(default_artifact_path())
    code = main(["validate", "--data-dir", str(data_dir), "--env-customers", "5000", artifact])
    out = capsys.readouterr().out
    assert code == 0, out
    for line in (
        "PASS: observed rate inside the simulator's 90% posterior predictive interval",
        "PASS: single-e-mail visit carryover ratio within 2% of rho = 1.5, every draw",
        "PASS: one e-mail's 52-week incremental margin at most 3x its two-week one",
        "PASS: weekly e-mail to everyone: annual revenue +5% to +100% over never",
        "PASS: carryover level 1:",
        "PASS: carryover level 2.5:",
        "through the env API, 10 draws: one e-mail earns",
        "through the env API: weekly e-mail to everyone earns",
    ):
        assert line in out, line


def test_validate_fails_on_an_implausible_scenario(synthetic_draws):
    """Synthetic e-mail effects are not anchored: the plausibility report must say FAIL, not pass silently."""
    from journeygym.calibration.plausibility import plausibility_report

    report = plausibility_report(synthetic_draws, n_customers=300)
    assert not report.passed()
    assert any(line.startswith("FAIL: single-e-mail visit carryover ratio") for line in report.lines())
