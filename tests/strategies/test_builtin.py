"""The built-in strategies: their signals against plain re-implementations of their documented
rules, a backtest of each on GOOG and on a multi-symbol synthetic set, and TrendPullback's
weights, absolute ATR stops and the exits those stops produce."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench import indicators as ind
from workbench.backtesting.engine import prepare_bars
from workbench.strategies import (
    BUILTIN,
    BollingerBreakout,
    DonchianBreakout,
    EmaCross,
    RsiMeanReversion,
    SmaCross,
    TrendPullback,
    crossed_above,
    crossed_below,
    signal_weight,
)

PARAMS = {  # small windows so that short synthetic sets trade
    "SmaCross": {"fast": 5, "slow": 15, "direction": "both"},
    "EmaCross": {"fast": 5, "slow": 15, "direction": "both"},
    "RsiMeanReversion": {"window": 5, "lower": 35.0, "upper": 65.0, "direction": "both"},
    "BollingerBreakout": {"window": 10, "k": 1.0},
    "DonchianBreakout": {"entry_window": 10, "exit_window": 5},
    "TrendPullback": {"trend": 30, "rsi_window": 2, "oversold": 30.0, "atr_window": 5},
}


@pytest.fixture(scope="module")
def goog():
    return prepare_bars(wb.data.sample("GOOG"))[1]


@pytest.fixture(scope="module")
def multi():
    return wb.data.synthetic(300, n_symbols=4, seed=21, sigma=0.5)


# --------------------------------------------------------------------------- plain references
def cross_up(a, b):
    out = np.zeros(len(a), dtype=bool)
    for t in range(1, len(a)):
        out[t] = bool(a[t] > b[t] and a[t - 1] <= b[t - 1])  # NaN compares False
    return out


def cross_down(a, b):
    return cross_up(-np.asarray(a, dtype=float), -np.asarray(b, dtype=float))


def ema_seeded(x, w):
    out = np.full(len(x), np.nan)
    out[w - 1] = x[:w].mean()
    alpha = 2.0 / (w + 1)
    for t in range(w, len(x)):
        out[t] = alpha * x[t] + (1 - alpha) * out[t - 1]
    return out


def test_crossed_above_and_below():
    a = np.array([1.0, 2.0, 2.0, 3.0, 1.0, np.nan, 3.0, 1.0])
    b = np.full(8, 2.0)
    assert crossed_above(a, b).tolist() == [False, False, False, True, False, False, False, False]
    assert crossed_below(a, b).tolist() == [False, False, False, False, True, False, False, True]
    assert crossed_above(a, 2.0).tolist() == crossed_above(a, b).tolist()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=200), rng.normal(size=200)
    assert (crossed_above(x, y) == cross_up(x, y)).all() and (crossed_below(x, y) == cross_down(x, y)).all()
    m = rng.normal(size=(50, 3))
    assert crossed_above(m, 0.0).shape == (50, 3)


def _col(a):
    return None if a is None else np.asarray(a)[:, 0]


def test_sma_and_ema_cross_rules(goog):
    c = goog.close[:, 0]
    fast, slow = pd.Series(c).rolling(10).mean().to_numpy(), pd.Series(c).rolling(30).mean().to_numpy()
    sig = SmaCross(fast=10, slow=30, direction="both").signals(goog)
    assert (_col(sig.entries) == cross_up(fast, slow)).all() and (_col(sig.exits) == cross_down(fast, slow)).all()
    assert (_col(sig.short_entries) == _col(sig.exits)).all() and (_col(sig.short_exits) == _col(sig.entries)).all()
    assert _col(sig.entries).sum() > 20
    long_ = SmaCross(fast=10, slow=30).signals(goog)
    assert long_.short_entries is None and long_.short_exits is None
    short = SmaCross(fast=10, slow=30, direction="short").signals(goog)
    assert short.entries is None and (_col(short.short_entries) == cross_down(fast, slow)).all()
    fast, slow = ema_seeded(c, 12), ema_seeded(c, 26)
    sig = EmaCross(direction="both").signals(goog)
    assert (_col(sig.entries) == cross_up(fast, slow)).all() and (_col(sig.exits) == cross_down(fast, slow)).all()


def test_rsi_mean_reversion_rule(goog):
    r = ind.rsi(goog.close[:, 0], 14)
    sig = RsiMeanReversion(direction="both").signals(goog)
    assert (_col(sig.entries) == cross_up(r, np.full_like(r, 30.0))).all()
    assert (_col(sig.exits) == cross_up(r, np.full_like(r, 70.0))).all()
    assert (_col(sig.short_entries) == cross_down(r, np.full_like(r, 70.0))).all()
    assert (_col(sig.short_exits) == cross_down(r, np.full_like(r, 30.0))).all()
    assert _col(sig.entries).sum() > 5


def test_bollinger_breakout_rule(goog):
    c = pd.Series(goog.close[:, 0])
    mid = c.rolling(20).mean()
    upper = mid + 2.0 * c.rolling(20).std(ddof=0)
    sig = BollingerBreakout().signals(goog)
    assert (_col(sig.entries) == cross_up(c.to_numpy(), upper.to_numpy())).all()
    assert (_col(sig.exits) == cross_down(c.to_numpy(), mid.to_numpy())).all()
    assert sig.short_entries is None


def test_donchian_breakout_rule(goog):
    h, lo, c = goog.high[:, 0], goog.low[:, 0], goog.close[:, 0]
    entries, exits = np.zeros(len(c), bool), np.zeros(len(c), bool)
    for t in range(len(c)):
        if t >= 20:
            entries[t] = c[t] > h[t - 20: t].max()
        if t >= 10:
            exits[t] = c[t] < lo[t - 10: t].min()
    sig = DonchianBreakout().signals(goog)
    assert (_col(sig.entries) == entries).all() and (_col(sig.exits) == exits).all()


# --------------------------------------------------------------------------- every built-in runs
@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_runs_on_goog(name):
    res = wb.backtest(wb.data.sample("GOOG"), BUILTIN[name](**PARAMS[name]), fees=0.001)
    assert res.trades.height > 5, name
    units = res.units_values[:, 0]
    eq = res.equity
    np.testing.assert_allclose(eq["equity"], eq["cash"] + units * res.view.close[:, 0], rtol=1e-9)
    assert np.isfinite(eq["equity"].to_numpy()).all()


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_runs_on_several_symbols(multi, name):
    strategy = BUILTIN[name](**PARAMS[name])
    res = wb.backtest(multi, strategy, size=0.25, cash_sharing=True)
    assert res.trades["symbol"].n_unique() >= 3, name
    # each symbol trades as it would alone (same signals per column)
    one = wb.backtest(multi.filter(pl.col("symbol") == "S2").drop("symbol"), strategy)
    sep = wb.backtest(multi, strategy)
    mine = sep.trades.filter(pl.col("symbol") == "S2").drop("symbol", "id")
    assert mine.equals(one.trades.drop("symbol", "id"))


def test_builtin_registry():
    assert set(BUILTIN) == {"SmaCross", "EmaCross", "RsiMeanReversion", "BollingerBreakout", "DonchianBreakout",
                            "TrendPullback"}
    for cls in BUILTIN.values():
        assert cls.__doc__ and all(p.help for p in cls.param_space().values())
        cls()  # defaults satisfy the declared constraints


# --------------------------------------------------------------------------- TrendPullback
def test_signal_weight_bands():
    s = np.linspace(-2, 10, 1201)
    w = signal_weight(s)
    assert (np.diff(w) >= -1e-15).all()
    low, medium, high = s < 1, (s >= 1) & (s < 3), s >= 3
    assert ((w[low] >= 0.3) & (w[low] <= 0.5)).all()
    assert ((w[medium] >= 0.5) & (w[medium] <= 0.7)).all()
    assert ((w[high] >= 0.8) & (w[high] <= 1.0)).all()
    assert signal_weight(np.array([0.0, 1.0, 3.0, 6.0, 100.0])).tolist() == pytest.approx([0.3, 0.5, 0.8, 1.0, 1.0])
    assert np.isnan(signal_weight(np.array([np.nan]))).all()


@pytest.fixture(scope="module")
def pullback():
    bars = wb.data.sample("GOOG")
    strategy = TrendPullback(trend=50, rsi_window=2, oversold=25.0)
    view = prepare_bars(bars)[1]
    return bars, view, strategy, strategy.signals(view), wb.backtest(bars, strategy, fees=0.001)


def test_trend_pullback_signals(pullback):
    _, v, strategy, sig, _ = pullback
    c, h, lo = v.close[:, 0], v.high[:, 0], v.low[:, 0]
    atr = ind.atr(h, lo, c, 14)
    trend = pd.Series(c).rolling(50).mean().to_numpy()
    entries = (c > trend) & cross_up(ind.rsi(c, 2), np.full_like(c, 25.0))
    assert (_col(sig.entries) == entries).all() and entries.sum() > 10
    assert sig.stop_mode == "price"
    e = entries
    np.testing.assert_allclose(_col(sig.sl)[e], c[e] - 2.0 * atr[e], rtol=1e-12)
    np.testing.assert_allclose(_col(sig.tp)[e], c[e] + 4.0 * atr[e], rtol=1e-12)
    np.testing.assert_allclose(_col(sig.tsl)[e], 3.0 * atr[e], rtol=1e-12)
    w = _col(sig.weight)[e]
    strength = (c[e] - trend[e]) / atr[e]
    assert ((w >= 0.3) & (w <= 1.0)).all()
    assert ((w >= 0.8) == (strength >= 3)).all()
    assert (((w >= 0.5) & (w <= 0.7)) == ((strength >= 1) & (strength < 3))).all()


def test_trend_pullback_trades_use_the_weights(pullback):
    """With percent sizing the suggested weight is the fraction of equity the entry spends
    (fees included): units = weight × equity / (open × 1.001), entered from flat."""
    _, v, _, sig, res = pullback
    t = res.trades
    entry = t["entry_bar"].to_numpy()
    np.testing.assert_allclose(t["weight"], _col(sig.weight)[entry - 1], rtol=1e-12)
    equity_before = res.equity["equity"].to_numpy()[entry - 1]
    units = t["weight"].to_numpy() * equity_before / (v.open[entry, 0] * 1.001)
    np.testing.assert_allclose(t["size"], units, rtol=1e-12)


def test_trend_pullback_atr_stops_exit_where_the_levels_say(pullback):
    """Replay each trade bar by bar with the levels of its signal bar: a stop at ``close -
    2 ATR``, a trail ``3 ATR`` below the best high before the bar (from the entry price), a
    target ``4 ATR`` above; a gap through a level fills at the open; the stop comes first."""
    _, v, _, sig, res = pullback
    o, h, lo = v.open[:, 0], v.high[:, 0], v.low[:, 0]
    sl, tp, trail = _col(sig.sl), _col(sig.tp), _col(sig.tsl)
    reasons = set()
    for row in res.trades.iter_rows(named=True):
        s, entry = row["entry_bar"] - 1, row["entry_price"]
        peak, exit_ = entry, None
        for t in range(row["entry_bar"], len(o)):
            stop, why = sl[s], "stop_loss"
            if peak - trail[s] > stop:
                stop, why = peak - trail[s], "trailing_stop"
            if o[t] <= stop:
                exit_ = (t, o[t], why)
            elif o[t] >= tp[s]:
                exit_ = (t, o[t], "take_profit")
            elif lo[t] <= stop:
                exit_ = (t, stop, why)
            elif h[t] >= tp[s]:
                exit_ = (t, tp[s], "take_profit")
            if exit_:
                break
            peak = max(peak, h[t])
        if row["is_open"]:
            assert exit_ is None
            continue
        assert (row["exit_bar"], row["exit_reason"]) == (exit_[0], exit_[2])
        assert row["exit_price"] == pytest.approx(exit_[1], rel=1e-12)
        reasons.add(exit_[2])
    assert reasons == {"stop_loss", "trailing_stop", "take_profit"}
