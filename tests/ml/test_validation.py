"""Purged splits leak nothing; training is deterministic; models round-trip; calibration is monotone."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import DataValidationError, OptimizationError
from workbench.ml.model import ModelLoadError, ModelParams, SignalModel
from workbench.ml.scoring import Calibrator, classification_metrics
from workbench.ml.tune import tune
from workbench.ml.validation import PurgedCV, cross_validate
from workbench.store import Store

SMALL = ModelParams(n_estimators=25, max_depth=2)


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    cuts = np.flatnonzero(np.diff(rows) != 1) + 1
    return [(int(r[0]), int(r[-1])) for r in np.split(rows, cuts)]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(12, 120), spans=st.lists(st.integers(0, 15), min_size=120, max_size=120),
       method=st.sampled_from(["kfold", "cpcv", "walk_forward"]), n_splits=st.integers(2, 6),
       embargo=st.integers(0, 5))
def test_no_training_label_overlaps_a_test_window_or_its_embargo(n, spans, method, n_splits, embargo):
    ends = np.minimum(np.arange(n) + np.asarray(spans[:n]), n - 1)
    cv = PurgedCV(method, n_splits=n_splits, n_test_splits=min(2, n_splits - 1), embargo=embargo)
    try:
        splits = list(cv.split(ends))
    except OptimizationError:
        return  # an empty training window is refused with an error, never silently used
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        for a, b in _runs(test):
            e = ends[a : b + 1].max()
            hi = e + (embargo if method != "walk_forward" else 0)
            bad = (ends[train] >= a) & (train <= hi)  # the span [i, end_i] meets [a, hi]
            assert not bad.any(), (train[bad], a, b, hi)
        if method == "walk_forward":
            assert (ends[train] < test[0]).all()


def _digest(p: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(p).tobytes()).hexdigest()


def test_same_data_and_seed_give_bit_identical_predictions(goog_set):
    ds = goog_set
    a = SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(seed=7, n_estimators=60)).predict_proba(ds.X)
    b = SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(seed=7, n_estimators=60)).predict_proba(ds.X)
    c = SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(seed=8, n_estimators=60)).predict_proba(ds.X)
    assert _digest(a) == _digest(b) and _digest(a) != _digest(c)


def test_save_and_load_give_equal_predictions(goog_set):
    ds = goog_set
    res = cross_validate(ds, params=SMALL, cv=PurgedCV("kfold", n_splits=4))
    text = res.model.to_json()
    assert "pickle" not in text and json.loads(text)["booster"]["learner"]  # XGBoost's own JSON
    back = SignalModel.from_json(text)
    np.testing.assert_array_equal(back.predict_proba(ds.X), res.model.predict_proba(ds.X))
    np.testing.assert_array_equal(back.confidence(ds.X), res.model.confidence(ds.X))
    assert back.feature_names == ds.feature_names and back.params == SMALL


def test_cv_reports_every_metric_per_fold_and_the_baselines(goog_set):
    res = cross_validate(goog_set, params=SMALL, cv=PurgedCV("cpcv", n_splits=5, n_test_splits=2, embargo=3))
    assert res.folds.height == 10
    for col in ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier", "ic",
                "majority_log_loss", "rule_precision"):
        assert col in res.folds.columns
    base = goog_set.y.mean()
    assert res.overall["rule"]["precision"] == pytest.approx(base) and res.overall["rule"]["recall"] == 1.0
    assert not np.isnan(res.oof).any()
    conf = res.model.confidence(goog_set.X)
    assert (conf >= 0).all() and (conf <= 100).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["isotonic", "platt"]))
def test_calibrated_confidence_is_monotone_in_the_raw_probability(seed, method):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, 200)
    y = (rng.uniform(0, 1, 200) < p).astype(int)
    y[:2] = [0, 1]
    cal = Calibrator.fit(p, y, method=method)
    grid = np.linspace(0, 1, 1001)
    out = cal(grid)
    assert (np.diff(out) >= -1e-12).all() and (out >= 0).all() and (out <= 1).all()


def test_metrics_agree_with_scikit_learn():
    import sklearn.metrics as sk  # a peer oracle in the [dev] extra: missing, it fails loudly
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.uniform(0, 1, 300), 2)  # ties
    m = classification_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(sk.roc_auc_score(y, p))
    assert m["log_loss"] == pytest.approx(sk.log_loss(y, p))
    assert m["brier"] == pytest.approx(sk.brier_score_loss(y, p))
    assert m["f1"] == pytest.approx(sk.f1_score(y, p >= 0.5))
    assert m["precision"] == pytest.approx(sk.precision_score(y, p >= 0.5))


def test_tuning_stores_every_trial(goog_set, tmp_path):
    with Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art") as store:
        res = tune(goog_set, n_trials=3, cv=PurgedCV("kfold", n_splits=3), store=store)
        stored = store.trials(res.run_id)
        assert stored.height == 3 and store.run(res.run_id).status == "succeeded"
        assert stored["value"].min() == pytest.approx(res.best_value)


def test_bad_features_and_windows_are_named(goog_set):
    X = goog_set.X.copy()
    X[5, 2] = np.inf
    with pytest.raises(DataValidationError, match=rf"feature '{goog_set.feature_names[2]}' is inf in row 5"):
        SignalModel.fit(X, goog_set.y, goog_set.feature_names)
    X[5, 2] = np.nan
    with pytest.raises(DataValidationError, match="is nan in row 5"):
        SignalModel.fit(X, goog_set.y, goog_set.feature_names)
    with pytest.raises(DataValidationError, match="training window is empty"):
        SignalModel.fit(X[:0], goog_set.y[:0], goog_set.feature_names)
    with pytest.raises(OptimizationError, match="training window before row"):
        list(PurgedCV("walk_forward", n_splits=4).split(np.full(20, 19)))


def test_an_artifact_from_a_newer_xgboost_is_refused(goog_set):
    doc = json.loads(SignalModel.fit(goog_set.X, goog_set.y, goog_set.feature_names, SMALL).to_json())
    doc["booster"]["version"] = [99, 0, 0]
    with pytest.raises(ModelLoadError, match="written by XGBoost 99.0.0, newer than the installed"):
        SignalModel.from_json(json.dumps(doc))
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        SignalModel.from_json("{broken")
