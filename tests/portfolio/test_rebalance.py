"""Target-weight rebalancing against a plain numpy reference and vectorbt, properties, bad input.

The exact comparisons on the 20-stock sample use ``fill="same_close"`` and fractional units with
no costs: a decision at a close trades at that close, which is vectorbt's ``from_orders`` default
(orders at the close, ``call_seq="auto"`` selling before buying in one shared account).
"""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
import workbench.nb.rebalance as nb_rebalance
from workbench.errors import DataValidationError, InvalidParameterError, StrategyError
from workbench.nb.enums import OrderStatus
from workbench.portfolio import PortfolioResult, TargetWeights, rebalance


@pytest.fixture(scope="module")
def stocks() -> pl.DataFrame:
    return wb.data.sample("STOCKS20")


@pytest.fixture(scope="module")
def stock_arrays(stocks: pl.DataFrame) -> wb.data.BarArrays:
    return wb.data.to_arrays(stocks)


def month_starts(ts: np.ndarray) -> np.ndarray:
    """First bar of each calendar month (pandas periods, independent of the library's calendar)."""
    return ~pd.DatetimeIndex(ts).to_period("M").duplicated()


def reference_rebalance(close: np.ndarray, mask: np.ndarray, w: np.ndarray, cash: float) -> tuple[np.ndarray, np.ndarray]:
    """Same-close rebalancing without costs: at a marked close, hold ``w · equity / close`` units."""
    n, m = close.shape
    units, equity, held = np.zeros(m), np.empty(n), np.empty((n, m))
    for t in range(n):
        eq = cash + units @ close[t]
        if mask[t]:
            new = w * eq / close[t]
            cash -= (new - units) @ close[t]
            units = new
        equity[t], held[t] = cash + units @ close[t], units
    return equity, held


def reference_next_open(o: np.ndarray, c: np.ndarray, mask: np.ndarray, w: np.ndarray, cash: float,
                        fees: float, slip: float) -> np.ndarray:
    """Next-open fills with proportional fees and slippage: decide at a marked close; at the next
    open sell down every asset above its target (``w · equity / open``), then buy the others up to
    theirs, in asset order; each order is sized on the equity just before it (valued at the raw
    open), so the costs of earlier orders shrink later targets."""
    n, m = c.shape
    units, equity, pending = np.zeros(m), np.empty(n), False
    for t in range(n):
        if pending:
            for side in (-1, 1):
                for j in range(m):
                    delta = w[j] * (cash + units @ o[t]) / o[t, j] - units[j]
                    if np.sign(delta) == side:
                        price = o[t, j] * (1 + side * slip)
                        cash -= delta * price + abs(delta) * price * fees
                        units[j] += delta
            pending = False
        if mask[t]:
            pending = True
        equity[t] = cash + units @ c[t]
    return equity


# -- exact agreement ----------------------------------------------------------------------------

def test_equal_weight_monthly_matches_numpy(stocks: pl.DataFrame, stock_arrays: wb.data.BarArrays) -> None:
    close = stock_arrays.close
    m = close.shape[1]
    res = rebalance(stocks, np.full(m, 1 / m), schedule="monthly", fill="same_close", cash=10_000)
    ref_eq, ref_units = reference_rebalance(close, month_starts(stock_arrays.ts), np.full(m, 1 / m), 10_000.0)
    np.testing.assert_allclose(res.equity["equity"].to_numpy(), ref_eq, rtol=1e-9, atol=0)
    np.testing.assert_allclose(res.units_values, ref_units, rtol=1e-9, atol=1e-12)
    assert isinstance(res, wb.BacktestResult)
    assert res.rebalances.height == int(month_starts(stock_arrays.ts).sum())


def test_equal_weight_monthly_matches_vectorbt(stocks: pl.DataFrame, stock_arrays: wb.data.BarArrays) -> None:
    import vectorbt as vbt  # a peer oracle in the [dev] extra
    close = stock_arrays.close
    n, m = close.shape
    mask = month_starts(stock_arrays.ts)
    size = np.full((n, m), np.nan)
    size[mask] = 1 / m
    frame = pd.DataFrame(close, index=pd.DatetimeIndex(stock_arrays.ts), columns=stock_arrays.symbols)
    pf = vbt.Portfolio.from_orders(frame, size=size, size_type="targetpercent", group_by=True, cash_sharing=True,
                                   call_seq="auto", init_cash=10_000, freq="1D")
    res = rebalance(stocks, {s: 1 / m for s in stock_arrays.symbols}, fill="same_close", cash=10_000)
    np.testing.assert_allclose(res.equity["equity"].to_numpy(), pf.value().to_numpy(), rtol=1e-6)
    assert res.orders.filter(pl.col("status") == "filled").height == len(pf.orders.records)


def test_next_open_with_costs_matches_reference() -> None:
    bars = wb.data.synthetic(300, n_symbols=5, seed=11)
    arr = wb.data.to_arrays(bars)
    w = np.array([0.3, 0.25, 0.2, 0.15, 0.05])
    res = rebalance(bars, w, schedule="weekly", exposure=0.95, fees=0.001, slippage=0.0005)
    mask = ~pd.DatetimeIndex(arr.ts).to_period("W").duplicated()
    ref = reference_next_open(arr.open, arr.close, mask, w, 10_000.0, 0.001, 0.0005)
    np.testing.assert_allclose(res.equity["equity"].to_numpy(), ref, rtol=1e-9)
    reb = res.rebalances
    assert (reb["fill_ts"].drop_nulls() > reb["ts"].head(reb["fill_ts"].drop_nulls().len())).all()


def test_drift_bands_match_reference() -> None:
    bars = wb.data.synthetic(400, n_symbols=3, seed=3, sigma=0.5)
    close = wb.data.to_arrays(bars).close
    w = np.array([0.5, 0.3, 0.2])
    res = rebalance(bars, w, schedule=None, drift=0.04, fill="same_close")
    n, m = close.shape
    units, cash, marks = np.zeros(m), 10_000.0, []
    for t in range(n):
        eq = cash + units @ close[t]
        if t == 0 or np.abs(units * close[t] / eq - w).max() > 0.04:
            marks.append(t)
            new = w * eq / close[t]
            cash -= (new - units) @ close[t]
            units = new
    bars_hit = np.flatnonzero(res.trigger > 0)
    assert bars_hit.tolist() == marks
    assert res.rebalances["trigger"].to_list() == ["schedule"] + ["drift"] * (len(marks) - 1)
    assert len(marks) > 3


def test_weights_frame_and_custom_dates() -> None:
    bars = wb.data.synthetic(90, n_symbols=3, seed=5)
    cal = wb.data.to_arrays(bars).ts
    ts = pl.Series(cal[[0, 40]]).dt.replace_time_zone("UTC")
    frame = pl.DataFrame({"ts": ts, "S0": [1.0, 0.0], "S2": [0.0, 1.0]})
    res = rebalance(bars, frame, schedule=None, fill="same_close")
    w = res.weights
    assert w["S0"][0] == pytest.approx(1.0) and w["S2"][40] == pytest.approx(1.0)
    assert w["S0"][40] == pytest.approx(0.0, abs=1e-12) and w["S1"].abs().max() == 0.0
    # a custom schedule: each date rebalances at the first bar at or after it (dates as text and datetimes)
    res2 = rebalance(bars, [0.2, 0.3, 0.5], schedule=["2000-01-15", cal[60]], fill="same_close")
    assert np.flatnonzero(res2.trigger).tolist() == [14, 60]
    assert res2.equity["cash"][13] == 10_000.0


def test_cash_buffer_and_exposure_limits() -> None:
    bars = wb.data.synthetic(60, n_symbols=4, seed=2)
    res = rebalance(bars, [0.4, 0.3, 0.2, 0.1], cash_buffer=0.1, fill="same_close")
    row0 = res.weights.row(0, named=True)
    assert sum(row0[s] for s in ("S0", "S1", "S2", "S3")) == pytest.approx(0.9, abs=1e-12)
    assert row0["cash"] == pytest.approx(0.1, abs=1e-12)
    ls = rebalance(bars, [0.8, 0.6, -0.3, -0.1], max_gross=1.2, leverage=2.0, fill="same_close")
    t0 = ls.targets.drop("ts").to_numpy()[0]
    np.testing.assert_allclose(np.abs(t0).sum(), 1.2)
    np.testing.assert_allclose(t0 / t0[0], np.array([0.8, 0.6, -0.3, -0.1]) / 0.8)
    held = ls.weight_values[0]
    np.testing.assert_allclose(held, t0, atol=1e-12)
    net = rebalance(bars, [0.8, 0.6, -0.3, -0.1], max_net=0.5, leverage=2.0, fill="same_close")
    assert net.targets.drop("ts").to_numpy()[0].sum() == pytest.approx(0.5)


def test_whole_units_and_records() -> None:
    bars = wb.data.synthetic(120, n_symbols=4, seed=8, price=37.0)
    res = rebalance(bars, [0.25] * 4, lot_size=1, fees=0.002, fixed_fees=1.0)
    assert np.all(res.units_values == np.round(res.units_values))
    filled = res.orders.filter(pl.col("status") == "filled")
    reb = res.rebalances
    assert reb["fees"].sum() == pytest.approx(filled["fees"].sum())
    assert reb["n_orders"].sum() == res.orders.height
    assert (reb["cost"] >= 0).all() and (reb["turnover"].drop_nulls() >= 0).all()
    first = reb.row(0, named=True)
    assert 0.9 < first["turnover"] <= 1.0
    # orders are linked to the rebalance that decided them
    assert set(res.orders["signal_ts"].to_list()) <= set(reb["ts"].to_list())


def test_sells_before_buys_within_a_bar() -> None:
    bars = wb.data.synthetic(40, n_symbols=2, seed=4)
    cal = pl.Series(wb.data.to_arrays(bars).ts).dt.replace_time_zone("UTC")
    frame = pl.DataFrame({"ts": cal.gather([0, 20]), "S0": [0.0, 1.0], "S1": [1.0, 0.0]})
    res = rebalance(bars, frame, schedule=None)
    second = res.orders.filter(pl.col("signal_bar") == 20)
    assert second["side"].to_list() == ["sell", "buy"] and second["symbol"].to_list() == ["S1", "S0"]
    assert (second["status"] == "filled").all()


def test_risk_and_return_contributions() -> None:
    bars = wb.data.synthetic(250, n_symbols=3, seed=9)
    res = rebalance(bars, [0.5, 0.3, 0.2], schedule="monthly", fill="same_close")
    rc = res.risk_contributions
    assert rc["risk_contribution"].sum() == pytest.approx(1.0)
    # without costs and with same-close fills the attribution is exact
    r = res.returns["return"].to_numpy()
    assert rc["return_contribution"].sum() == pytest.approx(r.sum(), rel=1e-9)
    dd = res.drawdown["drawdown"].to_numpy()
    assert dd.min() == pytest.approx(res.stats.max_drawdown) and dd.max() <= 0
    assert res.weights.columns == ["ts", "S0", "S1", "S2", "cash"]


def test_benchmark_symbol_and_result(stocks: pl.DataFrame, stock_arrays: wb.data.BarArrays) -> None:
    sym = stock_arrays.symbols[0]
    res = rebalance(stocks, {sym: 0.5, stock_arrays.symbols[1]: 0.5}, benchmark=sym)
    c = stock_arrays.close[:, 0]
    assert res.stats.benchmark_return == pytest.approx(c[-1] / c[0] - 1, rel=1e-9)
    assert res.benchmark["equity"][-1] == pytest.approx(10_000 * c[-1] / c[0], rel=1e-9)
    other = rebalance(stocks, {sym: 1.0}, benchmark=res)
    np.testing.assert_allclose(other.benchmark_returns, res.returns["return"].to_numpy())
    with pytest.raises(InvalidParameterError, match="Did you mean"):
        rebalance(stocks, {sym: 1.0}, benchmark=sym.lower() + "x")


def test_identity_save_and_plots(tmp_path) -> None:
    bars = wb.data.synthetic(60, n_symbols=3, seed=1)
    a = rebalance(bars, [0.5, 0.3, 0.2])
    b = rebalance(bars, [0.5, 0.3, 0.2])
    c = rebalance(bars, [0.2, 0.3, 0.5])
    assert a.run_id == b.run_id != c.run_id
    assert a.strategy.method == "fixed" and a.strategy.schedule == "monthly"
    store = wb.Store(f"sqlite:///{tmp_path / 'store.db'}", artifacts_dir=tmp_path / "art")
    rid = a.save(store)
    assert store.run(rid).metrics["total_return"] == pytest.approx(a.stats.total_return)
    import holoviews as hv

    assert isinstance(a.plot(), hv.Layout)
    assert a.plot_weights() is not None and a.plot_risk_contributions() is not None
    with pytest.raises(StrategyError, match="rebalance"):
        wb.backtest(bars, TargetWeights())


def test_kernel_module_imports_no_frames() -> None:
    tree = ast.parse(inspect.getsource(nb_rebalance))
    names = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
             for a in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
    assert not names & {"polars", "pandas", "sqlmodel", "sqlalchemy"}


# -- properties ---------------------------------------------------------------------------------

@st.composite
def portfolios(draw: st.DrawFn) -> dict:
    m = draw(st.integers(2, 5))
    raw = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m)))
    return {
        "m": m, "w": raw / raw.sum(), "seed": draw(st.integers(0, 10_000)),
        "fees": draw(st.sampled_from([0.0, 0.0005, 0.003])), "slippage": draw(st.sampled_from([0.0, 0.001])),
        "lot_size": draw(st.sampled_from([0.0, 1.0])), "fill": draw(st.sampled_from(["next_open", "same_close"])),
        "schedule": draw(st.sampled_from(["daily", "weekly", "monthly"])),
        "drift": draw(st.sampled_from([None, 0.02])), "buffer": draw(st.sampled_from([0.0, 0.05])),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_properties(p: dict) -> None:
    bars = wb.data.synthetic(80, n_symbols=p["m"], seed=p["seed"], sigma=0.6, price=50.0)
    res = rebalance(bars, p["w"], schedule=p["schedule"], drift=p["drift"], cash_buffer=p["buffer"],
                    fees=p["fees"], slippage=p["slippage"], lot_size=p["lot_size"], fill=p["fill"])
    eq = res.equity_values[:, 0]
    cash = res.cash_values[:, 0]
    # no negative cash without leverage (up to float round-off of a fully invested account)
    assert (cash >= -1e-9 * eq).all()
    # cash + holdings = equity
    np.testing.assert_allclose(cash + (res.units_values * wb.data.to_arrays(bars).close).sum(axis=1), eq, rtol=1e-12)
    o = res.order_records
    filled = o[o["status"] == int(OrderStatus.FILLED)]
    assert (filled["fees"] >= 0).all() and (filled["slippage"] >= 0).all()
    reb = res.rebalances
    assert (reb["cost"] >= 0).all() and (reb["fees"] >= 0).all()
    # weights right after a same-close rebalance sum to the target exposure (exactly without costs)
    target = 1.0 - p["buffer"]
    bars_hit = np.flatnonzero(res.trigger > 0)
    sums = res.weight_values[bars_hit].sum(axis=1) if p["fill"] == "same_close" else None
    if sums is not None:
        if p["fees"] == 0 and p["slippage"] == 0 and p["lot_size"] == 0:
            np.testing.assert_allclose(sums, target, atol=1e-9)
        else:  # costs and whole units move the weights off the targets by at most their size
            lots = p["lot_size"] * res.view.close[bars_hit].sum(axis=1) / eq[bars_hit]
            assert (np.abs(sums - target) <= 2 * (p["fees"] + p["slippage"]) + lots + 1e-9).all()


@settings(max_examples=15, deadline=None)
@given(st.permutations(["S0", "S1", "S2", "S3"]))
def test_column_order_invariance(order: list[str]) -> None:
    bars = wb.data.synthetic(70, n_symbols=4, seed=21)
    w = {"S0": 0.1, "S1": 0.2, "S2": 0.3, "S3": 0.4}
    base = rebalance(bars, w, fees=0.001)
    shuffled = rebalance(bars, {k: w[k] for k in order}, fees=0.001)
    np.testing.assert_array_equal(base.equity_values, shuffled.equity_values)


# -- bad input ----------------------------------------------------------------------------------

def test_weights_that_do_not_sum_as_declared() -> None:
    bars = wb.data.synthetic(30, n_symbols=3, seed=1)
    with pytest.raises(DataValidationError, match=r"sum to 0\.9.*`exposure` declares 1"):
        rebalance(bars, [0.5, 0.3, 0.1])
    res = rebalance(bars, [0.5, 0.3, 0.1], exposure=None, fill="same_close")
    assert res.weights["cash"][0] == pytest.approx(0.1)
    with pytest.raises(DataValidationError, match="sum to"):
        rebalance(bars, [0.5, 0.5, 0.5], exposure=0.0, allow_short=True)


def test_unknown_assets() -> None:
    bars = wb.data.synthetic(30, n_symbols=3, seed=1)
    with pytest.raises(InvalidParameterError, match="'S0x'.*Did you mean 'S0'"):
        rebalance(bars, {"S0": 0.5, "S0x": 0.5})
    ts = pl.Series(wb.data.to_arrays(bars).ts[:1]).dt.replace_time_zone("UTC")
    with pytest.raises(InvalidParameterError, match="'s1'"):
        rebalance(bars, pl.DataFrame({"ts": ts, "S0": [0.5], "s1": [0.5]}))
    with pytest.raises(InvalidParameterError, match="2 values but the bars have 3 symbols"):
        rebalance(bars, [0.5, 0.5])


def test_misaligned_calendars() -> None:
    bars = wb.data.synthetic(30, n_symbols=2, seed=1)
    ts = pl.Series(wb.data.to_arrays(bars).ts[:2]).dt.replace_time_zone("UTC").dt.offset_by("1h")
    with pytest.raises(DataValidationError, match="misaligned calendars"):
        rebalance(bars, pl.DataFrame({"ts": ts, "S0": [1.0, 0.5], "S1": [0.0, 0.5]}))
    ragged = bars.filter(~((pl.col("symbol") == "S0") & (pl.col("ts") == pl.col("ts").min().dt.offset_by("3d"))))
    with pytest.raises(DataValidationError, match="calendar"):
        rebalance(ragged, [0.5, 0.5])
    with pytest.raises(DataValidationError, match="after the last bar"):
        rebalance(bars, [0.5, 0.5], schedule=["2030-01-01"])


def test_lookback_longer_than_history() -> None:
    bars = wb.data.synthetic(50, n_symbols=3, seed=1)
    with pytest.raises(InvalidParameterError, match=r"`lookback` must be at most .* got 60, but the bars give only 49"):
        rebalance(bars, "min_variance", lookback=60)


def test_negative_prices() -> None:
    bars = wb.data.synthetic(30, n_symbols=2, seed=1)
    bad = bars.with_columns(pl.when((pl.col("symbol") == "S1") & (pl.col("ts") == pl.col("ts").max()))
                            .then(-1.0).otherwise(pl.col("low")).alias("low"))
    with pytest.raises(DataValidationError, match="low"):
        rebalance(bad, [0.5, 0.5])


def test_other_bad_settings() -> None:
    bars = wb.data.synthetic(30, n_symbols=2, seed=1)
    with pytest.raises(InvalidParameterError, match="gross exposure 1.5.*leverage"):
        rebalance(bars, [1.0, -0.5], exposure=0.5)
    with pytest.raises(InvalidParameterError, match="allow_short"):
        rebalance(bars, [1.5, -0.5], allow_short=False, leverage=2)
    with pytest.raises(InvalidParameterError, match="Did you mean 'monthly'"):
        rebalance(bars, [0.5, 0.5], schedule="montly")
    with pytest.raises(InvalidParameterError, match="cash_sharing"):
        rebalance(bars, [0.5, 0.5], cash_sharing=False)
    with pytest.raises(InvalidParameterError, match="cash_buffer"):
        rebalance(bars, [0.5, 0.5], cash_buffer=1.0)
    with pytest.raises(InvalidParameterError, match="drift"):
        rebalance(bars, [0.5, 0.5], drift=-0.1)
    ts = pl.Series(wb.data.to_arrays(bars).ts[:1]).dt.replace_time_zone("UTC")
    with pytest.raises(DataValidationError, match="null"):
        rebalance(bars, pl.DataFrame({"ts": ts, "S0": [None], "S1": [1.0]}, schema_overrides={"S0": pl.Float64}))
    with pytest.raises(DataValidationError, match="two rows"):
        rebalance(bars, pl.DataFrame({"ts": pl.concat([ts, ts]), "S0": [0.5, 0.5], "S1": [0.5, 0.5]}))
    with pytest.raises(InvalidParameterError, match="unknown backtest setting"):
        rebalance(bars, [0.5, 0.5], feez=0.1)


def test_result_type() -> None:
    res = rebalance(wb.data.synthetic(30, n_symbols=2, seed=1), [0.5, 0.5])
    assert isinstance(res, PortfolioResult) and isinstance(res, wb.BacktestResult)
    assert "rebalances=" in repr(res)
