"""Views of bar frames kept across backtests: reused while the frame is unchanged, rebuilt
after any in-place change, dropped with the frame."""

from __future__ import annotations

import gc

import numpy as np
import polars as pl
import pytest

import workbench as wb
import workbench.data as wd
from workbench.backtesting import views
from workbench.backtesting.engine import prepare_bars
from workbench.strategies import SmaCross

SETTINGS = dict(cash=10_000, fees=0.002, lot_size=1)


@pytest.fixture(autouse=True)
def _empty():
    views.clear()
    yield
    views.clear()


def goog() -> pl.DataFrame:
    return wd.sample("GOOG").clone()


def fresh_equity(frame: pl.DataFrame) -> float:
    """The backtest of an equal frame never seen before (no kept view)."""
    copy = pl.DataFrame({c: frame.get_column(c).to_numpy().copy() for c in frame.columns},
                        schema=frame.schema)
    return wb.backtest(copy, SmaCross(direction="both"), **SETTINGS).final_equity


def test_an_unchanged_frame_reuses_its_view_and_what_was_derived_from_it():
    bars = goog()
    first = prepare_bars(bars)[1]
    second = prepare_bars(bars)[1]
    assert second.close is first.close and second.ts is first.ts and second.frame is bars
    assert second.derived is first.derived
    a = wb.backtest(bars, SmaCross(), **SETTINGS)
    b = wb.backtest(bars, SmaCross(), **SETTINGS)
    np.testing.assert_equal(a.stats.to_dict(), b.stats.to_dict())
    assert "frequency" in first.derived and "benchmark_returns" in first.derived
    assert not b.benchmark_returns.flags.writeable


def set_close(frame: pl.DataFrame) -> None:
    frame[500, "close"] = float(frame[500, "high"])


def replace_close(frame: pl.DataFrame) -> None:
    i = frame.columns.index("close")
    frame.replace_column(i, pl.Series("close", np.minimum(frame["close"].to_numpy() * 1.01, frame["high"].to_numpy())))


def extend(frame: pl.DataFrame) -> None:
    tail = frame.tail(1).with_columns(pl.col("ts") + pl.duration(days=1))
    frame.extend(tail)


def rename_columns(frame: pl.DataFrame) -> None:  # "close" now names the old "open"
    frame.columns = ["ts", "close", "high", "low", "open", "volume"]


@pytest.mark.parametrize("change", [set_close, replace_close, extend, rename_columns])
def test_an_in_place_change_gives_a_new_view_and_the_new_results(change):
    bars = goog()
    before = prepare_bars(bars)[1]
    wb.backtest(bars, SmaCross(direction="both"), **SETTINGS)
    change(bars)
    after = prepare_bars(bars)[1]
    assert after.close is not before.close and after.derived is not before.derived
    np.testing.assert_array_equal(after.close[:, 0], bars.get_column("close").to_numpy())
    assert wb.backtest(bars, SmaCross(direction="both"), **SETTINGS).final_equity == fresh_equity(bars)


def test_a_time_zone_change_alone_gives_a_new_view():
    bars = goog()
    assert prepare_bars(bars)[1].time_zone == "UTC"
    bars.replace_column(0, bars.get_column("ts").dt.convert_time_zone("America/New_York"))
    assert prepare_bars(bars)[1].time_zone == "America/New_York"


def test_a_frame_no_longer_used_is_forgotten():
    bars = goog()
    prepare_bars(bars)
    assert id(bars) in views._ENTRIES
    key = id(bars)
    del bars
    gc.collect()
    assert key not in views._ENTRIES


def test_frames_without_single_buffers_or_too_large_are_converted_each_time():
    chunked = pl.concat([goog().head(1000), goog().tail(1000)], rechunk=False)
    assert chunked.n_chunks() > 1
    assert prepare_bars(chunked)[1].close is not prepare_bars(chunked)[1].close
    symbols = wd.synthetic(300, n_symbols=2, seed=1)  # a string symbol column
    assert prepare_bars(symbols)[1].close is not prepare_bars(symbols)[1].close
    large = wd.synthetic(views.MAX_ROWS + 1, seed=1)
    assert prepare_bars(large)[1].close is not prepare_bars(large)[1].close


def test_at_most_max_frames_are_kept():
    frames = [goog() for _ in range(views.MAX_FRAMES + 3)]
    for f in frames:
        prepare_bars(f)
    assert len(views._ENTRIES) == views.MAX_FRAMES
    assert id(frames[-1]) in views._ENTRIES and id(frames[0]) not in views._ENTRIES
