"""``to_arrays`` takes a shortcut for long-format bars already grouped one block per symbol (no
sort, blocked transposes, threads for large inputs); it must give exactly what the general
path (sort by symbol and time, then reshape) gives, and leave every other layout to it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import workbench.data as wd
from workbench.data import arrays as A
from workbench.errors import DataValidationError

FIELDS = ("open", "high", "low", "close", "volume")


def _general(bars: pl.DataFrame, monkeypatch: pytest.MonkeyPatch) -> A.BarArrays:
    with monkeypatch.context() as mp:
        mp.setattr(A, "_blocked", lambda bars, tz: None)
        return A.to_arrays(bars)


def _same(a: A.BarArrays, b: A.BarArrays) -> None:
    assert a.symbols == b.symbols and a.time_zone == b.time_zone
    assert a.ts.dtype == b.ts.dtype and np.array_equal(a.ts, b.ts)
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.flags["C_CONTIGUOUS"] and x.dtype == np.float64 and np.array_equal(x, y, equal_nan=True), f


def _renamed(bars: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    return bars.with_columns(pl.col("symbol").replace_strict(names))


@pytest.mark.parametrize("n_symbols", [2, 12])
def test_blocked_rows_give_the_general_result(n_symbols, monkeypatch):
    bars = wd.synthetic(40, n_symbols, seed=3)  # one block per symbol, S0, S1, … S10, S11 (not sorted by name)
    fast = A.to_arrays(bars)
    assert A._blocked(bars, "UTC") is not None
    _same(fast, _general(bars, monkeypatch))
    assert list(fast.symbols) == sorted(fast.symbols)


def test_blocks_in_any_symbol_order_and_zone(monkeypatch):
    bars = wd.synthetic(30, 3, seed=4)
    bars = _renamed(bars, {"S0": "zeta", "S1": "alpha", "S2": "mid"})
    bars = bars.with_columns(pl.col("ts").dt.convert_time_zone("America/New_York"))
    fast = A.to_arrays(bars)
    assert fast.symbols == ("alpha", "mid", "zeta") and fast.time_zone == "America/New_York"
    _same(fast, _general(bars, monkeypatch))


def test_threaded_conversion_gives_the_same_arrays(monkeypatch):
    bars = wd.synthetic(50, 4, seed=5)
    serial = A.to_arrays(bars)
    monkeypatch.setattr(A, "_PARALLEL_FROM", 1)
    _same(A.to_arrays(bars), serial)


def test_other_layouts_take_the_general_path(monkeypatch):
    bars = wd.synthetic(25, 3, seed=6)
    shuffled = bars.sample(fraction=1.0, shuffle=True, seed=1)
    assert A._blocked(shuffled, "UTC") is None
    _same(A.to_arrays(shuffled, check=False), A.to_arrays(bars))  # (validation wants sorted rows)
    # blocks, but time running backwards inside them: sorted by the general path
    backwards = bars.sort(["symbol", "ts"], descending=[False, True])
    assert A._blocked(backwards, "UTC") is None
    _same(A.to_arrays(backwards, check=False), A.to_arrays(bars))


def test_unequal_calendars_still_explained():
    bars = wd.synthetic(20, 2, seed=7)
    ragged = bars.filter(~((pl.col("symbol") == "S1") & (pl.arange(0, pl.len()) % 7 == 0)))
    assert A._blocked(ragged, "UTC") is None
    with pytest.raises(DataValidationError, match="do not share one calendar"):
        A.to_arrays(ragged)


def test_other_time_units_take_the_general_path(monkeypatch):
    bars = wd.synthetic(15, 2, seed=8).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    assert A._blocked(bars, "UTC") is None
    _same(A.to_arrays(bars), _general(bars, monkeypatch))
    one = wd.synthetic(15, 1, seed=8)
    assert np.array_equal(A.to_arrays(one.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))).ts,
                          A.to_arrays(one).ts)
