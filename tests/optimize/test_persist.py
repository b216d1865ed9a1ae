"""Optimizations in the store: a run with every trial, resumable, linked to the dataset, on
SQLite and PostgreSQL; the ``trials`` table's migration.

Oracles: the in-memory result of the same search (what the store must hold and give back) and
the dataset's content hash.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

import workbench as wb
from workbench.data.hashing import content_hash
from workbench.errors import InvalidParameterError, StoreError
from workbench.optimize import _evaluate as ev
from workbench.optimize import grid, persist, random, trials
from workbench.store import Store
from workbench.strategies import RsiMeanReversion, SmaCross

_spec = importlib.util.spec_from_file_location("_store_fixtures", Path(__file__).parents[1] / "store" / "conftest.py")
_store_fixtures = sys.modules.get("_store_fixtures") or importlib.util.module_from_spec(_spec)
if "_store_fixtures" not in sys.modules:
    sys.modules[_spec.name] = _store_fixtures
    _spec.loader.exec_module(_store_fixtures)
postgres_server = _store_fixtures.postgres_server


@pytest.fixture(scope="module")
def goog():
    return wb.data.sample("GOOG")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("postgres")])])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art")
        yield s
        s.close()
        return
    server = request.getfixturevalue("postgres_server")
    with server.database() as db:
        s = Store(server.url(db), artifacts_dir=tmp_path / "art")
        yield s
        s.close()


def test_a_stored_sweep_is_a_run_with_every_trial(goog, store):
    res = grid(goog, SmaCross, fast=range(5, 30, 5), slow=range(30, 90, 10), direction="long", fees=0.002,
               store=store, name="sma grid")
    rec = store.run(res.run_id)
    assert (rec.kind, rec.status, rec.name) == ("optimization", "succeeded", "sma grid")
    assert rec.dataset_hash == content_hash(goog) == res.dataset_hash
    assert rec.metrics["best_params"] == res.best_params
    assert rec.metrics["overfit"]["dsr"] == pytest.approx(res.overfit.dsr)
    got = trials(res.run_id, store=store)
    assert got.height == res.frame.height
    assert got["state"].unique().to_list() == ["complete"]
    assert (got["duration_s"] >= 0).all() and got["started_at"].null_count() == 0
    want = res.frame.sort("set")
    assert got["number"].to_list() == want["set"].to_list()
    for col in ("fast", "slow", "direction"):
        assert got[col].to_list() == want[col].to_list()
    for col in ("total_return", "sharpe_ratio", "max_drawdown", "n_trades"):
        assert np.allclose(got[col].to_numpy().astype(float), want[col].to_numpy().astype(float), rtol=0, atol=0)
    assert got["value"].to_list() == want["sharpe_ratio"].to_list()


def test_an_interrupted_engine_sweep_resumes_with_the_sets_not_done(goog, tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art")
    monkeypatch.setattr(persist, "chunk_size", lambda engine: 3)
    calls = {"n": 0, "limit": 7}

    def calmar(result):
        calls["n"] += 1
        if calls["n"] > calls["limit"]:
            raise KeyboardInterrupt
        return result.stats.calmar_ratio

    kw = {"window": [5, 10, 14, 20], "lower": [25.0, 30.0], "upper": [70.0, 75.0], "direction": "long",
          "metric": calmar, "overfit": False}
    with pytest.raises(KeyboardInterrupt):
        grid(goog, RsiMeanReversion, store=store, **kw)
    run = store.runs(kind="optimization").row(0, named=True)
    assert run["status"] == "failed" and "interrupted" in run["error"]
    assert store.trial_numbers(run["id"]).tolist() == list(range(6))  # two committed chunks of 3
    calls.update(n=0, limit=10**9)
    res = grid(goog, RsiMeanReversion, store=store, **kw)
    assert res.run_id == run["id"] and calls["n"] == 16 - 6  # only the sets not done
    assert store.run(res.run_id).status == "succeeded"
    fresh = grid(goog, RsiMeanReversion, **kw)
    assert res.frame.equals(fresh.frame)
    store.close()


def test_an_interrupted_fused_sweep_resumes(goog, tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art")
    monkeypatch.setattr(persist, "chunk_size", lambda engine: 40)
    real = ev.FusedEvaluator.evaluate
    seen = []

    def flaky(self, sets):
        seen.append(sets.height)
        if len(seen) == 3:
            raise RuntimeError("worker lost")
        return real(self, sets)

    monkeypatch.setattr(ev.FusedEvaluator, "evaluate", flaky)
    kw = {"fast": range(2, 40, 2), "slow": range(20, 120, 10), "direction": "both", "metric": "total_return"}
    with pytest.raises(RuntimeError, match="worker lost"):
        random(goog, SmaCross, n_sets=150, seed=9, store=store, **kw)
    seen.clear()
    res = random(goog, SmaCross, n_sets=150, seed=9, store=store, **kw)
    assert sum(seen) == 150 - 80
    monkeypatch.setattr(ev.FusedEvaluator, "evaluate", real)
    assert res.frame.equals(random(goog, SmaCross, n_sets=150, seed=9, **kw).frame)
    assert store.trials(res.run_id).height == 150
    store.close()


def test_save_trials_replaces_by_number_and_checks_its_input(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art")
    store.save_run("opt", kind="optimization", spec={}, status="running")
    store.save_trials("opt", [{"number": 0, "params": {"a": 1}, "metrics": {"m": 1.0}, "value": 1.0},
                              {"number": 1, "params": {"a": 2}, "metrics": {"m": float("nan")}, "value": float("nan")}])
    store.save_trials("opt", [{"number": 0, "params": {"a": 1}, "metrics": {"m": 3.0}, "value": 3.0, "state": "pruned"}])
    frame = store.trials("opt")
    assert frame.select("number", "state", "value", "a", "m").rows() == [(0, "pruned", 3.0, 1, 3.0), (1, "complete", None, 2, None)]
    assert store.trials("nothing").height == 0 and store.trials("nothing").schema["value"] == pl.Float64
    with pytest.raises(StoreError, match="Run 'missing' is not in the store"):
        store.save_trials("missing", [{"number": 0}])
    with pytest.raises(InvalidParameterError, match="trial `number` must be an integer >= 0"):
        store.save_trials("opt", [{"number": -1}])
    with pytest.raises(InvalidParameterError, match=r"`state` must be one of .* Did you mean 'complete'\?"):
        store.save_trials("opt", [{"number": 3, "state": "completed"}])
    store.delete_run("opt")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM trials")).scalar() == 0  # cascaded
    store.close()


def test_trials_migration_upgrades_and_downgrades(tmp_path):
    from alembic import command

    from workbench.store._migrate import alembic_config, head_revision

    url = f"sqlite:///{tmp_path / 'wb.db'}"
    Store(url, artifacts_dir=tmp_path).close()
    engine = sa.create_engine(url)
    assert "trials" in sa.inspect(engine).get_table_names()
    assert {i["name"] for i in sa.inspect(engine).get_indexes("trials")} == {"ix_trials_run_id"}
    command.downgrade(alembic_config(url), "0001")
    assert "trials" not in sa.inspect(engine).get_table_names()
    with Store(url, artifacts_dir=tmp_path) as store:  # opening upgrades again
        assert store.revision == head_revision()
    engine.dispose()
