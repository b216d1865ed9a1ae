"""Machine-learning pipeline speed, side by side with pandas + scikit-learn; prints one JSON line.

1. Features: the 30 default features for 500 assets × 2,500 bars (target ≤ 1 s), against the same
   features written as pandas rolling/ewm operations on wide frames.
2. Purged 5-fold CV of XGBoost on GOOG's labelled pullback entries with 30 features (target
   ≤ 10 s on 2 cores), against pandas features + scikit-learn's ``TimeSeriesSplit`` with a gap of
   the label horizon and the same XGBoost classifier through its scikit-learn API.

Run: ``PYTHONPATH=$PWD python benchmarks/bench_ml.py``.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd

import workbench as wb
from workbench.ml import (
    ModelParams,
    PurgedCV,
    TripleBarrier,
    cross_validate,
    default_features,
    make_dataset,
)
from workbench.ml.features import KINDS
from workbench.strategies import TrendPullback

N_ASSETS, N_BARS, HORIZON = 500, 2_500, 20


def _pandas_feature(kind: str, w: int, o: pd.DataFrame, h: pd.DataFrame, lo: pd.DataFrame, c: pd.DataFrame,
                    v: pd.DataFrame) -> pd.DataFrame:
    prev = c.shift()
    tr = np.maximum(h - lo, np.maximum((h - prev).abs(), (lo - prev).abs()))
    atr = tr.ewm(alpha=1 / 14, adjust=False).mean()
    if kind == "return":
        return c / c.shift(w) - 1
    if kind == "volatility":
        return np.log(c / prev).rolling(w).std()
    if kind == "rsi":
        d = c.diff()
        up = d.clip(lower=0).ewm(alpha=1 / w, adjust=False).mean()
        dn = (-d).clip(lower=0).ewm(alpha=1 / w, adjust=False).mean()
        return 100 - 100 / (1 + up / dn)
    if kind == "atr_pct":
        return tr.ewm(alpha=1 / w, adjust=False).mean() / c
    if kind == "ma_distance":
        return (c - c.rolling(w).mean()) / atr
    if kind == "ema_distance":
        return (c - c.ewm(span=w, adjust=False).mean()) / atr
    if kind == "volume_z":
        return (v - v.rolling(w).mean()) / v.rolling(w).std(ddof=0)
    if kind == "price_z":
        return (c - c.rolling(w).mean()) / c.rolling(w).std(ddof=0)
    return (c - lo.rolling(w).min()) / (h.rolling(w).max() - lo.rolling(w).min())


def _pandas_features(frames: dict[str, pd.DataFrame]) -> list[pd.DataFrame]:
    return [_pandas_feature(f.kind, f.window, *(frames[k] for k in ("open", "high", "low", "close", "volume")))
            for f in default_features(30).features]


def bench_features() -> dict[str, float]:
    bars = wb.data.synthetic(N_BARS, N_ASSETS, seed=7)
    arrays = wb.data.to_arrays(bars)
    fs = default_features(30)
    fs.compute(wb.data.synthetic(300, 2, seed=1))  # compile
    t = time.perf_counter()
    ours = fs.compute(arrays).values
    ours_s = time.perf_counter() - t
    frames = {k: pd.DataFrame(getattr(arrays, k)) for k in ("open", "high", "low", "close", "volume")}
    t = time.perf_counter()
    theirs = _pandas_features(frames)
    theirs_s = time.perf_counter() - t
    same = np.allclose(ours[0], theirs[0].to_numpy(), equal_nan=True)
    return {"assets": N_ASSETS, "bars": N_BARS, "features": 30, "workbench_s": ours_s, "pandas_s": theirs_s,
            "speedup": theirs_s / ours_s, "target_1s_met": ours_s <= 1.0, "first_feature_equal": bool(same),
            "kinds": len(KINDS)}


def bench_cv(nthread: int) -> dict[str, float]:
    bars = wb.data.sample("GOOG")
    rule = TrendPullback(rsi_window=2, oversold=40.0)
    params = ModelParams(n_estimators=200, max_depth=3, nthread=nthread)
    t = time.perf_counter()
    ds = make_dataset(bars, rule, default_features(30), method=TripleBarrier(HORIZON))
    res = cross_validate(ds, params=params, cv=PurgedCV("kfold", n_splits=5, embargo=5))
    ours_s = time.perf_counter() - t
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import TimeSeriesSplit

    t = time.perf_counter()
    pdf = bars.to_pandas().set_index("ts")
    frames = {k: pdf[[k]].rename(columns={k: 0}) for k in ("open", "high", "low", "close", "volume")}
    feats = pd.concat([f[0] for f in _pandas_features(frames)], axis=1)
    rows = pd.Index(pdf.index).get_indexer(pd.DatetimeIndex(ds.ts).tz_localize("UTC"))
    X = feats.iloc[rows].to_numpy()
    probs = np.full(len(ds), np.nan)
    for train, test in TimeSeriesSplit(n_splits=5, gap=HORIZON).split(X):
        clf = xgb.XGBClassifier(n_estimators=200, max_depth=3, learning_rate=0.05, subsample=0.8,
                                colsample_bytree=0.8, tree_method="hist", n_jobs=nthread, random_state=0)
        clf.fit(X[train], ds.y[train])
        probs[test] = clf.predict_proba(X[test])[:, 1]
    theirs_s = time.perf_counter() - t
    tested = ~np.isnan(probs)
    return {"nthread": nthread, "entries": len(ds), "features": 30, "workbench_s": ours_s, "pandas_sklearn_s": theirs_s,
            "ratio": theirs_s / ours_s, "target_10s_met": ours_s <= 10.0,
            "workbench_oof_roc_auc": res.overall["model"]["roc_auc"],
            "sklearn_timeseriessplit_roc_auc": float(roc_auc_score(ds.y[tested], probs[tested]))}


def main() -> None:
    load = os.getloadavg()
    out = {"benchmark": "ml", "machine": {"cpus": os.cpu_count(), "load_average_at_start": load},
           "features_500x2500": bench_features(), "purged_cv_goog": [bench_cv(1), bench_cv(2)],
           "load_average_at_end": os.getloadavg()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
