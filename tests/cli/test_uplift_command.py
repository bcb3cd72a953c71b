"""``journeygym uplift``: the command's input errors, its JSON, and its refusals of trials too small to analyze."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from journeygym.cli.uplift import uplift_command


def _write_trial(path: Path, n: int = 1500, seed: int = 11) -> Path:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    region = rng.choice(["north", "south"], n)
    age = rng.normal(40, 10, n)
    y = (rng.random(n) < expit(-1.0 + 0.8 * treated + 0.02 * (age - 40))).astype(int)
    pd.DataFrame({"treated": treated, "bought": y, "region": region, "age": age}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--outcome", "bougth"], "did you mean 'bought'"),
        (["--outcome", "bought", "--control", "7"], "not a level"),
        (["--outcome", "bought", "--covariates", "age,regoin"], "did you mean 'region'"),
        (["--outcome", "bought", "--draws", "0"], "--draws"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    path = _write_trial(tmp_path / "trial.csv", n=50)
    assert uplift_command([str(path), "--treatment", "treated", *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_missing_file_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert uplift_command([str(tmp_path / "none.csv"), "--treatment", "t", "--outcome", "y"]) == 2
    assert "not found" in capsys.readouterr().err
    assert uplift_command([str(tmp_path / "none.csv")]) == 2


def test_cli_json_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_trial(tmp_path / "trial.csv")
    argv = [str(path), "--treatment", "treated", "--outcome", "bought", "--covariates", "age,region"]
    code = uplift_command([*argv, "--draws", "200", "--tune", "200", "--chains", "2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == (0 if report["diagnostics"]["passed"] else 3)  # 3: the convergence checks failed (short chains)
    assert report["model"]["kind"] == "pooled"
    assert report["model"]["covariates"] == ["age", "region[south]"]
    (decision,) = report["decisions"]
    assert decision["arm"] == "1" and decision["prob_positive"] > 0.99
    assert report["covariate_effects"][0]["raw_mean"] == pytest.approx(0.02, abs=0.015)


class _FittedStandIn:
    """What the command needs of a fitted model, without sampling (the checks under test come before)."""

    diagnostics_ = {"passed": True}

    def to_json(self) -> str:
        return json.dumps({"decisions": []})


def _small_trial(path: Path, rows_per_arm: int, events: tuple[int, int]) -> Path:
    """A two-arm trial; ``events[a]`` outcomes of 1 in arm ``a``."""
    frame = pd.DataFrame(
        {
            "treated": [0] * rows_per_arm + [1] * rows_per_arm,
            "bought": [int(i < events[0]) for i in range(rows_per_arm)] + [int(i < events[1]) for i in range(rows_per_arm)],
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_cli_refuses_a_trial_with_too_few_rows_per_arm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trial.csv"
    pd.DataFrame({"treated": [0, 0, 1], "bought": [0, 1, 1]}).to_csv(path, index=False)
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought"]) == 2
    err = capsys.readouterr().err
    assert "arm(s) '0' (2 row(s)), '1' (1 row(s)) of 'treated'" in err and "at least 30 rows in every arm" in err
    assert "--min-per-arm" in err


def test_cli_refuses_an_outcome_that_never_happens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _small_trial(tmp_path / "trial.csv", 40, (0, 0))
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought"]) == 2
    assert "outcome 'bought' is 0 in all 80 rows" in capsys.readouterr().err


def test_cli_warns_about_an_arm_without_events_also_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeygym.calibration import uplift

    monkeypatch.setattr(uplift, "analyze_trial", lambda frame, **options: _FittedStandIn())
    path = _small_trial(tmp_path / "trial.csv", 40, (0, 5))
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought", "--json"]) == 0
    captured = capsys.readouterr()
    assert "journeygym uplift: warning: outcome 'bought' is 0 in all 40 rows of arm '0'" in captured.err
    (note,) = json.loads(captured.out)["warnings"]
    assert "arm '0'" in note
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought", "--min-per-arm", "41"]) == 2


def test_cli_directory_as_trial_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_trial(tmp_path / "trial.csv", n=50)
    assert uplift_command([str(tmp_path), "--treatment", "treated", "--outcome", "bought"]) == 2
    err = capsys.readouterr().err
    assert "is a directory, expected a CSV file (it holds trial.csv)" in err and "not found" not in err


def test_cli_messages_name_flags_not_keywords(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trial.csv"
    pd.DataFrame({"arm": ["b", "a", "c"] * 20, "y": [0, 1] * 30}).to_csv(path, index=False)
    assert uplift_command([str(path), "--treatment", "arm", "--outcome", "y"]) == 2
    err = capsys.readouterr().err
    assert "name the control level with --control LEVEL" in err and "control=" not in err
    assert uplift_command([str(path), "--treatment", "arm", "--outcome", "y", "--control", "z"]) == 2
    assert "--control z is not a level of 'arm'" in capsys.readouterr().err
    assert uplift_command([str(path), "--treatment", "arm", "--outcome", "y", "--control", "a", "--segment", "y"]) == 2
    assert "--segment y is the treatment or outcome column" in capsys.readouterr().err


# ---------------------------------------------------------------- real data (slow)




# ---------------------------------------------------------------- --plot checked before the sampling


def _no_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    from journeygym.calibration import uplift

    def fail(frame: pd.DataFrame, **options: object) -> None:
        raise AssertionError("the sampler ran although --plot cannot be written")

    monkeypatch.setattr(uplift, "analyze_trial", fail)


@pytest.mark.parametrize(
    ("plot", "message"),
    [
        ("{tmp}", "--plot: the plot file '{tmp}' is a directory, expected a file name"),
        ("{tmp}/a_file/u.png", "'{tmp}/a_file' is a file, not a directory"),
        ("{tmp}/u.xyz", "--plot: received '{tmp}/u.xyz', whose suffix 'xyz' is not an image format matplotlib writes"),
    ],
)
def test_cli_plot_that_cannot_be_written_is_refused_before_sampling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, plot: str, message: str
) -> None:
    """--plot /proc/x/u.png crashed with FileNotFoundError only after the sampling had finished."""
    _no_sampling(monkeypatch)
    (tmp_path / "a_file").write_text("")
    path = _small_trial(tmp_path / "trial.csv", 40, (5, 10))
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought", "--plot", plot.format(tmp=tmp_path)]) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no folder can be created")
def test_cli_plot_in_a_folder_that_cannot_be_created_is_refused_before_sampling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_sampling(monkeypatch)
    path = _small_trial(tmp_path / "trial.csv", 40, (5, 10))
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought", "--plot", "/proc/journeygym-missing/u.png"]) == 2
    assert "--plot: cannot write the plot file '/proc/journeygym-missing/u.png'" in capsys.readouterr().err


def test_cli_full_disk_when_writing_the_plot_keeps_the_printed_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from journeygym.calibration import uplift

    class FullDisk(_FittedStandIn):
        def plot_uplift(self, path: str) -> Path:
            raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(uplift, "analyze_trial", lambda frame, **options: FullDisk())
    path = _small_trial(tmp_path / "trial.csv", 40, (5, 10))
    plot = tmp_path / "u.png"
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought", "--json", "--plot", str(plot)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["decisions"] == []  # printed before the plot
    assert f"--plot: could not write {str(plot)!r}: the disk is full" in captured.err


def test_cli_trial_file_that_is_not_utf8_names_the_byte_offset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trial.csv"
    path.write_bytes(b"treated,bought,region\n0,1,north\n1,0,s\xf6d\n")
    assert uplift_command([str(path), "--treatment", "treated", "--outcome", "bought"]) == 2
    err = capsys.readouterr().err
    assert f"trial file {str(path)!r} is not UTF-8 text: the byte 0xf6 at byte offset 37 (line 3" in err
