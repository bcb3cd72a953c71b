"""``journeygym fit-hmm``: outlying dates, exit status 3 when EM does not converge, messages that name flags."""

from __future__ import annotations

import json

import pandas as pd
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


def test_fit_hmm_refuses_too_few_customers_per_state_with_the_numbers(cdnow_like_log, columns, tmp_path, capsys):
    """One customer's log fitted five states, two at weekly purchase probability 1.0, and reported converged."""
    days = pd.date_range("2020-01-01", periods=60, freq="3D")
    one = pd.DataFrame({"customer_id": 1, "date": days.strftime("%Y-%m-%d"), "amount": [10.0 + i % 7 for i in range(60)]})
    assert main(["fit-hmm", _csv(one, tmp_path), *columns]) == 2
    captured = capsys.readouterr()
    assert "1 customer(s) with observed weeks, too few for 5 hidden states (--states 5)" in captured.err
    assert "at least 20 customers per state, 100 in all" in captured.err and "converged" not in captured.out
    path = _csv(cdnow_like_log, tmp_path)  # 200 customers: enough for 5 states, not for 12
    assert main(["fit-hmm", path, *columns, "--select", "2,12"]) == 2
    err = capsys.readouterr().err
    assert "200 customer(s) with observed weeks, too few for 12 hidden states (--select 2,12)" in err
    assert "240 in all" in err and "at most 10 state(s)" in err


def test_fit_hmm_drops_exact_duplicate_rows_with_their_count(cdnow_like_log, columns, tmp_path, capsys):
    """300 exact duplicate rows passed silently and moved the threshold of a large purchase week."""
    args = [*columns, "--states", "1", "--json"]
    assert main(["fit-hmm", _csv(cdnow_like_log, tmp_path), *args]) == 0
    clean = json.loads(capsys.readouterr().out)
    small = cdnow_like_log[cdnow_like_log["amount"] < clean["median_weekly_amount"]]
    tripled = small.sample(150, random_state=0)  # small purchases logged three times: weeks above the threshold
    path = tmp_path / "tripled.csv"
    pd.concat([cdnow_like_log, tripled, tripled]).to_csv(path, index=False)  # 300 exact duplicate rows
    assert main(["fit-hmm", str(path), *args]) == 0
    captured = capsys.readouterr()
    assert "journeygym fit-hmm: warning:" in captured.err and "dropped 300 exact duplicate row(s)" in captured.err
    assert "--keep-duplicates" in captured.err and "duplicates=" not in captured.err
    dropped = json.loads(captured.out)
    assert dropped["median_weekly_amount"] == clean["median_weekly_amount"]
    assert dropped["states"] == clean["states"]
    assert main(["fit-hmm", str(path), *args, "--keep-duplicates"]) == 0
    captured = capsys.readouterr()
    assert "duplicate" not in captured.err
    assert json.loads(captured.out)["median_weekly_amount"] > clean["median_weekly_amount"]


def test_fit_hmm_reads_mixed_utc_offsets_on_their_local_clocks_and_says_so(cdnow_like_log, columns, tmp_path, capsys):
    """Mixed offsets gave pandas' own advice ("Pass utc=True"), naming neither the file nor the column."""
    args = [*columns, "--states", "1", "--json"]
    assert main(["fit-hmm", _csv(cdnow_like_log, tmp_path), *args]) == 0
    clean = json.loads(capsys.readouterr().out)
    zoned = cdnow_like_log.assign(  # late evening, as a store on daylight saving time writes it
        date=[
            f"{pd.Timestamp(d):%Y-%m-%d}T23:30:00{'-04:00' if i % 2 else '-05:00'}"
            for i, d in enumerate(cdnow_like_log["date"])
        ]
    )
    path = tmp_path / "zoned.csv"
    zoned.to_csv(path, index=False)
    assert main(["fit-hmm", str(path), *args]) == 0
    captured = capsys.readouterr()
    assert f"{path}: column 'date' holds times with different UTC offsets (-05:00, -04:00)" in captured.err
    assert "offset dropped (not converted to UTC)" in captured.err and "utc=True" not in captured.err
    zoned_result = json.loads(captured.out)
    assert {k: zoned_result[k] for k in ("customers", "observed_weeks", "median_weekly_amount", "states")} == {
        k: clean[k] for k in ("customers", "observed_weeks", "median_weekly_amount", "states")
    }  # every purchase on the day written
