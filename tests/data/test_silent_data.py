"""Data that must never be silently wrong: decimal commas, two columns for one name, timestamps
ahead of the bar."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.errors import DataValidationError
from workbench.strategies import Strategy


def _raw(close: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"Date": ["2024-01-02", "2024-01-03", "2024-01-04"], "Close": close})


def test_a_decimal_comma_is_refused_not_read_ten_times_too_large() -> None:
    """Regression: "10,5" was read as 105.0."""
    with pytest.raises(DataValidationError, match=r"holds '10,5', which reads as a decimal comma.*decimal_comma=True"):
        wb.data.load(_raw(["10,5", "10,7", "11,0"]))


def test_a_declared_decimal_comma_is_parsed() -> None:
    bars = wb.data.load(_raw(["10,5", "1.010,75", "11"]), decimal_comma=True)
    assert bars["close"].to_list() == [10.5, 1010.75, 11.0]


def test_thousands_separators_still_read() -> None:
    assert wb.data.load(_raw(["1,234.5", "1,240", "1,250.25"]))["close"].to_list() == [1234.5, 1240.0, 1250.25]


@pytest.mark.parametrize("other", ["close", "price"])
def test_two_columns_for_one_name_are_refused_naming_both(other: str) -> None:
    raw = _raw(["10", "11", "12"]).with_columns(pl.Series(other, [20.0, 21.0, 22.0]))
    with pytest.raises(DataValidationError, match=rf"columns 'Close' and '{other}' both map to `close`"):
        wb.data.load(raw)


class _Spy(Strategy):
    seen: list = []

    def on_bar(self, ctx):
        _Spy.seen.append((ctx.t, len(ctx.ts), ctx.ts[-1], len(ctx.close)))


def test_a_python_strategy_sees_only_the_timestamps_up_to_now() -> None:
    """Regression: ctx.ts held every timestamp to the end of the data at bar 0."""
    bars = wb.data.synthetic(30, seed=2)
    _Spy.seen.clear()
    wb.backtest(bars, _Spy())
    ts = bars["ts"].dt.replace_time_zone(None).to_numpy()
    for t, n_ts, last, n_close in _Spy.seen:
        assert n_ts == n_close == t + 1
        assert last == ts[t].astype(np.asarray(last).dtype)


def test_a_parameter_value_off_its_step_is_refused_with_the_nearest_values() -> None:
    from workbench.errors import InvalidParameterError
    from workbench.strategies import Param

    p = Param(0.5, low=0.0, high=2.0, step=0.25)
    assert p.validate("sl", 0.75) == 0.75
    assert p.validate("sl", 0.1 + 0.2 + 0.45) == pytest.approx(0.75)  # float noise is on the step
    with pytest.raises(InvalidParameterError, match=r"`sl` must lie on its step 0.25 from 0; got 0.3. Fix: use 0.25 or 0.5"):
        p.validate("sl", 0.3)
    q = Param(10, low=2, high=50, step=4)
    with pytest.raises(InvalidParameterError, match=r"got 11. Fix: use 10 or 14"):
        q.validate("fast", 11)


def test_pandas_layouts_symbol_date_index_and_yfinance_columns_load_as_long_bars() -> None:
    long = wb.data.synthetic(20, 2, seed=3)
    expected = long.sort("symbol", "ts")
    frame = long.to_pandas().rename(columns=str.capitalize).rename(columns={"Ts": "Date"})
    by_symbol = frame.set_index(["Symbol", "Date"])
    got = wb.data.load(by_symbol)
    assert got.sort("symbol", "ts").select(expected.columns).equals(expected)
    wide = frame.set_index(["Date", "Symbol"]).unstack("Symbol")  # yfinance: (Price, Ticker) columns
    wide.columns = wide.columns.set_names(["Price", "Ticker"])
    got = wb.data.load(wide)
    assert got.sort("symbol", "ts").select(expected.columns).equals(expected)
    unnamed = frame.set_index(["Symbol", "Date"])
    unnamed.index.names = [None, None]
    with pytest.raises(DataValidationError, match="row MultiIndex with unnamed levels"):
        wb.data.load(unnamed)
