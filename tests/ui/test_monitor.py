"""The optimization monitor's state: incremental reads of Optuna studies and stored sweeps."""

from __future__ import annotations

import math

import numpy as np
import optuna
import polars as pl
import pytest

import workbench as wb
from workbench.optimize import grid
from workbench.optimize.study import store_storage_url
from workbench.store import Store
from workbench.strategies import SmaCross
from workbench.ui._optuna_tail import OptunaTail, study_names
from workbench.ui.monitor import StudyMonitor, heatmap_cells, importance, overfit_stats

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture()
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "artifacts") as s:
        yield s


def _tell(study, n, *, start=0):
    for i in range(start, start + n):
        t = study.ask({"fast": optuna.distributions.IntDistribution(2, 50),
                       "kind": optuna.distributions.CategoricalDistribution(["sma", "ema"])})
        t.set_user_attr("metrics", {"sharpe_ratio": 0.1 * i, "total_return": 0.01 * i})
        if i % 7 == 6:
            study.tell(t, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(t, float(t.params["fast"]) + (1.0 if t.params["kind"] == "ema" else 0.0))


def test_tail_returns_what_optuna_holds_and_each_trial_once(store):
    url = store_storage_url(store)
    study = optuna.create_study(storage=url, study_name="s1", direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=1))
    running = study.ask()  # an unfinished trial is not returned until it finishes
    _tell(study, 10)
    tail = OptunaTail(url, "s1")
    first = tail.poll()
    by_number = {t.number: t for t in study.trials}
    assert sorted(r["number"] for r in first) == sorted(t.number for t in study.trials if t.state.is_finished())
    for r in first:
        t = by_number[r["number"]]
        assert r["params"] == t.params  # categorical values come back in their external form
        assert r["state"] == {"COMPLETE": "complete", "FAIL": "failed"}[t.state.name]
        assert r["value"] == (t.value if t.state.name == "COMPLETE" else None)
        assert r["metrics"] == t.user_attrs["metrics"]
    assert tail.poll() == []
    study.tell(running, 99.0)
    _tell(study, 3, start=10)
    again = tail.poll()
    assert sorted(r["number"] for r in again) == [running.number, *[t.number for t in study.trials[-3:]]]
    assert tail.directions == ["maximize"]
    assert study_names(url) == ["s1"]
    tail.close()


def test_an_unknown_study_names_the_ones_there(store):
    url = store_storage_url(store)
    optuna.create_study(storage=url, study_name="alpha")
    with pytest.raises(wb.errors.StoreError, match="No study named 'alpa'.*'alpha'"):
        OptunaTail(url, "alpa")
    mon = StudyMonitor(store=store, source="alpa")
    assert "No study or stored sweep named 'alpa'" in mon.error


def test_monitor_follows_a_study_and_keeps_the_best_so_far(store):
    url = store_storage_url(store)
    study = optuna.create_study(storage=url, study_name="live", direction="minimize",
                                sampler=optuna.samplers.RandomSampler(seed=2))
    _tell(study, 5)
    mon = StudyMonitor(store=store, source="live")
    assert mon.source == "study: live" and mon.goal == "minimize"
    first = mon.poll()
    assert len(first) == 5 and mon.poll() == []
    _tell(study, 6, start=5)
    new = mon.poll()
    assert len(new) == 6 and mon.n_trials == 11
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert mon.best["value"] == min(t.value for t in complete)
    bests = [r["best"] for r in first + new]
    assert all(b2 <= b1 for b1, b2 in zip(bests, bests[1:], strict=False) if b1 is not None)
    assert set(mon.importances) == {"fast", "kind"} and math.isclose(sum(mon.importances.values()), 1.0)
    cells = mon.heatmap()
    assert set(cells.columns) >= {"fast", "kind", "value"} and cells.height >= 2


def test_monitor_follows_a_stored_sweep_and_shows_its_final_overfit(store):
    res = grid(wb.data.sample("GOOG"), SmaCross, fast=[5, 10, 15], slow=[20, 40], direction="long", store=store)
    mon = StudyMonitor(store=store, source=res.run_id)
    assert mon.source.startswith("sweep: ")
    rows = mon.poll()
    assert len(rows) == 6 and set(mon.params) == {"fast", "slow"}
    assert mon.best["value"] == pytest.approx(res.frame[res.metric].max())
    assert mon.overfit["dsr"] == pytest.approx(res.overfit.dsr)
    assert mon.poll() == []


def test_importance_finds_the_parameter_that_drives_the_objective():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 10, 400), rng.integers(0, 10, 400)
    f = pl.DataFrame({"a": a, "b": b, "value": a * 1.0 + rng.normal(0, 0.1, 400)})
    imp = importance(f, ["a", "b"])
    assert imp["a"] > 0.95 and list(imp) == ["a", "b"]


def test_heatmap_cells_keep_the_best_per_cell():
    f = pl.DataFrame({"x": [1, 1, 2], "y": [1, 1, 1], "value": [0.5, 0.7, 0.1]})
    assert heatmap_cells(f, "x", "y").rows() == [(1, 1, 0.7, 2), (2, 1, 0.1, 1)]
    assert heatmap_cells(f, "x", "y", goal="minimize").rows()[0][2] == 0.5


def test_overfit_stats_deflate_the_best_of_many():
    sharpes = np.linspace(-1, 1, 100)
    one = overfit_stats(sharpes[:2], 1.0, n_bars=2000, periods_per_year=252)
    many = overfit_stats(sharpes, 1.0, n_bars=2000, periods_per_year=252)
    assert many["dsr"] < one["dsr"] <= one["psr"]
    assert many["expected_max_sharpe"] > 0
