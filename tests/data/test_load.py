"""load(): sources (CSV, Parquet, polars, pandas), column aliases, timestamps and timezones,
adjustment, close-only input, safe repairs, and the errors of each failure."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench.data as wd
from workbench._warnings import WorkbenchWarning
from workbench.errors import DataValidationError, InvalidParameterError

DATES = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
OPEN = [10.0, 11.0, 12.0, 13.0]
HIGH = [11.0, 12.5, 13.0, 14.0]
LOW = [9.5, 10.5, 11.0, 12.5]
CLOSE = [10.5, 12.0, 12.5, 13.5]
VOLUME = [100.0, 200.0, 150.0, 120.0]
UTC_TS = [datetime.fromisoformat(d).replace(tzinfo=timezone.utc) for d in DATES]


def _raw(**names: str) -> dict[str, list]:
    """The four bars with source column names (defaults: Date, Open, High, Low, Close, Volume)."""
    cols = {"ts": "Date", "open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume"}
    cols.update(names)
    values = {"ts": DATES, "open": OPEN, "high": HIGH, "low": LOW, "close": CLOSE, "volume": VOLUME}
    return {cols[k]: list(v) for k, v in values.items() if cols[k]}


def _expected() -> pl.DataFrame:
    return pl.DataFrame(
        {"ts": UTC_TS, "open": OPEN, "high": HIGH, "low": LOW, "close": CLOSE, "volume": VOLUME},
        schema={"ts": pl.Datetime("us", "UTC"), **dict.fromkeys(["open", "high", "low", "close", "volume"], pl.Float64)},
    )


def _write_csv(path, text: str):
    path.write_text(text)
    return path


def _load_error(source, **kwargs) -> str:
    with pytest.raises(DataValidationError) as info:
        wd.load(source, **kwargs)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def _rows(message: str) -> list[int]:
    return [int(r) for r in re.findall(r"row (\d+):", message)]


# --- sources and schema -------------------------------------------------------------------


def test_polars_frame_to_canonical_schema():
    out = wd.load(pl.DataFrame(_raw()))
    assert out.equals(_expected())
    assert out.schema["ts"] == pl.Datetime("us", "UTC")


def test_lazyframe():
    assert wd.load(pl.DataFrame(_raw()).lazy()).equals(_expected())


def test_csv_and_parquet_files(tmp_path):
    raw = pl.DataFrame(_raw())
    raw.write_csv(tmp_path / "bars.csv")
    raw.write_parquet(tmp_path / "bars.parquet")
    assert wd.load(tmp_path / "bars.csv").equals(_expected())
    assert wd.load(str(tmp_path / "bars.parquet")).equals(_expected())


def test_pandas_frame_with_datetime_index():
    df = pd.DataFrame(_raw()).set_index("Date")
    df.index = pd.DatetimeIndex(df.index)
    assert wd.load(df).equals(_expected())
    df.index.name = None  # unnamed index
    assert wd.load(df).equals(_expected())


def test_pandas_tz_aware_index_keeps_its_zone():
    df = pd.DataFrame(_raw()).set_index("Date")
    df.index = pd.DatetimeIndex(df.index).tz_localize("America/New_York")
    out = wd.load(df)
    assert out.schema["ts"] == pl.Datetime("us", "America/New_York")
    expected = df.index.tz_convert("UTC").as_unit("us").asi8
    np.testing.assert_array_equal(out["ts"].dt.epoch("us").to_numpy(), expected)


def test_files_written_by_pandas_with_an_unnamed_index(tmp_path):
    df = pd.DataFrame(_raw()).set_index("Date")
    df.index = pd.DatetimeIndex(df.index)
    df.index.name = None
    df.to_csv(tmp_path / "bars.csv")
    df.to_parquet(tmp_path / "bars.parquet")
    assert wd.load(tmp_path / "bars.csv").equals(_expected())
    assert wd.load(tmp_path / "bars.parquet").equals(_expected())


def test_pandas_default_index_and_date_column(tmp_path):
    pd.DataFrame(_raw()).to_csv(tmp_path / "bars.csv")  # unnamed RangeIndex column + Date
    assert wd.load(tmp_path / "bars.csv").equals(_expected())


@pytest.mark.parametrize(
    "names",
    [
        {"ts": "Datetime"},
        {"ts": "timestamp"},
        {"ts": "DATE", "open": "OPEN", "high": "HIGH", "low": "LOW", "close": "CLOSE", "volume": "VOLUME"},
        {"ts": "date", "open": "open", "high": "high", "low": "low", "close": "close", "volume": "vol"},
        {"volume": "Vol"},
        {"ts": "Time", "open": "o", "high": "h", "low": "l", "close": "c", "volume": "v"},
        {"close": "Last"},
    ],
)
def test_column_aliases(names):
    assert wd.load(pl.DataFrame(_raw(**names))).equals(_expected())


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(list(_raw())), upper=st.booleans())
def test_column_order_and_case_do_not_matter(order, upper):
    raw = pl.DataFrame(_raw()).select(order)
    raw = raw.rename({c: c.upper() if upper else c.lower() for c in raw.columns})
    assert wd.load(raw).equals(_expected())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_symbols=st.integers(1, 3), every=st.sampled_from(["1m", "1h", "1d"]))
def test_csv_round_trip_is_exact(tmp_path_factory, seed, n_symbols, every):
    bars = wd.synthetic(20, n_symbols, seed=seed, every=every)
    path = tmp_path_factory.mktemp("csv") / "bars.csv"
    bars.write_csv(path)
    assert wd.load(path).equals(bars)


def test_unknown_extra_columns_are_dropped():
    out = wd.load(pl.DataFrame({**_raw(), "Dividends": [0.0] * 4}))
    assert out.columns == ["ts", "open", "high", "low", "close", "volume"]


def test_adjust_scales_whole_bar_by_adj_over_close():
    adj = [c * f for c, f in zip(CLOSE, [0.5, 0.5, 0.9, 1.0], strict=True)]
    raw = pl.DataFrame({**_raw(), "Adj Close": adj})
    ratio = np.array(adj) / np.array(CLOSE)
    out = wd.load(raw, adjust=True)
    for col, values in (("open", OPEN), ("high", HIGH), ("low", LOW)):
        np.testing.assert_allclose(out[col].to_numpy(), np.array(values) * ratio, rtol=1e-15)
    np.testing.assert_allclose(out["close"].to_numpy(), adj, rtol=1e-15)
    np.testing.assert_array_equal(out["volume"].to_numpy(), VOLUME)
    assert wd.load(raw).equals(_expected())  # without adjust the adjusted close is dropped


def test_adjusted_close_alone_is_the_close():
    raw = pl.DataFrame({"Date": DATES, "Adj Close": CLOSE})
    np.testing.assert_array_equal(wd.load(raw)["close"].to_numpy(), CLOSE)


def test_close_only_series():
    out = wd.load(pl.DataFrame({"Date": DATES, "Price": CLOSE}))
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(out[col].to_numpy(), CLOSE)
    np.testing.assert_array_equal(out["volume"].to_numpy(), np.zeros(4))


def test_pandas_series_close_only():
    s = pd.Series(CLOSE, index=pd.DatetimeIndex(DATES), name="Close")
    out = wd.load(s)
    np.testing.assert_array_equal(out["open"].to_numpy(), CLOSE)
    assert out["ts"].to_list() == UTC_TS


def test_missing_volume_becomes_zero():
    out = wd.load(pl.DataFrame(_raw(volume="")))
    assert out["volume"].to_list() == [0.0] * 4
    assert out.drop("volume").equals(_expected().drop("volume"))


def test_numeric_strings_with_thousands_separators(tmp_path):
    path = _write_csv(tmp_path / "b.csv", 'Date,Close,Volume\n2024-01-02,10.5,"1,200"\n2024-01-03,11,"2,000"\n')
    assert wd.load(path)["volume"].to_list() == [1200.0, 2000.0]


# --- timestamps and timezones ---------------------------------------------------------------


def test_naive_timestamps_get_tz():
    raw = pl.DataFrame(_raw()).with_columns(pl.col("Date") + " 09:30")
    out = wd.load(raw, tz="America/New_York")
    assert out.schema["ts"] == pl.Datetime("us", "America/New_York")
    reference = pd.to_datetime(pd.Series(raw["Date"].to_list())).dt.tz_localize("America/New_York")
    np.testing.assert_array_equal(out["ts"].dt.epoch("us").to_numpy(), reference.dt.as_unit("us").astype("int64"))


def test_default_tz_is_utc():
    assert wd.DEFAULT_TZ == "UTC"
    assert wd.load(pl.DataFrame(_raw()))["ts"].dtype.time_zone == "UTC"


def test_strings_with_offsets_become_utc_instants():
    stamps = ["2024-01-02T09:30:00-05:00", "2024-01-03T15:30:00+01:00", "2024-01-04T14:30:00Z", "2024-01-05T14:30:00+0000"]
    out = wd.load(pl.DataFrame(_raw()).with_columns(pl.Series("Date", stamps)))
    reference = pd.to_datetime(pd.Series(stamps), utc=True, format="ISO8601")
    np.testing.assert_array_equal(out["ts"].dt.epoch("us").to_numpy(), reference.dt.as_unit("us").astype("int64"))


def test_polars_date_and_ns_datetime_columns():
    dates = pl.Series("Date", DATES).str.to_date()
    assert wd.load(pl.DataFrame(_raw()).with_columns(dates)).equals(_expected())
    ns = dates.cast(pl.Datetime("ns"))
    assert wd.load(pl.DataFrame(_raw()).with_columns(ns)).equals(_expected())


# --- long format ----------------------------------------------------------------------------


def test_long_format_sorted_by_symbol_then_ts():
    a = pl.DataFrame(_raw()).with_columns(Ticker=pl.lit("B"))
    b = pl.DataFrame(_raw()).with_columns(Ticker=pl.lit("A"), Close=pl.col("Close") + 0.1)
    raw = pl.concat([a, b]).sort("Date", maintain_order=True)  # interleaved B, A, B, A…
    out = wd.load(raw)
    assert out.columns == ["ts", "symbol", "open", "high", "low", "close", "volume"]
    assert out["symbol"].to_list() == ["A"] * 4 + ["B"] * 4
    assert out.filter(pl.col("symbol") == "B").drop("symbol").equals(_expected())


def test_symbol_argument_adds_the_column():
    out = wd.load(pl.DataFrame(_raw()), symbol="GOOG")
    assert out["symbol"].to_list() == ["GOOG"] * 4
    assert out.drop("symbol").equals(_expected())


# --- errors ---------------------------------------------------------------------------------


def test_misspelled_column_did_you_mean():
    message = _load_error(pl.DataFrame(_raw(close="Clsoe")))
    assert "`close`" in message and "'Clsoe'" in message and "Did you mean 'close'?" in message


def test_misspelled_timestamp_did_you_mean():
    message = _load_error(pl.DataFrame(_raw(ts="Daet")))
    assert "`ts`" in message and "'Daet'" in message and "Did you mean 'date'?" in message


def test_missing_column():
    message = _load_error(pl.DataFrame(_raw(high="")))
    assert "lack the `high` column" in message and "Fix:" in message
    assert "Did you mean" not in message


def test_two_timestamp_columns():
    message = _load_error(pl.DataFrame({**_raw(), "Datetime": DATES}))
    assert "'Date'" in message and "'Datetime'" in message and "Fix:" in message


def test_non_numeric_value_from_csv(tmp_path):
    text = "Date,Open,High,Low,Close,Volume\n" + "\n".join(
        f"{d},{o},{h},{lo},{'n/a' if i == 2 else c},{v}"
        for i, (d, o, h, lo, c, v) in enumerate(zip(DATES, OPEN, HIGH, LOW, CLOSE, VOLUME, strict=True))
    )
    message = _load_error(_write_csv(tmp_path / "b.csv", text))
    assert "column `close` has 1 non-numeric value(s)" in message
    assert _rows(message) == [2] and "close='n/a'" in message and "Fix:" in message


@pytest.mark.parametrize("token, shown", [("NaN", "nan"), ("inf", "inf"), ("", "None")])
def test_nan_inf_empty_from_csv(tmp_path, token, shown):
    lines = [f"{d},{c}" for d, c in zip(DATES, CLOSE, strict=True)]
    lines[1] = f"{DATES[1]},{token}"
    message = _load_error(_write_csv(tmp_path / "b.csv", "Date,Close\n" + "\n".join(lines)))
    assert "`open` is null, NaN or infinite" in message  # close-only: open is the close
    assert _rows(message) == [1] and f"open={shown}" in message


def test_invalid_bar_from_csv_names_row(tmp_path):
    text = "Date,Open,High,Low,Close\n2024-01-02,10,11,9,10\n2024-01-03,10,9,11,10\n2024-01-04,10,11,9,10\n"
    message = _load_error(_write_csv(tmp_path / "b.csv", text))
    assert "`high` is below `low`" in message and _rows(message) == [1]


def test_unparseable_dates():
    raw = pl.DataFrame(_raw()).with_columns(pl.Series("Date", ["2024-01-02", "2024-01-33", "yesterday", "2024-01-05"]))
    message = _load_error(raw)
    assert "column `ts` has 2 value(s) that are not dates" in message
    assert _rows(message) == [1, 2] and "'yesterday'" in message and "Fix:" in message


def test_epoch_integers_are_not_dates():
    raw = pl.DataFrame(_raw()).with_columns(pl.Series("Date", [1, 2, 3, 4]))
    message = _load_error(raw)
    assert "`ts`" in message and "from_epoch" in message


def test_strings_with_and_without_offsets():
    stamps = ["2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00", "2024-01-04T00:00:00Z", "2024-01-05"]
    message = _load_error(pl.DataFrame(_raw()).with_columns(pl.Series("Date", stamps)))
    assert "mixes timestamps with and without a UTC offset" in message
    assert _rows(message) == [1, 3] and "Fix:" in message


def test_pandas_timestamps_in_two_zones():
    df = pd.DataFrame(_raw())
    stamps = [pd.Timestamp(d, tz="UTC") for d in DATES]
    stamps[2] = pd.Timestamp(DATES[2], tz="Europe/Paris")
    df["Date"] = pd.Series(stamps, dtype=object)
    message = _load_error(df)
    assert "'Date'" in message and "mixes timezones" in message and "Europe/Paris" in message
    assert _rows(message) == [2] and "Fix:" in message


def test_pandas_naive_and_aware_datetimes():
    df = pd.DataFrame(_raw())
    stamps = [datetime.fromisoformat(d).replace(tzinfo=timezone.utc) for d in DATES]
    stamps[1] = stamps[1].replace(tzinfo=None)
    df["Date"] = pd.Series(stamps, dtype=object)
    message = _load_error(df)
    assert "mixes timezones" in message and _rows(message) == [1]


@pytest.mark.parametrize("zone", ["UTC", None])
def test_pandas_object_timestamps_in_one_zone(zone):
    df = pd.DataFrame(_raw())
    df["Date"] = pd.Series([pd.Timestamp(d, tz=zone) for d in DATES], dtype=object)
    assert df["Date"].dtype == object
    assert wd.load(df).equals(_expected())


def test_pandas_object_timestamps_with_a_missing_one():
    df = pd.DataFrame(_raw())
    df["Date"] = pd.Series([pd.Timestamp(d, tz="Europe/Paris") for d in DATES], dtype=object)
    df.loc[2, "Date"] = pd.NaT
    message = _load_error(df)
    assert "`ts` is null" in message and _rows(message) == [2]


def test_nonexistent_local_time_in_tz():
    stamps = ["2024-03-09 02:30", "2024-03-10 02:30", "2024-03-11 02:30", "2024-03-12 02:30"]
    raw = pl.DataFrame(_raw()).with_columns(pl.Series("Date", stamps))
    message = _load_error(raw, tz="America/New_York")
    assert "do not exist in 'America/New_York'" in message and _rows(message) == [1]
    assert wd.load(raw, tz="Europe/London").height == 4


def test_empty_csv(tmp_path):
    message = _load_error(_write_csv(tmp_path / "b.csv", "Date,Open,High,Low,Close,Volume\n"))
    assert "empty" in message


def test_empty_pandas_frame():
    assert "empty" in _load_error(pd.DataFrame(columns=list(_raw())))


def test_single_bar():
    message = _load_error(pl.DataFrame(_raw()).head(1))
    assert "single bar" in message and _rows(message) == [0]


def test_unknown_file_type(tmp_path):
    path = tmp_path / "bars.xlsx"
    path.write_bytes(b"PK")
    message = _load_error(path)
    assert "'bars.xlsx'" in message and "'.xlsx'" in message and ".csv or .parquet" in message


def test_nonexistent_path(tmp_path):
    message = _load_error(tmp_path / "nope.csv")
    assert "nope.csv" in message and "does not exist" in message


def test_unsupported_source_type():
    message = _load_error([1, 2, 3])
    assert "`source`" in message and "list" in message


def test_bad_repair_entry():
    with pytest.raises(InvalidParameterError, match=r"`repair`.*'sortt'.*Did you mean 'sort'\?") as info:
        wd.load(pl.DataFrame(_raw()), repair=["sortt"])
    assert isinstance(info.value, ValueError)
    with pytest.raises(InvalidParameterError, match=r"`repair`.*got 3"):
        wd.load(pl.DataFrame(_raw()), repair=3)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", 5, None])
def test_bad_tz(tz):
    with pytest.raises(InvalidParameterError, match=r"`tz` must be an IANA timezone") as info:
        wd.load(pl.DataFrame(_raw()), tz=tz)
    assert isinstance(info.value, ValueError)
    aware = pl.DataFrame(_raw()).with_columns(pl.col("Date") + "T00:00:00Z")
    with pytest.raises(InvalidParameterError, match=r"`tz`"):
        wd.load(aware, tz=tz)  # checked even when the timestamps need no zone


# --- repairs --------------------------------------------------------------------------------


def test_sort_repair():
    raw = pl.DataFrame(_raw())[[2, 0, 3, 1]]
    message = _load_error(raw)
    assert "not increasing" in message
    with pytest.warns(WorkbenchWarning, match="sorted the rows by ts"):
        out = wd.load(raw, repair=["sort"])
    assert out.equals(_expected())


def test_dedupe_repair():
    raw = pl.DataFrame(_raw())[[0, 1, 1, 2, 3, 3]]
    assert "duplicate timestamps" in _load_error(raw)
    with pytest.warns(WorkbenchWarning, match=r"dropped 2 exact duplicate row\(s\)"):
        out = wd.load(raw, repair=["dedupe"])
    assert out.equals(_expected())


def test_dedupe_keeps_conflicting_duplicates():
    raw = pl.concat([pl.DataFrame(_raw()), pl.DataFrame(_raw()).head(1).with_columns(pl.col("Volume") + 1)])
    with pytest.warns(WorkbenchWarning, match="sorted"), pytest.raises(DataValidationError, match="duplicate timestamps"):
        wd.load(raw, repair=["dedupe", "sort"])


def test_ffill_repair_per_symbol():
    a = pl.DataFrame(_raw()).with_columns(Ticker=pl.lit("A"))
    b = pl.DataFrame(_raw()).with_columns(Ticker=pl.lit("B"), Close=pl.col("Close") + 0.2)
    raw = pl.concat([a, b]).with_columns(
        pl.when(pl.int_range(pl.len()).is_in([2, 5])).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("Open", "High", "Low", "Close", "Volume")
    )
    assert "null, NaN or infinite" in _load_error(raw)
    with pytest.warns(WorkbenchWarning, match=r"forward-filled 2 row\(s\).*volume set to 0"):
        out = wd.load(raw, repair=["ffill"])
    # reference: the previous bar of the same symbol, volume 0
    a_out, b_out = out.filter(pl.col("symbol") == "A"), out.filter(pl.col("symbol") == "B")
    assert a_out.row(2, named=True) | {"ts": None} == a_out.row(1, named=True) | {"ts": None, "volume": 0.0}
    assert b_out["close"].to_list() == [c + 0.2 for c in (CLOSE[0], CLOSE[0], CLOSE[2], CLOSE[3])]
    assert b_out["volume"].to_list() == [VOLUME[0], 0.0, VOLUME[2], VOLUME[3]]


def test_ffill_cannot_fill_the_first_bar():
    raw = pl.DataFrame(_raw()).with_columns(pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col("Close")).alias("Close"))
    with pytest.warns(WorkbenchWarning), pytest.raises(DataValidationError, match="`close` is null") as info:
        wd.load(raw, repair=["ffill"])
    assert _rows(str(info.value)) == [0]


def test_repair_true_applies_all(recwarn):
    raw = pl.DataFrame(_raw())[[3, 1, 1, 0, 2]].with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(float("nan")).otherwise(pl.col("Close")).alias("Close")
    )
    with pytest.warns(WorkbenchWarning) as record:
        out = wd.load(raw, repair=True)
    text = str(record[0].message)
    assert "dropped 1 exact duplicate" in text and "sorted" in text and "forward-filled 1 row" in text
    assert out["close"].to_list() == [CLOSE[0], CLOSE[1], CLOSE[1], CLOSE[3]]


def test_repairs_not_needed_warn_nothing(recwarn):
    out = wd.load(pl.DataFrame(_raw()), repair=True)
    assert out.equals(_expected())
    assert len(recwarn) == 0
