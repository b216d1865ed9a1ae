"""Trading with the model: no look-ahead (perturbation), bands, the filter, the arbiter."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench._warnings import WorkbenchWarning
from workbench.backtesting.engine import prepare_bars
from workbench.errors import InvalidParameterError
from workbench.ml import ModelParams, TripleBarrier, default_features
from workbench.ml.arbiter import Arbiter, ArbiterConfig
from workbench.ml.trading import ModelFilter, StoredModel, WalkForwardModel, confidence_weight
from workbench.portfolio import PositionSizer, sized_backtest
from workbench.strategies import TrendPullback

RULE = TrendPullback(rsi_window=2, oversold=30.0)
WF = WalkForwardModel(default_features(10), TripleBarrier(20), ModelParams(n_estimators=30, max_depth=2),
                      retrain_every=100, min_train=40)


class Filtered(ModelFilter):
    base = RULE
    source = WF


def _shock_after(bars: pl.DataFrame, t: int) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    f = np.exp(np.cumsum(rng.normal(0, 0.03, bars.height)))
    v = rng.uniform(0.2, 5.0, bars.height)
    f[: t + 1] = v[: t + 1] = 1.0
    scaled = [(pl.col(c) * pl.Series(f)).alias(c) for c in ("open", "high", "low", "close")]
    return bars.with_columns(*scaled, (pl.col("volume") * pl.Series(v)).alias("volume"))


def test_changing_bars_after_t_changes_no_prediction_fill_or_equity_at_or_before_t(goog_bars):
    t = 1400
    other = _shock_after(goog_bars, t)
    a = WF.entries(prepare_bars(goog_bars)[1], RULE)
    b = WF.entries(prepare_bars(other)[1], RULE)
    before_a, before_b = a.filter(pl.col("signal_bar") <= t), b.filter(pl.col("signal_bar") <= t)
    assert before_a["confidence"].is_not_nan().sum() > 20
    assert before_a.select("signal_bar", "confidence").equals(before_b.select("signal_bar", "confidence"))
    assert (a["model_from"].to_numpy()[a["confidence"].is_not_nan().to_numpy()] <= a["signal_bar"].to_numpy()[
        a["confidence"].is_not_nan().to_numpy()]).all()
    ra = sized_backtest(goog_bars, Filtered(), sizer=PositionSizer())
    rb = sized_backtest(other, Filtered(), sizer=PositionSizer())
    np.testing.assert_array_equal(ra.equity["equity"].to_numpy()[: t + 1], rb.equity["equity"].to_numpy()[: t + 1])
    oa, ob = ra.orders.filter(pl.col("bar") <= t), rb.orders.filter(pl.col("bar") <= t)
    assert oa.height > 5 and oa.equals(ob)
    assert not np.array_equal(ra.equity["equity"].to_numpy()[t + 1:], rb.equity["equity"].to_numpy()[t + 1:])


def test_every_model_was_trained_on_labels_known_before_its_block(goog_bars):
    view = prepare_bars(goog_bars)[1]
    lab = WF.entries(view, RULE)
    scored = lab.filter(pl.col("confidence").is_not_nan())
    for start in scored["model_from"].unique().to_list():
        block = scored.filter(pl.col("model_from") == start)
        assert (block["signal_bar"] >= start).all() and (block["signal_bar"] < start + WF.retrain_every).all()


def test_the_filter_trades_a_subset_of_the_rule_with_band_weights(goog_bars):
    plain = sized_backtest(goog_bars, RULE, sizer=PositionSizer())
    filt = sized_backtest(goog_bars, Filtered(threshold=0.6), sizer=PositionSizer())
    assert 0 < filt.trades.height < plain.trades.height
    w = filt.trades["weight"].drop_nulls().drop_nans().to_numpy()
    assert ((w >= 0.3 - 1e-12) & (w <= 1.0 + 1e-12)).all()
    view = prepare_bars(goog_bars)[1]
    rows, cols, log = Filtered(threshold=0.6).decisions(view)
    counts = log.counts
    assert counts["approved"] + counts["rejected"] == rows.size and counts["approved"] > 0


def test_a_model_that_fails_to_load_warns_and_the_arbiter_says_so(goog_bars):
    def broken():
        raise OSError("artifact missing")

    class Blind(ModelFilter):
        base = RULE
        source = StoredModel(default_features(10), broken)

    view = prepare_bars(goog_bars)[1]
    with pytest.warns(WorkbenchWarning, match="failed to load .*artifact missing"):
        _, _, log = Blind(threshold=0.5).decisions(view)
    frame = log.frame()
    assert frame["confidence"].is_null().all()
    assert frame["explanation"].str.contains("ML confidence unavailable, decided on the other components").all()
    assert (frame["sentiment"] == 0.0).all()  # no adapter: NEUTRAL


def test_confidence_bands():
    c = np.array([35.0, 55.0, 65.0, 75.0, 95.0])
    w = confidence_weight(c)
    assert (0.3 <= w[0] <= 0.5) and (0.5 <= w[1] <= 0.7) and (0.5 <= w[2] <= 0.7) and (0.8 <= w[3] <= 1.0)
    assert (np.diff(confidence_weight(np.linspace(0, 100, 501))) >= 0).all()


def test_arbiter_rule_weights_and_counts():
    arb = Arbiter(ArbiterConfig(rule="rule_passes and confidence > 70"))
    assert arb.decide(rule_score=1.0, confidence=71.0).status == "APPROVED"
    d = arb.decide(rule_score=1.0, confidence=69.0)
    assert d.status == "REJECTED" and "confidence > 70" in d.explanation and d.confidence == 69.0
    log = Arbiter(ArbiterConfig(0.5, 0.5, 0.0, threshold=0.7)).decide_many([1.0, 1.0, 0.2], [90.0, 10.0, np.nan])
    assert log.approved.tolist() == [True, False, False]
    assert log.counts == {"approved": 1, "rejected": 2, "score below threshold": 2}
    with pytest.raises(InvalidParameterError, match="Call is not allowed"):
        ArbiterConfig(rule="__import__('os')")
    with pytest.raises(InvalidParameterError, match="weights sum to 0"):
        ArbiterConfig(0, 0, 0)


def test_the_optimizer_searches_the_arbiters_weights(goog_bars):
    from workbench.optimize import grid

    res = grid(goog_bars, Filtered, threshold=[0.3, 0.9], w_ml=[0.5, 0.8], w_rule=[0.3], w_sentiment=[0.2],
               overfit=False)
    assert res.frame.height == 4
    by = {(r["threshold"], r["w_ml"]): r["n_trades"] if "n_trades" in r else r["total_trades"] for r in res.frame.to_dicts()}
    assert by[(0.3, 0.5)] > by[(0.9, 0.5)]  # a higher threshold approves fewer entries
