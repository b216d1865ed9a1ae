"""The three strategy styles give identical results on the same rules.

SmaCross is written (1) as the built-in vectorized strategy, (2) as a Numba per-bar callback
whose SMAs are precomputed in ``prepare``, and (3) as a plain Python ``on_bar`` strategy that
computes its SMAs from the bars it is shown (``ctx.close``, bars ``0..t`` only). On GOOG and on
a three-asset synthetic set, long-only and both ways, with next-open and same-close fills, with
and without stops, the orders, trades and equity must be identical.
"""

from __future__ import annotations

import numba
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import workbench as wb
from workbench import indicators as ind
from workbench.backtesting.engine import prepare_bars
from workbench.nb.enums import I_ENTRY, I_EXIT
from workbench.strategies import Param, Signals, SmaCross, Strategy


@numba.njit
def _sma_cross_nb(t, open_, high, low, close, volume, state, cash, intent, extra):
    fast, slow, both = extra[0], extra[1], extra[2] == 1.0
    if t == 0:
        return
    for j in range(close.shape[1]):
        up = fast[t, j] > slow[t, j] and fast[t - 1, j] <= slow[t - 1, j]
        down = fast[t, j] < slow[t, j] and fast[t - 1, j] >= slow[t - 1, j]
        if up:
            intent[j, I_ENTRY] = 1.0
            if both:
                intent[j, I_EXIT] = -1.0
        elif down:
            intent[j, I_EXIT] = 1.0
            if both:
                intent[j, I_ENTRY] = -1.0


class SmaCrossNumba(Strategy):
    fast = Param(10, low=2, high=200)
    slow = Param(20, low=3, high=400)
    direction = Param("long", choices=("long", "both"))
    on_bar_nb = staticmethod(_sma_cross_nb)

    def prepare(self, bars):
        fast, slow = (np.ascontiguousarray(ind.sma(bars.close, w)) for w in (self.fast, self.slow))
        return (fast, slow, float(self.direction == "both"))


class SmaCrossPython(Strategy):
    fast = Param(10, low=2, high=200)
    slow = Param(20, low=3, high=400)
    direction = Param("long", choices=("long", "both"))

    def on_bar(self, ctx):
        n = ctx.close.shape[0]
        if n < self.slow + 1:
            return
        for j in range(len(ctx.symbols)):
            c = ctx.close[:, j]
            f1, f0 = c[n - self.fast:].mean(), c[n - 1 - self.fast: n - 1].mean()
            s1, s0 = c[n - self.slow:].mean(), c[n - 1 - self.slow: n - 1].mean()
            if f1 > s1 and f0 <= s0:
                if self.direction == "both":
                    ctx.exit_short(j)
                ctx.buy(j)
            elif f1 < s1 and f0 >= s0:
                ctx.exit_long(j)
                if self.direction == "both":
                    ctx.sell(j)


@pytest.fixture(scope="module")
def goog():
    return wb.data.sample("GOOG")


@pytest.fixture(scope="module")
def three():
    return wb.data.synthetic(400, n_symbols=3, seed=11)


STOPS = {"sl": 0.04, "tp": 0.12, "tsl": 0.06}


def _same(a, b):
    assert_frame_equal(a.orders, b.orders)
    assert_frame_equal(a.trades, b.trades)
    assert_frame_equal(a.equity, b.equity)


@pytest.mark.parametrize("direction", ["long", "both"])
@pytest.mark.parametrize("fill", ["next_open", "same_close"])
@pytest.mark.parametrize("stops", [False, True], ids=["no_stops", "stops"])
def test_three_styles_identical_on_goog(goog, direction, fill, stops):
    settings = {"fill": fill, "fees": 0.001, **(STOPS if stops else {})}
    params = {"fast": 10, "slow": 20, "direction": direction}
    vec = wb.backtest(goog, SmaCross(**params), **settings)
    nb = wb.backtest(goog, SmaCrossNumba(**params), **settings)
    py = wb.backtest(goog, SmaCrossPython(**params), **settings)
    assert vec.trades.height > 40
    if stops:
        assert set(vec.trades["exit_reason"]) >= {"stop_loss", "trailing_stop"}
    _same(vec, nb)
    _same(vec, py)
    assert nb.strategy.style == "numba" and py.strategy.style == "python" and vec.strategy.style == "vectorized"


@pytest.mark.parametrize("sharing", [False, True])
def test_three_styles_identical_on_several_assets(three, sharing):
    settings = {"cash_sharing": sharing, "size": 0.3, "fees": 0.0005, "lot_size": 1, **STOPS}
    params = {"fast": 5, "slow": 15, "direction": "both"}
    vec = wb.backtest(three, SmaCross(**params), **settings)
    nb = wb.backtest(three, SmaCrossNumba(**params), **settings)
    py = wb.backtest(three, SmaCrossPython(**params), **settings)
    assert vec.trades["symbol"].n_unique() == 3
    _same(vec, nb)
    _same(vec, py)


class Peek(Strategy):
    """Records the length of the history a Python strategy is shown at each bar."""

    def __init__(self):
        object.__setattr__(self, "_seen", [])
        super().__init__()

    def on_bar(self, ctx):
        self._seen.append((ctx.t, ctx.close.shape[0], ctx.open.shape[0], ctx.high.shape[0], ctx.low.shape[0]))


def test_python_strategy_sees_no_future_bars(three):
    strategy = Peek()
    wb.backtest(three, strategy)
    seen = np.array(strategy._seen)
    np.testing.assert_array_equal(seen[:, 0], np.arange(400))
    for k in range(1, 5):
        np.testing.assert_array_equal(seen[:, k], np.arange(1, 401))


class Inspect(Strategy):
    """Checks the Context's account view against the result after the run."""

    def __init__(self):
        object.__setattr__(self, "_rows", [])
        super().__init__()

    def on_bar(self, ctx):
        self._rows.append((ctx.t, ctx.position(0), ctx.position("S1"), ctx.cash, ctx.equity))
        if ctx.t == 3:
            ctx.buy("S1", size=0.5)
        if ctx.t == 10:
            ctx.exit("S1")


def test_context_account_view(three):
    strategy = Inspect()
    res = wb.backtest(three, strategy, cash_sharing=True)
    rows = pl.DataFrame(strategy._rows, schema=["t", "p0", "p1", "cash", "equity"], orient="row")
    units = res.positions.filter(pl.col("symbol") == "S1")["units"].to_numpy()
    # at the close of bar t the strategy sees the position, cash and equity of that close
    assert rows["p1"][4] > 0 and rows["p1"][3] == 0 and rows["p1"][11] == 0 and rows["p1"][10] > 0
    assert (rows["p0"] == 0).all()
    np.testing.assert_allclose(rows["cash"].to_numpy(), res.equity["cash"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(rows["equity"].to_numpy(), res.equity["equity"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(rows["p1"].to_numpy(), units)


class ReplayVectorized(Strategy):
    """Returns the signal arrays it was built with."""

    def __init__(self, arrays):
        object.__setattr__(self, "_a", arrays)
        super().__init__()

    def signals(self, bars):
        return Signals(**self._a)


class ReplayPython(Strategy):
    """Places, bar by bar through the Context, the orders that signal arrays describe."""

    def __init__(self, arrays):
        object.__setattr__(self, "_a", arrays)
        super().__init__()

    def on_bar(self, ctx):
        a, t = self._a, ctx.t
        for j in range(len(ctx.symbols)):
            el, es, xl, xs = (bool(a[k][t, j]) for k in ("entries", "short_entries", "exits", "short_exits"))
            if xl and xs:
                ctx.exit(j)
            elif xl:
                ctx.exit_long(j)
            elif xs:
                ctx.exit_short(j)
            if el != es:
                kw = {k: (None if np.isnan(a[k][t, j]) else float(a[k][t, j]))
                      for k in ("size", "limit", "stop", "sl", "tp", "tsl", "weight")}
                (ctx.buy if el else ctx.sell)(j, **kw)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_vectorized_and_python_styles_agree_on_random_orders(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(20, 70)), int(rng.integers(1, 3))
    bars = wb.data.synthetic(n, n_symbols=m, seed=seed % 100_000, sigma=1.0)
    close = prepare_bars(bars)[1].close
    p = rng.uniform(0.05, 0.3)
    arrays = {k: rng.random((n, m)) < p for k in ("entries", "exits", "short_entries", "short_exits")}

    def sparse(values, q):
        return np.where(rng.random((n, m)) < q, values, np.nan)

    arrays.update(
        size=sparse(rng.uniform(0.1, 1.0, (n, m)), 0.3),
        limit=sparse(close * rng.uniform(0.97, 1.01, (n, m)), 0.3),
        stop=sparse(close * rng.uniform(0.99, 1.03, (n, m)), 0.2),
        sl=sparse(rng.uniform(0.01, 0.1, (n, m)), 0.4), tp=sparse(rng.uniform(0.02, 0.2, (n, m)), 0.4),
        tsl=sparse(rng.uniform(0.01, 0.1, (n, m)), 0.3), weight=sparse(rng.uniform(0.2, 1.0, (n, m)), 0.3),
    )
    cfg = {"fill": ["next_open", "same_close"][int(rng.integers(2))], "cash_sharing": bool(rng.random() < 0.5),
           "accumulate": bool(rng.random() < 0.3), "order_valid_bars": int(rng.integers(0, 3)), "fees": 0.001,
           "leverage": 2.0}
    vec = wb.backtest(bars, ReplayVectorized(arrays), **cfg)
    py = wb.backtest(bars, ReplayPython(arrays), **cfg)
    _same(vec, py)
