"""Tests of the Hillstrom loader, its validation errors and the checksum check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeygym.errors import DataValidationError
from journeygym.datasets.hillstrom import (
    ARMS,
    DATA_DIR_ENV,
    HILLSTROM_COLUMNS,
    HILLSTROM_FILENAME,
    ChecksumMismatchError,
    load_hillstrom,
    verify_sha256,
)
from journeygym.datasets.hillstrom_columns import CHANNELS, HISTORY_SEGMENTS, ZIP_CODES
from journeygym.files import sha256_of_file

HEADER = ",".join(HILLSTROM_COLUMNS)
ROWS = (
    "10,2) $100 - $200,142.44,1,0,Surburban,0,Phone,Womens E-Mail,0,0,0",
    "6,3) $200 - $350,329.08,1,1,Rural,1,Web,No E-Mail,0,0,0",
    "7,1) $0 - $100,80.5,0,1,Urban,1,Multichannel,Mens E-Mail,1,1,125.5",
    "12,7) $1,000 +,1500.0,1,1,Urban,0,Web,No E-Mail,1,0,0",
)


@pytest.fixture(scope="module")
def hillstrom_csv(real_data_file) -> Path:
    """The real Hillstrom file from $JOURNEYGYM_DATA_DIR (default: ../shared/data beside the checkout)."""
    return real_data_file(HILLSTROM_FILENAME)


def _quote(row: str) -> str:
    # "7) $1,000 +" holds a comma, so the published CSV quotes it.
    return row.replace("7) $1,000 +", '"7) $1,000 +"')


def write_csv(directory: Path, rows: tuple[str, ...] = ROWS, header: str = HEADER) -> Path:
    path = directory / HILLSTROM_FILENAME
    path.write_text("\n".join([header, *(_quote(row) for row in rows)]) + "\n")
    return path


def replace_field(row: str, column: str, value: str) -> str:
    fields = _split(row)
    fields[HILLSTROM_COLUMNS.index(column)] = value
    return ",".join(fields)


def _split(row: str) -> list[str]:
    marker = "7) $1,000 +"
    return [field.replace("\x00", ",") for field in row.replace(marker, marker.replace(",", "\x00")).split(",")]


# ---------------------------------------------------------------- valid input


def test_loads_small_file_with_integer_codes(tmp_path: Path) -> None:
    table = load_hillstrom(write_csv(tmp_path))
    assert list(table.columns[: len(HILLSTROM_COLUMNS)]) == list(HILLSTROM_COLUMNS)
    assert table["segment_idx"].tolist() == [HISTORY_SEGMENTS.index(s) for s in table["history_segment"]]
    assert table["zip_idx"].tolist() == [ZIP_CODES.index(z) for z in table["zip_code"]]
    assert table["channel_idx"].tolist() == [CHANNELS.index(c) for c in table["channel"]]
    assert table["arm"].tolist() == [2, 0, 1, 0]
    assert table["history_segment"].iloc[3] == "7) $1,000 +"
    for column in ("recency", "mens", "visit", "conversion", "segment_idx", "arm"):
        assert table[column].dtype == np.int64
    assert table["history"].dtype == np.float64 and table["spend"].dtype == np.float64


def test_accepts_directory_env_var_and_header_spacing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header = ", ".join(name.upper() for name in HILLSTROM_COLUMNS)
    write_csv(tmp_path, header=header)
    assert len(load_hillstrom(tmp_path)) == len(ROWS)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert len(load_hillstrom()) == len(ROWS)


def test_arm_codes_follow_arms_order() -> None:
    assert ARMS == ("No E-Mail", "Mens E-Mail", "Womens E-Mail")


# ---------------------------------------------------------------- errors


def test_missing_file_says_how_to_set_data_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=DATA_DIR_ENV) as caught:
        load_hillstrom(tmp_path)
    assert "download_hillstrom" in str(caught.value)


def test_no_source_and_no_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(FileNotFoundError, match=DATA_DIR_ENV):
        load_hillstrom()


def test_misspelled_column_lists_received_expected_and_suggestion(tmp_path: Path) -> None:
    header = HEADER.replace("recency", "recncy")
    with pytest.raises(DataValidationError) as caught:
        load_hillstrom(write_csv(tmp_path, header=header))
    message = str(caught.value)
    assert "['recency']" in message
    assert "'recncy' looks like 'recency'" in message
    assert "Received columns" in message and "expected" in message


def test_missing_values_name_column_count_and_lines(tmp_path: Path) -> None:
    rows = (ROWS[0], replace_field(ROWS[1], "history", ""), replace_field(ROWS[2], "history", "NA"), ROWS[3])
    with pytest.raises(DataValidationError, match=r"'history': 2 missing value\(s\), first at file line\(s\) \[3, 4\]"):
        load_hillstrom(write_csv(tmp_path, rows))


def test_wrong_type_is_reported_with_examples(tmp_path: Path) -> None:
    rows = (replace_field(ROWS[0], "history", "lots"), *ROWS[1:])
    with pytest.raises(DataValidationError, match=r"'history' must be numeric.*'lots'.*\[2\]"):
        load_hillstrom(write_csv(tmp_path, rows))


def test_fractional_integer_column(tmp_path: Path) -> None:
    rows = (replace_field(ROWS[0], "recency", "2.5"), *ROWS[1:])
    with pytest.raises(DataValidationError, match="'recency' must hold whole numbers"):
        load_hillstrom(write_csv(tmp_path, rows))


def test_recency_out_of_range(tmp_path: Path) -> None:
    rows = (*ROWS[:3], replace_field(ROWS[3], "recency", "13"))
    with pytest.raises(DataValidationError, match=r"'recency'.*1\.\.12.*\[13\].*\[5\]"):
        load_hillstrom(write_csv(tmp_path, rows))


def test_binary_column_out_of_range(tmp_path: Path) -> None:
    rows = (replace_field(ROWS[0], "conversion", "2"), *ROWS[1:])
    with pytest.raises(DataValidationError, match="'conversion'"):
        load_hillstrom(write_csv(tmp_path, rows))


def test_negative_spend(tmp_path: Path) -> None:
    rows = (replace_field(ROWS[0], "spend", "-3"), *ROWS[1:])
    with pytest.raises(DataValidationError, match="'spend' holds dollars"):
        load_hillstrom(write_csv(tmp_path, rows))


@pytest.mark.parametrize(
    ("column", "value", "suggestion"),
    [
        ("zip_code", "Suburban", "Surburban"),
        ("channel", "Webb", "Web"),
        ("segment", "Men E-Mail", "Mens E-Mail"),
        ("history_segment", "2) $100-$200", "2) $100 - $200"),
    ],
)
def test_unknown_levels_suggest_the_closest(tmp_path: Path, column: str, value: str, suggestion: str) -> None:
    rows = (replace_field(ROWS[0], column, value), *ROWS[1:])
    with pytest.raises(DataValidationError) as caught:
        load_hillstrom(write_csv(tmp_path, rows))
    message = str(caught.value)
    assert f"{column!r} has unknown level" in message
    assert f"did you mean {suggestion!r}" in message


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    path = tmp_path / HILLSTROM_FILENAME
    path.write_bytes(b"")
    with pytest.raises(DataValidationError, match="empty"):
        load_hillstrom(path)
    path.write_text(HEADER + "\n")
    with pytest.raises(DataValidationError, match="no data rows"):
        load_hillstrom(path)


# ---------------------------------------------------------------- checksum


def test_verify_sha256_exact_line_endings_and_mismatch(tmp_path: Path) -> None:
    reference = tmp_path / "reference.csv"
    reference.write_bytes(b"a,b\n1,2\n3,4")
    expected = sha256_of_file(reference)
    assert verify_sha256(reference, expected).match == "exact"

    windows = tmp_path / "windows.csv"
    windows.write_bytes(b"a,b\r\n1,2\r\n3,4\r\n")
    result = verify_sha256(windows, expected)
    assert result.match == "line-endings"
    assert result.sha256 != expected and result.normalized_sha256 == expected

    altered = tmp_path / "altered.csv"
    altered.write_bytes(b"a,b\n1,2\n3,5")
    with pytest.raises(ChecksumMismatchError, match=expected):
        verify_sha256(altered, expected)


# ---------------------------------------------------------------- real data


@pytest.mark.slow
def test_real_file_matches_published_facts(hillstrom_csv: Path) -> None:
    table = load_hillstrom(hillstrom_csv)
    assert len(table) == 64_000
    control = table[table["arm"] == 0]
    assert len(control) == 21_306
    assert int(control["conversion"].sum()) == 122
    visit = table.groupby("arm")["visit"].mean()
    assert visit.round(4).tolist() == [0.1062, 0.1828, 0.1514]
    converters = table.loc[table["conversion"] == 1, "spend"]
    assert converters.mean() == pytest.approx(116.36, abs=0.005)
    assert pd.Series(table["segment_idx"]).between(0, 6).all()


@pytest.mark.slow
def test_real_file_checksum(hillstrom_csv: Path) -> None:
    assert verify_sha256(hillstrom_csv).match == "exact"
