"""Multi-strategy portfolios: sleeve rebalancing against a plain numpy reference, contributions,
correlations, allocation among strategies, stored runs, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.portfolio import Constraints, MultiStrategyResult, combine
from workbench.strategies import BollingerBreakout, RsiMeanReversion, SmaCross


@pytest.fixture(scope="module")
def goog() -> pl.DataFrame:
    return wb.data.sample("GOOG")


@pytest.fixture(scope="module")
def runs(goog: pl.DataFrame) -> dict[str, wb.BacktestResult]:
    return {
        "trend": wb.backtest(goog, SmaCross(fast=10, slow=30), fees=0.001),
        "reversion": wb.backtest(goog, RsiMeanReversion(), fees=0.001),
        "breakout": wb.backtest(goog, BollingerBreakout(), fees=0.001),
    }


def reference_sleeves(equity: np.ndarray, mask: np.ndarray, w: np.ndarray, cash: float) -> np.ndarray:
    """Sleeve capital grows with each strategy's return; at a marked close it is reset to ``w``."""
    r = np.vstack([np.zeros(equity.shape[1]), equity[1:] / equity[:-1] - 1.0])
    sleeves = np.zeros(equity.shape[1])
    free, out = cash, np.empty(len(equity))
    for t in range(len(equity)):
        sleeves = sleeves * (1.0 + r[t])
        total = free + sleeves.sum()
        if mask[t]:
            sleeves, free = w * total, total - (w * total).sum()
        out[t] = free + sleeves.sum()
    return out


def test_fixed_weights_match_reference(runs: dict[str, wb.BacktestResult]) -> None:
    res = combine(runs, weights={"trend": 0.5, "reversion": 0.3, "breakout": 0.2}, schedule="quarterly")
    assert isinstance(res, MultiStrategyResult) and isinstance(res, wb.BacktestResult)
    names = sorted(runs)  # sleeves are ordered by name
    eq = np.column_stack([runs[k].equity["equity"].to_numpy() for k in names])
    ts = runs["trend"].equity["ts"].dt.replace_time_zone(None).to_numpy()
    mask = ~pd.DatetimeIndex(ts).to_period("Q").duplicated()
    w = np.array([{"trend": 0.5, "reversion": 0.3, "breakout": 0.2}[k] for k in names])
    ref = reference_sleeves(eq, mask, w, 10_000.0)
    np.testing.assert_allclose(res.equity["equity"].to_numpy(), ref, rtol=1e-9)


def test_contributions_and_correlation(runs: dict[str, wb.BacktestResult]) -> None:
    res = combine(runs, schedule="monthly")
    sr = res.sleeve_returns
    for name, run in runs.items():
        np.testing.assert_allclose(sr[name].to_numpy(), run.returns["return"].to_numpy(), rtol=1e-9, atol=1e-15)
    con = res.contributions
    assert con["strategy"].to_list() == sorted(runs)
    assert con["risk_contribution"].sum() == pytest.approx(1.0)
    # same-close sleeve rebalancing without fees: the attribution adds up to the portfolio's returns
    assert con["return_contribution"].sum() == pytest.approx(res.returns["return"].sum(), rel=1e-9)
    corr = res.correlation
    x = sr.drop("ts").to_numpy()[1:]
    np.testing.assert_allclose(corr.drop("strategy").to_numpy(), np.corrcoef(x, rowvar=False), atol=1e-12)
    assert corr["strategy"].to_list() == sorted(runs)


def test_allocation_among_strategies(runs: dict[str, wb.BacktestResult]) -> None:
    res = combine(runs, weights="min_variance", lookback=126, schedule="quarterly",
                  constraints=Constraints(max_weight=0.5, min_weight=0.1))
    w = res.target_weights
    assert (w <= 0.5 + 1e-9).all() and (w >= 0.1 - 1e-9).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    assert res.strategy.method == "min_variance"
    erc = combine(runs, weights="erc", lookback=126)  # Ledoit-Wolf: a sleeve may sit in cash for a whole window
    assert erc.target_weights.shape[1] == 3


def test_stored_runs_and_tuples(goog: pl.DataFrame, runs: dict[str, wb.BacktestResult], tmp_path) -> None:
    store = wb.Store(f"sqlite:///{tmp_path / 'store.db'}", artifacts_dir=tmp_path / "art")
    ids = {name: run.save(store) for name, run in runs.items()}
    from_store = combine(ids, store=store)
    direct = combine(runs)
    np.testing.assert_allclose(from_store.equity_values, direct.equity_values, rtol=1e-12)
    tuples = combine({"trend": (SmaCross(fast=10, slow=30), goog, {"fees": 0.001}),
                      "reversion": (RsiMeanReversion(), goog, {"fees": 0.001})})
    pair = combine({"trend": runs["trend"], "reversion": runs["reversion"]})
    np.testing.assert_allclose(tuples.equity_values, pair.equity_values, rtol=1e-12)


def test_calendars(goog: pl.DataFrame, runs: dict[str, wb.BacktestResult]) -> None:
    late = wb.backtest(goog.filter(pl.col("ts") >= pl.col("ts").min().dt.offset_by("1y")), SmaCross())
    parts = {"trend": runs["trend"], "late": late}
    with pytest.raises(DataValidationError, match="misaligned calendars.*align='inner'"):
        combine(parts)
    inner = combine(parts, align="inner")
    assert inner.view.n_bars == late.view.n_bars
    outer = combine(parts, align="outer")
    assert outer.view.n_bars == runs["trend"].view.n_bars
    held_flat = outer.sleeve_returns["late"].to_numpy()[: outer.view.n_bars - late.view.n_bars]
    assert (held_flat == 0).all()


def test_bad_input(runs: dict[str, wb.BacktestResult]) -> None:
    with pytest.raises(InvalidParameterError, match="at least two"):
        combine({"trend": runs["trend"]})
    with pytest.raises(InvalidParameterError, match="component"):
        combine({"a": runs["trend"], "b": 42})
    with pytest.raises(DataValidationError, match=r"sum to 0\.9"):
        combine(runs, weights={"trend": 0.5, "reversion": 0.4})
    with pytest.raises(InvalidParameterError, match="'trnd'.*Did you mean 'trend'"):
        combine(runs, weights={"trnd": 1.0})
    eq = runs["trend"].equity.select("ts", "equity")
    broke = eq.with_columns(pl.when(pl.int_range(pl.len()) > 100).then(0.0).otherwise(pl.col("equity")).alias("equity"))
    with pytest.raises(DataValidationError, match="'broke' has equity 0"):
        combine({"ok": eq, "broke": broke})
    with pytest.raises(InvalidParameterError, match="align"):
        combine(runs, align="left")
    with pytest.raises(InvalidParameterError, match="lookback"):
        combine(runs, weights="hrp", lookback=10_000)
