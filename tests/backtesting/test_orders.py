"""Order types, timing and per-position stops on tiny hand-made bar sets whose answer is known.

Bars are ``(open, high, low, close)``; every run trades 10 units from 10,000 of cash unless a
test says otherwise, so fills and equity can be checked by hand.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.strategies import Strategy


def run(kit, rows, signals, **settings):
    settings = {"sizing": "units", "size": 10.0, **settings}
    return wb.backtest(kit.make_bars(rows), kit.Replay(**signals), **settings)


def fills(res):
    """``(bar, side, kind, size, price)`` of the filled orders."""
    o = res.orders.filter(pl.col("status") == "filled")
    return list(zip(o["bar"], o["side"], o["kind"], o["size"], o["price"], strict=True))


def trade_rows(res):
    """``(direction, entry_bar, entry_price, exit_bar, exit_price, exit_reason)`` of every trade."""
    t = res.trades
    return list(zip(t["direction"], t["entry_bar"], t["entry_price"], t["exit_bar"], t["exit_price"],
                    t["exit_reason"], strict=True))


FLAT = [[10, 10, 10, 10]]


# --------------------------------------------------------------------------- market orders
def test_market_order_fills_at_next_open(kit):
    rows = [[10, 11, 9, 10], [10.5, 12, 9, 11], [12, 13, 11, 12], [12.5, 14, 11, 13], [13, 14, 12, 14]]
    res = run(kit, rows, {"entries": {0: True}, "exits": {2: True}})
    assert fills(res) == [(1, "buy", "market", 10.0, 10.5), (3, "sell", "market", 10.0, 12.5)]
    o = res.orders
    assert o["signal_bar"].to_list() == [0, 2] and (o["bar"] - o["signal_bar"]).to_list() == [1, 1]
    assert trade_rows(res) == [("long", 1, 10.5, 3, 12.5, "signal")]
    assert res.trades["pnl"].to_list() == [20.0]
    # cash 10,000 - 105 after the buy; marked at each close
    np.testing.assert_allclose(res.equity["equity"], [10_000, 9_895 + 110, 9_895 + 120, 10_020, 10_020])
    np.testing.assert_allclose(res.equity["cash"], [10_000, 9_895, 9_895, 10_020, 10_020])


def test_same_close_fills_at_the_signal_bars_close(kit):
    rows = [[10, 11, 9, 10], [10.5, 12, 9, 11], [12, 13, 11, 12], [12.5, 14, 11, 13]]
    res = run(kit, rows, {"entries": {0: True}, "exits": {2: True}}, fill="same_close")
    assert fills(res) == [(0, "buy", "market", 10.0, 10.0), (2, "sell", "market", 10.0, 12.0)]
    assert res.orders["signal_bar"].to_list() == [0, 2]
    np.testing.assert_allclose(res.equity["equity"], [10_000, 10_010, 10_020, 10_020])


def test_signal_on_the_last_bar_never_fills(kit):
    res = run(kit, FLAT * 3, {"entries": {2: True}})
    assert res.orders.height == 0 and res.trades.height == 0
    assert res.final_equity == 10_000


def test_open_trade_is_valued_at_the_last_close(kit):
    res = run(kit, [[10] * 4, [10] * 4, [12, 12.5, 12, 12.5]], {"entries": {0: True}})
    row = res.trades.row(0, named=True)
    assert row["is_open"] and row["exit_reason"] == "end_of_data"
    assert (row["exit_bar"], row["exit_price"], row["pnl"]) == (2, 12.5, 25.0)


def test_short_entry_and_exit(kit):
    rows = [[10] * 4, [10, 10.5, 9.5, 10], [9, 9, 8, 8], [8, 8, 8, 8]]
    res = run(kit, rows, {"short_entries": {0: True}, "short_exits": {2: True}})
    assert fills(res) == [(1, "sell", "market", 10.0, 10.0), (3, "buy", "market", 10.0, 8.0)]
    assert trade_rows(res) == [("short", 1, 10.0, 3, 8.0, "signal")]
    np.testing.assert_allclose(res.equity["equity"], [10_000, 10_000, 10_020, 10_020])
    np.testing.assert_allclose(res.equity["cash"], [10_000, 10_100, 10_100, 10_020])


def test_opposite_entry_reverses_in_two_orders(kit):
    rows = [[10] * 4, [10] * 4, [11, 11, 11, 11], [12] * 4]
    res = run(kit, rows, {"entries": {0: True}, "short_entries": {1: True}})
    assert fills(res) == [(1, "buy", "market", 10.0, 10.0), (2, "sell", "market", 10.0, 11.0),
                          (2, "sell", "market", 10.0, 11.0)]
    assert trade_rows(res) == [("long", 1, 10.0, 2, 11.0, "reverse"), ("short", 2, 11.0, 3, 12.0, "end_of_data")]


def test_no_reverse_ignores_the_opposite_entry(kit):
    res = run(kit, FLAT * 4, {"entries": {0: True}, "short_entries": {1: True}}, reverse=False)
    assert fills(res) == [(1, "buy", "market", 10.0, 10.0)]


def test_accumulate_adds_to_the_position(kit):
    rows = [[10] * 4, [10] * 4, [12] * 4, [12] * 4]
    res = run(kit, rows, {"entries": {0: True, 1: True}}, accumulate=True)
    assert fills(res) == [(1, "buy", "market", 10.0, 10.0), (2, "buy", "market", 10.0, 12.0)]
    row = res.trades.row(0, named=True)
    assert res.trades.height == 1 and row["size"] == 20 and row["entry_price"] == pytest.approx(11.0)
    # without accumulate the second entry is ignored
    assert len(fills(run(kit, rows, {"entries": {0: True, 1: True}}))) == 1


def test_entry_and_exit_on_one_bar_cancel_out(kit):
    res = run(kit, FLAT * 3, {"entries": {0: True}, "exits": {0: True}})
    assert res.orders.height == 0


# --------------------------------------------------------------------------- limit / stop entries
@pytest.mark.parametrize(("bar1", "price"), [
    ([10, 10.2, 9.4, 10], 9.5),     # low touches the limit: fills at the limit
    ([9.0, 9.8, 8.8, 9.5], 9.0),    # opens below the limit: fills at the open (better)
    ([10, 10.2, 9.5, 10], 9.5),     # low exactly at the limit
])
def test_limit_buy(kit, bar1, price):
    res = run(kit, [[10] * 4, bar1, [10] * 4], {"entries": {0: True}, "limit": {0: 9.5}})
    assert fills(res) == [(1, "buy", "limit", 10.0, price)]


def test_limit_buy_waits_for_its_price(kit):
    rows = [[10] * 4, [10, 10.5, 9.6, 10], [10, 10.5, 9.7, 10], [9.8, 10, 9.2, 9.6]]
    res = run(kit, rows, {"entries": {0: True}, "limit": {0: 9.5}})
    assert fills(res) == [(3, "buy", "limit", 10.0, 9.5)]
    assert res.orders["signal_bar"].to_list() == [0]


@pytest.mark.parametrize(("bar1", "price"), [([10, 10.6, 9.8, 10], 10.5), ([11, 11.2, 10.8, 11], 11.0)])
def test_limit_sell(kit, bar1, price):
    res = run(kit, [[10] * 4, bar1, [10] * 4], {"short_entries": {0: True}, "limit": {0: 10.5}})
    assert fills(res) == [(1, "sell", "limit", 10.0, price)]


@pytest.mark.parametrize(("bar1", "price"), [
    ([10, 10.6, 9.8, 10.2], 10.5),   # high crosses the stop: fills at the stop
    ([11, 11.5, 10.9, 11], 11.0),    # gaps above the stop: fills at the open (worse)
])
def test_stop_buy(kit, bar1, price):
    res = run(kit, [[10] * 4, bar1, [10] * 4], {"entries": {0: True}, "stop": {0: 10.5}})
    assert fills(res) == [(1, "buy", "stop", 10.0, price)]


def test_stop_buy_not_reached_does_not_fill(kit):
    res = run(kit, [[10] * 4, [10, 10.4, 9.5, 10], [10] * 4], {"entries": {0: True}, "stop": {0: 10.5}})
    assert fills(res) == [] and res.trades.height == 0


@pytest.mark.parametrize(("bar1", "price"), [([10, 10.2, 9.4, 9.8], 9.5), ([9, 9.2, 8.8, 9], 9.0)])
def test_stop_sell(kit, bar1, price):
    res = run(kit, [[10] * 4, bar1, [10] * 4], {"short_entries": {0: True}, "stop": {0: 9.5}})
    assert fills(res) == [(1, "sell", "stop", 10.0, price)]


@pytest.mark.parametrize(("rows", "fill"), [
    # triggered intrabar, limit above the stop: fills at the stop
    ([[10] * 4, [10, 11, 9.9, 10.6], [10] * 4], (1, 10.5)),
    # gaps above the stop and the limit: triggered, then the limit fills when the low comes back
    ([[10] * 4, [11, 11.2, 10.7, 11], [10] * 4], (1, 10.8)),
    # gaps above both and stays above the limit; the next bar opens below the limit
    ([[10] * 4, [11, 11.2, 10.9, 11], [10.7, 10.9, 10.6, 10.7]], (2, 10.7)),
])
def test_stop_limit_buy(kit, rows, fill):
    res = run(kit, rows, {"entries": {0: True}, "stop": {0: 10.5}, "limit": {0: 10.8}})
    assert fills(res) == [(fill[0], "buy", "stop_limit", 10.0, fill[1])]


@pytest.mark.parametrize(("side", "rows", "signals", "fill"), [
    ("buy", [[10] * 4, [9, 11, 8.5, 10], [10, 10.2, 9.3, 10], [10] * 4],
     {"entries": {0: True}, "stop": {0: 10.5}, "limit": {0: 9.5}}, 9.5),
    ("sell", [[10] * 4, [11, 11.5, 9, 10], [10, 10.7, 9.8, 10], [10] * 4],
     {"short_entries": {0: True}, "stop": {0: 9.5}, "limit": {0: 10.5}}, 10.5),
])
def test_stop_limit_with_limit_beyond_the_stop_never_fills_before_the_trigger(kit, side, rows, signals, fill):
    """Buy stop 10.5, limit 9.5: bar 1 opens at 9 (below the limit) and triggers at 10.5 within
    the bar; the open came before the trigger, so the limit fills on bar 2 (mirrored for sells)."""
    res = run(kit, rows, signals)
    assert fills(res) == [(2, side, "stop_limit", 10.0, fill)]


def test_order_valid_bars_expires_an_unfilled_entry(kit):
    rows = [[10] * 4] * 3 + [[9, 9, 9, 9]] * 2
    res = run(kit, rows, {"entries": {0: True}, "limit": {0: 9.5}, "size": {0: 7.0}}, order_valid_bars=2)
    o = res.orders.row(0, named=True)
    assert res.orders.height == 1
    assert (o["status"], o["kind"], o["side"], o["bar"], o["signal_bar"], o["size"]) == ("expired", "limit", "buy", 3, 0, 7.0)
    assert (o["fees"], o["slippage"], o["reason"]) == (0.0, 0.0, "none")
    assert res.trades.height == 0
    # valid long enough, it fills on bar 3
    assert fills(run(kit, rows, {"entries": {0: True}, "limit": {0: 9.5}}, order_valid_bars=3)) == [
        (3, "buy", "limit", 10.0, 9.0)]
    # good till cancelled by default
    assert fills(run(kit, rows, {"entries": {0: True}, "limit": {0: 9.5}}))[0][0] == 3


def test_an_expired_default_size_entry_records_the_units_it_would_have_had(kit):
    rows = [[10] * 4] * 3 + [[9, 9, 9, 9]] * 2
    res = wb.backtest(kit.make_bars(rows), kit.Replay(entries={0: True}, limit={0: 9.5}), order_valid_bars=2)
    o = res.orders.row(0, named=True)
    assert (o["status"], o["bar"]) == ("expired", 3) and o["size"] == pytest.approx(10_000 / 9.5)  # all equity at 9.5


def test_a_new_entry_replaces_the_pending_one(kit):
    rows = [[10] * 4] * 3 + [[9, 9, 9, 9]]
    res = run(kit, rows, {"entries": {0: True, 1: True}, "limit": {0: 9.5, 1: 9.2}})
    o = res.orders
    assert o["status"].to_list() == ["cancelled", "filled"]
    assert o["signal_bar"].to_list() == [0, 1] and o["bar"].to_list() == [1, 3]
    assert fills(res) == [(3, "buy", "limit", 10.0, 9.0)]


def test_an_exit_signal_withdraws_a_pending_entry_with_a_record(kit):
    rows = [[10] * 4] * 3 + [[9, 9, 9, 9]]
    res = run(kit, rows, {"entries": {0: True}, "limit": {0: 9.5}, "exits": {1: True}})
    assert fills(res) == []
    assert res.orders["status"].to_list() == ["cancelled"]


class LimitThenCancel(Strategy):
    """Places a limit buy at bar 0 and cancels it at the close of bar 1."""

    def on_bar(self, ctx):
        if ctx.t == 0:
            ctx.buy(size=10, limit=9.5)
        elif ctx.t == 1:
            ctx.cancel()


def test_cancel_withdraws_the_pending_entry(kit):
    rows = [[10] * 4, [10, 10, 9.6, 10], [9, 9, 9, 9], [9, 9, 9, 9]]
    res = wb.backtest(kit.make_bars(rows), LimitThenCancel(), sizing="units", size=10.0)
    o = res.orders.row(0, named=True)
    assert res.orders.height == 1
    assert (o["status"], o["kind"], o["side"], o["bar"], o["signal_bar"], o["size"]) == ("cancelled", "limit", "buy", 1, 0, 10.0)
    assert res.trades.height == 0 and res.final_equity == 10_000


# --------------------------------------------------------------------------- protective stops
ENTRY = [[10] * 4, [10, 10.2, 9.8, 10]]  # the entry fills at 10 on bar 1's open


@pytest.mark.parametrize(("bar2", "exit_", "reason", "kind"), [
    ([9.8, 10, 9.4, 9.6], 9.5, "stop_loss", "stop_loss"),      # low through the stop
    ([9.0, 9.3, 8.8, 9.1], 9.0, "stop_loss", "stop_loss"),     # gap below the stop: the open
    ([10.5, 11.2, 10.4, 11], 11.0, "take_profit", "take_profit"),  # high through the target
    ([11.5, 11.8, 11.4, 11.6], 11.5, "take_profit", "take_profit"),  # gap above the target: the open
    ([10, 11.5, 9.0, 10], 9.5, "stop_loss", "stop_loss"),      # both inside the bar: the stop first
])
def test_long_stop_loss_and_take_profit(kit, bar2, exit_, reason, kind):
    res = run(kit, ENTRY + [bar2, [10] * 4], {"entries": {0: True}}, sl=0.05, tp=0.10)
    assert fills(res)[1] == (2, "sell", kind, 10.0, exit_)
    assert trade_rows(res) == [("long", 1, 10.0, 2, exit_, reason)]


@pytest.mark.parametrize(("bar2", "exit_", "reason"), [
    ([10.2, 10.6, 10, 10.4], 10.5, "stop_loss"),
    ([11, 11.2, 10.8, 11], 11.0, "stop_loss"),
    ([9.5, 9.6, 8.9, 9.2], 9.0, "take_profit"),
    ([8.5, 8.6, 8.4, 8.5], 8.5, "take_profit"),
    ([10, 10.8, 8.5, 10], 10.5, "stop_loss"),
])
def test_short_stop_loss_and_take_profit(kit, bar2, exit_, reason):
    res = run(kit, ENTRY + [bar2, [10] * 4], {"short_entries": {0: True}}, sl=0.05, tp=0.10)
    assert trade_rows(res) == [("short", 1, 10.0, 2, exit_, reason)]
    assert fills(res)[1][:2] == (2, "buy")


def test_stop_checked_on_the_entry_bar_after_an_open_fill(kit):
    res = run(kit, [[10] * 4, [10, 10.2, 9.4, 9.8], [10] * 4], {"entries": {0: True}}, sl=0.05)
    assert trade_rows(res) == [("long", 1, 10.0, 1, 9.5, "stop_loss")]


def test_same_close_entry_is_protected_from_the_next_bar(kit):
    rows = [[10, 10.2, 9.0, 10], [10, 10.2, 9.4, 9.8], [10] * 4]
    res = run(kit, rows, {"entries": {0: True}}, sl=0.05, fill="same_close")
    assert trade_rows(res) == [("long", 0, 10.0, 1, 9.5, "stop_loss")]


def test_trailing_stop_follows_the_best_price(kit):
    rows = ENTRY + [[10.5, 12, 10.5, 11.8],   # peak 12; the level of this bar is still 9.0
                    [11.5, 11.6, 10.7, 11],    # level 10.8 (12 * 0.9): hit
                    [11] * 4]
    res = run(kit, rows, {"entries": {0: True}}, tsl=0.10)
    assert trade_rows(res) == [("long", 1, 10.0, 3, 10.8, "trailing_stop")]
    assert fills(res)[1][2] == "trailing_stop"


def test_trailing_stop_of_a_short(kit):
    rows = ENTRY + [[9.5, 9.5, 8.0, 8.2], [8.5, 8.9, 8.4, 8.6], [8] * 4]
    res = run(kit, rows, {"short_entries": {0: True}}, tsl=0.10)
    assert trade_rows(res) == [("short", 1, 10.0, 3, pytest.approx(8.8), "trailing_stop")]


def test_tighter_of_stop_loss_and_trailing_stop_governs(kit):
    rows = ENTRY + [[11, 12, 11, 12], [11.6, 11.7, 11.2, 11.5], [11] * 4]
    # trail 12 - 5% = 11.4 is above the fixed stop 9.5
    res = run(kit, rows, {"entries": {0: True}}, sl=0.05, tsl=0.05)
    assert trade_rows(res) == [("long", 1, 10.0, 3, pytest.approx(11.4), "trailing_stop")]


def test_absolute_stops_with_price_mode(kit):
    rows = ENTRY + [[10, 10.4, 9.8, 10], [10, 10.3, 9.1, 9.5], [10] * 4]
    res = run(kit, rows, {"entries": {0: True}, "sl": {0: 9.2}, "tp": {0: 10.9}, "stop_mode": "price"})
    assert trade_rows(res) == [("long", 1, 10.0, 3, 9.2, "stop_loss")]
    res = run(kit, ENTRY + [[10, 11, 9.8, 10.5], [10] * 4],
              {"entries": {0: True}, "sl": {0: 9.2}, "tp": {0: 10.9}, "stop_mode": "price"})
    assert trade_rows(res) == [("long", 1, 10.0, 2, 10.9, "take_profit")]


def test_percent_stops_from_signals_override_settings(kit):
    rows = ENTRY + [[10, 10.4, 9.65, 10], [10] * 4]
    res = run(kit, rows, {"entries": {0: True}, "sl": {0: 0.03}}, sl=0.5)
    assert trade_rows(res) == [("long", 1, 10.0, 2, 9.7, "stop_loss")]


@pytest.mark.parametrize(("signals", "settings", "exit_"), [
    ({"tp": {0: 11.0}}, {"sl": 0.05}, (2, 9.5, "stop_loss")),
    ({"sl": {0: 9.0}}, {"tsl": 0.03}, (2, 10.2 * 0.97, "trailing_stop")),
])
def test_setting_stops_stay_fractions_with_a_price_mode_strategy(kit, signals, settings, exit_):
    """The settings' stops are fractions of price even when the strategy's own are absolute."""
    rows = [[10] * 4, [10, 10.2, 9.8, 10], [10, 10.4, 9.4, 9.6], [10] * 4]
    res = run(kit, rows, {"entries": {0: True}, "stop_mode": "price", **signals}, **settings)
    t = res.trades.row(0, named=True)
    assert (t["exit_bar"], t["exit_price"], t["exit_reason"]) == (exit_[0], pytest.approx(exit_[1]), exit_[2])


def test_a_price_mode_strategy_mixes_its_own_stops_with_the_settings(kit):
    """The first entry gives its own absolute stop (9.0); the second gives none and gets the
    setting, 5% below its fill (9.5)."""
    rows = [[10] * 4, [10, 10.2, 9.8, 10], [10, 10.4, 8.8, 9.6], [10] * 4,
            [10, 10.2, 9.8, 10], [10, 10.4, 9.4, 9.6], [10] * 4]
    res = run(kit, rows, {"entries": {0: True, 3: True}, "sl": {0: 9.0}, "stop_mode": "price"}, sl=0.05)
    assert trade_rows(res) == [("long", 1, 10.0, 2, 9.0, "stop_loss"), ("long", 4, 10.0, 5, 9.5, "stop_loss")]


def test_trailing_distance_in_price_mode(kit):
    rows = ENTRY + [[10.5, 12, 10.5, 11.8], [11.5, 11.6, 10.9, 11], [11] * 4]
    res = run(kit, rows, {"entries": {0: True}, "tsl": {0: 1.0}, "stop_mode": "price"})
    assert trade_rows(res) == [("long", 1, 10.0, 3, 11.0, "trailing_stop")]


def test_pending_reversal_fills_at_the_open_before_intrabar_stops(kit):
    """The market reversal at bar 2's open (10) closes the long before its stop (9.5) is reached
    within the bar."""
    rows = [[10] * 4, [10, 10.5, 9.8, 10], [10, 10.2, 9.0, 9.2], [9.2] * 4]
    res = run(kit, rows, {"entries": {0: True}, "short_entries": {1: True}}, sl=0.05)
    assert trade_rows(res)[0] == ("long", 1, 10.0, 2, 10.0, "reverse")
    assert res.final_equity == pytest.approx(10_008.0)


def test_pending_exit_fills_at_the_open_before_intrabar_stops(kit):
    rows = [[10] * 4, [10, 10.5, 9.8, 10], [10, 10.2, 9.0, 9.2], [9.2] * 4]
    res = run(kit, rows, {"entries": {0: True}, "exits": {1: True}}, sl=0.05)
    assert trade_rows(res) == [("long", 1, 10.0, 2, 10.0, "signal")]
