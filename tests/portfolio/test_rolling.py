"""Rolling allocation: trailing windows only, agreement with direct ``allocate`` calls and skfolio,
risk-parity contributions, constraints, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError, OptimizationError
from workbench.portfolio import (
    Constraints,
    allocate,
    rebalance,
    risk_contributions,
    rolling_allocation,
    rolling_weights,
    sample_covariance,
)


@pytest.fixture(scope="module")
def stocks() -> pl.DataFrame:
    """Six years of the 20-stock sample (enough windows, quick to solve)."""
    full = wb.data.sample("STOCKS20")
    return full.filter(pl.col("ts") >= pl.col("ts").max().dt.offset_by("-6y"))


@pytest.fixture(scope="module")
def arrays(stocks: pl.DataFrame) -> wb.data.BarArrays:
    return wb.data.to_arrays(stocks)


def window(arrays: wb.data.BarArrays, t: int, lookback: int) -> np.ndarray:
    """The ``lookback`` returns ending at bar ``t``'s close (plain numpy)."""
    c = arrays.close[t - lookback: t + 1]
    return c[1:] / c[:-1] - 1.0


def test_no_lookahead(stocks: pl.DataFrame, arrays: wb.data.BarArrays) -> None:
    base = rolling_allocation(stocks, method="min_variance", lookback=126, schedule="quarterly", fill="same_close")
    cut = int(base.target_bars[len(base.target_bars) // 2])
    # perturb every price after the cut: no weight decided at or before it may change
    after = pl.col("ts") > pl.Series(arrays.ts).dt.replace_time_zone("UTC")[cut]
    factor = 1.0 + 0.04 * ((pl.col("ts").dt.day() + pl.col("symbol").str.len_bytes() * 7) % 5 - 2)
    noisy = stocks.with_columns(pl.when(after).then(pl.col(c) * factor).otherwise(pl.col(c))
                                for c in ("open", "high", "low", "close"))
    other = rolling_allocation(noisy, method="min_variance", lookback=126, schedule="quarterly", fill="same_close")
    keep = base.target_bars <= cut
    np.testing.assert_array_equal(base.target_weights[keep], other.target_weights[keep])
    np.testing.assert_array_equal(base.equity_values[: cut + 1], other.equity_values[: cut + 1])
    assert not np.allclose(base.target_weights[~keep], other.target_weights[~keep])


def test_one_date_matches_direct_allocate(stocks: pl.DataFrame, arrays: wb.data.BarArrays) -> None:
    for method, options in (("min_variance", {}), ("hierarchical_risk_parity", {}),
                            ("mean_variance", {"objective": "max_sharpe"})):
        w = rolling_weights(stocks, method=method, lookback=252, schedule="yearly", covariance="sample",
                            options=options)
        k = w.height // 2
        t = int(np.searchsorted(arrays.ts, w["ts"].dt.replace_time_zone(None).to_numpy()[k]))
        direct = allocate(window(arrays, t, 252), method=method, covariance="sample", assets=list(arrays.symbols),
                          **options)
        np.testing.assert_allclose(w.drop("ts").row(k), direct.to_numpy(), atol=1e-10)


def test_min_variance_window_matches_skfolio(stocks: pl.DataFrame, arrays: wb.data.BarArrays) -> None:
    from skfolio.moments import EmpiricalCovariance
    from skfolio.optimization import MeanRisk
    from skfolio.prior import EmpiricalPrior

    w = rolling_weights(stocks, method="min_variance", lookback=252, schedule="yearly", covariance="sample")
    k = 2
    t = int(np.searchsorted(arrays.ts, w["ts"].dt.replace_time_zone(None).to_numpy()[k]))
    x = pd.DataFrame(window(arrays, t, 252), columns=list(arrays.symbols))
    tight = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "tol_ktratio": 1e-10, "max_iter": 500}
    sk = MeanRisk(prior_estimator=EmpiricalPrior(covariance_estimator=EmpiricalCovariance(nearest=False)),
                  solver_params=tight).fit(x)
    np.testing.assert_allclose(w.drop("ts").row(k), sk.weights_, atol=1e-4)


def test_risk_parity_contributions_equal(stocks: pl.DataFrame, arrays: wb.data.BarArrays) -> None:
    w = rolling_weights(stocks, method="erc", lookback=252, schedule="yearly", covariance="sample")
    for k in (0, w.height - 1):
        t = int(np.searchsorted(arrays.ts, w["ts"].dt.replace_time_zone(None).to_numpy()[k]))
        rc = risk_contributions(np.array(w.drop("ts").row(k)), sample_covariance(window(arrays, t, 252)))
        np.testing.assert_allclose(rc, 1 / len(rc), atol=1e-6)


def test_callable_sees_the_trailing_window(stocks: pl.DataFrame, arrays: wb.data.BarArrays) -> None:
    seen: list[pl.DataFrame] = []

    def top_two(win: pl.DataFrame) -> dict[str, float]:
        seen.append(win)
        best = win.drop("ts").sum().transpose(include_header=True).sort("column_0").tail(2)["column"]
        return {s: 0.5 for s in best}

    res = rolling_allocation(stocks, method=top_two, lookback=63, schedule="quarterly", fill="same_close")
    assert res.strategy.method == "top_two" and len(seen) == res.target_weights.shape[0]
    for win, t in zip(seen, res.target_bars, strict=True):
        assert win.height == 63
        assert win["ts"][-1].replace(tzinfo=None) == pd.Timestamp(arrays.ts[t]).to_pydatetime()
        np.testing.assert_allclose(win.drop("ts").to_numpy(), window(arrays, int(t), 63))
    assert (np.count_nonzero(res.target_weights, axis=1) == 2).all()


def test_rolling_allocation_is_rebalance_of_rolling_weights(stocks: pl.DataFrame) -> None:
    kw = {"method": "hrp", "lookback": 126, "schedule": "monthly", "covariance": "sample"}
    a = rolling_allocation(stocks, fees=0.001, **kw)
    b = rebalance(stocks, rolling_weights(stocks, **kw), schedule=None, fees=0.001)
    np.testing.assert_array_equal(a.equity_values, b.equity_values)
    assert a.rebalances.height == b.rebalances.height


def test_constraints_and_exposure(stocks: pl.DataFrame) -> None:
    c = Constraints(max_weight=0.1, net_exposure=0.8)
    res = rolling_allocation(stocks, method="min_variance", lookback=252, schedule="quarterly", constraints=c,
                             fill="same_close")
    assert (res.target_weights <= 0.1 + 1e-9).all()
    np.testing.assert_allclose(res.target_weights.sum(axis=1), 0.8, atol=1e-6)
    hit = np.flatnonzero(res.trigger)
    np.testing.assert_allclose(res.weights["cash"].to_numpy()[hit], 0.2, atol=1e-6)
    # before the first full window the account holds cash
    assert res.weights["cash"][int(hit[0]) - 1] == 1.0


def test_bad_input(stocks: pl.DataFrame) -> None:
    short = stocks.filter(pl.col("ts") <= pl.col("ts").min().dt.offset_by("3mo"))
    with pytest.raises(InvalidParameterError, match="`lookback` must be at most the history"):
        rolling_weights(short, lookback=252)
    with pytest.raises(InvalidParameterError, match="no rebalance date has 60 returns"):
        rolling_weights(short, lookback=60, schedule="yearly")
    with pytest.raises(InvalidParameterError, match="Did you mean 'min_variance'"):
        rolling_weights(stocks, method="min_varience")
    with pytest.raises(OptimizationError, match=r"allocation at \d{4}-.*singular"):
        rolling_weights(stocks, method="min_variance", lookback=10, covariance="sample")
    with pytest.raises(InvalidParameterError, match="allocation"):
        rebalance(stocks, "hrp", allocation={"covarience": "sample"})
    with pytest.raises(InvalidParameterError, match="`weights`"):
        rolling_weights(stocks, method=lambda win: {"NOPE": 1.0}, lookback=63)
