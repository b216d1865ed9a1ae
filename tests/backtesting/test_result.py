"""The result object: frozen, documented frames and dtypes, stats finite or documented NaN, a
run id that is stable for the same spec and changes with anything in it, save to a store, plot."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.store import Store
from workbench.strategies import EmaCross, SmaCross

DT = pl.Datetime("us", "UTC")
SCHEMAS = {
    "equity": {"ts": DT, "equity": pl.Float64, "cash": pl.Float64},
    "returns": {"ts": DT, "return": pl.Float64},
    "orders": {"id": pl.Int64, "ts": DT, "bar": pl.Int64, "symbol": pl.String, "side": pl.String, "kind": pl.String,
               "size": pl.Float64, "price": pl.Float64, "fees": pl.Float64, "slippage": pl.Float64,
               "status": pl.String, "reason": pl.String, "signal_bar": pl.Int64, "signal_ts": DT},
    "trades": {"id": pl.Int64, "symbol": pl.String, "direction": pl.String, "size": pl.Float64, "entry_bar": pl.Int64,
               "entry_ts": DT, "entry_price": pl.Float64, "exit_bar": pl.Int64, "exit_ts": DT, "exit_price": pl.Float64,
               "pnl": pl.Float64, "ret": pl.Float64, "entry_fees": pl.Float64, "exit_fees": pl.Float64,
               "exit_reason": pl.String, "is_open": pl.Boolean, "weight": pl.Float64, "duration_bars": pl.Int64},
    "positions": {"ts": DT, "symbol": pl.String, "units": pl.Float64, "value": pl.Float64, "weight": pl.Float64},
}
VALUES = {
    ("orders", "side"): {"buy", "sell"},
    ("orders", "kind"): {"market", "limit", "stop", "stop_limit", "stop_loss", "take_profit", "trailing_stop", "liquidation"},
    ("orders", "status"): {"filled", "rejected", "cancelled", "expired"},
    ("orders", "reason"): {"none", "no_cash", "zero_size", "short_disabled", "max_leverage", "no_price"},
    ("trades", "direction"): {"long", "short"},
    ("trades", "exit_reason"): {"signal", "stop_loss", "take_profit", "trailing_stop", "reverse", "end_of_data", "liquidation"},
}


@pytest.fixture(scope="module")
def goog():
    return wb.data.sample("GOOG")


@pytest.fixture(scope="module")
def res(goog):
    return wb.backtest(goog, SmaCross(direction="both"), fees=0.001, sl=0.05)


@pytest.fixture(scope="module")
def idle(kit):
    return wb.backtest(kit.make_bars([[10.0] * 4] * 5), kit.Replay(entries=np.zeros(5, dtype=bool)))


def test_result_is_frozen(res):
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.config = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.config.fees = 0.5
    with pytest.raises(AttributeError):
        res.stats.sharpe_ratio = 9.0
    with pytest.raises(AttributeError):
        res.strategy.fast = 3
    assert res.equity is res.equity  # built once


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_frames_have_the_documented_columns_and_dtypes(res, idle, name):
    for r in (res, idle):
        frame = getattr(r, name)
        assert dict(frame.schema) == SCHEMAS[name]
        doc = type(r).__doc__
        for col in SCHEMAS[name]:
            assert f"``{col}``" in doc, col
    assert getattr(res, name).height > 0


def test_frame_values(res, goog):
    n = goog.height
    assert res.equity.height == res.returns.height == res.positions.height == n
    for (frame, col), allowed in VALUES.items():
        assert set(getattr(res, frame)[col].unique()) <= allowed
    assert set(res.trades["exit_reason"]) >= {"reverse", "stop_loss", "end_of_data"}
    o = res.orders
    assert (o["size"] > 0).all() and (o["id"].to_numpy() == np.arange(o.height)).all()
    assert o["ts"].equals(goog["ts"].gather(o["bar"]).alias("ts"))
    t = res.trades.filter(~pl.col("is_open"))
    assert (t["exit_bar"] >= t["entry_bar"]).all()
    assert (t["duration_bars"] == t["exit_bar"] - t["entry_bar"]).all()
    np.testing.assert_allclose(t["ret"], t["pnl"] / (t["size"] * t["entry_price"]), rtol=1e-12)
    eq = res.equity["equity"].to_numpy()
    r = res.returns["return"].to_numpy()
    np.testing.assert_allclose(r, np.diff(np.r_[10_000.0, eq]) / np.r_[10_000.0, eq[:-1]], rtol=1e-9, atol=1e-15)


def test_multi_asset_equity_columns():
    bars = wb.data.synthetic(120, n_symbols=3, seed=1)
    res = wb.backtest(bars, SmaCross(fast=3, slow=9))
    assert res.equity.columns == ["ts", "equity", "cash", "equity_S0", "equity_S1", "equity_S2"]
    assert res.positions.height == 360 and res.init_cash == 30_000
    shared = wb.backtest(bars, SmaCross(fast=3, slow=9), cash_sharing=True)
    assert shared.equity.columns == ["ts", "equity", "cash"] and shared.init_cash == 10_000


def test_stats_finite_or_documented_nan(res, idle):
    for r in (res, idle):
        for key, value in r.stats.to_dict().items():
            assert not (isinstance(value, float) and math.isinf(value)), key
    assert all(math.isfinite(v) for v in res.stats.to_dict().values())
    assert res.stats.n_trades == res.trades.filter(~pl.col("is_open")).height
    # no trades: the averages are NaN, counts and ratios 0 (Stats docstring)
    s = idle.stats
    nan = {k for k, v in s.to_dict().items() if isinstance(v, float) and math.isnan(v)}
    assert nan == {"best_trade", "worst_trade", "avg_trade", "avg_win", "avg_loss", "expectancy", "avg_trade_duration"}
    assert (s.n_trades, s.win_rate, s.profit_factor, s.payoff_ratio, s.sqn, s.kelly_criterion) == (0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert (s.total_return, s.max_drawdown, s.exposure, s.total_fees) == (0.0, 0.0, 0.0, 0.0)


def test_stats_match_the_frames(res):
    s = res.stats
    eq = res.equity["equity"].to_numpy()
    assert s.end_equity == eq[-1] and s.start_equity == 10_000
    assert s.total_return == pytest.approx(eq[-1] / 10_000 - 1)
    assert s.max_drawdown == pytest.approx((eq / np.maximum.accumulate(np.r_[10_000, eq])[1:] - 1).min())
    assert s.periods_per_year == 252
    assert s.total_fees == pytest.approx(res.orders["fees"].sum())
    assert s.exposure == pytest.approx((res.positions["units"] != 0).mean())


def test_run_id_is_stable_and_changes_with_the_spec(goog):
    base = wb.backtest(goog, SmaCross(), fees=0.001)
    again = wb.backtest(goog, SmaCross(fast=10), fees=0.001)
    assert len(base.run_id) == 16 and int(base.run_id, 16) >= 0
    assert base.run_id == again.run_id
    from workbench.strategies._code import code_of

    assert base.spec["strategy"] == {"name": "SmaCross", "module": "workbench.strategies.builtin", "version": "1",
                                     "code": code_of(SmaCross).hash,
                                     "params": {"fast": 10, "slow": 20, "direction": "long"}}
    changed = {
        "param": wb.backtest(goog, SmaCross(fast=11), fees=0.001),
        "setting": wb.backtest(goog, SmaCross(), fees=0.0011),
        "another setting": wb.backtest(goog, SmaCross(), fees=0.001, fill="same_close"),
        "strategy": wb.backtest(goog, EmaCross(fast=10, slow=20), fees=0.001),
        "data": wb.backtest(goog.with_columns(pl.when(pl.int_range(pl.len()) == 100).then(pl.col("volume") + 1)
                                              .otherwise(pl.col("volume")).alias("volume")), SmaCross(), fees=0.001),
    }
    ids = {name: r.run_id for name, r in changed.items()}
    assert base.run_id not in ids.values()
    assert len(set(ids.values())) == len(ids)


def test_run_id_ignores_how_equal_settings_are_spelled(goog):
    a = wb.backtest(goog, SmaCross(fast=10), cash=10_000, allow_short=True, order_valid_bars=0, fees=0)
    b = wb.backtest(goog, SmaCross(fast=np.int64(10)), cash=np.float64(1e4), allow_short=np.True_,
                    order_valid_bars=np.int64(0), fees=0.0)
    assert a.run_id == b.run_id
    assert type(b.config.allow_short) is bool and type(b.config.cash) is float


def test_save_writes_a_run_with_artifacts(res, tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db.sqlite", artifacts_dir=tmp_path / "artifacts")
    try:
        run_id = res.save(store, name="goog smacross")
        assert run_id == res.run_id
        rec = store.run(run_id)
        assert (rec.kind, rec.status, rec.name) == ("backtest", "succeeded", "goog smacross")
        assert rec.dataset_hash == res.dataset_hash
        assert rec.spec["config"]["fees"] == 0.001 and rec.spec["strategy"]["name"] == "SmaCross"
        assert rec.metrics["n_trades"] == res.stats.n_trades
        assert rec.metrics["sharpe_ratio"] == pytest.approx(res.stats.sharpe_ratio, rel=1e-12)
        assert set(rec.artifacts) == {"equity", "trades", "orders", "benchmark", "strategy", "bars"}
        for name in ("equity", "trades", "orders"):
            assert store.load_artifact(run_id, name).equals(getattr(res, name))
        assert res.save(store) == run_id  # saving again replaces the run
        assert store.runs().height == 1
    finally:
        store.close()


def test_plot_returns_a_holoviews_object(res):
    import holoviews as hv  # the [dashboards] extra, in [dev]
    fig = res.plot(max_points=500)
    assert isinstance(fig, hv.Layout)
    assert len(fig) == 3


def test_repr(res):
    text = repr(res)
    assert text.startswith("BacktestResult(SmaCross(fast=10, slow=20, direction='both'), bars=2148, assets=1")
