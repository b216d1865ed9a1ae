"""Oracle: backtesting.py's canonical example, run here, against our engine configured the same way.

backtesting.py's ``SmaCross(10, 20)`` on its GOOG data: cash 10,000, commission 0.2% of traded
value per order, ``exclusive_orders=True`` (a crossover closes the open trade and opens the
other way), whole shares, orders decided at a bar's close and filled at the next open, each
entry sized at all available equity (its default size ``1 - eps``). The equivalent here is
``backtest(GOOG, SmaCross(fast=10, slow=20, direction="both"), cash=10_000, fees=0.002,
lot_size=1)``.

Statistics compared (same definition in both libraries, to 1e-6): final and peak equity, total
return, number of closed trades, win rate, best / worst trade, the arithmetic mean trade return
(their ``Expectancy [%]`` is our ``avg_trade``), SQN, maximum drawdown, average drawdown depth,
and the commissions of closed trades.

Statistics whose definitions differ, checked instead against their own formula applied to
backtesting.py's equity curve or trade list:

* ``Avg. Trade [%]`` is a geometric mean of trade returns; our ``avg_trade`` is arithmetic.
* ``Profit Factor`` sums trade *returns*; ours sums cash ``pnl``.
* ``Kelly Criterion`` uses the mean cash win / loss; ours uses the mean returns.
* ``Return (Ann.) [%]``, ``Volatility (Ann.) [%]``, ``Sharpe``/``Sortino``/``Calmar`` use
  daily returns resampled to calendar days (dropping the first day) and a geometric mean; ours
  use every per-bar return. ``CAGR [%]`` uses calendar years (365.25 days); ours bars / 252.
* ``Exposure Time [%]`` counts bars from entry to exit of *closed* trades; ours counts bars
  closing with a position, the still-open last trade included.
* ``Buy & Hold Return [%]`` starts after the indicator warm-up; ours from the first bar.
* ``Alpha``/``Beta`` use log returns against the close; ours simple returns (empyrical).
* Durations are calendar timedeltas there, bars here (the trade bars are compared exactly).
* Commissions: backtesting.py sums closed trades only; our ``total_fees`` also holds the entry
  fee of the trade still open at the end.
* backtesting.py 0.6 leaves the last, still open trade out of its trade list; our trades frame
  has it with ``is_open=True``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench import examples
from workbench.strategies import SmaCross

CASH, FEES = 10_000, 0.002


@pytest.fixture(scope="module")
def theirs(backtesting_py_goog):
    return backtesting_py_goog


@pytest.fixture(scope="module")
def ours():
    # the example of the README, the demo and the explorer is this very configuration
    assert examples.SETTINGS == {"cash": CASH, "fees": FEES, "lot_size": 1}
    assert examples.strategy() == SmaCross(fast=10, slow=20, direction="both")
    return examples.run()


def test_same_data(theirs):
    _, goog = theirs
    mine = wb.data.sample("GOOG")
    np.testing.assert_array_equal(mine.select("open", "high", "low", "close").to_numpy(),
                                  goog[["Open", "High", "Low", "Close"]].to_numpy())


def test_same_trades(theirs, ours):
    stats, _ = theirs
    t = stats["_trades"]
    closed = ours.trades.filter(~pl.col("is_open"))
    assert closed.height == len(t) == stats["# Trades"]
    np.testing.assert_array_equal(closed["entry_bar"].to_numpy(), t["EntryBar"].to_numpy())
    np.testing.assert_array_equal(closed["exit_bar"].to_numpy(), t["ExitBar"].to_numpy())
    np.testing.assert_allclose(closed["entry_price"].to_numpy(), t["EntryPrice"].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(closed["exit_price"].to_numpy(), t["ExitPrice"].to_numpy(), rtol=0, atol=1e-9)
    signed = np.where(closed["direction"].to_numpy() == "long", 1.0, -1.0) * closed["size"].to_numpy()
    np.testing.assert_array_equal(signed, t["Size"].to_numpy().astype(float))
    np.testing.assert_allclose(closed["pnl"].to_numpy(), t["PnL"].to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(closed["ret"].to_numpy(), t["ReturnPct"].to_numpy(), rtol=0, atol=1e-9)
    fees = (closed["entry_fees"] + closed["exit_fees"]).to_numpy()
    np.testing.assert_allclose(fees, t["Commission"].to_numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(closed["exit_reason"].to_numpy(), "reverse")


def test_last_open_trade_is_kept(theirs, ours):
    """backtesting.py drops the still-open trade; ours keeps it, marked open and valued at the
    last close, entered where backtesting.py's last closed trade ends."""
    stats, goog = theirs
    open_ = ours.trades.filter(pl.col("is_open"))
    assert open_.height == 1
    row = open_.row(0, named=True)
    assert row["entry_bar"] == stats["_trades"]["ExitBar"].iloc[-1]
    assert row["exit_bar"] == len(goog) - 1 and row["exit_price"] == goog["Close"].iloc[-1]
    assert row["exit_reason"] == "end_of_data"


def test_equity_at_every_bar(theirs, ours):
    stats, _ = theirs
    theirs_eq = stats["_equity_curve"]["Equity"].to_numpy()
    mine = ours.equity["equity"].to_numpy()
    assert mine.shape == theirs_eq.shape
    np.testing.assert_allclose(mine, theirs_eq, rtol=0, atol=1e-6)
    assert abs(ours.final_equity - stats["Equity Final [$]"]) < 0.01


def test_stats_defined_alike(theirs, ours):
    stats, _ = theirs
    s = ours.stats
    eq = ours.equity["equity"]
    pairs = {
        "Equity Final [$]": s.end_equity,
        "Equity Peak [$]": eq.max(),
        "Return [%]": 100 * s.total_return,
        "# Trades": s.n_trades,
        "Win Rate [%]": 100 * s.win_rate,
        "Best Trade [%]": 100 * s.best_trade,
        "Worst Trade [%]": 100 * s.worst_trade,
        "Expectancy [%]": 100 * s.avg_trade,
        "SQN": s.sqn,
        "Max. Drawdown [%]": 100 * s.max_drawdown,
        "Avg. Drawdown [%]": 100 * s.average_drawdown,
    }
    for key, mine in pairs.items():
        assert mine == pytest.approx(stats[key], rel=1e-6, abs=1e-6), key
    assert s.n_open_trades == 1
    open_entry_fee = ours.trades.filter(pl.col("is_open"))["entry_fees"].sum()
    assert s.total_fees - open_entry_fee == pytest.approx(stats["Commissions [$]"], rel=1e-9)


def test_stats_defined_differently_follow_their_formulas(theirs, ours):
    """Where the definitions differ, backtesting.py's figure equals its own formula on its own
    trades / equity, and ours equals our formula on the same (identical) trades / equity."""
    stats, goog = theirs
    s = ours.stats
    t = stats["_trades"]
    r, pnl = t["ReturnPct"].to_numpy(), t["PnL"].to_numpy()
    # average trade: geometric there, arithmetic here
    assert stats["Avg. Trade [%]"] == pytest.approx(100 * (np.exp(np.log1p(r).mean()) - 1), rel=1e-9)
    assert s.avg_trade == pytest.approx(r.mean(), rel=1e-9)
    # profit factor: returns there, cash here
    assert stats["Profit Factor"] == pytest.approx(r[r > 0].sum() / -r[r < 0].sum(), rel=1e-9)
    assert s.profit_factor == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum(), rel=1e-9)
    # Kelly: mean cash win / loss there, mean returns here
    w = (pnl > 0).mean()
    assert stats["Kelly Criterion"] == pytest.approx(w - (1 - w) / (pnl[pnl > 0].mean() / -pnl[pnl < 0].mean()), rel=1e-9)
    assert s.kelly_criterion == pytest.approx(w - (1 - w) / (r[r > 0].mean() / -r[r < 0].mean()), rel=1e-9)
    # annual return: calendar-day geometric mean there (first day dropped), every bar here
    equity = stats["_equity_curve"]["Equity"]
    day = equity.resample("D").last().dropna().pct_change().dropna()
    assert stats["Return (Ann.) [%]"] == pytest.approx(100 * (np.exp(np.log1p(day).mean()) ** 252 - 1), rel=1e-9)
    n = len(equity)
    assert s.annual_return == pytest.approx((equity.iloc[-1] / CASH) ** (252 / n) - 1, rel=1e-9)
    # CAGR: calendar years there, bars / 252 here
    years = (goog.index[-1] - goog.index[0]) / pd.Timedelta(days=365.25)
    assert stats["CAGR [%]"] == pytest.approx(100 * ((equity.iloc[-1] / CASH) ** (1 / years) - 1), rel=1e-9)
    assert s.cagr == pytest.approx((equity.iloc[-1] / CASH) ** (252 / n) - 1, rel=1e-9)
    # exposure: bars between entry and exit of closed trades there; bars closing in a position here
    held = np.zeros(n, dtype=bool)
    for a, b in zip(t["EntryBar"], t["ExitBar"], strict=True):
        held[a: b + 1] = True
    assert stats["Exposure Time [%]"] == pytest.approx(100 * held.mean(), rel=1e-9)
    units = ours.positions["units"].to_numpy()
    assert s.exposure == pytest.approx((units != 0).mean(), rel=1e-12)
