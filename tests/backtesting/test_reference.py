"""The signal kernel against the plain reference simulator (``reference.py``) on random bars,
random signals and random settings (reversals with and without stops, margin calls that cancel
the order decided at their close), and on GOOG.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = ("entries", "exits", "short_entries", "short_exits")


def make_case(seed: int):
    """Random bars, signals and settings, all drawn from one seed (uniform coverage of the
    settings rather than hypothesis's preference for the first choices)."""
    rng = np.random.default_rng(seed)
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    n = int(rng.integers(20, 91))
    bars = wb.data.synthetic(n, seed=seed % 100_000, sigma=pick([0.3, 1.5, 3.0]))
    p = rng.uniform(0.03, 0.4)
    direction = pick(["long", "short", "both"])
    signals = {k: rng.random(n) < p for k in KEYS}
    if direction == "long":
        signals["short_entries"][:] = False
    elif direction == "short":
        signals["entries"][:] = False
    sizing = pick(["percent", "units", "value"])
    size = {"percent": rng.uniform(0.05, 1.0), "units": rng.uniform(0.5, 150.0), "value": rng.uniform(100.0, 15_000.0)}
    s = {
        "sizing": sizing, "size": float(size[sizing]),
        "fees": pick([0.0, 0.001, 0.01]), "fixed_fees": pick([0.0, 1.0, 25.0]),
        "slippage": pick([0.0, 0.002]), "slippage_ticks": pick([0.0, 2.0]), "spread": pick([0.0, 0.001]),
        "lot_size": pick([0.0, 1.0, 0.1]), "fill": pick(["next_open", "same_close"]),
        "reverse": bool(rng.random() < 0.7), "maintenance_margin": pick([0.25, 0.9]),
    }
    stops = bool(rng.random() < 0.5)
    for name in ("sl", "tp", "tsl"):
        s[name] = float(rng.uniform(0.005, 0.2)) if stops and rng.random() < 0.6 else None
    return bars, signals, s


def kernel_vs_reference(kit, bars, signals, s):
    res = wb.backtest(bars, kit.Replay(**signals), allow_short=True, **s)
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    ref = kit.reference.simulate(o, h, lo, c, signals, **s)

    orders = res.orders
    want = ref.orders
    assert orders.height == len(want), (orders, want)
    assert orders["bar"].to_list() == [f.bar for f in want]
    assert orders["status"].to_list() == [f.status for f in want]
    assert orders["reason"].to_list() == [f.reason for f in want]
    done = orders.filter(pl.col("status") == "filled")
    filled = [f for f in want if f.status == "filled"]
    assert done["side"].to_list() == [f.side for f in filled]
    assert done["kind"].to_list() == [f.kind for f in filled]
    np.testing.assert_allclose(done["size"], [f.size for f in filled], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(done["price"], [f.price for f in filled], rtol=1e-12)
    np.testing.assert_allclose(done["fees"], [f.fees for f in filled], rtol=1e-9, atol=1e-9)

    t = res.trades
    assert t.height == len(ref.trades)
    assert t["direction"].to_list() == [x.direction for x in ref.trades]
    assert t["entry_bar"].to_list() == [x.entry_bar for x in ref.trades]
    assert t["exit_bar"].to_list() == [x.exit_bar for x in ref.trades]
    assert t["exit_reason"].to_list() == [x.exit_reason for x in ref.trades]
    assert t["is_open"].to_list() == [x.is_open for x in ref.trades]
    np.testing.assert_allclose(t["size"], [x.size for x in ref.trades], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(t["entry_price"], [x.entry_price for x in ref.trades], rtol=1e-12)
    np.testing.assert_allclose(t["exit_price"], [x.exit_price for x in ref.trades], rtol=1e-12)
    np.testing.assert_allclose(t["pnl"], [x.pnl for x in ref.trades], rtol=1e-9, atol=1e-6)

    np.testing.assert_allclose(res.equity["equity"], ref.equity, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(res.equity["cash"], ref.cash, rtol=1e-9, atol=1e-6)
    return res


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_kernel_equals_reference(kit, seed):
    kernel_vs_reference(kit, *make_case(seed))


@pytest.mark.parametrize("fill", ["next_open", "same_close"])
@pytest.mark.parametrize("direction", ["long", "both"])
def test_kernel_equals_reference_on_goog(kit, fill, direction):
    bars = wb.data.sample("GOOG")
    strategy = wb.strategies.SmaCross(fast=10, slow=20, direction=direction)
    sig = strategy.signals(wb.backtest(bars, strategy).view)
    signals = {k: np.asarray(getattr(sig, k)).ravel() for k in KEYS if getattr(sig, k) is not None}
    s = {"fees": 0.002, "lot_size": 1.0, "fill": fill, "slippage": 0.0005, "fixed_fees": 1.0}
    res = kernel_vs_reference(kit, bars, signals, s)
    assert res.trades.height > 40


def test_kernel_equals_reference_with_stops_on_goog(kit):
    bars = wb.data.sample("GOOG")
    strategy = wb.strategies.SmaCross(fast=10, slow=20)
    sig = strategy.signals(wb.backtest(bars, strategy).view)
    signals = {"entries": np.asarray(sig.entries).ravel(), "exits": np.asarray(sig.exits).ravel()}
    res = kernel_vs_reference(kit, bars, signals, {"sl": 0.03, "tp": 0.08, "tsl": 0.05, "spread": 0.001})
    assert set(res.trades["exit_reason"]) >= {"stop_loss", "take_profit", "trailing_stop"}
