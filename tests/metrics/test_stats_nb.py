"""`compute_stats` through the one-call kernel (`workbench.nb.stats_nb`) equals the numpy
definitions it replaced: every field, on seeded and hypothesis-drawn curves and trades, edge
cases included (one bar, flat curves, no drawdown, no trades, all wins or losses, a wiped-out or
negative account, returns overflowing the float range), NaN where they give NaN.

The reference is built here from the numpy helpers of `workbench.metrics.stats`
(`_return_figures`, `_benchmark_figures`, `_trade_figures`), as `compute_stats` combined them
before the kernel. The kernel performs the same floating-point operations in the same order
(numpy's pairwise summation included), so no tolerance is loosened below 1e-12 relative.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numba import njit

import workbench as wb
from workbench.metrics import Stats, buy_and_hold_returns, compute_stats
from workbench.metrics import returns as _ret
from workbench.metrics import stats as _stats
from workbench.metrics.trades import ClosedTrades, closed_trades_of
from workbench.nb import stats_nb as snb
from workbench.nb.enums import OrderStatus
from workbench.strategies import SmaCross


@pytest.fixture(autouse=True)
def _kernel_always(monkeypatch):
    """Every computation here goes through the kernel (not the first-computation NumPy tier)."""
    monkeypatch.setenv("WORKBENCH_STATS_KERNEL", "always")

NAN = float("nan")
FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(Stats)}


# --------------------------------------------------------------------------- the reference

def reference(equity, *, init_cash, periods_per_year, trades=None, exposure=None, benchmark=None,
              fees_paid=0.0, slippage_paid=0.0, risk_free=0.0, years=None) -> dict:
    """Every figure of `compute_stats` from the numpy helpers (its implementation before the kernel)."""
    eq = np.asarray(equity, dtype=np.float64)
    ppy = float(periods_per_year)
    span = eq.size / ppy if years is None else float(years)
    with np.errstate(over="ignore", invalid="ignore"):
        r = _ret._simple_returns(eq, init_cash)
        figures = _stats._return_figures(eq, r, init_cash, ppy, risk_free, span)
        figures |= _stats._benchmark_figures(r, benchmark, ppy, risk_free)
        figures |= _stats._trade_figures(trades)
    figures = {k: NAN if isinstance(v, float) and math.isinf(v) else v for k, v in figures.items()}
    held = NAN if exposure is None else float((np.asarray(exposure, dtype=np.float64) != 0.0).mean())
    return figures | {
        "start_equity": float(init_cash), "end_equity": float(eq[-1]), "n_bars": int(eq.size),
        "periods_per_year": ppy, "exposure": held, "risk_free": float(risk_free),
        "total_fees": float(fees_paid), "total_slippage": float(slippage_paid),
    }


def assert_same(stats: Stats, want: dict) -> None:
    got = stats.to_dict()
    assert set(got) == set(want) == set(FIELD_TYPES)
    for name, w in want.items():
        g = got[name]
        if FIELD_TYPES[name] == "int":
            assert type(g) is int and g == w, (name, g, w)
            continue
        assert type(g) is float, (name, type(g))
        if math.isnan(w):
            assert math.isnan(g), (name, g)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=name)


def check(equity, **kwargs) -> Stats:
    """compute_stats against the reference, with the same arguments."""
    s = compute_stats(equity, **kwargs)
    assert_same(s, reference(equity, **kwargs))
    return s


# --------------------------------------------------------------------------- inputs

def trade_arrays(n: int, rng: np.random.Generator, kind: str = "mixed") -> ClosedTrades:
    """`n` trades (some open, some tied at zero pnl, some sharing exit bars) as ClosedTrades."""
    pnl = {
        "mixed": np.round(rng.normal(0.0, 40.0, n), 1) * (rng.random(n) < 0.85),  # ~15% break-even
        "wins": rng.uniform(0.5, 80.0, n),
        "losses": -rng.uniform(0.5, 80.0, n),
        "flat": np.zeros(n),
        "equal": np.full(n, 12.5),
    }[kind]
    ret = pnl / rng.uniform(500.0, 2_000.0, n)
    entry = rng.integers(0, 40, n)
    exit_ = entry + rng.integers(0, 6, n)
    return closed_trades_of(pnl, ret, entry, exit_, rng.random(n) < 0.15)


def trades_frame(n: int, rng: np.random.Generator) -> pl.DataFrame:
    pnl = np.round(rng.normal(0.0, 40.0, n), 1)
    return pl.DataFrame({
        "pnl": pnl, "ret": pnl / 1_000.0, "entry_bar": (entry := rng.integers(0, 40, n)),
        "exit_bar": entry + rng.integers(0, 6, n), "is_open": rng.random(n) < 0.2,
    })


def seeded_curves() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20250101)
    flat = rng.normal(0.0004, 0.012, 900)
    flat[rng.random(900) < 0.5] = 0.0
    ruin = 1_000.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, 300))
    ruin[120:] = 0.0
    negative = 1_000.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, 200))
    negative[90:] -= 1_500.0
    # the sampled threshold of the order statistics misses: every 64th-ish value is the lowest
    decoy = np.full(2_148, 0.001)
    decoy[:: 2_148 // 64] = -0.05
    decoy[1::97] = 0.03
    return {
        "goog_like": 10_000.0 * np.cumprod(1.0 + rng.normal(0.0005, 0.015, 2_148)),
        "fat_tails": 10_000.0 * np.cumprod(1.0 + 0.01 * rng.standard_t(3, 5_000)),
        "flat_stretches": 10_000.0 * np.cumprod(1.0 + flat),
        "constant": np.full(700, 10_000.0),
        "constant_growth": 10_000.0 * 1.001 ** np.arange(1, 601),
        "single_bar": np.array([10_250.0]),
        "two_bars": np.array([10_000.0, 9_000.0]),
        "tiny_values": 1e-9 * np.cumprod(1.0 + rng.normal(0.0, 0.01, 513)),
        "huge_values": 1e12 * np.cumprod(1.0 + rng.normal(0.001, 0.05, 640)),
        "ruin": ruin,
        "negative": negative,
        "decoy_quantiles": 10_000.0 * np.cumprod(1.0 + decoy),
        "decoy_upper": 10_000.0 * np.cumprod(1.0 - decoy),
        "overflow": np.array([1e-300, 1e300, 1.0, 5.0]),
        "overflow_down": np.array([1e-300, -1e300, 1.0, 2.0, 0.5]),
        "ruin_then_overflow": np.array([0.0, 1e-300, 1e300, 3.0]),
    }


CURVES = seeded_curves()


# --------------------------------------------------------------------------- seeded cases

@pytest.mark.parametrize("name", sorted(CURVES))
@pytest.mark.parametrize("kind", ["none", "mixed", "wins", "losses", "flat", "equal", "one"])
def test_every_field_equals_the_numpy_definitions_on_seeded_curves(name, kind):
    equity = CURVES[name]
    rng = np.random.default_rng(len(name) * 31 + len(kind))
    init_cash = 1e-9 if name == "tiny_values" else 1e12 if name == "huge_values" else 10_000.0
    if name.startswith("overflow") or name == "ruin_then_overflow":
        init_cash = 1e-300
    trades = None if kind == "none" else trade_arrays(1 if kind == "one" else 37, rng, "mixed" if kind == "one" else kind)
    bench = rng.normal(0.0003, 0.01, equity.size)
    check(equity, init_cash=init_cash, periods_per_year=252, trades=trades, benchmark=bench,
          exposure=rng.random(equity.size) < 0.7, risk_free=0.03, fees_paid=12.5, slippage_paid=3.0)
    check(equity, init_cash=init_cash, periods_per_year=365, trades=trades, risk_free=0.0, years=2.5)


@pytest.mark.parametrize("ppy", [1.0, 12.0, 252.0, 6048.0, 1e8])
@pytest.mark.parametrize("rf", [-0.02, 0.0, 0.05])
def test_settings_reach_every_annualized_figure(ppy, rf):
    rng = np.random.default_rng(int(ppy) % 1000 + int(100 * rf) + 7)
    equity = 500.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.01, 1_200))
    bench = 0.4 * np.diff(np.r_[500.0, equity]) / np.r_[500.0, equity[:-1]] + rng.normal(0.0, 0.005, equity.size)
    check(equity, init_cash=500.0, periods_per_year=ppy, benchmark=bench, risk_free=rf,
          trades=trade_arrays(20, rng))


def test_constant_benchmark_and_zero_variance_benchmark():
    equity = 100.0 * np.cumprod(1.0 + np.random.default_rng(3).normal(0.0, 0.01, 600))
    for bench in (np.zeros(600), np.full(600, 0.001)):
        s = check(equity, init_cash=100.0, periods_per_year=252, benchmark=bench, risk_free=0.01)
        assert s.beta == 0.0


def test_trades_frame_closed_trades_and_none_agree():
    rng = np.random.default_rng(9)
    equity = CURVES["goog_like"]
    frame = trades_frame(40, rng)
    col = frame.get_column
    arrays_ = closed_trades_of(col("pnl").to_numpy(), col("ret").to_numpy(), col("entry_bar").to_numpy(),
                               col("exit_bar").to_numpy(), col("is_open").to_numpy())
    a = check(equity, init_cash=10_000.0, periods_per_year=252, trades=frame)
    b = check(equity, init_cash=10_000.0, periods_per_year=252, trades=arrays_)
    np.testing.assert_equal(a.to_dict(), b.to_dict())
    assert a.n_open_trades == int(col("is_open").sum()) > 0
    check(equity, init_cash=10_000.0, periods_per_year=252, trades=ClosedTrades.empty())


def test_closed_trades_built_by_hand_keep_the_numpy_results():
    # non-finite values and a negative duration: the kernel refuses them, the numpy path takes them
    t = ClosedTrades(np.array([5.0, NAN, -3.0]), np.array([0.05, 0.01, np.inf]), np.array([2, -1, 4]), n_open=2)
    with np.errstate(invalid="ignore"):
        check(CURVES["goog_like"][:50], init_cash=10_000.0, periods_per_year=252, trades=t)


# --------------------------------------------------------------------------- hypothesis

def bar_returns():
    return arrays(np.float64, st.integers(1, 70),
                  elements=st.floats(-1.0, 3.0, allow_nan=False) | st.sampled_from([0.0, 0.0, -1.0, 0.01]))


def raw_equity():
    """Any finite curve: zero, negative, tiny and huge values (overflowing returns)."""
    return arrays(np.float64, st.integers(1, 40),
                  elements=st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, 1e-300, 1e300, -1e300]))


@settings(max_examples=250, deadline=None)
@given(data=st.data(), from_returns=st.booleans(), init_cash=st.floats(1e-3, 1e9),
       ppy=st.sampled_from([1.0, 12.0, 252.0, 365.0, 6048.0, 1e8]), rf=st.sampled_from([0.0, 0.04, -0.03]),
       with_bench=st.booleans(), with_held=st.booleans(), n_trades=st.integers(0, 9),
       kind=st.sampled_from(["mixed", "wins", "losses", "flat", "equal"]), years=st.none() | st.floats(0.01, 50.0),
       seed=st.integers(0, 2**32 - 1))
def test_every_field_equals_the_numpy_definitions_on_drawn_inputs(data, from_returns, init_cash, ppy, rf, with_bench,
                                                                  with_held, n_trades, kind, years, seed):
    if from_returns:
        r = data.draw(bar_returns())
        equity = init_cash * np.cumprod(1.0 + r)
    else:
        equity = data.draw(raw_equity())
    rng = np.random.default_rng(seed)
    bench = data.draw(arrays(np.float64, equity.size, elements=st.floats(-0.5, 0.5))) if with_bench else None
    held = rng.random(equity.size) < 0.5 if with_held else None
    trades = trade_arrays(n_trades, rng, kind) if n_trades else None
    check(equity, init_cash=init_cash, periods_per_year=ppy, trades=trades, benchmark=bench, exposure=held,
          risk_free=rf, years=years)


# --------------------------------------------------------------------------- the engine's path

def engine_inputs(seed: int, n_bars: int = 300, n_trades: int = 60) -> dict:
    """Trade records as the engine keeps them: any order, shared exit bars, open trades with NaN."""
    rng = np.random.default_rng(seed)
    entry = rng.integers(0, n_bars // 2, n_trades)
    exit_ = entry + rng.integers(0, 4, n_trades)  # many ties on exit and entry bars
    is_open = rng.random(n_trades) < 0.1
    pnl = np.round(rng.normal(0.0, 30.0, n_trades), 0)
    pnl[is_open] = NAN  # open trades are never read
    return {"equity": 10_000.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.01, n_bars)), "init_cash": 10_000.0,
            "periods_per_year": 252.0, "risk_free": 0.02, "held": rng.random(n_bars) < 0.6,
            "benchmark": rng.normal(0.0, 0.01, n_bars), "fees_paid": 4.5, "slippage_paid": 1.25,
            "pnl": pnl, "ret": pnl / 1_000.0, "entry_bar": entry, "exit_bar": exit_, "is_open": is_open}


@pytest.mark.parametrize("seed", range(8))
def test_engine_path_orders_closed_trades_as_closed_trades_of(seed):
    k = engine_inputs(seed)
    got = _stats._stats_of_engine(**k)
    trades = closed_trades_of(k["pnl"], k["ret"], k["entry_bar"], k["exit_bar"], k["is_open"])
    want = reference(k["equity"], init_cash=k["init_cash"], periods_per_year=k["periods_per_year"], trades=trades,
                     exposure=k["held"], benchmark=k["benchmark"], fees_paid=k["fees_paid"],
                     slippage_paid=k["slippage_paid"], risk_free=k["risk_free"])
    assert_same(got, want)


def test_engine_path_takes_strided_record_fields():
    k = engine_inputs(11)
    rec = np.zeros(k["pnl"].size, dtype=[("pnl", "f8"), ("ret", "f8"), ("entry_bar", "i8"), ("exit_bar", "i8"),
                                          ("is_open", "?")])
    for name in rec.dtype.names:
        rec[name] = k[name]
    fields = {name: rec[name] for name in rec.dtype.names}
    assert not fields["pnl"].flags.c_contiguous
    np.testing.assert_equal(_stats._stats_of_engine(**(k | fields)).to_dict(), _stats._stats_of_engine(**k).to_dict())


@pytest.mark.parametrize("change", [
    {"equity": np.array([1.0, NAN, 2.0])},
    {"benchmark": np.array([0.0, np.inf, 0.0])},
    {"benchmark": np.zeros(2)},
    {"held": np.ones(2, dtype=bool)},
    {"pnl": np.array([1.0, NAN, 2.0])},
    {"exit_bar": np.array([5, 0, 9])},
])
def test_engine_path_refuses_what_compute_stats_rejects(change):
    k = {"equity": np.array([100.0, 101.0, 99.0]), "init_cash": 100.0, "periods_per_year": 252.0, "risk_free": 0.0,
         "held": np.ones(3, dtype=bool), "benchmark": np.zeros(3), "fees_paid": 0.0, "slippage_paid": 0.0,
         "pnl": np.array([1.0, -1.0, 2.0]), "ret": np.array([0.01, -0.01, 0.02]), "entry_bar": np.array([0, 1, 2]),
         "exit_bar": np.array([1, 2, 2]), "is_open": np.zeros(3, dtype=bool)}
    assert _stats._stats_of_engine(**k) is not None
    assert _stats._stats_of_engine(**(k | change)) is None


@pytest.mark.parametrize("setup", ["one_asset", "three_accounts", "shared_cash"])
def test_backtest_stats_equal_compute_stats_of_its_records(setup):
    if setup == "one_asset":
        res = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=20, direction="both"), cash=10_000,
                          fees=0.002, lot_size=1)
    else:
        res = wb.backtest(wb.data.synthetic(400, n_symbols=3, seed=4), SmaCross(fast=3, slow=9),
                          cash_sharing=setup == "shared_cash")
    o, t = res.order_records, res.trade_records
    filled = o["status"] == int(OrderStatus.FILLED)
    trades = closed_trades_of(t["pnl"], t["ret"], t["entry_bar"], t["exit_bar"], t["is_open"])
    assert trades.pnl.size > 5
    kwargs = dict(init_cash=res.init_cash, periods_per_year=res.periods_per_year, trades=trades,
                  exposure=(res.units_values != 0).any(axis=1), benchmark=res.benchmark_returns,
                  fees_paid=float(o["fees"][filled].sum()), slippage_paid=float(o["slippage"][filled].sum()),
                  risk_free=res.config.risk_free)
    equity = res.equity_values.sum(axis=1)
    assert_same(res.stats, reference(equity, **kwargs))
    np.testing.assert_equal(res.stats.to_dict(), compute_stats(equity, **kwargs).to_dict())


@pytest.mark.parametrize("close", [
    np.array([[10.0], [11.0], [10.5], [12.0]]),
    np.array([[10.0, 5.0, 7.0], [11.0, 5.5, 6.0], [10.5, 5.0, 6.5], [12.0, 4.0, 7.5]]),
    np.array([[10.0, NAN], [11.0, 5.0], [NAN, 5.5], [12.0, 6.0]]),
    np.array([[10.0]]),
])
def test_benchmark_returns_equal_the_nanmean_of_the_changes(close):
    got = buy_and_hold_returns(close)
    want = np.zeros(close.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bar with no asset priced on both sides
        want[1:] = np.nanmean(close[1:] / close[:-1] - 1.0, axis=1)
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- the kernel itself

def test_the_output_layout_names_every_figure_but_the_settings():
    settings_ = {"start_equity", "end_equity", "n_bars", "periods_per_year", "risk_free", "total_fees",
                 "total_slippage"}
    assert len(set(snb.FIELDS)) == snb.N_FIELDS == len(snb.FIELDS)
    assert set(snb.FIELDS) | settings_ == set(FIELD_TYPES) and not set(snb.FIELDS) & settings_
    assert set(snb.INT_FIELDS) == {name for name, kind in FIELD_TYPES.items() if kind == "int"} - {"n_bars"}
    for i, name in enumerate(snb.FIELDS):
        assert getattr(snb, name.upper()) == i


def test_the_kernel_returns_a_code_for_each_refused_input():
    out = np.full(snb.N_FIELDS, -7.0)
    f, i, b = np.empty(0), np.empty(0, np.int64), np.empty(0, np.bool_)
    eq = np.array([1.0, 2.0])

    def code(equity=eq, bench=f, held=b, pnl=f, ret=f, entry=i, exit_=i, is_open=b):
        return snb.stats_nb(equity, 1.0, 252.0, 0.0, 1.0, bench, held, pnl, ret, entry, exit_, is_open, out)

    assert code(np.array([1.0, np.inf])) == snb.BAD_EQUITY
    assert code(bench=np.array([0.1])) == snb.BAD_BENCHMARK
    assert code(bench=np.array([0.1, NAN])) == snb.BAD_BENCHMARK
    assert code(held=np.ones(3, np.bool_)) == snb.BAD_EXPOSURE
    one = np.array([1.0])
    assert code(pnl=np.array([np.inf]), ret=one, entry=np.array([0]), exit_=np.array([1]),
                is_open=np.zeros(1, np.bool_)) == snb.BAD_TRADES
    assert code(pnl=one, ret=one, entry=np.array([3]), exit_=np.array([1]), is_open=np.zeros(1, np.bool_)) == snb.BAD_TRADES
    assert (out == -7.0).all()  # a refused input leaves the output alone
    assert code(pnl=np.array([NAN]), ret=one, entry=np.array([3]), exit_=np.array([1]),
                is_open=np.ones(1, np.bool_)) == snb.OK  # open trades are not read
    assert out[snb.N_OPEN_TRADES] == 1.0 and out[snb.N_TRADES] == 0.0


@njit(cache=False)
def _numpy_sum(a):
    return snb._sum_nb(a, a.shape[0])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 127, 128, 129, 136, 255, 256, 257, 1_000, 2_148, 8_193, 70_001])
def test_sums_follow_numpy_pairwise_summation_bit_for_bit(n):
    a = np.random.default_rng(n).standard_cauchy(n) * 10.0 ** np.random.default_rng(n + 1).integers(-8, 8, n)
    assert _numpy_sum(a) == a.sum()


TIERS = """
import json, os
import workbench as wb
from workbench.metrics import stats as ms
bars, strategy = wb.data.sample("GOOG"), wb.strategies.SmaCross(fast=10, slow=20, direction="both")
seen = []
for _ in range(3):
    r = wb.backtest(bars, strategy, cash=10_000, fees=0.002, lot_size=1)
    seen.append([ms._KERNEL is not None, r.stats.to_dict()])
    seen[-1][0] = ms._KERNEL is not None
print(json.dumps(seen))
"""


@pytest.mark.parametrize(("mode", "used"), [("auto", [False, True, True]), ("never", [False] * 3),
                                            ("always", [True] * 3)])
def test_the_first_computation_of_a_process_uses_numpy_then_the_kernel(mode, used, tmp_path):
    """In a fresh process (kernel cached), the NumPy definitions serve the first computation and
    the kernel the later ones, with the same figures; ``never`` and ``always`` pin one path."""
    import json
    import os
    import subprocess
    import sys

    compute_stats([1.0, 2.0], init_cash=1.0, periods_per_year=252)  # the kernel is in the cache
    env = {**os.environ, "WORKBENCH_STATS_KERNEL": mode}
    out = subprocess.run([sys.executable, "-c", TIERS], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert [k for k, _ in seen] == used
    assert all(figures == seen[0][1] for _, figures in seen)
