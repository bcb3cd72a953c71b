"""Tests of the transaction-log loaders and the weekly observation sequences."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from journeygym.errors import DataValidationError, DataWarning
from journeygym.datasets.transactions import (
    OUTLYING_MIN_ROWS,
    load_cdnow,
    load_transactions,
    outlying_date_range,
)
from journeygym.calibration.weekly import WeeklySequences, weekly_observations


def _log(**overrides) -> pd.DataFrame:
    data = {
        "customer_id": ["a", "a", "b", "a", "c"],
        "date": ["2020-01-01", "2020-01-01", "2020-01-03", "2020-01-09", "2020-01-02"],
        "amount": [10.0, 5.0, 7.0, 30.0, 1.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------
# load_transactions: happy paths
# --------------------------------------------------------------------------


def test_same_day_rows_are_summed_and_counted():
    out = load_transactions(_log())
    assert list(out.columns) == ["customer_id", "date", "amount", "n_rows"]
    assert out["customer_id"].tolist() == ["a", "a", "b", "c"]
    assert out["amount"].tolist() == [15.0, 30.0, 7.0, 1.0]
    assert out["n_rows"].tolist() == [2, 1, 1, 1]
    assert pd.api.types.is_datetime64_any_dtype(out["date"])
    assert out["amount"].dtype == np.float64
    assert out["n_rows"].dtype == np.int64


def test_times_are_truncated_to_the_day():
    out = load_transactions(_log(date=["2020-01-01 08:00", "2020-01-01 23:59", "2020-01-03",
                                       "2020-01-09 12:00", "2020-01-02"]))
    assert out["n_rows"].tolist() == [2, 1, 1, 1]
    assert (out["date"] == out["date"].dt.normalize()).all()


def test_custom_column_names_and_integer_dates():
    df = pd.DataFrame({"cust": [1, 1], "day": [19970101, 19970105], "usd": [3.0, 4.0]})
    out = load_transactions(df, customer_col="cust", time_col="day", amount_col="usd")
    assert out["date"].tolist() == [pd.Timestamp("1997-01-01"), pd.Timestamp("1997-01-05")]


def test_explicit_time_format():
    df = _log(date=["01/02/2020", "01/02/2020", "03/02/2020", "09/02/2020", "02/02/2020"])
    out = load_transactions(df, time_format="%d/%m/%Y")
    assert out["date"].min() == pd.Timestamp("2020-02-01")


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_file_delimiter_is_detected(tmp_path, sep):
    path = tmp_path / "log.csv"
    _log().to_csv(path, sep=sep, index=False)
    out = load_transactions(path)
    assert out["amount"].sum() == pytest.approx(53.0)


def test_whitespace_separated_file(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("customer_id date amount\n1   2020-01-01  2.5\n2 2020-01-02 3\n")
    out = load_transactions(path, sep=r"\s+")
    assert out["amount"].tolist() == [2.5, 3.0]


# --------------------------------------------------------------------------
# load_transactions: errors
# --------------------------------------------------------------------------


def test_missing_file_names_path_and_data_dir_variable(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataValidationError, match="does not exist") as info:
        load_transactions(missing)
    assert "nope.csv" in str(info.value)
    assert "JOURNEYGYM_DATA_DIR" in str(info.value)


def test_misspelled_column_gets_suggestion():
    df = _log().rename(columns={"amount": "amout"})
    with pytest.raises(DataValidationError) as info:
        load_transactions(df)
    msg = str(info.value)
    assert "['amount']" in msg  # what is missing
    assert "'amout'" in msg and "did you mean 'amout'" in msg
    assert "Received columns" in msg and "expected" in msg
    assert "amount_col=" in msg  # how to fix


def test_column_differing_in_case_is_suggested():
    df = _log().rename(columns={"date": "Date"})
    with pytest.raises(DataValidationError, match="did you mean 'Date'"):
        load_transactions(df)


def test_unrelated_column_has_no_suggestion():
    df = _log().rename(columns={"amount": "zzz"})
    with pytest.raises(DataValidationError, match="no similar column"):
        load_transactions(df)


def test_same_column_for_two_roles_is_refused():
    with pytest.raises(DataValidationError, match="three different"):
        load_transactions(_log(), amount_col="date")


def test_nan_reports_column_count_and_rows():
    df = _log(amount=[10.0, np.nan, 7.0, np.nan, 1.0])
    with pytest.raises(DataValidationError) as info:
        load_transactions(df)
    msg = str(info.value)
    assert "'amount'" in msg and "2 missing" in msg and "[1, 3]" in msg


def test_nan_in_file_reports_line_numbers(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\n1,2020-01-01,3\n2,,4\n")
    with pytest.raises(DataValidationError, match=r"'date': 1 missing value\(s\) at lines \[3\]"):
        load_transactions(path)


def test_unparseable_dates():
    df = _log(date=["2020-01-01", "2020-01-01", "yesterday", "2020-01-09", "2020-13-45"])
    with pytest.raises(DataValidationError) as info:
        load_transactions(df, time_format="%Y-%m-%d")
    msg = str(info.value)
    assert "2 date(s)" in msg and "'yesterday'" in msg and "time_format=" in msg


def test_non_numeric_amounts():
    df = _log(amount=["10", "5", "$7", "30", "1"])
    with pytest.raises(DataValidationError, match=r"1 amount\(s\).*'\$7'"):
        load_transactions(df)


def test_infinite_amount_is_refused():
    with pytest.raises(DataValidationError, match="not finite"):
        load_transactions(_log(amount=[1.0, 2.0, np.inf, 3.0, 4.0]))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataValidationError, match="is empty"):
        load_transactions(path)


def test_header_only_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("customer_id,date,amount\n")
    with pytest.raises(DataValidationError, match="0 rows"):
        load_transactions(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataValidationError, match="to be a file"):
        load_transactions(tmp_path)


def test_a_file_that_is_not_utf8_names_the_byte_offset(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"customer_id,date,amount\na,2020-01-01,1\nb\xe9,2020-01-02,2\n")
    with pytest.raises(DataValidationError) as caught:
        load_transactions(path)
    message = str(caught.value)
    offset = path.read_bytes().index(b"\xe9")  # 40
    assert f"{str(path)!r} is not UTF-8 text: the byte 0xe9 at byte offset {offset} (line 3, column 2" in message
    assert "iconv" in message and "codec can't decode" not in message


# --------------------------------------------------------------------------
# exact duplicate rows
# --------------------------------------------------------------------------


def test_exact_duplicates_are_kept_by_default_and_dropped_with_their_count():
    log = _log()
    doubled = pd.concat([log, log.iloc[[1, 3, 3]]], ignore_index=True)  # rows 5, 6, 7 repeat rows 1, 3, 3
    kept = load_transactions(doubled)
    assert kept["n_rows"].sum() == 8
    with pytest.warns(DataWarning, match=r"dropped 3 exact duplicate row\(s\).*rows at positions \[5, 6, 7\].*duplicates='keep'"):
        dropped = load_transactions(doubled, duplicates="drop")
    pd.testing.assert_frame_equal(dropped, load_transactions(log))
    with pytest.raises(DataValidationError, match="duplicates must be one of"):
        load_transactions(log, duplicates="error")


def test_same_day_repeats_with_other_columns_are_not_duplicates():
    """A customer buying twice on one day (other amount, or another order id) is two purchases."""
    log = _log(amount=[10.0, 10.0, 7.0, 30.0, 1.0]).assign(order=[1, 2, 3, 4, 5])  # rows 0, 1: same day and amount
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        out = load_transactions(log, duplicates="drop")
    assert out["n_rows"].sum() == 5


def test_line_numbers_after_dropped_duplicates_still_point_at_the_file(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\na,2020-01-01,1\na,2020-01-01,1\nb,2020-01-02,-3\n")
    with pytest.raises(DataValidationError, match=r"at lines \[4\]"):
        load_transactions(path, duplicates="drop")


# --------------------------------------------------------------------------
# time zones
# --------------------------------------------------------------------------


def test_mixed_utc_offsets_count_on_the_day_written_with_a_warning():
    """pandas refuses mixed offsets ("Pass utc=True ..."), naming neither file nor column."""
    zoned = _log(date=["2020-01-01T23:30:00-05:00", "2020-01-01T08:00:00-04:00", "2020-01-03T00:15:00+09:00",
                       "2020-01-09T12:00:00Z", "2020-01-02 18:00"])
    with pytest.warns(DataWarning, match=r"the DataFrame: column 'date' holds times with different UTC offsets "
                      r"\(no offset, -05:00, -04:00, \+00:00, \+09:00\); each time is read on its own local clock"):
        out = load_transactions(zoned)
    pd.testing.assert_frame_equal(out, load_transactions(_log()))


def test_one_utc_offset_counts_on_the_day_written_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        out = load_transactions(_log(date=[f"{d}T23:30:00-05:00" for d in _log()["date"]]))
    pd.testing.assert_frame_equal(out, load_transactions(_log()))


def test_mixed_utc_offsets_with_a_format_and_a_bad_value_name_the_row():
    zoned = _log(date=["2020-01-01 10:00+0100", "2020-01-01 10:00+0200", "junk", "2020-01-09 10:00+0100",
                       "2020-01-02 10:00+0100"])
    with pytest.warns(DataWarning, match=r"\(\+01:00, \+02:00\)"), pytest.raises(
        DataValidationError, match=r"1 date\(s\) in column 'date' could not be parsed, at rows at positions \[2\]"
    ):
        load_transactions(zoned, time_format="%Y-%m-%d %H:%M%z")


# --------------------------------------------------------------------------
# non-positive amounts
# --------------------------------------------------------------------------

REFUNDS = dict(amount=[10.0, 0.0, 7.0, -30.0, 1.0])


def test_nonpositive_default_is_error_with_counts_examples_and_fix():
    with pytest.raises(DataValidationError) as info:
        load_transactions(_log(**REFUNDS))
    msg = str(info.value)
    assert "2 row(s)" in msg and "1 zero, 1 negative" in msg
    assert "-30.0" in msg  # an example row
    assert "nonpositive='drop'" in msg and "nonpositive='keep'" in msg


def test_nonpositive_drop():
    out = load_transactions(_log(**REFUNDS), nonpositive="drop")
    assert out["amount"].tolist() == [10.0, 7.0, 1.0]
    assert out["n_rows"].tolist() == [1, 1, 1]


def test_nonpositive_keep_keeps_events():
    out = load_transactions(_log(**REFUNDS), nonpositive="keep")
    # a's first day: 10 + 0 (two rows); a's 2020-01-09: a refund on its own day
    assert out["amount"].tolist() == [10.0, -30.0, 7.0, 1.0]
    assert out["n_rows"].tolist() == [2, 1, 1, 1]


def test_nonpositive_option_is_validated():
    with pytest.raises(DataValidationError, match="nonpositive must be one of"):
        load_transactions(_log(), nonpositive="ignore")


# --------------------------------------------------------------------------
# outlying dates (mistyped years)
# --------------------------------------------------------------------------


def test_mistyped_years_are_refused_naming_rows_values_and_fix(mistyped_log):
    log = mistyped_log
    with pytest.raises(DataValidationError) as info:
        load_transactions(log, time_format="%Y%m%d")
    msg = str(info.value)
    assert "2 row(s) dated far outside the bulk of the log" in msg
    assert f"row 5 (0-based): 2097-{log.loc[5, 'date'][4:6]}" in msg and "row 40 (0-based)" in msg
    assert "outlying_dates='drop'" in msg and "outlying_dates='keep'" in msg
    assert "weeks instead of" in msg  # what the rows would do to the fit


def test_mistyped_years_in_a_file_name_their_lines(mistyped_log, tmp_path):
    path = tmp_path / "log.csv"
    mistyped_log.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"line 7: 2097-.*line 42: 2097-"):
        load_transactions(path, time_format="%Y%m%d")


def test_mistyped_years_can_be_dropped_with_a_warning_or_kept(cdnow_like_log, mistyped_log):
    clean, log = cdnow_like_log, mistyped_log
    with pytest.warns(DataWarning, match=r"dropped 2 row\(s\).*row 5 \(0-based\): 2097-"):
        dropped = load_transactions(log, time_format="%Y%m%d", outlying_dates="drop")
    expected = load_transactions(clean.drop(index=[5, 40]), time_format="%Y%m%d")
    pd.testing.assert_frame_equal(dropped, expected)
    kept = load_transactions(log, time_format="%Y%m%d", outlying_dates="keep")
    assert kept["date"].max().year == 2097
    with pytest.raises(DataValidationError, match="outlying_dates must be one of"):
        load_transactions(log, outlying_dates="ignore")


def test_dropped_rows_stretch_the_window_no_more(mistyped_log):
    with pytest.warns(DataWarning):
        weeks = weekly_observations(load_transactions(mistyped_log, time_format="%Y%m%d", outlying_dates="drop"))
    assert weeks.lengths.max() <= 78


def test_outlying_rule_spares_long_tails_and_small_logs():
    # a log whose early years are sparse: 1% of rows spread over 9 years, then a busy year
    rng = np.random.default_rng(1)
    days = np.concatenate([rng.integers(0, 9 * 365, 30), rng.integers(9 * 365, 10 * 365, 2970)])
    dates = pd.Series(np.datetime64("2010-01-01") + days.astype("timedelta64[D]"))
    earliest, latest, _ = outlying_date_range(dates)
    assert earliest == dates.min() and dates.max() == latest
    late = pd.concat([dates, pd.Series([np.datetime64("2040-01-01")])])  # 20 years after the busy year
    assert outlying_date_range(late)[1] == dates.max()
    few = pd.Series(pd.to_datetime(["2020-01-01"] * (OUTLYING_MIN_ROWS - 2) + ["2097-01-01"]))
    assert outlying_date_range(few) is None  # too few rows to tell the bulk: not checked


# --------------------------------------------------------------------------
# CDNOW format on small files
# --------------------------------------------------------------------------

CDNOW_LINES = [
    " 00001 19970101  1   11.77",
    " 00002 19970112  1   12.00",
    " 00002 19970112  5   77.00",
    " 00003 19970102  2    0.00",
]


@pytest.mark.parametrize("header", [False, True])
def test_load_cdnow_format(tmp_path, header):
    lines = ([" customer_id  date number_of_cds  dollar_value"] if header else []) + CDNOW_LINES
    (tmp_path / "cdnow_master.txt").write_text("\n".join(lines) + "\n")
    out = load_cdnow(tmp_path)
    assert out["customer_id"].tolist() == [1, 2, 3]
    assert out["customer_id"].dtype == np.int64
    assert out["amount"].tolist() == [11.77, 89.0, 0.0]
    assert out["n_rows"].tolist() == [1, 2, 1]


def test_load_cdnow_zero_spend_error_points_to_line(tmp_path):
    path = tmp_path / "cdnow_master.txt"
    path.write_text("\n".join(CDNOW_LINES) + "\n")
    with pytest.raises(DataValidationError, match=r"1 zero, 0 negative\), at lines \[4\]"):
        load_cdnow(path, nonpositive="error")


def test_load_cdnow_missing_file_lists_directory(tmp_path):
    (tmp_path / "other.csv").write_text("x\n")
    with pytest.raises(DataValidationError, match=r"no 'cdnow_master.txt'.*other.csv"):
        load_cdnow(tmp_path)


def test_load_cdnow_ids_are_integers(tmp_path):
    path = tmp_path / "cdnow_master.txt"
    path.write_text(" 00001 19970101 1 11.77\n 1 19970101 1 1.00\n x7 19970102 1 2.00\n")
    with pytest.raises(DataValidationError, match=r"1 are not, at lines \[3\]: \['x7'\]"):
        load_cdnow(path)
    path.write_text(" 00001 19970101 1 11.77\n 1 19970101 1 1.00\n")
    out = load_cdnow(path)
    assert out["customer_id"].tolist() == [1] and out["n_rows"].tolist() == [2]


def test_load_cdnow_bad_date(tmp_path):
    path = tmp_path / "cdnow_master.txt"
    path.write_text(" 00001 19971301  1   11.77\n")
    with pytest.raises(DataValidationError, match=r"'%Y%m%d'"):
        load_cdnow(path)


# --------------------------------------------------------------------------
# weekly observations
# --------------------------------------------------------------------------


def _weekly_log() -> pd.DataFrame:
    rows = [
        # customer 1: first purchase 2020-01-01 (week 0), 2020-01-03 (week 0 too),
        # 2020-01-15 (week 2), 2020-02-10 (week 5)
        (1, "2020-01-01", 10.0),
        (1, "2020-01-03", 15.0),
        (1, "2020-01-15", 40.0),
        (1, "2020-02-10", 5.0),
        # customer 2: first purchase 2020-01-20, again 2020-01-27 (week 1)
        (2, "2020-01-20", 100.0),
        (2, "2020-01-27", 20.0),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return load_transactions(df)


def test_weekly_observations_coding_and_padding():
    seqs = weekly_observations(_weekly_log(), end_date="2020-02-18")
    # customer 1: 49 days -> 7 complete weeks; customer 2: 30 days -> 4 weeks
    assert seqs.lengths.tolist() == [7, 4]
    # weekly totals: 25, 40, 5 (customer 1) and 100, 20 (customer 2): median 25
    assert seqs.median_amount == 25.0
    assert seqs.obs.dtype == np.int8
    assert seqs.obs.tolist() == [
        [1, 0, 2, 0, 0, 1, 0],
        [2, 1, 0, 0, -1, -1, -1],
    ]
    assert seqs.customer_ids.tolist() == [1, 2]
    assert seqs.week0.tolist() == [np.datetime64("2020-01-01"), np.datetime64("2020-01-20")]
    assert seqs.mask.sum() == 11


def test_partial_last_week_is_not_observed():
    seqs = weekly_observations(_weekly_log(), end_date="2020-02-10")
    # customer 1: 2020-01-01..2020-02-10 is 41 days -> 5 complete weeks, so
    # the 2020-02-10 purchase (week 5) falls outside
    assert seqs.lengths.tolist() == [5, 3]
    assert seqs.obs[0, :5].tolist() == [1, 0, 2, 0, 0]


def test_default_end_is_last_purchase_date():
    seqs = weekly_observations(_weekly_log())
    assert seqs.lengths.tolist() == [5, 3]


def test_after_first_purchase_drops_entry_week():
    seqs = weekly_observations(_weekly_log(), start="after_first_purchase", end_date="2020-02-18")
    assert seqs.lengths.tolist() == [6, 3]
    assert seqs.week0.tolist() == [np.datetime64("2020-01-08"), np.datetime64("2020-01-27")]
    # weekly totals after the entry week: 40, 5, 20 -> median 20
    assert seqs.median_amount == 20.0
    assert seqs.obs.tolist() == [[0, 2, 0, 0, 1, 0], [1, 0, 0, -1, -1, -1]]


def test_common_start_date():
    seqs = weekly_observations(_weekly_log(), start="2020-01-13", end_date="2020-02-23")
    assert seqs.lengths.tolist() == [6, 6]
    # totals in the window: 40, 5 (customer 1) and 100, 20 (customer 2)
    assert seqs.median_amount == 30.0
    assert seqs.obs.tolist() == [[2, 0, 0, 0, 1, 0], [0, 2, 1, 0, 0, 0]]


def test_fixed_median_and_n_weeks():
    seqs = weekly_observations(_weekly_log(), end_date="2020-02-18", n_weeks=3, median_amount=50.0)
    assert seqs.obs.shape == (2, 3)
    assert seqs.median_amount == 50.0
    assert seqs.obs.tolist() == [[1, 0, 1], [2, 1, 0]]


def test_n_weeks_longer_than_window_pads():
    seqs = weekly_observations(_weekly_log(), end_date="2020-02-18", n_weeks=9)
    assert seqs.obs.shape == (2, 9)
    assert seqs.obs[1].tolist() == [2, 1, 0, 0, -1, -1, -1, -1, -1]


def test_weekly_sequences_are_read_only():
    seqs = weekly_observations(_weekly_log())
    with pytest.raises(ValueError):
        seqs.obs[0, 0] = 2
    assert isinstance(seqs, WeeklySequences) and len(seqs) == 2


def test_weekly_observations_input_errors():
    with pytest.raises(DataValidationError, match="load_transactions"):
        raw = pd.DataFrame({"customer_id": [1], "date": ["2020-01-01"], "amount": [1.0]})
        weekly_observations(raw)
    with pytest.raises(DataValidationError, match="start must be"):
        weekly_observations(_weekly_log(), start="first")
    with pytest.raises(DataValidationError, match="n_weeks"):
        weekly_observations(_weekly_log(), n_weeks=0)
    with pytest.raises(DataValidationError, match="No purchases"):
        weekly_observations(_weekly_log(), start="2021-01-01", end_date="2021-03-01")


# --------------------------------------------------------------------------
# the real CDNOW log
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_cdnow_known_facts(cdnow):
    assert cdnow["customer_id"].nunique() == 23_570
    assert cdnow["date"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["date"].max() == pd.Timestamp("1998-06-30")
    n_transactions = int(cdnow["n_rows"].sum())
    assert n_transactions == 69_659
    assert len(cdnow) == 69_659 - 2_068  # same-day repeats merged
    assert n_transactions / 23_570 == pytest.approx(2.96, abs=0.005)
    assert cdnow["amount"].sum() / n_transactions == pytest.approx(35.89, abs=0.005)


@pytest.mark.slow
def test_cdnow_keeps_its_exact_duplicate_rows(cdnow_path, cdnow):
    """The published file lists each order on its own line: its 255 exact duplicates are purchases, and kept."""
    raw = pd.read_csv(cdnow_path, sep=r"\s+", dtype=str)  # this copy has a header row
    assert list(raw.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert int(raw.duplicated().sum()) == 255
    assert int(cdnow["n_rows"].sum()) == len(raw)  # every row, duplicates included
    with pytest.warns(DataWarning, match=r"dropped 255 exact duplicate row\(s\)"):
        dropped = load_transactions(
            raw, amount_col="dollar_value", time_format="%Y%m%d", nonpositive="keep", duplicates="drop"
        )
    assert int(dropped["n_rows"].sum()) == len(raw) - 255


@pytest.mark.slow
def test_cdnow_zero_spend_rows(cdnow_path):
    with pytest.raises(DataValidationError, match=r"80 row\(s\).*80 zero, 0 negative"):
        load_cdnow(cdnow_path, nonpositive="error")
    dropped = load_cdnow(cdnow_path, nonpositive="drop")
    assert int(dropped["n_rows"].sum()) == 69_659 - 80


@pytest.mark.slow
def test_cdnow_has_no_outlying_dates(cdnow_path):
    raw = pd.read_csv(cdnow_path, sep=r"\s+", dtype=str)
    dates = pd.to_datetime(raw["date"], format="%Y%m%d")
    earliest, latest, gap = outlying_date_range(dates)
    assert (earliest, latest) == (dates.min(), dates.max())  # no row is outlying
    assert gap == 3 * 530  # 2097 or 1897 would be; a year off by one would not


@pytest.mark.slow
def test_cdnow_weekly_sequences(cdnow, cdnow_weekly):
    seqs = weekly_observations(cdnow)
    assert seqs.obs.shape[0] == 23_570
    assert (seqs.obs[:, 0] > 0).all()  # week 0 holds the first purchase
    days = (np.datetime64("1998-06-30") - seqs.week0).astype(np.int64) + 1
    assert np.array_equal(seqs.lengths, days // 7)  # complete weeks up to the data end
    assert seqs.lengths.max() == 78  # 1997-01-01 .. 1998-06-30 is 546 days
    assert np.array_equal(cdnow_weekly.lengths, seqs.lengths - 1)
    assert 0.02 < (cdnow_weekly.obs > 0).sum() / cdnow_weekly.lengths.sum() < 0.03
