"""Costs: percentage and fixed fees per order, slippage (fraction and ticks) and the bid-ask
spread, against hand-computed fill prices, fees and cash. Ten units are bought at the open of
bar 1 (100) and sold at the open of bar 3 (110)."""

from __future__ import annotations

import polars as pl
import pytest

import workbench as wb

ROWS = [[100.0] * 4, [100.0] * 4, [105.0] * 4, [110.0] * 4, [110.0] * 4]
SIGNALS = {"entries": {0: True}, "exits": {2: True}}


def run(kit, rows=ROWS, signals=SIGNALS, **settings):
    return wb.backtest(kit.make_bars(rows), kit.Replay(**signals), **{"sizing": "units", "size": 10.0, **settings})


def filled(res):
    return res.orders.filter(pl.col("status") == "filled")


@pytest.mark.parametrize(("settings", "buy", "sell", "fee_buy", "fee_sell"), [
    ({}, 100.0, 110.0, 0.0, 0.0),
    ({"fees": 0.001}, 100.0, 110.0, 1.0, 1.1),
    ({"fixed_fees": 2.5}, 100.0, 110.0, 2.5, 2.5),
    ({"fees": 0.001, "fixed_fees": 2.5}, 100.0, 110.0, 3.5, 3.6),
    ({"slippage": 0.01}, 101.0, 108.9, 0.0, 0.0),
    ({"slippage_ticks": 3, "tick_size": 0.05}, 100.15, 109.85, 0.0, 0.0),
    ({"spread": 0.002}, 100.1, 109.89, 0.0, 0.0),
    ({"spread": 0.002, "slippage": 0.01}, 100.1 * 1.01, 109.89 * 0.99, 0.0, 0.0),
    ({"slippage": 0.01, "slippage_ticks": 2, "tick_size": 0.01}, 101.02, 108.88, 0.0, 0.0),
    ({"slippage": 0.01, "fees": 0.002}, 101.0, 108.9, 10 * 101 * 0.002, 10 * 108.9 * 0.002),
])
def test_fill_prices_fees_and_cash(kit, settings, buy, sell, fee_buy, fee_sell):
    res = run(kit, **settings)
    o = filled(res)
    assert o["price"].to_list() == pytest.approx([buy, sell], rel=1e-12)
    assert o["fees"].to_list() == pytest.approx([fee_buy, fee_sell], rel=1e-12, abs=1e-12)
    raw = [100.0, 110.0]
    assert o["slippage"].to_list() == pytest.approx([10 * abs(p - r) for p, r in zip([buy, sell], raw, strict=True)],
                                                     abs=1e-9)
    cash = res.equity["cash"].to_list()
    after_buy = 10_000 - 10 * buy - fee_buy
    assert cash[1] == pytest.approx(after_buy, rel=1e-12)
    assert cash[3] == pytest.approx(after_buy + 10 * sell - fee_sell, rel=1e-12)
    # marked at the raw close while held
    assert res.equity["equity"][2] == pytest.approx(after_buy + 10 * 105.0, rel=1e-12)
    t = res.trades.row(0, named=True)
    assert (t["entry_price"], t["exit_price"]) == pytest.approx((buy, sell))
    assert (t["entry_fees"], t["exit_fees"]) == pytest.approx((fee_buy, fee_sell), abs=1e-12)
    pnl = 10 * (sell - buy) - fee_buy - fee_sell
    assert t["pnl"] == pytest.approx(pnl, rel=1e-12)
    assert t["ret"] == pytest.approx(pnl / (10 * buy), rel=1e-12)
    assert res.final_equity == pytest.approx(10_000 + pnl, rel=1e-12)
    assert res.stats.total_fees == pytest.approx(fee_buy + fee_sell, abs=1e-12)
    assert res.stats.total_slippage == pytest.approx(o["slippage"].sum(), abs=1e-12)


def test_short_costs_are_adverse(kit):
    res = run(kit, signals={"short_entries": {0: True}, "short_exits": {2: True}}, slippage=0.01, spread=0.002, fees=0.001)
    o = filled(res)
    sell, buy = 100 * 0.999 * 0.99, 110 * 1.001 * 1.01
    assert o["side"].to_list() == ["sell", "buy"]
    assert o["price"].to_list() == pytest.approx([sell, buy])
    pnl = 10 * (sell - buy) - 10 * sell * 0.001 - 10 * buy * 0.001
    assert res.trades["pnl"][0] == pytest.approx(pnl)
    assert res.final_equity == pytest.approx(10_000 + pnl)


def test_all_equity_entry_pays_its_fees_from_the_equity(kit):
    res = run(kit, sizing="percent", size=1.0, fees=0.001, fixed_fees=3.0, slippage=0.01)
    units = (10_000 - 3.0) / (101.0 * 1.001)
    assert filled(res)["size"][0] == pytest.approx(units, rel=1e-12)
    assert res.equity["cash"][1] == pytest.approx(0.0, abs=1e-8)


def test_limit_fills_pay_the_spread_but_no_slippage(kit):
    rows = [[100.0] * 4, [100, 100, 98, 99], [99.0] * 4]
    res = run(kit, rows, {"entries": {0: True}, "limit": {0: 99.0}}, slippage=0.01, spread=0.002)
    assert filled(res)["price"][0] == pytest.approx(99.0 * 1.001)


def test_take_profit_gets_no_slippage_stop_loss_does(kit):
    tp_rows = [[100.0] * 4, [100.0] * 4, [104, 111, 103, 108], [108.0] * 4]
    res = run(kit, tp_rows, {"entries": {0: True}}, slippage=0.01, tp=0.05)
    entry = 101.0
    assert res.trades["exit_reason"][0] == "take_profit"
    assert res.trades["exit_price"][0] == pytest.approx(entry * 1.05)
    sl_rows = [[100.0] * 4, [100.0] * 4, [98, 99, 90, 92], [92.0] * 4]
    res = run(kit, sl_rows, {"entries": {0: True}}, slippage=0.01, sl=0.05)
    assert res.trades["exit_reason"][0] == "stop_loss"
    assert res.trades["exit_price"][0] == pytest.approx(entry * 0.95 * 0.99)


def test_stats_total_costs_add_up_over_many_orders(kit):
    res = wb.backtest(wb.data.sample("GOOG"), wb.strategies.SmaCross(direction="both"), fees=0.001,
                      fixed_fees=1.0, slippage=0.0005, spread=0.0002)
    o = filled(res)
    assert res.stats.total_fees == pytest.approx(o["fees"].sum(), rel=1e-12)
    assert res.stats.total_slippage == pytest.approx(o["slippage"].sum(), rel=1e-12)
    fees = (o["size"] * o["price"] * 0.001 + 1.0).to_numpy()
    assert o["fees"].to_numpy() == pytest.approx(fees, rel=1e-12)
    t = res.trades
    assert (t["entry_fees"].sum() + t.filter(~pl.col("is_open"))["exit_fees"].sum()) == pytest.approx(o["fees"].sum(), rel=1e-9)
