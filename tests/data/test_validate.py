"""validate(): every contract violation raises a DataValidationError naming the column, the first
offending rows and the fix; valid bars pass through unchanged."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

import workbench.data as wd
from workbench.errors import DataValidationError


def _bars(n: int = 6, **overrides: list) -> pl.DataFrame:
    """Small valid daily bars; ``overrides`` replace whole columns."""
    ts = [datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(days=i) for i in range(n)]
    cols = {
        "ts": ts,
        "open": [10.0 + i for i in range(n)],
        "high": [11.0 + i for i in range(n)],
        "low": [9.0 + i for i in range(n)],
        "close": [10.5 + i for i in range(n)],
        "volume": [100.0] * n,
    }
    cols.update(overrides)
    return pl.DataFrame(cols).with_columns(pl.col("ts").dt.cast_time_unit("us"))


def _set(bars: pl.DataFrame, col: str, row: int, value: object) -> pl.DataFrame:
    values = bars[col].to_list()
    values[row] = value
    return bars.with_columns(pl.Series(col, values, dtype=bars.schema[col]))


def _error(bars: pl.DataFrame) -> str:
    with pytest.raises(DataValidationError) as info:
        wd.validate(bars)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "Fix:" in message
    return message


def _rows(message: str) -> list[int]:
    return [int(r) for r in re.findall(r"row (\d+):", message)]


def test_valid_bars_pass_unchanged():
    bars = _bars()
    assert wd.validate(bars) is bars


def test_long_format_valid_with_a_timestamp_shared_by_two_symbols():
    a, b = _bars(3).with_columns(symbol=pl.lit("A")), _bars(3).with_columns(symbol=pl.lit("B"))
    long = pl.concat([a, b]).sort("ts", maintain_order=True)  # interleaved: A, B, A, B…
    assert wd.validate(long).height == 6


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), None])
@pytest.mark.parametrize("col", ["open", "close", "volume"])
def test_nan_inf_null_named_with_row(col, value):
    message = _error(_set(_bars(), col, 3, value))
    assert f"`{col}`" in message and "null, NaN or infinite" in message
    assert _rows(message) == [3]
    assert "repair=['ffill']" in message


@pytest.mark.parametrize("col", ["open", "high", "low", "close"])
@pytest.mark.parametrize("value", [0.0, -5.0])
def test_non_positive_price(col, value):
    message = _error(_set(_bars(), col, 2, value))
    assert f"`{col}` is not positive" in message
    assert _rows(message) == [2] and f"{col}={value!r}" in message


def test_high_below_low_lists_rows_and_values():
    bars = _set(_set(_bars(), "high", 1, 8.0), "high", 4, 1.0)
    message = _error(bars)
    assert "`high` is below `low` in 2 row(s)" in message
    assert _rows(message) == [1, 4]
    assert "high=8.0" in message and "low=10.0" in message
    assert "swapped" in message


def test_open_above_high():
    message = _error(_set(_bars(), "open", 2, 99.0))
    assert "`open` is outside [low, high]" in message
    assert _rows(message) == [2] and "open=99.0" in message


def test_close_below_low():
    message = _error(_set(_bars(), "close", 5, 1.0))
    assert "`close` is outside [low, high]" in message
    assert _rows(message) == [5] and "close=1.0" in message


def test_negative_volume():
    message = _error(_set(_bars(), "volume", 0, -1.0))
    assert "`volume` is negative" in message
    assert _rows(message) == [0] and "volume=-1.0" in message


def test_unsorted_timestamps():
    bars = _bars()
    ts = bars["ts"].to_list()
    ts[2], ts[3] = ts[3], ts[2]
    message = _error(bars.with_columns(pl.Series("ts", ts)))
    assert "timestamps are not increasing" in message
    assert _rows(message) == [3]
    assert "repair=['sort']" in message


def test_duplicate_timestamps():
    bars = _bars()
    ts = bars["ts"].to_list()
    ts[4] = ts[3]
    message = _error(bars.with_columns(pl.Series("ts", ts)))
    assert "duplicate timestamps" in message
    assert _rows(message) == [4]
    assert "repair=['dedupe']" in message


def test_duplicate_timestamp_within_one_symbol_of_several():
    a, b = _bars(3).with_columns(symbol=pl.lit("A")), _bars(3).with_columns(symbol=pl.lit("B"))
    b = _set(b, "ts", 2, b["ts"][1])
    message = _error(pl.concat([a, b]))
    assert "duplicate timestamps (per symbol)" in message
    assert _rows(message) == [5] and "symbol='B'" in message


def test_unsorted_within_one_symbol_of_several():
    a = _bars(3).with_columns(symbol=pl.lit("A"))
    b = _bars(3).with_columns(symbol=pl.lit("B")).reverse()
    message = _error(pl.concat([a, b]))
    assert "not increasing (per symbol)" in message
    assert _rows(message) == [4, 5] and "symbol='B'" in message


def test_empty_frame():
    message = _error(_bars().head(0))
    assert "empty" in message and "0 rows" in message


def test_single_bar():
    message = _error(_bars().head(1))
    assert "single bar" in message and _rows(message) == [0]


def test_single_bar_for_one_symbol_among_several():
    a = _bars(3).with_columns(symbol=pl.lit("A"))
    b = _bars(1).with_columns(symbol=pl.lit("B"))
    message = _error(pl.concat([a, b]))
    assert "single bar for symbol 'B'" in message and _rows(message) == [3]


def test_missing_column():
    message = _error(_bars().drop("volume"))
    assert "'volume'" in message and "lack" in message


def test_naive_timestamps_rejected():
    message = _error(_bars().with_columns(pl.col("ts").dt.replace_time_zone(None)))
    assert "`ts`" in message and "timezone-aware" in message and "tz=" in message


def test_non_float_price_column_rejected():
    message = _error(_bars().with_columns(pl.col("close").cast(pl.String)))
    assert "`close`" in message and "Float64" in message


def test_many_offending_rows_are_truncated():
    bars = _bars(12, volume=[-1.0] * 12)
    message = _error(bars)
    assert "in 12 row(s)" in message and _rows(message) == [0, 1, 2, 3, 4] and "7 more" in message
