"""Sizing modes, lot sizes, rejections (recorded with a reason, never dropped), leverage and
margin calls, on flat hand-made bars where the answer is arithmetic."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.strategies import Strategy

P100 = [[100.0] * 4] * 4


def run(kit, rows, signals, **settings):
    return wb.backtest(kit.make_bars(rows), kit.Replay(**signals), **settings)


def first_order(res):
    return res.orders.row(0, named=True)


def entry_units(res) -> float:
    return float(res.orders.filter(pl.col("status") == "filled")["size"][0])


@pytest.mark.parametrize(("settings", "units"), [
    ({}, 100.0),                                              # all equity
    ({"size": 0.5}, 50.0),                                    # half of it
    ({"size": 0.37}, 37.0),
    ({"fees": 0.001}, 10_000 / (100 * 1.001)),                # after fees: cash ends at 0
    ({"fees": 0.001, "lot_size": 1}, 99.0),
    ({"fees": 0.001, "fixed_fees": 5.0}, 9_995 / (100 * 1.001)),
    ({"size": 0.5, "lot_size": 0.01}, 50.0),
    ({"sizing": "units", "size": 7}, 7.0),
    ({"sizing": "units", "size": 7.25}, 7.25),                # fractional units
    ({"sizing": "units", "size": 7.25, "lot_size": 1}, 7.0),
    ({"sizing": "units", "size": 7.256, "lot_size": 0.01}, 7.25),
    ({"sizing": "value", "size": 1_000}, 10.0),
    ({"sizing": "value", "size": 1_234}, 12.34),
    ({"sizing": "value", "size": 1_234, "lot_size": 1}, 12.0),
    ({"sizing": "value", "size": 1_234, "lot_size": 0.5}, 12.0),
    ({"sizing": "target", "size": 0.25}, 25.0),
    ({"sizing": "risk", "size": 0.01, "sl": 0.05}, 20.0),     # 1% of 10,000 over a 5-point stop
    ({"sizing": "risk", "size": 0.02, "sl": 0.10, "lot_size": 1}, 20.0),
])
def test_entry_size(kit, settings, units):
    res = run(kit, P100, {"entries": {0: True}}, **settings)
    assert entry_units(res) == pytest.approx(units, rel=1e-12)
    cash = res.equity["cash"][1]
    fees = settings.get("fees", 0.0)
    assert cash == pytest.approx(10_000 - units * 100 * (1 + fees) - settings.get("fixed_fees", 0.0), abs=1e-9)
    assert cash >= -1e-9


def test_risk_sizing_with_an_absolute_stop(kit):
    res = run(kit, P100, {"entries": {0: True}, "sl": {0: 96.0}, "stop_mode": "price"}, sizing="risk", size=0.01)
    assert entry_units(res) == pytest.approx(25.0)  # 100 of risk over a 4-point stop


def test_risk_sizing_loses_the_risked_fraction_at_the_stop(kit):
    rows = [[100.0] * 4, [100.0] * 4, [99, 99, 94, 95], [95.0] * 4]
    res = run(kit, rows, {"entries": {0: True}}, sizing="risk", size=0.02, sl=0.05)
    assert res.trades["exit_reason"][0] == "stop_loss"
    assert res.final_equity == pytest.approx(10_000 * (1 - 0.02))


def test_percent_sizing_compounds(kit):
    rows = [[100.0] * 4, [100.0] * 4, [125.0] * 4, [125.0] * 4, [50.0] * 4, [50.0] * 4]
    res = run(kit, rows, {"entries": {0: True, 3: True}, "exits": {1: True}})
    o = res.orders.filter(pl.col("status") == "filled")
    assert o["size"].to_list() == pytest.approx([100.0, 100.0, 250.0])  # 12,500 at 50
    assert res.final_equity == pytest.approx(12_500.0)


def test_per_entry_size_and_weight_from_signals(kit):
    res = run(kit, P100, {"entries": {0: True}, "size": {0: 0.2}})
    assert entry_units(res) == pytest.approx(20.0)
    res = run(kit, P100, {"entries": {0: True}, "weight": {0: 0.3}})
    assert entry_units(res) == pytest.approx(30.0)
    assert res.trades["weight"][0] == pytest.approx(0.3)
    res = run(kit, P100, {"entries": {0: True}, "size": {0: 3.0}}, sizing="units", size=7)
    assert entry_units(res) == 3.0


# --------------------------------------------------------------------------- rejections
@pytest.mark.parametrize(("settings", "reason"), [
    ({"sizing": "units", "size": 200}, "no_cash"),            # 20,000 of stock from 10,000
    ({"sizing": "units", "size": 100, "fees": 0.01}, "no_cash"),  # the fees do not fit
    ({"sizing": "units", "size": 100, "fixed_fees": 1}, "no_cash"),
    ({"sizing": "units", "size": 300, "leverage": 2}, "max_leverage"),
])
def test_rejected_entries_are_recorded_with_a_reason(kit, settings, reason):
    res = run(kit, P100, {"entries": {0: True}}, **settings)
    o = first_order(res)
    assert res.orders.height == 1
    assert (o["status"], o["reason"], o["side"], o["bar"], o["signal_bar"]) == ("rejected", reason, "buy", 1, 0)
    assert o["fees"] == 0.0
    assert res.trades.height == 0
    np.testing.assert_array_equal(res.equity["equity"], 10_000.0)


def test_entry_rounding_to_zero_units_is_rejected_as_zero_size(kit):
    res = run(kit, P100, {"entries": {0: True}}, sizing="value", size=50, lot_size=1)  # half a share
    o = first_order(res)
    assert (res.orders.height, o["status"], o["reason"], o["bar"], o["size"]) == (1, "rejected", "zero_size", 1, 0.0)
    assert res.trades.height == 0


def test_zero_size_rejection_keeps_the_entry_side(kit):
    res = run(kit, P100, {"entries": {0: True}}, sizing="value", size=50, lot_size=1)
    assert first_order(res)["side"] == "buy"


def test_affordable_units_fill(kit):
    res = run(kit, P100, {"entries": {0: True}}, sizing="units", size=100)
    assert entry_units(res) == 100 and res.equity["cash"][1] == pytest.approx(0.0)


class ShortTarget(Strategy):
    """Asks for a short target weight at bar 0."""

    def on_bar(self, ctx):
        if ctx.t == 0:
            ctx.target(0, -0.5)


def test_short_target_without_shorting_is_rejected(kit):
    res = wb.backtest(kit.make_bars(P100), ShortTarget(), allow_short=False)
    o = first_order(res)
    assert (o["status"], o["reason"], o["side"], o["size"]) == ("rejected", "short_disabled", "sell", 50.0)
    assert res.trades.height == 0


def test_short_target_with_shorting(kit):
    res = wb.backtest(kit.make_bars(P100), ShortTarget())
    assert (first_order(res)["status"], first_order(res)["size"]) == ("filled", 50.0)
    assert res.positions["units"].to_list()[1:] == [-50.0] * 3


class Rebalance(Strategy):
    """Target 50% at bar 0, 20% at bar 2."""

    def on_bar(self, ctx):
        if ctx.t == 0:
            ctx.target(0, 0.5)
        elif ctx.t == 2:
            ctx.target(0, 0.2)


def test_target_rebalancing(kit):
    rows = [[100.0] * 4, [100.0] * 4, [110.0] * 4, [110.0] * 4, [110.0] * 4]
    res = wb.backtest(kit.make_bars(rows), Rebalance())
    o = res.orders
    eq = 5_000 + 50 * 110  # equity at bar 3's open
    assert o["side"].to_list() == ["buy", "sell"]
    assert o["size"].to_list() == pytest.approx([50.0, 50 - 0.2 * eq / 110])
    assert res.positions["units"][-1] == pytest.approx(0.2 * eq / 110)
    t = res.trades.sort("is_open")
    assert t["is_open"].to_list() == [False, True]
    assert t["size"].to_list() == pytest.approx([50 - 0.2 * eq / 110, 0.2 * eq / 110])
    assert t["pnl"][0] == pytest.approx((50 - 0.2 * eq / 110) * 10)


class Flip(Strategy):
    """Target ``first`` at bar 0, then ``second`` (the other side) at bar 2."""

    def __init__(self, first, second):
        object.__setattr__(self, "_w", (first, second))
        super().__init__()

    def on_bar(self, ctx):
        if ctx.t in (0, 2):
            ctx.target(0, self._w[ctx.t // 2])


@pytest.mark.parametrize(("first", "second"), [(-0.5, 0.8), (0.5, -0.8)])
def test_target_rebalancing_across_zero(kit, first, second):
    """Buying 130 from -50 (or selling 130 from +50) closes 50 first: only the 80 beyond zero
    need room."""
    res = wb.backtest(kit.make_bars(P100 + P100), Flip(first, second))
    assert res.orders["status"].to_list() == ["filled", "filled"]
    assert res.positions["units"].to_list() == pytest.approx([0, 50 * np.sign(first), 50 * np.sign(first)]
                                                             + [80 * np.sign(second)] * 5)


def test_target_rebalancing_to_the_same_size_the_other_way(kit):
    res = wb.backtest(kit.make_bars(P100 + P100), Flip(-0.5, 0.5))
    assert res.positions["units"].to_list()[-1] == pytest.approx(50.0)
    t = res.trades.sort("entry_bar")
    assert t["direction"].to_list() == ["short", "long"] and t["exit_bar"][0] == 3 and t["entry_bar"][1] == 3


# --------------------------------------------------------------------------- leverage and margin
def test_leverage_lets_cash_go_negative(kit):
    res = run(kit, P100, {"entries": {0: True}}, size=2.0, leverage=2)
    assert entry_units(res) == pytest.approx(200.0)
    assert res.equity["cash"][1] == pytest.approx(-10_000.0)
    assert res.equity["equity"][1] == pytest.approx(10_000.0)


def test_without_leverage_cash_never_goes_negative(kit):
    res = run(kit, P100, {"entries": {0: True}}, sizing="units", size=100)
    assert res.equity["cash"].min() >= 0


def test_adding_to_a_long_at_a_limit_below_the_open_needs_cash(kit):
    """All in at 100, a limit add at 95 has no cash left to spend."""
    rows = [[100.0] * 4, [100.0] * 4, [100, 100, 94, 100], [100.0] * 4]
    res = run(kit, rows, {"entries": {0: True, 1: True}, "limit": {1: 95.0}}, accumulate=True)
    assert res.equity["cash"].min() >= 0
    assert res.orders["status"].to_list() == ["filled", "rejected"]


def test_margin_call_liquidates_at_the_close(kit):
    # 200 units at 100 on 10,000: at close 80 equity 6,000 >= 25% of 16,000; at close 60 equity
    # 2,000 < 25% of 12,000 = 3,000 -> liquidated at 60
    rows = [[100.0] * 4, [100.0] * 4, [80, 80, 70, 80], [70, 70, 58, 60], [60.0] * 4]
    res = run(kit, rows, {"entries": {0: True}}, size=2.0, leverage=2)
    o = res.orders.row(1, named=True)
    assert (o["bar"], o["side"], o["kind"], o["size"], o["price"]) == (3, "sell", "liquidation", 200.0, 60.0)
    row = res.trades.row(0, named=True)
    assert (row["exit_bar"], row["exit_price"], row["exit_reason"]) == (3, 60.0, "liquidation")
    np.testing.assert_allclose(res.equity["equity"], [10_000, 10_000, 6_000, 2_000, 2_000])
    assert res.positions["units"].to_list() == [0.0, 200.0, 200.0, 0.0, 0.0]


def test_margin_call_cancels_the_pending_order_with_a_record(kit):
    rows = [[100.0] * 4, [100.0] * 4, [150.0] * 4, [160, 170, 160, 170], [170.0] * 4]
    res = run(kit, rows, {"short_entries": {0: True}, "entries": {3: True}})
    assert res.trades["exit_reason"][0] == "liquidation"
    assert res.orders["status"].to_list() == ["filled", "filled", "cancelled"]


def test_maintenance_margin_setting(kit):
    rows = [[100.0] * 4, [100.0] * 4, [80, 80, 70, 80], [70, 70, 58, 60], [60.0] * 4]
    res = run(kit, rows, {"entries": {0: True}}, size=2.0, leverage=2, maintenance_margin=0.4)
    # at close 80: equity 6,000 < 40% of 16,000 = 6,400 -> liquidated a bar earlier
    assert res.trades["exit_bar"][0] == 2 and res.trades["exit_reason"][0] == "liquidation"


def test_short_margin_call(kit):
    # short 100 at 100 (cash 20,000): at close 170 equity 3,000 < 25% of 17,000
    rows = [[100.0] * 4, [100.0] * 4, [150.0] * 4, [160, 170, 160, 170], [170.0] * 4]
    res = run(kit, rows, {"short_entries": {0: True}})
    assert res.trades["exit_reason"][0] == "liquidation" and res.trades["exit_bar"][0] == 3
    assert res.final_equity == pytest.approx(3_000.0)


# --------------------------------------------------------------------------- several assets
def test_separate_accounts_per_asset(kit):
    a = kit.make_bars(P100, symbol="A")
    b = kit.make_bars([[50.0] * 4] * 4, symbol="B")
    bars = pl.concat([a, b])
    entries = np.zeros((4, 2), dtype=bool)
    entries[0] = True
    res = wb.backtest(bars, kit.Replay(entries=entries), cash=1_000)
    assert res.init_cash == 2_000
    assert res.orders["size"].to_list() == pytest.approx([10.0, 20.0])
    assert set(res.equity.columns) == {"ts", "equity", "cash", "equity_A", "equity_B"}


def test_cash_sharing_serves_assets_in_symbol_order(kit):
    """One account: the first asset's all-equity entry leaves nothing for the second."""
    a = kit.make_bars(P100, symbol="A")
    b = kit.make_bars([[50.0] * 4] * 4, symbol="B")
    entries = np.zeros((4, 2), dtype=bool)
    entries[0] = True
    res = wb.backtest(pl.concat([a, b]), kit.Replay(entries=entries), cash=1_000, cash_sharing=True)
    assert res.init_cash == 1_000
    o = res.orders
    assert o["symbol"].to_list() == ["A", "B"]
    assert o["status"].to_list() == ["filled", "rejected"] and o["reason"][1] == "no_cash"
    res = wb.backtest(pl.concat([a, b]), kit.Replay(entries=entries), cash=1_000, cash_sharing=True, size=0.5)
    assert res.orders["size"].to_list() == pytest.approx([5.0, 10.0])
    assert res.equity["cash"][1] == pytest.approx(0.0)


def test_margin_call_on_a_shared_account_liquidates_every_position(kit):
    """One account, two leveraged longs: B's crash brings the whole account under the margin
    and both positions are closed at that close."""
    a = kit.make_bars([[100.0] * 4] * 5, symbol="A")
    b = kit.make_bars([[50.0] * 4, [50.0] * 4, [30, 30, 20, 20], [20.0] * 4, [20.0] * 4], symbol="B")
    entries = np.zeros((5, 2), dtype=bool)
    entries[0] = True
    res = wb.backtest(pl.concat([a, b]), kit.Replay(entries=entries), cash=10_000, cash_sharing=True,
                      leverage=2, size=1.0, maintenance_margin=0.3)
    # A: 100 units at 100 (10,000); B: 200 units at 50 (10,000): cash -10,000. At bar 2's close
    # equity = -10,000 + 10,000 + 4,000 = 4,000 < 30% of 14,000 = 4,200 -> both liquidated
    liq = res.orders.filter(pl.col("kind") == "liquidation")
    assert liq["symbol"].to_list() == ["A", "B"] and liq["bar"].to_list() == [2, 2]
    assert liq["price"].to_list() == [100.0, 20.0]
    assert set(res.trades["exit_reason"]) == {"liquidation"}
    assert res.final_equity == pytest.approx(4_000.0)
