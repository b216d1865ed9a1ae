"""Bars given as arrays (``workbench.data.to_arrays``): the same backtest as from the frame,
the caller's arrays untouched, and clear errors for arrays that break the contract."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.data import to_arrays
from workbench.errors import DataValidationError
from workbench.strategies import SmaCross


@pytest.mark.parametrize("bars", [wb.data.sample("GOOG"), wb.data.synthetic(400, n_symbols=3, seed=5)],
                         ids=["goog", "three_symbols"])
def test_arrays_give_the_same_backtest_as_the_frame(bars):
    strategy = SmaCross(fast=10, slow=20, direction="both")
    settings = dict(cash=10_000, fees=0.002, lot_size=1, sl=0.05)
    want = wb.backtest(bars, strategy, **settings)
    got = wb.backtest(to_arrays(bars), strategy, **settings)
    assert got.source is None and want.source is bars
    np.testing.assert_array_equal(got.equity_values, want.equity_values)
    assert got.trades.equals(want.trades) and got.orders.equals(want.orders)
    assert got.stats.to_dict() == want.stats.to_dict()
    assert got.bars.equals(bars)  # rebuilt on demand
    assert got.dataset_hash == want.dataset_hash and got.run_id == want.run_id


def test_the_time_zone_of_the_arrays_dates_the_bars():
    midnight_utc = wb.data.sample("GOOG")
    for convert, per_year in ((False, 252.0), (True, 365.0)):  # converted, midnight UTC is Sunday evening in New York
        ts = pl.col("ts").dt.convert_time_zone("America/New_York") if convert else (
            pl.col("ts").dt.replace_time_zone(None).dt.replace_time_zone("America/New_York"))
        bars = midnight_utc.with_columns(ts)
        got = wb.backtest(to_arrays(bars), SmaCross(fast=10, slow=20))
        assert got.view.time_zone == "America/New_York"
        assert got.bars["ts"].dtype == pl.Datetime("us", "America/New_York") and got.bars.equals(bars)
        assert got.periods_per_year == per_year == wb.backtest(bars, SmaCross(fast=10, slow=20)).periods_per_year


def test_the_callers_arrays_stay_writable_and_unchanged():
    arr = to_arrays(wb.data.synthetic(200, seed=1))
    arr = dataclasses.replace(arr, close=arr.close.copy())  # an array the caller owns
    before = arr.close.copy()
    res = wb.backtest(arr, SmaCross(fast=5, slow=20))
    assert arr.close.flags.writeable and not res.view.close.flags.writeable
    assert np.shares_memory(arr.close, res.view.close)  # no copy
    np.testing.assert_array_equal(arr.close, before)


def test_arrays_that_break_the_contract_are_explained():
    arr = to_arrays(wb.data.synthetic(50, n_symbols=2, seed=2))
    low = arr.low.copy()
    low[7, 1] = arr.high[7, 1] + 1.0
    with pytest.raises(DataValidationError, match="high"):
        wb.backtest(dataclasses.replace(arr, low=low), SmaCross(fast=5, slow=20))
    with pytest.raises(DataValidationError, match=r"`bars.close` must have shape \(n_bars, n_symbols\) = \(50, 2\); got \(50, 1\)"):
        wb.backtest(dataclasses.replace(arr, close=arr.close[:, :1]), SmaCross(fast=5, slow=20))
    with pytest.raises(DataValidationError, match="to_arrays"):
        wb.backtest(dataclasses.replace(arr, ts=arr.ts.reshape(-1, 1)), SmaCross(fast=5, slow=20))


def test_sweeps_take_arrays_too():
    bars = wb.data.sample("GOOG")
    kw = dict(fast=[5, 10], slow=[20, 40], direction="long", fees=0.002, overfit=False)
    a, b = wb.optimize.grid(bars, SmaCross, **kw), wb.optimize.grid(to_arrays(bars), SmaCross, **kw)
    assert a.frame.equals(b.frame) and a.run_id == b.run_id
