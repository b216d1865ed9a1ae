"""to_arrays(): (n_bars, n_assets) C-contiguous float64 arrays, symbols ordered by name, UTC
timestamps, and an error naming align() when the symbols' calendars differ."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import numpy as np
import polars as pl
import pytest

import workbench.data as wd
from workbench.errors import DataValidationError

FIELDS = ("open", "high", "low", "close", "volume")


def test_shapes_dtypes_and_contiguity():
    bars = wd.synthetic(40, 3, seed=1)
    arr = wd.to_arrays(bars)
    assert arr.shape == (40, 3)
    for name in FIELDS:
        a = getattr(arr, name)
        assert a.shape == (40, 3) and a.dtype == np.float64
        assert a.flags["C_CONTIGUOUS"]
    assert arr.ts.shape == (40,) and arr.ts.dtype == np.dtype("datetime64[us]")


@pytest.mark.parametrize("order", ["as_generated", "interleaved", "interleaved_descending", "reversed_symbols"])
def test_columns_are_symbols_sorted_by_name(order):
    base = wd.synthetic(25, 3, seed=2).with_columns(pl.col("symbol").replace({"S0": "MSFT", "S1": "AAPL", "S2": "GOOG"}))
    bars = {
        "as_generated": base,
        "interleaved": base.sort("ts", maintain_order=True),
        "interleaved_descending": base.sort(["ts", "symbol"], descending=[False, True]),
        "reversed_symbols": base.sort("symbol", descending=True, maintain_order=True),
    }[order]
    arr = wd.to_arrays(bars)
    assert arr.symbols == ("AAPL", "GOOG", "MSFT")
    for j, sym in enumerate(arr.symbols):
        own = base.filter(pl.col("symbol") == sym).sort("ts")
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(arr, name)[:, j], own[name].to_numpy(), err_msg=f"{sym} {name}")
    expected_ts = base.filter(pl.col("symbol") == "AAPL")["ts"].dt.replace_time_zone(None).to_numpy()
    np.testing.assert_array_equal(arr.ts, expected_ts)


def test_single_symbol_without_symbol_column():
    bars = wd.sample("GOOG")
    arr = wd.to_arrays(bars)
    assert arr.symbols == ("asset",) and arr.shape == (bars.height, 1)
    np.testing.assert_array_equal(arr.close[:, 0], bars["close"].to_numpy())
    assert arr.close.flags["C_CONTIGUOUS"]
    assert wd.to_arrays(bars, default_symbol="GOOG").symbols == ("GOOG",)


def test_timestamps_are_utc_instants_whatever_the_display_zone():
    bars = wd.synthetic(10, 2, seed=4, every="1h")
    ny = bars.with_columns(pl.col("ts").dt.convert_time_zone("America/New_York"))
    for frame in (ny, ny.filter(pl.col("symbol") == "S0").drop("symbol")):
        arr = wd.to_arrays(frame)
        assert arr.time_zone == "America/New_York"
        expected = frame["ts"].unique(maintain_order=True).dt.epoch("us").to_numpy()
        np.testing.assert_array_equal(arr.ts.astype(np.int64), expected)
    assert wd.to_arrays(bars).time_zone == "UTC"


def test_arrays_are_independent_copies():
    bars = wd.synthetic(5, 2, seed=5)
    arr = wd.to_arrays(bars)
    arr.close[0, 0] = -1.0
    assert bars["close"][0] > 0


def test_bar_arrays_are_frozen():
    arr = wd.to_arrays(wd.synthetic(5, seed=0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        arr.close = np.zeros((5, 1))  # type: ignore[misc]


def test_different_bar_counts_error_names_align():
    bars = wd.synthetic(6, 2, seed=6)
    ragged = bars.filter(~((pl.col("symbol") == "S1") & (pl.col("ts") == pl.col("ts").max())))
    with pytest.raises(DataValidationError) as info:
        wd.to_arrays(ragged)
    message = str(info.value)
    assert "do not share one calendar" in message and "{'S0': 6, 'S1': 5}" in message
    assert "workbench.data.align(" in message
    assert wd.to_arrays(wd.align(ragged, how="inner")).shape == (5, 2)
    assert wd.to_arrays(wd.align(ragged, how="outer")).shape == (6, 2)


def test_same_count_different_timestamps_error_names_align():
    a = wd.synthetic(4, seed=7).with_columns(symbol=pl.lit("A"))
    b = wd.synthetic(4, seed=8, start=datetime(2000, 1, 2, tzinfo=timezone.utc)).with_columns(symbol=pl.lit("B"))
    bars = pl.concat([a, b]).select(["ts", "symbol", *FIELDS])
    with pytest.raises(DataValidationError, match=r"do not share one calendar.*align\(bars, how="):
        wd.to_arrays(bars)
    assert wd.to_arrays(wd.align(bars, how="inner")).shape == (3, 2)


def test_invalid_bars_are_rejected():
    bars = wd.synthetic(5, 2, seed=9)
    with pytest.raises(DataValidationError, match="empty"):
        wd.to_arrays(bars.head(0))
    with pytest.raises(DataValidationError, match="`close` is null, NaN or infinite"):
        wd.to_arrays(bars.with_columns(close=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise("close")))
