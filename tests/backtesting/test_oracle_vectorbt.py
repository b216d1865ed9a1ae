"""Oracle: vectorbt's ``Portfolio.from_signals`` on the backtesting.py canonical case.

Configured equivalently: our fill at the next open is vectorbt's ``price=open`` with the
signals shifted one bar later; entries sized at all available cash are ``size=np.inf`` in
``size_type="amount"`` with whole units (``size_granularity=1``); fees 0.002 of traded value;
long and short signals (``short_entries``, vectorbt's two-way mode: its ``direction`` is ignored
when short signals are given) with ``upon_opposite_entry="reverse"`` (an opposite entry
closes the position and opens the other way). The position is valued at each close
(``close``). Return-based figures are annualized with 252 bars a year on both sides
(vectorbt's ``year_freq="252 days"`` with daily bars).

What cannot be matched order for order: vectorbt fills a reversal as *one* order (close and
open together, one fee on the whole size), ours as two orders (the close, then the entry sized
from the equity left). The fills, fees in cash, positions, trades and equity are the same, so
we compare vectorbt's positions (its round trips) with our trades, its per-bar value with our
equity, and its orders with ours merged by bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import vectorbt as vbt  # a peer oracle in the [dev] extra: missing, it fails loudly

import workbench as wb
from workbench import indicators as ind
from workbench.strategies import SmaCross, crossed_above, crossed_below

CASH, FEES = 10_000, 0.002


def _shift(a: np.ndarray) -> np.ndarray:
    return np.r_[False, a[:-1]]


@pytest.fixture(scope="module")
def case():
    bars = wb.data.sample("GOOG")
    ours = wb.backtest(bars, SmaCross(fast=10, slow=20, direction="both"), cash=CASH, fees=FEES, lot_size=1)
    df = bars.to_pandas().set_index("ts")
    close = df["close"]
    fast, slow = ind.sma(close.to_numpy(), 10), ind.sma(close.to_numpy(), 20)
    up, down = crossed_above(fast, slow), crossed_below(fast, slow)
    s = lambda a: pd.Series(_shift(a), index=df.index)  # noqa: E731
    pf = vbt.Portfolio.from_signals(
        close, entries=s(up), exits=s(np.zeros_like(up)), short_entries=s(down), short_exits=s(np.zeros_like(down)),
        price=df["open"], open=df["open"], high=df["high"], low=df["low"],
        size=np.inf, size_type="amount", size_granularity=1, fees=FEES,
        upon_opposite_entry="reverse", init_cash=CASH, freq="1D",
    )
    return ours, pf


def test_equity_at_every_bar(case):
    ours, pf = case
    np.testing.assert_allclose(ours.equity["equity"].to_numpy(), pf.value().to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.equity["cash"].to_numpy(), pf.cash().to_numpy(), rtol=0, atol=1e-6)
    assert abs(ours.final_equity - pf.final_value()) < 0.01


def test_positions_are_our_trades(case):
    ours, pf = case
    pos = pf.positions.records
    t = ours.trades
    assert t.height == len(pos) == 94
    np.testing.assert_array_equal(t["entry_bar"].to_numpy(), pos["entry_idx"])
    np.testing.assert_array_equal(t["size"].to_numpy(), pos["size"])
    np.testing.assert_array_equal(np.where(t["direction"].to_numpy() == "long", 0, 1), pos["direction"])
    np.testing.assert_allclose(t["entry_price"].to_numpy(), pos["entry_price"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["entry_fees"].to_numpy(), pos["entry_fees"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(t["is_open"].to_numpy(), pos["status"] == 0)
    closed = ~t["is_open"].to_numpy()
    np.testing.assert_array_equal(t["exit_bar"].to_numpy()[closed], pos["exit_idx"][closed])
    np.testing.assert_allclose(t["exit_price"].to_numpy(), pos["exit_price"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["exit_fees"].to_numpy(), pos["exit_fees"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(t["pnl"].to_numpy(), pos["pnl"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(t["ret"].to_numpy(), pos["return"], rtol=0, atol=1e-9)


def test_orders_merged_by_bar(case):
    """Our close + entry on a reversal bar add up to vectorbt's one order there."""
    ours, pf = case
    o = ours.orders.filter(pl.col("status") == "filled").with_columns(
        signed=pl.when(pl.col("side") == "buy").then(pl.col("size")).otherwise(-pl.col("size")))
    merged = o.group_by("bar", maintain_order=True).agg(pl.col("signed").sum(), pl.col("fees").sum(), pl.col("price").first())
    rec = pf.orders.records
    signed = np.where(rec["side"] == 0, rec["size"], -rec["size"])
    np.testing.assert_array_equal(merged["bar"].to_numpy(), rec["idx"])
    np.testing.assert_array_equal(merged["signed"].to_numpy(), signed)
    np.testing.assert_allclose(merged["fees"].to_numpy(), rec["fees"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(merged["price"].to_numpy(), rec["price"], rtol=0, atol=1e-9)


def test_total_fees_and_return(case):
    ours, pf = case
    assert ours.stats.total_fees == pytest.approx(pf.orders.records["fees"].sum(), rel=1e-12)
    assert ours.stats.total_return == pytest.approx(pf.total_return(), rel=1e-10)
    assert ours.stats.max_drawdown == pytest.approx(pf.max_drawdown(), rel=1e-10)


def test_stats_defined_alike(case):
    ours, pf = case
    s = ours.stats
    trades = pf.trades.closed
    acc = pf.get_returns_acc(year_freq="252 days")
    pairs = {
        "closed trades": (s.n_trades, trades.count()),
        "open trades": (s.n_open_trades, pf.trades.open.count()),
        "win rate": (s.win_rate, trades.win_rate()),
        "profit factor": (s.profit_factor, trades.profit_factor()),
        "expectancy": (s.expectancy, trades.expectancy()),
        "sqn": (s.sqn, trades.sqn()),
        "best trade": (s.best_trade, trades.returns.max()),
        "worst trade": (s.worst_trade, trades.returns.min()),
        "avg trade": (s.avg_trade, trades.returns.mean()),
        "avg win": (s.avg_win, trades.winning.returns.mean()),
        "avg loss": (s.avg_loss, trades.losing.returns.mean()),
        "max drawdown duration": (s.max_drawdown_duration, pf.drawdowns.duration.max()),
        "sharpe": (s.sharpe_ratio, acc.sharpe_ratio()),
        "sortino": (s.sortino_ratio, acc.sortino_ratio()),
        "calmar": (s.calmar_ratio, acc.calmar_ratio()),
        "annual return": (s.annual_return, acc.annualized()),
        "annual volatility": (s.annual_volatility, acc.annualized_volatility()),
        "omega": (s.omega_ratio, acc.omega_ratio()),
        "tail ratio": (s.tail_ratio, acc.tail_ratio()),
        "value at risk": (s.value_at_risk, acc.value_at_risk()),
        "conditional value at risk": (s.conditional_value_at_risk, acc.cond_value_at_risk()),
    }
    for name, (mine, theirs) in pairs.items():
        assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-9), name
    open_pnl = ours.trades.filter(pl.col("is_open"))["pnl"].sum()
    assert open_pnl == pytest.approx(pf.trades.open.pnl.sum(), rel=1e-9)
