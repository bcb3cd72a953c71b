"""The online shoppers loader (strict validation) and the session conversion model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeygym.baselines.conversion import conversion_features, evaluate_conversion_model
from journeygym.errors import DataValidationError
from journeygym.calibration.shoppers import SHOPPERS_COLUMNS, load_shoppers

ROWS = [
    "0,0,0,0,1,0,0.2,0.2,0,0,Feb,1,1,1,1,Returning_Visitor,FALSE,FALSE",
    "2,64.5,1,10,20,640.2,0,0.01,12.5,0.4,June,2,2,3,2,New_Visitor,TRUE,TRUE",
    "1,5,0,0,3,30,0.05,0.1,0,0,Nov,3,1,9,20,Other,FALSE,FALSE",
]


def _write(tmp_path: Path, rows=ROWS, header=SHOPPERS_COLUMNS, sep=",", name="online_shoppers_intention.csv") -> Path:
    lines = [sep.join(header)] + [row.replace(",", sep) for row in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separator_is_detected(tmp_path: Path, sep: str) -> None:
    sessions = load_shoppers(_write(tmp_path, sep=sep))
    assert list(sessions.columns) == list(SHOPPERS_COLUMNS) and len(sessions) == 3
    assert sessions["Month"].tolist() == ["Feb", "Jun", "Nov"]  # "June" as in the UCI file
    assert sessions["Revenue"].tolist() == [False, True, False] and sessions["Revenue"].dtype == bool
    assert sessions["ProductRelated"].dtype == np.int64 and sessions["PageValues"].dtype == np.float64
    assert load_shoppers(tmp_path).equals(sessions)  # the directory works too


def test_missing_and_misspelt_columns_name_the_fix(tmp_path: Path) -> None:
    header = [("Revenu" if c == "Revenue" else c) for c in SHOPPERS_COLUMNS if c != "Weekend"]
    rows = [",".join(r.split(",")[:16] + r.split(",")[17:]) for r in ROWS]
    with pytest.raises(DataValidationError) as info:
        load_shoppers(_write(tmp_path, rows, header))
    message = str(info.value)
    assert "'Weekend'" in message and "'Revenue' (found 'Revenu': misspelt?)" in message


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (4, "", "missing values"),
        (4, "many", "non-numeric values, e.g. \\['many'\\] on lines \\[3\\]"),
        (4, "2.5", "non-integer"),
        (1, "-1", "outside >= 0"),
        (6, "1.5", "outside \\[0, 1\\]"),
        (10, "Smarch", "expected one of \\['Jan'"),
        (15, "Robot", "Returning_Visitor"),
        (17, "maybe", "TRUE/FALSE"),
        (11, "0", "outside >= 1"),
    ],
)
def test_bad_values_are_reported_with_lines(tmp_path: Path, column: int, value: str, message: str) -> None:
    rows = list(ROWS)
    fields = rows[1].split(",")
    fields[column] = value
    rows[1] = ",".join(fields)
    with pytest.raises(DataValidationError, match=message):
        load_shoppers(_write(tmp_path, rows))


def test_missing_or_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no file"):
        load_shoppers(tmp_path / "absent.csv")
    with pytest.raises(DataValidationError, match="no file"):
        load_shoppers(tmp_path)  # a directory without the file
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match="empty"):
        load_shoppers(empty)
    with pytest.raises(DataValidationError, match="no rows"):
        load_shoppers(_write(tmp_path, rows=[], name="header_only.csv"))


def test_conversion_features(tmp_path: Path) -> None:
    X, y = conversion_features(load_shoppers(_write(tmp_path)))
    assert "Revenue" not in X.columns and y.tolist() == [0, 1, 0]
    assert isinstance(X["Browser"].dtype, pd.CategoricalDtype) and X["Weekend"].dtype == np.int64
    with pytest.raises(DataValidationError, match="load_shoppers"):
        conversion_features(pd.DataFrame({"Revenue": [True]}))


def test_real_file_matches_the_known_facts(data_dir: Path) -> None:
    sessions = load_shoppers(data_dir)
    assert len(sessions) == 12_330
    assert sessions["Revenue"].mean() == pytest.approx(0.1547, abs=5e-5)


@pytest.mark.slow
def test_conversion_model_cross_validated_auc(data_dir: Path) -> None:
    """Published results on this data are about 0.92-0.93 ROC-AUC."""
    result = evaluate_conversion_model(load_shoppers(data_dir), importance_repeats=2)
    assert result["cv_roc_auc_mean"] >= 0.90
    assert len(result["cv_roc_auc_folds"]) == 5
    assert result["feature_importance"][0]["feature"] == "PageValues"
