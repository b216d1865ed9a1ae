"""Position sizing from signals and the account model: the Numba rule against the plain Python
preview (``estimate_position``), hand-computed sizes, account invariants, bad input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.errors import InvalidParameterError, StrategyError
from workbench.nb.rebalance import (
    CAP_MAX_WEIGHT,
    CAP_NONE,
    CAP_ROOM,
    RULE_FIXED_FRACTIONAL,
    RULE_WEIGHT,
    sizing_weight_nb,
)
from workbench.portfolio import (
    Account,
    EntrySignal,
    InsufficientCashError,
    PositionSizer,
    estimate_position,
    sized_backtest,
)
from workbench.portfolio.sizing import _weight
from workbench.strategies import Signals, SmaCross, Strategy, TrendPullback, signal_weight


class RandomEntries(Strategy):
    """Sparse random long entries and exits with a per-entry stop (a test fixture)."""

    seed = wb.Param(0, low=0, high=10_000)

    def signals(self, bars):
        rng = np.random.default_rng(self.seed)
        shape = bars.close.shape
        entries = rng.random(shape) < 0.03
        exits = (rng.random(shape) < 0.03) & ~entries
        sl = np.where(entries, rng.uniform(0.01, 0.2, shape), np.nan)
        weight = np.where(entries & (rng.random(shape) < 0.3), rng.uniform(0.05, 0.6, shape), np.nan)
        return Signals(entries=entries, exits=exits, sl=sl, weight=weight)


class Looping(Strategy):
    def on_bar(self, ctx):
        pass


# -- the rule -----------------------------------------------------------------------------------

_CAPS = {CAP_NONE: "none", CAP_MAX_WEIGHT: "max_weight", CAP_ROOM: "room"}


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.floats(0.01, 2.0)), st.one_of(st.none(), st.floats(0.001, 0.5)),
       st.floats(0.001, 0.05), st.floats(0.05, 3.0), st.floats(-0.5, 2.0))
def test_kernel_rule_equals_python_reference(weight, stop, risk, max_weight, room) -> None:
    sig = EntrySignal("X", 100.0, stop=stop, weight=weight)
    w_py, rule_py, cap_py = _weight(sig, PositionSizer(risk, max_weight), room)
    w_nb, rule_nb, cap_nb = sizing_weight_nb(np.nan if weight is None else weight, sig.stop_fraction, risk,
                                             max_weight, room)
    assert w_nb == pytest.approx(w_py, abs=1e-15)
    if w_py > 0:
        assert {RULE_WEIGHT: "weight", RULE_FIXED_FRACTIONAL: "fixed_fractional"}[rule_nb] == rule_py
        assert _CAPS[cap_nb] == cap_py


def test_estimates_by_hand() -> None:
    acct = Account(10_000)
    w = estimate_position(EntrySignal("A", 100.0, weight=0.3), acct)
    assert (w.units, w.cost, w.rule, w.capped_by) == (30.0, 3000.0, "weight", "none") and math.isnan(w.risk)
    ff = estimate_position(EntrySignal("A", 50.0, stop=48.0, stop_mode="price"), acct, sizer=PositionSizer(0.01))
    assert ff.weight == pytest.approx(0.25) and ff.units == pytest.approx(50.0)
    assert ff.risk == pytest.approx(100.0) and ff.risk_pct == pytest.approx(0.01)
    capped = estimate_position(EntrySignal("A", 100.0, stop=0.005), acct, sizer=PositionSizer(0.01, max_weight=0.8))
    assert (capped.weight, capped.capped_by) == (pytest.approx(0.8), "max_weight")
    acct.open_position("B", 70, 100.0)
    room = estimate_position(EntrySignal("A", 100.0, weight=0.5), acct)
    assert (room.weight, room.capped_by, room.cost) == (pytest.approx(0.3), "room", pytest.approx(3000.0))
    cfg = wb.BacktestConfig(fees=0.001, slippage=0.001, lot_size=1)
    costly = estimate_position(EntrySignal("A", 100.0, weight=0.3), Account(10_000), config=cfg)
    fill = 100.0 * 1.001
    assert costly.price == pytest.approx(fill) and costly.units == math.floor(3000 / (fill * 1.001))
    assert costly.cost == pytest.approx(costly.units * fill * 1.001) and costly.cost <= 3000.0
    short = estimate_position(EntrySignal("A", 100.0, direction=-1, stop=0.1), Account(10_000, leverage=2))
    assert short.weight == pytest.approx(0.1) and short.direction == -1


# -- the engine ---------------------------------------------------------------------------------

def test_fixed_fractional_backtest_matches_rule() -> None:
    res = sized_backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=20), sizer=PositionSizer(0.01), sl=0.04)
    t = res.trades
    assert t.height > 10 and (t["weight"] - 0.25).abs().max() < 1e-12
    eq = res.equity["equity"].to_numpy()
    o = res.orders.filter((pl.col("side") == "buy") & (pl.col("status") == "filled"))
    # each entry is 25% of the equity at its fill (no costs): units × price / equity before the fill
    opens = wb.data.to_arrays(wb.data.sample("GOOG")).open[:, 0]
    bars = o["bar"].to_numpy()
    before = res.cash_values[bars - 1, 0] + res.units_values[bars - 1, 0] * opens[bars]
    np.testing.assert_allclose(o["size"].to_numpy() * o["price"].to_numpy() / before, 0.25, rtol=1e-9)
    assert eq[-1] > 0


def test_suggested_weights_are_used() -> None:
    goog = wb.data.sample("GOOG")
    strat = TrendPullback()
    res = sized_backtest(goog, strat, sizer=PositionSizer(0.01, max_weight=0.9))
    view = wb.data.to_arrays(goog)
    from workbench import indicators as ind

    close = view.close[:, 0]
    trend = ind.sma(close, strat.trend)
    atr = ind.atr(view.high[:, 0], view.low[:, 0], close, strat.atr_window)
    suggested = np.minimum(signal_weight((close - trend) / atr), 0.9)
    entries = res.trades["entry_bar"].to_numpy()
    assert len(entries) > 3
    np.testing.assert_allclose(res.trades["weight"].to_numpy(), suggested[entries - 1], rtol=1e-12)


def test_weights_match_the_preview_on_the_account() -> None:
    bars = wb.data.synthetic(400, n_symbols=4, seed=13, sigma=0.4)
    strat = RandomEntries(seed=3)
    sizer = PositionSizer(0.02, max_weight=0.6)
    res = sized_backtest(bars, strat, sizer=sizer, fees=0.001)
    sig = strat.signals(res.view)
    single = (sig.entries.sum(axis=1) == 1) & ~sig.exits.any(axis=1)
    checked = 0
    for tr in res.trades.filter(pl.col("entry_bar") > 0).iter_rows(named=True):
        t, j = tr["entry_bar"] - 1, res.view.symbols.index(tr["symbol"])
        if not single[t] or not sig.entries[t, j]:
            continue
        acct = Account.from_result(res, t)
        w = sig.weight[t, j]
        est = estimate_position(EntrySignal(tr["symbol"], float(res.view.close[t, j]), stop=float(sig.sl[t, j]),
                                            weight=None if np.isnan(w) else float(w)), acct, sizer=sizer,
                                config=res.config)
        assert tr["weight"] == pytest.approx(est.weight, rel=1e-12)
        checked += 1
    assert checked > 10
    acct = res.account
    assert (acct["available"] >= -1e-9 * acct["equity"]).all() and (acct["reserved"] >= 0).all()
    for t in (50, 200, 399):
        assert Account.from_result(res, t).equity == pytest.approx(res.equity_values[t, 0], rel=1e-12)


# -- the account --------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["open", "close", "mark"]), st.sampled_from(["A", "B", "C"]),
                          st.floats(0.1, 200.0), st.floats(0.01, 1.0), st.floats(0.0, 5.0)), max_size=40))
def test_account_never_negative(ops) -> None:
    acct = Account(1_000.0)
    realized = 0.0
    for op, sym, price, frac, fee in ops:
        if op == "open":
            units = frac * acct.available / price
            if units <= 0:
                continue
            try:
                acct.open_position(sym, units, price, fees=fee)
                realized -= fee
            except InsufficientCashError:
                pass
        elif sym in acct.positions:
            pos = acct.positions[sym]
            if op == "mark":
                acct.mark({sym: price})
                continue
            pnl = pos.units * (price - pos.entry_price)
            try:
                acct.close_position(sym, price, fees=fee)
                realized += pnl - fee
            except InsufficientCashError:
                pass
        assert acct.available >= 0 and acct.reserved >= 0
        unrealized = sum(p.pnl for p in acct.positions.values())
        assert acct.equity == pytest.approx(1_000.0 + realized + unrealized, abs=1e-6)


def test_account_errors() -> None:
    acct = Account(1_000)
    with pytest.raises(InsufficientCashError, match="needs 2,000.00"):
        acct.open_position("A", 20, 100.0)
    acct.open_position("A", 5, 100.0)
    with pytest.raises(InvalidParameterError, match="other way"):
        acct.open_position("A", -1, 100.0)
    with pytest.raises(InvalidParameterError, match="Did you mean 'A'"):
        acct.close_position("a", 100.0)
    acct.close_position("A", 120.0, units=2)
    assert acct.positions["A"].units == 3 and acct.reserved == pytest.approx(300.0)
    lev = Account(1_000, leverage=4)
    lev.open_position("B", -30, 100.0)  # reserves 750
    with pytest.raises(InsufficientCashError, match="cannot settle"):
        lev.close_position("B", 150.0)  # a 1,500 loss exceeds the 750 reserve + 250 available
    assert lev.available == pytest.approx(250.0)


def test_bad_input() -> None:
    goog = wb.data.sample("GOOG")
    with pytest.raises(InvalidParameterError, match="vectorized"):
        sized_backtest(goog, Looping())
    with pytest.raises(StrategyError, match="neither a suggested `weight` nor a stop-loss"):
        sized_backtest(goog, SmaCross())
    with pytest.raises(InvalidParameterError, match="sizing"):
        sized_backtest(goog, SmaCross(), sl=0.05, sizing="units")
    with pytest.raises(InvalidParameterError, match="risk_per_trade"):
        PositionSizer(risk_per_trade=0.0)
    with pytest.raises(InvalidParameterError, match="direction"):
        EntrySignal("A", 10.0, direction=0)
    with pytest.raises(InvalidParameterError, match="price"):
        EntrySignal("A", -10.0)
    with pytest.raises(InvalidParameterError, match="Account"):
        estimate_position({"symbol": "A", "price": 10.0}, 10_000)

