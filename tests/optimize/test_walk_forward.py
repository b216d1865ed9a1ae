"""Walk-forward optimization: folds, no look-ahead, stitched out-of-sample equity, errors.

Oracles: ``walk_forward_splits`` for the windows, a plain per-fold grid search with
``workbench.backtest`` on the fold's bars for the chosen parameters, and ``workbench.backtest``
on the in-sample-start..out-of-sample-end bars for the out-of-sample returns.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError
from workbench.metrics import simple_returns
from workbench.optimize import walk_forward, walk_forward_splits
from workbench.strategies import RsiMeanReversion, SmaCross

RANGES = {"fast": range(5, 30, 5), "slow": range(30, 100, 10), "direction": "long", "fees": 0.002}


@pytest.fixture(scope="module")
def goog() -> pl.DataFrame:
    return wb.data.sample("GOOG")


@pytest.fixture(scope="module")
def wf(goog):
    return walk_forward(goog, SmaCross, train=600, test=300, metric="total_return", **RANGES)


def test_folds_follow_the_splitter(goog, wf):
    splits = list(walk_forward_splits(goog.height, train=600, test=300))
    ts = goog["ts"]
    assert wf.folds.height == len(splits) == 5
    for row, (tr, te) in zip(wf.folds.iter_rows(named=True), splits, strict=False):
        assert (row["train_start"], row["train_end"]) == (ts[int(tr[0])], ts[int(tr[-1])])
        assert (row["test_start"], row["test_end"]) == (ts[int(te[0])], ts[int(te[-1])])
    assert wf.equity["ts"].to_list() == ts[600:2100].to_list()


def test_benchmark_is_buying_and_holding_over_the_out_of_sample_bars(goog, wf):
    close = goog["close"].to_numpy()
    want = close[600:2100] / close[599:2099] - 1.0  # each window's first return from the bar before it
    np.testing.assert_array_equal(wf.benchmark_returns, want)
    assert wf.benchmark_returns.shape == wf.returns.shape and not wf.benchmark_returns.flags.writeable


def test_chosen_parameters_are_the_in_sample_best(goog, wf):
    for row, (tr, _) in zip(wf.folds.iter_rows(named=True), walk_forward_splits(goog.height, train=600, test=300), strict=False):
        fold = goog[int(tr[0]) : int(tr[-1]) + 1]
        best, best_params = -np.inf, None
        for f in range(5, 30, 5):
            for s in range(30, 100, 10):
                v = wb.backtest(fold, SmaCross(fast=f, slow=s, direction="long"), fees=0.002).stats.total_return
                if v > best:
                    best, best_params = v, (f, s)
        assert (row["fast"], row["slow"]) == best_params
        assert row["is_total_return"] == pytest.approx(best, rel=1e-9)


def test_out_of_sample_equity_is_stitched_from_each_fold(goog, wf):
    parts = []
    for row, (tr, te) in zip(wf.folds.iter_rows(named=True), walk_forward_splits(goog.height, train=600, test=300), strict=False):
        window = goog[int(tr[0]) : int(te[-1]) + 1]
        eq = wb.backtest(window, SmaCross(fast=row["fast"], slow=row["slow"], direction="long"), fees=0.002).equity["equity"]
        eq = eq.to_numpy()
        seg = eq[-te.size :]
        r = simple_returns(seg, init_cash=eq[-te.size - 1])
        parts.append(r)
        assert row["oos_total_return"] == pytest.approx(seg[-1] / eq[-te.size - 1] - 1.0, rel=1e-9)
        assert row["degradation"] == pytest.approx(row["oos_total_return"] / row["is_total_return"])
    r = np.concatenate(parts)
    assert np.allclose(wf.returns, r, rtol=1e-12, atol=1e-15)
    # each fold starts from the previous fold's ending equity
    assert np.allclose(wf.equity["equity"].to_numpy(), 10_000 * np.cumprod(1 + r), rtol=1e-12)
    assert wf.stats.total_return == pytest.approx(np.prod(1 + r) - 1, rel=1e-12)
    means = wf.folds.select(pl.col("oos_total_return").mean() / pl.col("is_total_return").mean()).item()
    assert wf.degradation == pytest.approx(means)


def test_no_bar_after_the_in_sample_window_reaches_its_search(goog, wf):
    """Perturb every bar after fold 0's in-sample window: fold 0's choice and in-sample metric
    stay exactly the same; later folds may change."""
    rng = np.random.default_rng(0)
    scale = np.ones(goog.height)
    scale[600:] = np.exp(np.cumsum(rng.normal(0, 0.02, goog.height - 600)))
    noisy = goog.with_columns([pl.col(c) * pl.Series(scale) for c in ("open", "high", "low", "close")])
    other = walk_forward(noisy, SmaCross, train=600, test=300, metric="total_return", **RANGES)
    a, b = wf.folds.row(0, named=True), other.folds.row(0, named=True)
    assert (a["fast"], a["slow"], a["is_total_return"]) == (b["fast"], b["slow"], b["is_total_return"])
    assert a["oos_total_return"] != b["oos_total_return"]


def test_anchored_time_windows_and_other_searches(goog):
    res = walk_forward(goog, SmaCross, train="3y", test="1y", anchored=True, search="random", n_sets=10, seed=1,
                       **RANGES)
    assert res.folds["train_start"].n_unique() == 1
    assert res.folds.height == len(list(walk_forward_splits(goog["ts"], train="3y", test="1y", anchored=True)))
    st = walk_forward(goog, RsiMeanReversion, train=800, test=400, search="study", n_trials=6, seed=2,
                      window=(5, 30), lower=30.0, upper=70.0, direction="long")
    assert st.folds.height == 3 and set(st.params) == {"window", "lower", "upper", "direction"}
    assert st.folds["lower"].to_list() == [30.0] * 3


def test_windows_longer_than_the_data_and_bad_names(goog):
    with pytest.raises(InvalidParameterError, match="walk-forward windows"):
        walk_forward(goog, SmaCross, train=2000, test=500, **RANGES)
    with pytest.raises(InvalidParameterError, match="walk-forward windows"):
        walk_forward(goog, SmaCross, train="10y", test="1y", **RANGES)
    with pytest.raises(InvalidParameterError, match=r"`search` must be one of .* Did you mean 'grid'\?"):
        walk_forward(goog, SmaCross, train=500, test=200, search="gird", **RANGES)
    with pytest.raises(InvalidParameterError, match="Did you mean 'sharpe_ratio'"):
        walk_forward(goog, SmaCross, train=500, test=200, metric="sharpe", **RANGES)
