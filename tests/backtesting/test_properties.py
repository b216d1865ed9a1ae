"""Invariants of the engine on random synthetic bars, random signals and random settings.

Each example draws one seed; bars, signals and settings all come from it (uniform coverage of
the settings; a failure prints the seed that reproduces it).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.strategies import BUILTIN, Signals, Strategy

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEEDS = st.integers(0, 2**32 - 1)
KEYS = ("entries", "exits", "short_entries", "short_exits")


class Arrays(Strategy):
    """Replays 2-D signal arrays keyed by symbol, so that the same decisions follow each
    symbol whatever the column order."""

    def __init__(self, by_symbol: dict[str, dict[str, np.ndarray]], extra: dict | None = None):
        object.__setattr__(self, "_by_symbol", by_symbol)
        object.__setattr__(self, "_extra", extra or {})
        super().__init__()

    def signals(self, bars):
        out = {k: np.column_stack([self._by_symbol[s][k] for s in bars.symbols]) for k in self._by_symbol[bars.symbols[0]]}
        return Signals(**out, **self._extra)


def random_case(seed: int, *, long_only: bool = False):
    rng = np.random.default_rng(seed)
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    n, m = int(rng.integers(15, 80)), int(rng.integers(1, 4))
    bars = wb.data.synthetic(n, n_symbols=m, seed=seed % 100_000, sigma=pick([0.2, 1.0, 2.5]))
    symbols = sorted(bars["symbol"].unique().to_list()) if m > 1 else ["asset"]
    p = rng.uniform(0.03, 0.35)
    sig = {}
    kind = pick(["market", "market", "limit", "stop"])
    for s in symbols:
        sig[s] = {k: rng.random(n) < p for k in KEYS}
        if long_only:
            sig[s]["short_entries"][:] = False
        close = bars.filter(pl.col("symbol") == s)["close"].to_numpy() if m > 1 else bars["close"].to_numpy()
        if kind != "market":
            offset = rng.uniform(-0.03, 0.03, n)
            sig[s][kind] = close * (1 + offset)
    sizing = pick(["percent", "units", "value", "risk"])
    leverage = pick([1.0, 1.0, 2.0])
    cfg = {
        "sizing": sizing,
        "size": {"percent": rng.uniform(0.1, leverage), "units": rng.uniform(1, 60), "value": rng.uniform(100, 8_000),
                 "risk": rng.uniform(0.005, 0.05)}[sizing],
        "fees": pick([0.0, 0.001, 0.005]), "fixed_fees": pick([0.0, 2.0]), "slippage": pick([0.0, 0.001]),
        "spread": pick([0.0, 0.0005]), "lot_size": pick([0.0, 1.0]), "fill": pick(["next_open", "same_close"]),
        "leverage": leverage, "cash_sharing": bool(rng.random() < 0.5), "allow_short": not long_only,
        "reverse": bool(rng.random() < 0.7), "accumulate": bool(rng.random() < 0.3),
        "order_valid_bars": pick([0, 3]),
        "sl": pick([None, 0.02, 0.08]), "tp": pick([None, 0.05]), "tsl": pick([None, 0.04]),
    }
    if sizing == "risk" and cfg["sl"] is None:
        cfg["sl"] = 0.05
    return bars, symbols, sig, cfg


def units_close(res):
    """Units and closes as (n_bars, n_assets) arrays."""
    return res.units_values, res.view.close


@SETTINGS
@given(seed=SEEDS)
def test_cash_plus_holdings_is_equity(seed):
    bars, _, sig, cfg = random_case(seed)
    res = wb.backtest(bars, Arrays(sig), **cfg)
    units, close = units_close(res)
    held = (units * close).sum(axis=1)
    eq = res.equity
    np.testing.assert_allclose(eq["equity"].to_numpy(), eq["cash"].to_numpy() + held, rtol=1e-9, atol=1e-6)
    if not cfg["cash_sharing"] and close.shape[1] > 1:
        total = sum(eq[f"equity_{s}"].to_numpy() for s in res.view.symbols)
        np.testing.assert_allclose(total, eq["equity"].to_numpy(), rtol=1e-12, atol=1e-9)
    pos = res.positions.sort(["symbol", "ts"])
    np.testing.assert_allclose(pos["value"].to_numpy(), (units * close).T.ravel(), rtol=1e-12)


@SETTINGS
@given(seed=SEEDS)
def test_profit_is_the_sum_of_trade_pnl(seed):
    bars, _, sig, cfg = random_case(seed)
    res = wb.backtest(bars, Arrays(sig), **cfg)
    assert res.final_equity - res.init_cash == pytest.approx(res.trades["pnl"].sum(), rel=1e-9, abs=1e-6)


@SETTINGS
@given(seed=SEEDS)
def test_fees_never_raise_equity(seed):
    """Fixed-units sizing on an account far larger than the positions: the same fills with
    and without fees, so fees can only lower equity, at every bar."""
    bars, _, sig, cfg = random_case(seed)
    rng = np.random.default_rng(seed + 1)
    cfg.update(sizing="units", size=float(rng.uniform(0.5, 5)), cash=1e7, leverage=1.0, maintenance_margin=0.0,
               slippage=0.0, spread=0.0)
    free = wb.backtest(bars, Arrays(sig), **{**cfg, "fees": 0.0, "fixed_fees": 0.0})
    paid = wb.backtest(bars, Arrays(sig), **{**cfg, "fees": float(rng.uniform(0, 0.02)), "fixed_fees": float(rng.uniform(0, 5))})
    filled = lambda r: r.orders.filter(pl.col("status") == "filled").select("bar", "symbol", "side", "size", "price")  # noqa: E731
    assert filled(free).equals(filled(paid))
    assert (paid.equity["equity"].to_numpy() <= free.equity["equity"].to_numpy() + 1e-9).all()


def perturb_after(bars: pl.DataFrame, t: int, seed: int) -> pl.DataFrame:
    """Scale every bar after index ``t`` (per symbol) by a random factor: still valid bars."""
    rng = np.random.default_rng(seed)
    idx = pl.int_range(pl.len()).over("symbol") if "symbol" in bars.columns else pl.int_range(pl.len())
    factor = pl.Series(rng.uniform(0.6, 1.6, bars.height))
    scale = pl.when(idx > t).then(factor).otherwise(1.0)
    return bars.with_columns([(pl.col(c) * scale).alias(c) for c in ("open", "high", "low", "close")])


def _early(res, t):
    return res.orders.filter(pl.col("bar") <= t), res.equity.head(t + 1)


STRATEGIES = {
    "SmaCross": {"fast": 3, "slow": 7, "direction": "both"},
    "EmaCross": {"fast": 3, "slow": 8, "direction": "both"},
    "RsiMeanReversion": {"window": 3, "lower": 40.0, "upper": 60.0, "direction": "both"},
    "BollingerBreakout": {"window": 5, "k": 0.5},
    "DonchianBreakout": {"entry_window": 5, "exit_window": 3},
    "TrendPullback": {"trend": 20, "rsi_window": 2, "oversold": 45.0, "atr_window": 3},
}


@SETTINGS
@given(seed=SEEDS, name=st.sampled_from(sorted(STRATEGIES)))
def test_no_look_ahead(seed, name):
    """With next-open fills, changing any bar after t changes no order at or before t, nor the
    equity up to t — for every built-in strategy."""
    rng = np.random.default_rng(seed)
    bars = wb.data.synthetic(int(rng.integers(40, 120)), n_symbols=int(rng.integers(1, 3)), seed=seed % 100_000, sigma=1.0)
    n = bars.height // (bars["symbol"].n_unique() if "symbol" in bars.columns else 1)
    t = int(rng.integers(1, n - 1))
    strategy = BUILTIN[name](**STRATEGIES[name])
    cfg = {"fees": 0.001}
    if name != "TrendPullback" and rng.random() < 0.5:  # TrendPullback gives its own (absolute) stops
        cfg.update(sl=0.03, tsl=0.05)
    before = wb.backtest(bars, strategy, **cfg)
    after = wb.backtest(perturb_after(bars, t, seed), strategy, **cfg)
    (o1, e1), (o2, e2) = _early(before, t), _early(after, t)
    assert o1.equals(o2)
    assert e1.equals(e2)


@SETTINGS
@given(seed=SEEDS)
def test_no_look_ahead_with_random_orders(seed):
    bars, _, sig, cfg = random_case(seed)
    n = len(next(iter(sig.values()))["entries"])
    t = int(np.random.default_rng(seed).integers(1, n - 1))
    cfg["fill"] = "next_open"
    before = wb.backtest(bars, Arrays(sig), **cfg)
    after = wb.backtest(perturb_after(bars, t, seed), Arrays(sig), **cfg)
    (o1, e1), (o2, e2) = _early(before, t), _early(after, t)
    assert o1.equals(o2)
    assert e1.equals(e2)


@SETTINGS
@given(seed=SEEDS)
def test_fills_never_precede_their_decision(seed):
    bars, _, sig, cfg = random_case(seed)
    cfg.update(slippage=0.0, spread=0.0)
    res = wb.backtest(bars, Arrays(sig), **cfg)
    o = res.orders.filter(pl.col("status") == "filled")
    lag = (o["bar"] - o["signal_bar"]).to_numpy()
    market = (o["kind"] == "market").to_numpy()
    if cfg["fill"] == "next_open":
        assert (lag[market] == 1).all()
    else:
        assert (lag[market] == 0).all()
    assert (lag >= 0).all()
    j = np.array([res.view.symbols.index(s) for s in o["symbol"]], dtype=np.int64)
    bar = o["bar"].to_numpy()
    price = o["price"].to_numpy()
    v = res.view
    assert (price >= v.low[bar, j] - 1e-9).all() and (price <= v.high[bar, j] + 1e-9).all()
    if cfg["fill"] == "next_open":
        np.testing.assert_array_equal(price[market], v.open[bar, j][market])


def _rename(bars: pl.DataFrame, mapping: dict[str, str], seed: int) -> pl.DataFrame:
    shuffled = bars.sample(fraction=1.0, shuffle=True, seed=seed)
    return shuffled.with_columns(pl.col("symbol").replace_strict(mapping))


@SETTINGS
@given(seed=SEEDS)
def test_symbol_order_does_not_matter(seed):
    bars, symbols, sig, cfg = random_case(seed)
    if len(symbols) == 1:
        bars = wb.data.synthetic(bars.height, n_symbols=3, seed=seed % 100_000)
        symbols = ["S0", "S1", "S2"]
        first = next(iter(sig.values()))
        sig = {s: {k: np.roll(v, i) for k, v in first.items()} for i, s in enumerate(symbols)}
    if cfg["cash_sharing"]:  # one account: sizes from equity move with the order of fills
        cfg.update(sizing="value", size=100.0, cash=1e6)
    names = dict(zip(symbols, ["zeta", "alpha", "mid"][: len(symbols)], strict=True))
    renamed = _rename(bars, names, seed)
    a = wb.backtest(bars, Arrays(sig), **cfg)
    b = wb.backtest(renamed, Arrays({names[s]: v for s, v in sig.items()}), **cfg)
    back = {v: k for k, v in names.items()}
    cols = ["symbol", "direction", "size", "entry_bar", "entry_price", "exit_bar", "exit_price", "pnl", "exit_reason"]
    ta = a.trades.select(cols).sort(["symbol", "entry_bar", "exit_bar"])
    tb = b.trades.select(cols).with_columns(pl.col("symbol").replace_strict(back)).sort(["symbol", "entry_bar", "exit_bar"])
    assert ta.equals(tb)
    np.testing.assert_allclose(a.equity["equity"].to_numpy(), b.equity["equity"].to_numpy(), rtol=1e-12)


@SETTINGS
@given(seed=SEEDS)
def test_long_only_without_leverage_keeps_cash_and_positions_non_negative(seed):
    bars, _, sig, cfg = random_case(seed, long_only=True)
    cfg.update(leverage=1.0, allow_short=False)
    cfg["size"] = min(cfg["size"], 1.0) if cfg["sizing"] == "percent" else cfg["size"]
    res = wb.backtest(bars, Arrays(sig), **cfg)
    assert (res.equity["cash"].to_numpy() >= -1e-9).all()
    assert (res.units_values >= 0).all()
    assert (res.trades["direction"] == "long").all()


@SETTINGS
@given(seed=SEEDS)
def test_exits_and_shorts_never_flip_a_long_when_shorting_is_off(seed):
    """Exit signals, stops and liquidations only ever close longs when shorting is off."""
    bars, _, sig, cfg = random_case(seed, long_only=True)
    cfg.update(allow_short=False)
    res = wb.backtest(bars, Arrays(sig), **cfg)
    assert (res.units_values >= 0).all()
    sells = res.orders.filter((pl.col("side") == "sell") & (pl.col("status") == "filled"))
    assert sells.height <= res.trades.filter(~pl.col("is_open")).height
