"""``workbench models list|show|promote|compare`` over a store holding two versions and an A/B test."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.ml import ModelParams, SignalModel, default_features, make_dataset
from workbench.ml.ab import ABTest
from workbench.ml.registry import ModelRegistry
from workbench.strategies import TrendPullback


@pytest.fixture
def filled(home):
    ds = make_dataset(wb.data.sample("GOOG"), TrendPullback(rsi_window=2, oversold=30.0), default_features(6))
    with wb.Store() as store:
        reg = ModelRegistry(store)
        reg.register("pb", SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(n_estimators=10)), dataset=ds,
                     cv_metrics={"model": {"roc_auc": 0.51, "log_loss": 0.69}})
        reg.register("pb", SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(n_estimators=30, seed=3)),
                     dataset=ds)
        reg.promote("pb", 1, force=True, reason="first")
        reg.promote("pb", 2, alias="challenger")
        ab = ABTest(reg, "pb")
        ids = [f"GOOG-{t}" for t in ds.signal_bar]
        ab.score(ids, ds.X)
        ab.record_outcomes(ids, ds.ret)
        dsr = ab.compare().value("challenger", "dsr")
    return dsr


def test_list_show_compare(cli, filled):
    out = cli("models", "list")
    assert out.exit_code == 0, out.output
    assert "pb" in out.output and "champion" in out.output and "challenger" in out.output and "0.510" in out.output
    out = cli("models", "show", "pb", "--alias", "champion")
    assert out.exit_code == 0 and "pb version 1 (champion)" in out.output and "promoted None -> 1" in out.output
    out = cli("models", "compare", "pb")
    assert out.exit_code == 0 and "challenger - champion: hit_rate" in out.output and "DSR" in out.output


def test_promote_refused_below_095_unless_forced(cli, filled):
    out = cli("models", "promote", "pb", "2")
    if filled < 0.95:
        assert out.exit_code == 1 and "below 0.95" in out.output
        out = cli("models", "promote", "pb", "2", "--force", "--reason", "manual")
    assert out.exit_code == 0 and "pb version 2 is now champion" in out.output
    assert "champion" in cli("models", "show", "pb", "--version", "2").output.splitlines()[0]


def test_unknown_model_is_a_one_line_error(cli, filled):
    out = cli("models", "show", "pbb")
    assert out.exit_code == 1 and "no model named 'pbb'" in out.output and "Did you mean 'pb'" in out.output
