"""``journeygym calibrate --out``: a path that cannot take the artifact is an error before the fit starts."""

from __future__ import annotations

import os

import pytest

from journeygym.cli import main


@pytest.fixture
def calibrate(tmp_path):
    """``calibrate(out)``: run the command on an empty data directory (the fit would fail at once if it started)."""
    empty = tmp_path / "no_data"
    empty.mkdir()
    return lambda out: main(["calibrate", "--out", str(out), "--data-dir", str(empty)])


def test_out_that_is_a_directory(calibrate, tmp_path, capsys):
    folder = tmp_path / "artifact.npz"
    folder.mkdir()
    assert calibrate(folder) == 2
    assert f"--out: the artifact file {str(folder)!r} is a directory, expected a file name" in capsys.readouterr().err


def test_out_under_a_file(calibrate, tmp_path, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("a file, not a folder")
    assert calibrate(blocker / "artifact.npz") == 2
    err = capsys.readouterr().err
    assert f"--out: cannot create the folder of the artifact file {str(blocker)!r}" in err and "is a file, not a directory" in err


def test_out_in_an_unwritable_place(calibrate, tmp_path, capsys, monkeypatch):
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    if os.geteuid() == 0:  # permissions do not bind root: let os.access answer as for another user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(read_only) else real_access(path, mode))
    try:
        assert calibrate(read_only / "artifact.npz") == 2
    finally:
        read_only.chmod(0o700)
    assert f"{str(read_only)!r} is not writable" in capsys.readouterr().err
