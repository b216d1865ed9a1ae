"""resample() against an independent pandas reference; align() inner and outer against a
hand-computed example."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench.data as wd
from workbench.errors import DataValidationError, InvalidParameterError

AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
COLS = ["open", "high", "low", "close", "volume"]


def _pandas_resample(bars: pl.DataFrame, rule: str, **kwargs) -> pd.DataFrame:
    frame = bars.to_pandas().set_index("ts")
    return frame.resample(rule, **kwargs).agg(AGG).dropna()  # polars emits no empty windows


def _assert_matches(ours: pl.DataFrame, ref: pd.DataFrame) -> None:
    np.testing.assert_array_equal(ours["ts"].dt.epoch("us").to_numpy(), ref.index.as_unit("us").asi8)
    for col in COLS:
        np.testing.assert_allclose(ours[col].to_numpy(), ref[col].to_numpy(), rtol=1e-12, err_msg=col)


# --- resample -------------------------------------------------------------------------------


def test_goog_daily_to_weekly_matches_pandas():
    goog = wd.sample("GOOG")
    weekly = wd.resample(goog, "1w")
    # polars weeks start on Monday and are labelled by it: pandas W-MON, closed and labelled left
    _assert_matches(weekly, _pandas_resample(goog, "W-MON", closed="left", label="left"))
    assert set(weekly["ts"].dt.weekday().to_list()) == {1}
    assert wd.infer_frequency(weekly).label == "1w"


def test_goog_daily_to_monthly_matches_pandas():
    goog = wd.sample("GOOG")
    monthly = wd.resample(goog, "1mo")
    _assert_matches(monthly, _pandas_resample(goog, "MS"))
    assert monthly["ts"].dt.day().unique().to_list() == [1]
    assert monthly["volume"].sum() == pytest.approx(goog["volume"].sum(), rel=1e-12)


def test_hourly_to_daily_in_the_bars_timezone_matches_pandas():
    eurusd = wd.sample("EURUSD").with_columns(pl.col("ts").dt.convert_time_zone("America/New_York"))
    daily = wd.resample(eurusd, "1d")
    assert daily.schema["ts"] == pl.Datetime("us", "America/New_York")
    _assert_matches(daily, _pandas_resample(eurusd, "1D"))  # windows are local days, across DST


def test_multi_symbol_resample_matches_pandas_per_symbol():
    stocks = wd.sample("STOCKS20").filter(pl.col("symbol").is_in(["AAPL", "BAC", "CVX"]))
    stocks = stocks.filter(pl.col("ts").dt.year() >= 2015)
    monthly = wd.resample(stocks, "1mo")
    assert monthly.columns == ["ts", "symbol", *COLS]
    assert monthly["symbol"].unique(maintain_order=True).to_list() == ["AAPL", "BAC", "CVX"]
    for sym in ("AAPL", "BAC", "CVX"):
        ours = monthly.filter(pl.col("symbol") == sym).drop("symbol")
        _assert_matches(ours, _pandas_resample(stocks.filter(pl.col("symbol") == sym).drop("symbol"), "MS"))


def test_resample_hand_example():
    ts = [datetime(2024, 1, 1, 9, m, tzinfo=timezone.utc) for m in (0, 1, 2, 3, 4, 5, 6)]
    bars = wd.validate(pl.DataFrame({
        "ts": ts, "open": [1.0, 2, 3, 4, 5, 6, 7], "high": [2.0, 3, 9, 5, 6, 7, 8],
        "low": [0.5, 1, 2, 3, 0.25, 5, 6], "close": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5],
        "volume": [1.0, 2, 3, 4, 5, 6, 7],
    }).with_columns(pl.col("ts").dt.cast_time_unit("us")))
    out = wd.resample(bars, "5m")
    assert out["ts"].to_list() == [ts[0], ts[5]]
    assert out.select(COLS).rows() == [(1.0, 9.0, 0.25, 5.5, 15.0), (6.0, 8.0, 5.0, 7.5, 13.0)]


def test_resample_to_the_same_size_is_identity():
    goog = wd.sample("GOOG")
    assert wd.resample(goog, "1d").equals(goog)


@pytest.mark.parametrize("name, every", [("GOOG", "1h"), ("GOOG", "12h"), ("EURUSD", "30m"), ("BTCUSD", "1w")])
def test_resample_to_a_finer_size_errors(name, every):
    with pytest.raises(InvalidParameterError, match=rf"`every` must be coarser.*got '{every}'") as info:
        wd.resample(wd.sample(name), every)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("every", ["weekly", "1 d", "", 5])
def test_resample_bad_duration(every):
    with pytest.raises(InvalidParameterError, match=r"`every` must be a duration"):
        wd.resample(wd.sample("GOOG"), every)


# --- align ----------------------------------------------------------------------------------


def _day(d: int) -> datetime:
    return datetime(2024, 1, d, tzinfo=timezone.utc)


def _symbol_bars(symbol: str, days: list[int], closes: list[float]) -> pl.DataFrame:
    return pl.DataFrame({
        "ts": [_day(d) for d in days], "symbol": symbol,
        "open": closes, "high": [c + 1 for c in closes], "low": [c - 1 for c in closes],
        "close": closes, "volume": [10.0 * d for d in days],
    }).with_columns(pl.col("ts").dt.cast_time_unit("us"))


@pytest.fixture
def ragged() -> pl.DataFrame:
    a = _symbol_bars("A", [1, 2, 3, 4, 5], [10.0, 11, 12, 13, 14])
    b = _symbol_bars("B", [2, 4, 5, 6], [20.0, 21, 22, 23])      # starts late, skips day 3
    return pl.concat([b, a])


def test_align_inner(ragged):
    out = wd.align(ragged, how="inner")
    expected = pl.concat([
        _symbol_bars("A", [2, 4, 5], [11.0, 13, 14]),
        _symbol_bars("B", [2, 4, 5], [20.0, 21, 22]),
    ])
    assert out.equals(expected)


def test_align_outer_fills_with_previous_close_and_zero_volume(ragged):
    out = wd.align(ragged, how="outer")
    # from day 2 (when both have started) to day 6; A has no day 6, B no day 3
    expected_rows = [
        ("A", 2, 11.0, 12.0, 10.0, 11.0, 20.0),
        ("A", 3, 12.0, 13.0, 11.0, 12.0, 30.0),
        ("A", 4, 13.0, 14.0, 12.0, 13.0, 40.0),
        ("A", 5, 14.0, 15.0, 13.0, 14.0, 50.0),
        ("A", 6, 14.0, 14.0, 14.0, 14.0, 0.0),    # filled: o=h=l=c=previous close
        ("B", 2, 20.0, 21.0, 19.0, 20.0, 20.0),
        ("B", 3, 20.0, 20.0, 20.0, 20.0, 0.0),    # filled
        ("B", 4, 21.0, 22.0, 20.0, 21.0, 40.0),
        ("B", 5, 22.0, 23.0, 21.0, 22.0, 50.0),
        ("B", 6, 23.0, 24.0, 22.0, 23.0, 60.0),
    ]
    got = [(r["symbol"], r["ts"].day, r["open"], r["high"], r["low"], r["close"], r["volume"]) for r in out.iter_rows(named=True)]
    assert got == expected_rows
    assert out.columns == ["ts", "symbol", *COLS]


def test_align_outer_three_symbols_trimmed_to_the_latest_start():
    bars = pl.concat([
        _symbol_bars("A", [1, 2, 3, 4], [1.0, 2, 3, 4]),
        _symbol_bars("B", [1, 3, 4], [5.0, 6, 7]),
        _symbol_bars("C", [3, 4], [8.0, 9]),
    ])
    out = wd.align(bars, how="outer")
    assert out["ts"].dt.day().to_list() == [3, 4] * 3
    inner = wd.align(bars, how="inner")
    assert inner.equals(out)  # nothing to fill after day 3


def test_aligned_bars_become_arrays(ragged):
    for how in ("inner", "outer"):
        arr = wd.to_arrays(wd.align(ragged, how=how))
        assert arr.symbols == ("A", "B") and arr.close.shape[1] == 2


def test_align_errors(ragged):
    with pytest.raises(DataValidationError, match="no `symbol` column"):
        wd.align(wd.sample("GOOG"))
    with pytest.raises(InvalidParameterError, match=r"`how` must be 'inner' or 'outer'; got 'outter'"):
        wd.align(ragged, how="outter")  # type: ignore[arg-type]
    disjoint = pl.concat([_symbol_bars("A", [1, 2], [5.0, 6]), _symbol_bars("B", [3, 4], [5.0, 6])])
    with pytest.raises(DataValidationError, match="share no timestamp.*how='outer'"):
        wd.align(disjoint, how="inner")
    assert wd.align(disjoint, how="outer")["ts"].dt.day().to_list() == [3, 4, 3, 4]


def test_align_does_not_change_aligned_bars():
    bars = wd.synthetic(20, n_symbols=3, seed=4)
    assert wd.align(bars, how="inner").equals(bars)
    assert wd.align(bars, how="outer").equals(bars)


def test_align_outer_keeps_filled_bars_flat_over_long_gaps():
    a = _symbol_bars("A", list(range(1, 11)), [10.0 + d for d in range(1, 11)])
    b = _symbol_bars("B", [1, 10], [5.0, 6.0])
    out = wd.align(pl.concat([a, b]), how="outer").filter(pl.col("symbol") == "B")
    assert out["close"].to_list() == [5.0] * 9 + [6.0]
    assert out["volume"].to_list() == [10.0] + [0.0] * 8 + [100.0]
    assert out["ts"].diff().drop_nulls().unique().to_list() == [timedelta(days=1)]
