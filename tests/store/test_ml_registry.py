"""The registry (versions, aliases, promotions) and A/B tests, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.ml import ModelParams, SignalModel, default_features, make_dataset
from workbench.ml.ab import ABTest, ab_split
from workbench.ml.registry import ModelNotFoundError, ModelRegistry, PromotionRefused
from workbench.strategies import TrendPullback


@pytest.fixture
def registry(store):
    return ModelRegistry(store)


@pytest.fixture(scope="module")
def goog_set():
    return make_dataset(wb.data.sample("GOOG"), TrendPullback(rsi_window=2, oversold=30.0), default_features(8))


@pytest.fixture(scope="module")
def two_models(goog_set):
    ds = goog_set
    half = len(ds) // 2
    a = SignalModel.fit(ds.X[:half], ds.y[:half], ds.feature_names, ModelParams(n_estimators=20, seed=1))
    b = SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(n_estimators=40, seed=2))
    return a, b


def test_register_load_alias_and_snapshot(registry, goog_set, two_models):
    a, b = two_models
    assert registry.register("pb", a, dataset=goog_set, cv_metrics={"model": {"roc_auc": 0.55}}) == 1
    assert registry.register("pb", b, dataset=goog_set) == 2
    rec = registry.get("pb", version=1)
    assert rec.dataset_hash == goog_set.content_hash and rec.data_start.year == 2004 and rec.data_end.year == 2013
    assert rec.hyperparameters["n_estimators"] == 20 and rec.features == list(goog_set.feature_names)
    np.testing.assert_array_equal(registry.load("pb", version=1).predict_proba(goog_set.X), a.predict_proba(goog_set.X))
    assert registry.get("pb").version == 2
    registry.promote("pb", 1, force=True, reason="bootstrap")
    registry.promote("pb", 2, alias="challenger")
    assert registry.get("pb", alias="champion").version == 1
    listing = registry.models()
    assert listing["aliases"].to_list() == ["champion", "challenger"] and listing["roc_auc"].to_list()[0] == 0.55


def test_unknown_names_versions_and_aliases_are_named(registry, two_models):
    registry.register("pullback", two_models[0])
    with pytest.raises(ModelNotFoundError, match="no model named 'pulback'.*Did you mean 'pullback'"):
        registry.load("pulback")
    with pytest.raises(ModelNotFoundError, match="has no version 7; versions: 1"):
        registry.get("pullback", version=7)
    with pytest.raises(ModelNotFoundError, match="has no alias 'champion'"):
        registry.load("pullback", alias="champion")


def test_promotion_below_dsr_095_is_refused_unless_forced_and_every_promotion_is_logged(registry, two_models):
    registry.register("m", two_models[0])
    registry.register("m", two_models[1])
    with pytest.raises(PromotionRefused, match="deflated Sharpe ratio is 0.900, below 0.95"):
        registry.promote("m", 2, dsr=0.9)
    with pytest.raises(PromotionRefused, match="no DSR was given"):
        registry.promote("m", 2)
    registry.promote("m", 1, dsr=0.97)
    registry.promote("m", 2, dsr=0.5, force=True)
    log = registry.promotions("m")
    assert log["to_version"].to_list() == [1, 2] and log["forced"].to_list() == [False, True]
    assert log["from_version"].to_list() == [None, 1] and log["dsr"].to_list() == [0.97, 0.5]


def test_ab_split_shares_are_within_one_percent_on_100000_ids():
    ids = [f"SYM{i % 37}-{i}" for i in range(100_000)]
    for share in (0.1, 0.3, 0.5):
        got = ab_split(ids, share, salt="exp").mean()
        assert abs(got - share) < 0.01
    assert (ab_split(ids[:1000], 0.5) == ab_split(list(reversed(ids[:1000])), 0.5)[::-1]).all()


def test_ab_records_both_predictions_and_outcomes_and_compares(registry, goog_set, two_models):
    registry.register("pb", two_models[0])
    registry.register("pb", two_models[1])
    registry.promote("pb", 1, force=True)
    registry.promote("pb", 2, alias="challenger")
    ab = ABTest(registry, "pb", share=0.3, threshold=50.0)
    ids = [f"GOOG-{t}" for t in goog_set.signal_bar]
    scored = ab.score(ids, goog_set.X, ts=goog_set.ts)
    assert scored.height == len(ids) and scored["champion_confidence"].is_not_null().all()
    assert set(scored["arm"]) == {"champion", "challenger"}
    ab.score(ids[:5], goog_set.X[:5])  # scoring again keeps the first record
    assert ab.records().height == len(ids)
    assert ab.record_outcomes(ids, goog_set.ret) == len(ids)
    cmp = ab.compare()
    t = cmp.table
    assert t["arm"].to_list() == ["champion", "challenger"] and t["version"].to_list() == [1, 2]
    conf = scored["challenger_confidence"].to_numpy()
    picked = conf >= 50
    assert cmp.value("challenger", "hit_rate") == pytest.approx((goog_set.ret[picked] > 0).mean())
    assert 0.0 <= cmp.value("challenger", "dsr") <= 1.0 and set(cmp.difference) == {"hit_rate", "ic", "sharpe", "dsr"}
    dsr = cmp.value("challenger", "dsr")
    if dsr < 0.95:
        with pytest.raises(PromotionRefused):
            ab.promote_challenger()
    rec = ab.promote_challenger(force=True)
    assert rec.version == 2 and "champion" in rec.aliases
    assert registry.promotions("pb")["reason"][-1].startswith("A/B pb:ab: DSR")
