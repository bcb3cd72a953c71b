"""``journeygym fit-hmm``: outlying dates, exit status 3 when EM does not converge, messages that name flags."""

from __future__ import annotations

import json

import pytest

from journeygym.cli import main


@pytest.fixture
def columns() -> list[str]:
    return ["--customer-col", "customer_id", "--time-col", "date", "--amount-col", "amount", "--restarts", "1"]


def _csv(frame, tmp_path) -> str:
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_fit_hmm_refuses_mistyped_years_naming_lines_and_the_flag(mistyped_log, columns, tmp_path, capsys):
    assert main(["fit-hmm", _csv(mistyped_log, tmp_path), *columns]) == 2
    err = capsys.readouterr().err
    assert "line 7: 2097-" in err and "line 42: 2097-" in err
    assert "--drop-outlying-dates" in err and "--keep-outlying-dates" in err and "outlying_dates=" not in err


def test_fit_hmm_drops_mistyped_years_with_a_warning(mistyped_log, columns, tmp_path, capsys):
    path = _csv(mistyped_log, tmp_path)
    assert main(["fit-hmm", path, *columns, "--states", "1", "--drop-outlying-dates", "--json"]) == 0
    captured = capsys.readouterr()
    assert "journeygym fit-hmm: warning:" in captured.err and "dropped 2 row(s)" in captured.err
    result = json.loads(captured.out)
    assert result["converged"] and any("line 7: 2097-" in w for w in result["warnings"])
    assert result["observed_weeks"] < 200 * 78  # the window ends in 1998, not in 2097


def test_fit_hmm_exits_3_when_em_does_not_converge(cdnow_like_log, columns, tmp_path, capsys):
    path = _csv(cdnow_like_log, tmp_path)
    assert main(["fit-hmm", path, *columns, "--states", "2", "--max-iter", "1", "--json"]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["converged"] is False
    assert "did not converge within --max-iter 1 iterations" in captured.err and "larger --max-iter" in captured.err


def test_fit_hmm_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["fit-hmm", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "3 EM did not converge within --max-iter iterations" in help_text and "--drop-outlying-dates" in help_text


@pytest.mark.parametrize(
    ("change", "flag", "keyword"),
    [
        ({"amount": -5.0}, "--nonpositive drop", "nonpositive="),
        ({"date": "someday"}, "--time-format %Y-%m-%d", "time_format="),
    ],
    ids=["nonpositive", "time_format"],
)
def test_fit_hmm_messages_name_flags_not_keywords(cdnow_like_log, columns, tmp_path, capsys, change, flag, keyword):
    log = cdnow_like_log.astype({"amount": object})
    for column, value in change.items():
        log.loc[3, column] = value
    assert main(["fit-hmm", _csv(log, tmp_path), *columns]) == 2
    err = capsys.readouterr().err
    assert flag in err and keyword not in err


def test_fit_hmm_missing_column_names_the_flags(cdnow_like_log, tmp_path, capsys):
    path = _csv(cdnow_like_log, tmp_path)
    assert main(["fit-hmm", path, "--customer-col", "customer", "--time-col", "date", "--amount-col", "amount"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'customer_id'" in err and "--customer-col, --time-col, --amount-col" in err
    assert "customer_col=" not in err


def test_fit_hmm_model_sizes_are_checked_as_flags(cdnow_like_log, columns, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["fit-hmm", _csv(cdnow_like_log, tmp_path), *columns, "--states", "0"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --states: received 0" in err and "n_states" not in err
