"""Features against plain formulas, labels against the engine's own backtest of the same entries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench as wb
from workbench.backtesting.engine import prepare_bars
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.ml import (
    Feature,
    FeatureSet,
    FixedHorizon,
    TripleBarrier,
    default_features,
    label_entries,
    make_dataset,
)
from workbench.strategies import Signals, Strategy, TrendPullback


@pytest.fixture(scope="module")
def goog() -> pl.DataFrame:
    return wb.data.sample("GOOG")


def _plain(df: pd.DataFrame, kind: str, w: int) -> np.ndarray:
    c, h, lo = df["close"], df["high"], df["low"]
    return {
        "return": c / c.shift(w) - 1,
        "volatility": np.log(c / c.shift()).rolling(w).std(ddof=1),
        "price_z": (c - c.rolling(w).mean()) / c.rolling(w).std(ddof=0),
        "channel_position": (c - lo.rolling(w).min()) / (h.rolling(w).max() - lo.rolling(w).min()),
    }[kind].to_numpy()


@pytest.mark.parametrize("kind", ["return", "volatility", "price_z", "channel_position"])
def test_features_equal_their_plain_formula(goog, kind):
    got = Feature("f", kind, 20).compute(prepare_bars(goog)[1])[:, 0]
    want = _plain(goog.to_pandas(), kind, 20)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_many_assets_equal_each_asset_alone():
    bars = wb.data.synthetic(300, 3, seed=4)
    fs = default_features(30)
    many = fs.compute(bars).values
    for j, sym in enumerate(sorted(bars["symbol"].unique().to_list())):
        one = fs.compute(bars.filter(pl.col("symbol") == sym).drop("symbol")).values[:, :, 0]
        np.testing.assert_allclose(many[:, :, j], one, equal_nan=True)


def test_a_feature_at_t_uses_no_later_bar(goog):
    fs = default_features(30)
    base = fs.compute(goog).values
    t = 1500
    shocked = goog.with_columns(
        *(pl.when(pl.int_range(pl.len()) > t).then(pl.col(c) * 1.7).otherwise(pl.col(c)).alias(c)
          for c in ("open", "high", "low", "close", "volume")))
    after = fs.compute(shocked).values
    np.testing.assert_array_equal(base[:, : t + 1], after[:, : t + 1])
    assert not np.allclose(base[:, t + 1:], after[:, t + 1:], equal_nan=True)


def test_documentation_lists_every_feature_and_the_importance_rank():
    fs = default_features(30)
    doc = fs.describe(importance={"rsi_14": 0.5, "ret_1": 0.2})
    rows = doc.splitlines()[2:]
    assert len(rows) == 30 and all(r.startswith(f"| {n} |") for r, n in zip(rows, fs.names, strict=True))
    assert "| 0.500 | 1 |" in doc and "| 0.200 | 2 |" in doc
    assert FeatureSet.from_dict(fs.to_dict()) == fs


def test_bad_declarations_name_the_feature():
    with pytest.raises(InvalidParameterError, match="rsi_0.window"):
        Feature("rsi_0", "rsi", 0)
    with pytest.raises(InvalidParameterError, match="a, declared twice|a declared twice"):
        FeatureSet((Feature("a", "rsi", 3), Feature("a", "return", 3)))
    with pytest.raises(DataValidationError, match="'s' holds inf at bar 2"):
        FeatureSet((Feature("a", "rsi", 3),)).compute(wb.data.synthetic(10), extra={"s": [0, 1, np.inf, *[0] * 7]})


class Replay(Strategy):
    """Replays given signals (test only)."""

    def __init__(self, sig: Signals) -> None:
        super().__init__()
        object.__setattr__(self, "sig", sig)

    def signals(self, bars):
        return self.sig


def _spaced(entries: np.ndarray, gap: int) -> np.ndarray:
    out, last = np.zeros_like(entries), -10**9
    for t in np.flatnonzero(entries):
        if t - last > gap:
            out[t], last = True, t
    return out


@pytest.mark.parametrize("fees", [0.0, 0.002])
def test_triple_barrier_equals_the_engine_trading_each_entry_alone(goog, fees):
    horizon = 15
    view = prepare_bars(goog)[1]
    sig = TrendPullback(rsi_window=2, oversold=30.0).signals(view)
    entries = _spaced(np.asarray(sig.entries), horizon + 3)
    entries[-horizon - 2:] = False
    exits = np.zeros_like(entries)
    exits[np.flatnonzero(entries) + horizon] = True
    spaced = Signals(entries=entries, exits=exits, sl=sig.sl, tp=sig.tp, tsl=sig.tsl, stop_mode="price")
    res = wb.backtest(goog, Replay(spaced), fees=fees)
    labels = label_entries(goog, Signals(entries=entries, sl=sig.sl, tp=sig.tp, tsl=sig.tsl, stop_mode="price"),
                           method=TripleBarrier(horizon), config=wb.BacktestConfig(fees=fees)).frame
    trades = res.trades.filter(~pl.col("is_open"))
    assert trades.height >= 20
    got = labels.filter(pl.col("known_bar") >= 0).head(trades.height)
    np.testing.assert_array_equal(got["known_bar"], trades["exit_bar"])
    np.testing.assert_array_equal(got["entry_bar"], trades["entry_bar"])
    np.testing.assert_allclose(got["ret"], trades["return"] if "return" in trades.columns else trades["ret"], rtol=1e-12)
    assert {"time_limit", "stop_loss", "take_profit"} <= set(got["barrier"].to_list())


def test_overlapping_entries_each_get_their_own_label(goog):
    lab = label_entries(goog, TrendPullback(rsi_window=2, oversold=40.0), method=TripleBarrier(30)).frame
    known = lab.filter(pl.col("known_bar") >= 0)
    overlaps = (known["signal_bar"][1:].to_numpy() < known["known_bar"][:-1].to_numpy()).sum()
    assert overlaps > 0  # a backtest would have skipped these entries
    assert ((known["known_bar"] > known["signal_bar"]) & (known["known_bar"] <= known["signal_bar"] + 31)).all()
    assert (known["label"] == (known["ret"] > 0).cast(pl.Int64)).all()


def test_fixed_horizon_is_the_forward_return_from_the_next_open(goog):
    lab = label_entries(goog, TrendPullback(), method=FixedHorizon(10, threshold=0.01)).frame
    o, c = goog["open"].to_numpy(), goog["close"].to_numpy()
    t = lab["signal_bar"].to_numpy()
    ok = t + 10 < goog.height
    np.testing.assert_allclose(lab["ret"].to_numpy()[ok], c[t[ok] + 10] / o[t[ok] + 1] - 1)
    assert (lab["known_bar"].to_numpy()[ok] == t[ok] + 10).all() and (lab["known_bar"].to_numpy()[~ok] == -1).all()
    assert (lab["label"].to_numpy()[ok] == (lab["ret"].to_numpy()[ok] > 0.01)).all()


def test_a_horizon_longer_than_the_data_is_refused():
    with pytest.raises(InvalidParameterError, match="horizon` = 60 bars is not shorter than the 50 bars"):
        label_entries(wb.data.synthetic(50), TrendPullback(trend=20), method=TripleBarrier(60))


def test_dataset_rows_have_complete_features_and_known_labels(goog):
    ds = make_dataset(goog, TrendPullback(rsi_window=2, oversold=30.0), default_features(30), method=TripleBarrier(20))
    assert len(ds) > 100 and not np.isnan(ds.X).any()
    assert (np.diff(ds.signal_bar) >= 0).all() and (ds.known_bar > ds.signal_bar).all()
    ends = ds.label_end()
    assert (ends >= np.arange(len(ds))).all()
    assert (ds.signal_bar[ends] <= ds.known_bar).all()
