"""Grid and random search: the fused kernel against the engine, the engine path, ranking,
stability, plots, overfitting figures and bad input.

Oracles: ``workbench.backtest`` per parameter set (the engine the fused kernel must equal within
1e-9), vectorbt's ``MA.run_combs`` → ``Portfolio.from_signals`` for the reference sweep's total
returns, and plain numpy for neighbourhoods and rankings.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError, OptimizationError, StrategyError
from workbench.nb import sweep as nbsweep
from workbench.optimize import _evaluate as ev
from workbench.optimize import grid, random
from workbench.strategies import EmaCross, Param, RsiMeanReversion, Signals, SmaCross, Strategy


@pytest.fixture(scope="module")
def goog() -> pl.DataFrame:
    return wb.data.sample("GOOG")


def _close(a: float, b: float) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


SETTINGS = [
    {"fees": 0.002},
    {"fees": 0.002, "fill": "same_close"},
    {"fees": 0.001, "lot_size": 1, "slippage": 0.001, "spread": 0.0005, "slippage_ticks": 2},
    {"fixed_fees": 3.0, "leverage": 2.0, "size": 1.5, "maintenance_margin": 0.5},
    {"fees": 0.002, "reverse": False, "fill": "same_close", "cash": 5_000},
    {"fees": 0.0005, "risk_free": 0.03, "size": 0.5},
]


@pytest.mark.parametrize("metric", ["sharpe_ratio", "total_return"])  # with and without the equity path
@pytest.mark.parametrize("cls", [SmaCross, EmaCross])
@pytest.mark.parametrize("settings", SETTINGS, ids=[str(i) for i in range(len(SETTINGS))])
def test_fused_sweep_equals_the_engine_on_random_sets(goog, cls, settings, metric):
    res = random(goog, cls, n_sets=40, seed=len(settings), fast=(2, 60), slow=(3, 250),
                 direction=["long", "short", "both"], overfit=False, metric=metric, **settings)
    assert res.engine == "fused"
    names = nbsweep.SWEEP_METRICS if metric in nbsweep.PATH_METRICS else [
        m for m in nbsweep.SWEEP_METRICS if m not in nbsweep.PATH_METRICS]
    rng = np.random.default_rng(3)
    for i in rng.choice(res.frame.height, size=5, replace=False):
        row = res.frame.row(int(i), named=True)
        strat = cls(fast=row["fast"], slow=row["slow"], direction=row["direction"])
        stats = wb.backtest(goog, strat, **settings).stats.to_dict()
        for name in names:
            assert _close(float(row[name]), float(stats[name])), (strat, name, row[name], stats[name])


def test_fused_and_engine_paths_give_the_same_frame(goog):
    kw = {"fast": range(3, 40, 6), "slow": range(10, 120, 15), "direction": ["long", "both"], "fees": 0.002,
          "metric": "sortino_ratio"}
    fused = grid(goog, SmaCross, **kw)
    engine = grid(goog, SmaCross, engine="backtest", **kw)
    assert fused.engine == "fused" and engine.engine == "backtest"
    assert fused.frame["set"].to_list() == engine.frame["set"].to_list()
    for name in nbsweep.SWEEP_METRICS:
        a, b = fused.frame[name].to_numpy().astype(float), engine.frame[name].to_numpy().astype(float)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), name
    assert fused.best_params == engine.best_params
    assert fused.overfit.dsr == pytest.approx(engine.overfit.dsr, abs=1e-9)
    assert fused.overfit.pbo.pbo == pytest.approx(engine.overfit.pbo.pbo)


@pytest.mark.parametrize("windows", [5, 2], ids=["tiles", "per-block"])
def test_tiled_and_streamed_averages_equal_one_window_table(goog, monkeypatch, windows):
    kw = {"fast": range(2, 30, 3), "slow": range(20, 200, 20), "direction": "both", "fees": 0.001}
    table = grid(goog, EmaCross, **kw)
    monkeypatch.setattr(ev, "_TABLE_BYTES", windows * 8 * goog.height)  # room for `windows` averages
    small = grid(goog, EmaCross, **kw)
    assert table.frame.equals(small.frame)
    assert table.overfit.pbo.pbo == small.overfit.pbo.pbo


def _exact_tie(close: np.ndarray, f: int, s: int) -> bool:
    """Whether SMA(f) equals SMA(s) exactly (rational arithmetic on the prices' decimals) at
    some bar: a crossing decided by rounding noise in a rolling-mean implementation."""
    from fractions import Fraction

    x = [Fraction(repr(float(v))) for v in close]
    csum = np.cumsum(np.array([0, *x], dtype=object))
    for t in range(s - 1, len(x)):
        if (csum[t + 1] - csum[t + 1 - f]) * s == (csum[t + 1] - csum[t + 1 - s]) * f:
            return True
    return False


def test_reference_sweep_total_returns_equal_vectorbt(goog):
    """vectorbt's own pipeline (MA.run_combs → crossed signals → from_signals) on a part of the
    reference sweep: equal total returns within 1e-9, except where vectorbt's rolling mean puts
    a few 1e-12 of noise on an exact tie of the two averages (checked in rational arithmetic);
    fed the same averages, vectorbt's signals and simulation agree on every set."""
    import pandas as pd
    import vectorbt as vbt  # a peer oracle in the [dev] extra

    close = goog.select("ts", "close").to_pandas().set_index("ts")["close"]
    windows = list(range(2, 32))
    fast, slow = vbt.MA.run_combs(close, window=windows, r=2, short_names=["fast", "slow"])
    pf = vbt.Portfolio.from_signals(close, fast.ma_crossed_above(slow), fast.ma_crossed_below(slow),
                                    fees=0.002, init_cash=10_000, freq="1D")
    theirs = pf.total_return()
    res = grid(goog, SmaCross, fast=range(2, 31), slow=range(3, 32), direction="long", fill="same_close",
               fees=0.002, metric="total_return", overfit=False)
    ours = {(r["fast"], r["slow"]): r["total_return"] for r in res.frame.iter_rows(named=True)}
    assert len(ours) == len(theirs) == 435
    c = close.to_numpy()
    differ = [(f, s) for (f, s), v in theirs.items() if abs(ours[(f, s)] - v) > 1e-9 * max(1.0, abs(v))]
    assert len(differ) <= 10
    assert all(_exact_tie(c, f, s) for f, s in differ)
    # the same averages on both sides: vectorbt's crossing rule and simulation, every set
    from workbench.indicators import sma

    keys = list(theirs.index)
    fa = pd.DataFrame({k: sma(c, k[0]) for k in keys}, index=close.index)
    sa = pd.DataFrame({k: sma(c, k[1]) for k in keys}, index=close.index)
    same = vbt.Portfolio.from_signals(close, fa.vbt.crossed_above(sa), fa.vbt.crossed_below(sa), fees=0.002,
                                      init_cash=10_000, freq="1D").total_return()
    for k in keys:
        assert ours[k] == pytest.approx(same[k], rel=1e-9, abs=1e-9), k


def test_engine_path_for_other_strategies_equals_backtest(goog):
    res = grid(goog, RsiMeanReversion, window=[7, 14], lower=[25.0, 30.0], upper=[70.0], direction="both",
               metric="calmar_ratio", fees=0.001)
    assert res.engine == "backtest" and res.frame.height == 4
    for row in res.frame.iter_rows(named=True):
        params = {k: row[k] for k in res.params}
        stats = wb.backtest(goog, RsiMeanReversion(**params), fees=0.001).stats.to_dict()
        for name, value in stats.items():
            assert _close(float(row[name]), float(value)), name


def test_process_pool_equals_sequential(goog):
    kw = {"window": [5, 10, 20], "lower": [30.0], "upper": [60.0, 70.0], "direction": "long", "overfit": False}
    seq = grid(goog, RsiMeanReversion, **kw)
    par = grid(goog, RsiMeanReversion, n_jobs=2, **kw)
    assert seq.frame.equals(par.frame)


def test_ranking_goal_top_and_best(goog):
    kw = {"fast": range(5, 40, 5), "slow": range(20, 120, 20), "direction": "long", "overfit": False}
    hi = grid(goog, SmaCross, metric="max_drawdown", **kw)
    lo = grid(goog, SmaCross, metric="max_drawdown", goal="minimize", **kw)
    values = hi.frame["max_drawdown"].to_numpy()
    assert hi.best["max_drawdown"] == values.max() and lo.best["max_drawdown"] == values.min()
    assert (np.diff(hi.frame["max_drawdown"].to_numpy()) <= 0).all()
    assert hi.top(3).equals(hi.frame.head(3))
    assert hi.best_strategy() == SmaCross(**hi.best_params)
    assert hi.backtest().stats.max_drawdown == pytest.approx(hi.best["max_drawdown"], abs=1e-12)


def test_callable_metric_runs_the_engine(goog):
    def trades_per_year(result):
        return result.stats.n_trades / (result.stats.n_bars / result.periods_per_year)

    res = grid(goog, SmaCross, fast=[5, 10], slow=[30, 60], direction="long", metric=trades_per_year, overfit=False)
    assert res.engine == "backtest" and res.metric == "trades_per_year"
    for row in res.frame.iter_rows(named=True):
        assert row["trades_per_year"] == pytest.approx(row["n_trades"] / (row["n_bars"] / 252.0))


def test_stability_is_the_neighbourhood_of_the_best(goog):
    res = grid(goog, SmaCross, fast=range(2, 30), slow=range(10, 60, 2), direction="long", metric="total_return",
               fees=0.002, overfit=False)
    st = res.stability(radius=2)
    b = res.best
    fasts, slows = sorted(set(res.frame["fast"])), sorted(set(res.frame["slow"]))
    fi, si = fasts.index(b["fast"]), slows.index(b["slow"])
    near = [r["total_return"] for r in res.frame.iter_rows(named=True)
            if abs(fasts.index(r["fast"]) - fi) <= 2 and abs(slows.index(r["slow"]) - si) <= 2 and r["set"] != b["set"]]
    assert st.n_neighbours == len(near)
    assert st.neighbour_mean == pytest.approx(np.mean(near))
    assert st.drop == pytest.approx(b["total_return"] - np.mean(near)) and st.drop >= 0
    assert st.neighbour_worst == pytest.approx(min(near))


def test_heatmap_and_parallel_coordinates_render(goog):
    import holoviews as hv  # the [dashboards] extra, in [dev]
    res = grid(goog, SmaCross, fast=range(5, 30, 5), slow=range(30, 90, 10), direction=["long", "both"],
               overfit=False)
    heat = res.heatmap("fast", "slow", agg="mean")
    assert isinstance(heat, hv.HeatMap)
    data = heat.dframe()
    want = res.frame.group_by("fast", "slow").agg(pl.col("sharpe_ratio").mean()).sort("fast", "slow")
    assert np.allclose(np.sort(data["sharpe_ratio"].to_numpy()), np.sort(want["sharpe_ratio"].to_numpy()))
    hv.render(heat, backend="bokeh")
    hv.render(res.parallel_coordinates(), backend="bokeh")
    with pytest.raises(InvalidParameterError, match="Did you mean 'fast'"):
        res.heatmap("fats", "slow")


class CoinFlip(Strategy):
    """Pure noise: long or short at random, independent of prices and of other seeds."""

    seed = Param(0, low=0, high=100_000)

    def signals(self, bars):
        rng = np.random.default_rng(self.seed)
        n = bars.n_bars
        return Signals(entries=rng.random(n) < 0.05, short_entries=rng.random(n) < 0.05)


def test_noise_search_is_flagged_as_overfit():
    """The best of 100 pure-noise strategies looks significant alone (PSR) but not after the
    deflation, and CSCV ranks its in-sample winner at the out-of-sample median (PBO ~ 0.5)."""
    psr, dsr, pbo = [], [], []
    for seed in range(4):
        res = grid(wb.data.synthetic(800, seed=seed, mu=0.0), CoinFlip, seed=range(100))
        psr.append(res.overfit.psr)
        dsr.append(res.overfit.dsr)
        pbo.append(res.overfit.pbo.pbo)
        assert res.overfit.n_trials == 100 and res.overfit.pbo_sets == 100
    assert np.mean(psr) > 0.95
    assert np.mean(dsr) < 0.75 and min(dsr) < 0.5
    assert np.mean(pbo) > 0.35


def test_a_consistent_edge_has_a_low_probability_of_overfitting():
    """On bars that trend strongly, the in-sample winner stays a winner out of sample."""
    bars = wb.data.synthetic(1500, seed=4, mu=0.8, sigma=0.15)
    res = grid(bars, SmaCross, fast=range(5, 40, 5), slow=range(50, 200, 25), direction="long")
    assert res.overfit.psr > 0.99 and res.overfit.pbo.pbo < 0.35


def test_bad_input_errors(goog):
    with pytest.raises(InvalidParameterError, match=r"`metric` must be a field of workbench.metrics.Stats .* Did you mean 'sharpe_ratio'\?"):
        grid(goog, SmaCross, metric="sharp_ratio")
    with pytest.raises(InvalidParameterError, match=r"'feez' is neither a parameter of SmaCross nor a backtest setting. Did you mean 'fees'\?"):
        grid(goog, SmaCross, feez=0.001)
    with pytest.raises(InvalidParameterError, match="lies outside the declared bounds"):
        grid(goog, SmaCross, fast=(1, 10))
    with pytest.raises(OptimizationError, match="no parameter set satisfies"):
        grid(goog, SmaCross, fast=range(50, 60), slow=range(10, 20))
    with pytest.raises(OptimizationError, match="range given for `slow` is empty"):
        grid(goog, SmaCross, slow=range(0))
    with pytest.raises(OptimizationError, match="RsiMeanReversion has no fused kernel"):
        grid(goog, RsiMeanReversion, engine="fused", window=[14])
    with pytest.raises(InvalidParameterError, match=r"`goal` must be one of 'maximize', 'minimize'; got 'max'"):
        grid(goog, SmaCross, goal="max")
    with pytest.raises(InvalidParameterError, match=r"`slow` must be an integer in \[1, 100\] \(the number of bars\); got 150"):
        grid(goog.head(100), SmaCross, fast=[5], slow=[150], direction="long")
    with pytest.raises(InvalidParameterError, match="must be a Strategy class"):
        grid(goog, "SmaCross")


def test_long_only_sweeps_without_shorting_stay_fused(goog):
    kw = {"fast": range(3, 30, 4), "slow": range(30, 90, 15), "fees": 0.001, "allow_short": False, "overfit": False}
    fused = grid(goog, SmaCross, direction="long", **kw)
    assert fused.engine == "fused"
    engine = grid(goog, SmaCross, direction="long", engine="backtest", **kw).frame.select(fused.frame.columns)
    assert fused.frame["set"].to_list() == engine["set"].to_list()
    for name in nbsweep.SWEEP_METRICS:
        assert np.allclose(fused.frame[name].to_numpy().astype(float), engine[name].to_numpy().astype(float),
                           rtol=1e-9, atol=1e-9, equal_nan=True), name
    with pytest.raises(StrategyError, match="allow_short"):  # the engine refuses the short sets
        grid(goog, SmaCross, direction=["long", "both"], **kw)
