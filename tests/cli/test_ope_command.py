"""``journeygym ope``: estimates with intervals and diagnostics; the assessment with --truth; clear errors."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

from journeygym.baselines.logged_data import simulate_logged_data, write_logged_data
from journeygym.cli import main
from journeygym.ope.ratios import DEFAULT_RATIO_CLIP


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    frame = simulate_logged_data(300, 3, params=[0, 1], horizon=8)
    return write_logged_data(frame, tmp_path_factory.mktemp("ope") / "log.parquet"), frame


def test_estimates_and_assessment_as_json(log_path, capsys):
    path, _ = log_path
    status = main(["ope", str(path), "--policies", "never", "random", "always_mens", "--bootstrap", "20", "--truth", "--json"])
    assert status == 0
    record = json.loads(capsys.readouterr().out)
    assert [p["policy"] for p in record["policies"]] == ["never", "random", "always_mens"]
    first = record["policies"][0]["estimates"]
    assert set(first) == {"dm", "is", "wis", "pdis", "wpdis", "dr", "wdr", "magic", "mis", "mdr"}
    for estimate in first.values():
        assert all(np.isfinite(estimate[key]) for key in ("low", "value", "high"))
        assert estimate["low"] <= estimate["high"]
    assert set(record["truth"]) == {"never", "random", "always_mens", "oracle"}
    assert {row["estimator"] for row in record["assessment"]} == set(first)
    assert record["settings"]["propensities_estimated"] is False


def test_the_recommendation_follows_the_log_s_overlap_in_text_and_json(log_path, capsys):
    path, _ = log_path
    args = ["ope", str(path), "--policies", "never", "random", "--estimators", "dm", "dr", "--bootstrap", "5"]
    assert main([*args, "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)["advice"]
    # 300 customers: the log's own policy (random) overlaps fully, never has too few effective customers.
    assert {entry["policy"]: entry["overlap"] for entry in advice["policies"]} == {"never": "weak", "random": "adequate"}
    assert advice["lower_bound"] == "dr" and advice["bounded"] == ["random"] and advice["ranking"] is None
    assert any(line.startswith("No estimator can be trusted for ranking or a lower bound of never") for line in advice["summary"])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Which estimator to trust on this log" in out
    assert "For a safe lower bound on random: trust dr's Student-t bound" in out
    assert "No estimator can be trusted for ranking or a lower bound of never" in out


def test_fitted_q_on_the_filter_belief_is_recorded(log_path, capsys):
    path, _ = log_path
    args = ["ope", str(path), "--policies", "never", "--estimators", "dm", "--bootstrap", "5", "--json"]
    assert main([*args, "--fqe-features", "belief"]) == 0
    with_belief = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert with_belief["settings"]["fqe_features"] == "belief" and plain["settings"]["fqe_features"] == "observation"
    assert with_belief["policies"][0]["estimates"]["dm"]["value"] != plain["policies"][0]["estimates"]["dm"]["value"]


def test_the_state_ratios_learner_and_clip_are_recorded(log_path, capsys):
    path, _ = log_path
    args = ["ope", str(path), "--policies", "never", "always_mens", "--estimators", "mis", "mdr", "--bootstrap", "5"]
    assert main([*args, "--ratio-learner", "binned", "--ratio-clip", "12", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["settings"]["ratio_learner"] == "binned" and record["settings"]["ratio_clip"] == 12.0
    for entry in record["policies"]:
        assert entry["state_ratios"]["learner"] == "binned" and entry["state_ratios"]["clip"] == 12.0
        assert {e["ratio_clip"] for e in entry["estimates"].values()} == {12.0}
    assert main(args) == 0
    assert f"mis and mdr: per-week state ratios learned by regression, clipped at {DEFAULT_RATIO_CLIP:g}" in capsys.readouterr().out
    assert main([*args, "--ratio-clip", "0.5"]) == 2
    assert "ratio_clip: received 0.5, expected a number > 1" in capsys.readouterr().err


def test_a_log_without_propensities_is_marked_estimated(log_path, tmp_path, capsys):
    _, frame = log_path
    csv = tmp_path / "log.csv"
    frame.drop(columns=[c for c in frame.columns if c.startswith("propensity_")]).to_csv(csv, index=False)
    assert main(["ope", str(csv), "--policies", "never", "random", "--estimators", "pdis", "wpdis", "--bootstrap", "10"]) == 0
    out = capsys.readouterr().out
    assert "estimated from the log" in out and "pdis" in out and "wpdis" in out


@pytest.mark.parametrize(
    "change, needle",
    [
        (lambda f: f[f["week"] != 3], "skips or starts late at week 4"),
        (lambda f: f.assign(reward=f["reward"].where(f.index != 5, float("inf"))), "'reward' has 1 non-finite"),
        (lambda f: f.assign(propensity_no_action=f["propensity_no_action"] * 0.5), "do not sum to 1"),
    ],
)
def test_bad_logs_are_clear_errors(log_path, tmp_path, capsys, change, needle):
    _, frame = log_path
    csv = tmp_path / "bad.csv"
    change(frame.copy()).to_csv(csv, index=False)
    assert main(["ope", str(csv), "--policies", "never", "--bootstrap", "10"]) == 2
    assert needle in capsys.readouterr().err


def test_unknown_names_are_clear_errors(log_path, capsys):
    path, _ = log_path
    assert main(["ope", str(path), "--policies", "nevr"]) == 2
    assert "did you mean 'never'" in capsys.readouterr().err
    assert main(["ope", str(path), "--policies", "never", "--estimators", "dr", "drr"]) == 2
    assert "did you mean 'dr'" in capsys.readouterr().err
    assert main(["ope", str(path), "--policies", "ppo"]) == 2
    assert "saved agent" in capsys.readouterr().err


def test_a_csv_log_that_is_not_utf8_names_the_file_and_the_byte_offset(log_path, tmp_path, capsys):
    """A Latin-1 byte was answered with the codec's own words, naming no file (and a chunk's position)."""
    _, frame = log_path
    csv = tmp_path / "latin1.csv"
    text = frame.head(40).to_csv(index=False).encode()
    csv.write_bytes(text + b"caf\xe9\n")
    assert main(["ope", str(csv), "--policies", "never", "--bootstrap", "10"]) == 2
    err = capsys.readouterr().err
    assert f"log: {str(csv)!r} is not UTF-8 text: the byte 0xe9 at byte offset {len(text) + 3}" in err
    assert "iconv" in err and "codec can't decode" not in err


@pytest.mark.parametrize(("content", "needle"), [(b"", "is empty (no header row)"), (b"customer_id,week,action\n", "has no rows")])
def test_an_empty_csv_log_says_which_file_and_what_it_should_hold(tmp_path, capsys, content, needle):
    """An empty CSV was answered "No columns to parse from file"."""
    csv = tmp_path / "empty.csv"
    csv.write_bytes(content)
    assert main(["ope", str(csv), "--policies", "never"]) == 2
    err = capsys.readouterr().err
    assert f"log: {str(csv)!r} {needle}" in err and "one row per customer and week" in err
    assert "No columns to parse" not in err


def _no_estimates(monkeypatch):
    import journeygym.ope.evaluate

    def fail(*args, **kwargs):
        raise AssertionError("the estimates ran although --out cannot be written")

    monkeypatch.setattr(journeygym.ope.evaluate, "evaluate_policies", fail)


def test_an_out_that_cannot_be_written_is_refused_before_the_estimates(log_path, tmp_path, capsys, monkeypatch):
    """--out EXISTING_DIR ended in IsADirectoryError, and an uncreatable folder in FileNotFoundError, after the work."""
    path, _ = log_path
    _no_estimates(monkeypatch)
    assert main(["ope", str(path), "--policies", "never", "--out", str(tmp_path)]) == 2
    assert f"--out: the output file {str(tmp_path)!r} is a directory" in capsys.readouterr().err
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert main(["ope", str(path), "--policies", "never", "--out", str(a_file / "r.json")]) == 2
    assert f"{str(a_file)!r} is a file, not a directory" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no folder can be created")
def test_an_out_in_a_folder_that_cannot_be_created_is_refused_before_the_estimates(log_path, capsys, monkeypatch):
    """Permission bits let root write under /proc, yet no folder can be created there: the check tries."""
    path, _ = log_path
    _no_estimates(monkeypatch)
    assert main(["ope", str(path), "--policies", "never", "--out", "/proc/journeygym-missing/r.json"]) == 2
    err = capsys.readouterr().err
    assert "--out: cannot write the output file '/proc/journeygym-missing/r.json'" in err and "Traceback" not in err


def test_a_full_disk_when_writing_out_keeps_the_printed_estimates(log_path, tmp_path, capsys, monkeypatch):
    import journeygym.files

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(journeygym.files, "atomic_write_bytes", full)
    path, _ = log_path
    out = tmp_path / "r.json"
    assert main(["ope", str(path), "--policies", "never", "--estimators", "is", "--bootstrap", "5", "--json", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["policies"][0]["policy"] == "never"  # the estimates are not lost
    assert f"--out: could not write {str(out)!r}: the disk is full" in captured.err and "printed above" in captured.err
    assert not out.exists()
