"""Optuna studies over the declared space: the real Study, batches, samplers, multi-objective
Pareto fronts, storage in the store, and two processes sharing one study through SQLite and
PostgreSQL while one of them is killed with SIGKILL.

Oracles: ``workbench.backtest`` for trial values, a plain dominance check for the Pareto front,
Optuna's own trial states for the storage.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError, OptimizationError
from workbench.optimize import study
from workbench.optimize.space import search_space
from workbench.optimize.study import distributions, store_storage_url
from workbench.store import Store
from workbench.strategies import RsiMeanReversion, SmaCross

optuna.logging.set_verbosity(optuna.logging.WARNING)

_spec = importlib.util.spec_from_file_location("_store_fixtures", Path(__file__).parents[1] / "store" / "conftest.py")
_store_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _store_fixtures
_spec.loader.exec_module(_store_fixtures)
postgres_server = _store_fixtures.postgres_server  # the store tests' PostgreSQL server fixture
COMPLETE, RUNNING, FAIL = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING,
                           optuna.trial.TrialState.FAIL)


@pytest.fixture(scope="module")
def goog():
    return wb.data.sample("GOOG")


def test_study_returns_the_real_study_with_values_from_the_engine(goog):
    s = study(goog, SmaCross, direction="long", fast=(2, 60), slow=(10, 200), n_trials=30, seed=5,
              metric="total_return", fees=0.002)
    assert isinstance(s, optuna.Study)
    done = s.get_trials(states=(COMPLETE,))
    assert len(done) >= 30
    assert all(t.params["fast"] < t.params["slow"] for t in done)
    for t in done[:3] + [s.best_trial]:
        res = wb.backtest(goog, SmaCross(direction="long", **t.params), fees=0.002)
        assert t.value == pytest.approx(res.stats.total_return, rel=1e-9, abs=1e-12)
        assert t.user_attrs["metrics"]["sharpe_ratio"] == pytest.approx(res.stats.sharpe_ratio, rel=1e-9)
    assert s.best_value == max(t.value for t in done)


def test_constraint_violations_are_pruned_not_counted(goog):
    s = study(goog, SmaCross, direction="long", fast=(2, 100), slow=(3, 101), n_trials=20, seed=1, sampler="random")
    pruned = s.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    assert len(s.get_trials(states=(COMPLETE,))) == 20
    assert pruned and all(t.params["fast"] >= t.params["slow"] for t in pruned)
    assert all(t.user_attrs["constraint"] == "violated" for t in pruned)


def test_batches_ask_several_trials_before_telling(goog):
    s = study(goog, SmaCross, direction="long", fast=(2, 30), slow=(40, 200), n_trials=24, batch_size=8,
              sampler="random", seed=2)
    starts = [t.datetime_start for t in s.trials]
    ends = [t.datetime_complete for t in s.trials]
    # within a batch every trial starts before the first one of the batch completes
    assert starts[7] <= ends[0] and starts[15] <= ends[8]


def test_multi_objective_gives_the_pareto_front(goog):
    s = study(goog, SmaCross, direction="long", fast=(2, 60), slow=(61, 250), metric=["sharpe_ratio", "max_drawdown"],
              goal=["maximize", "maximize"], sampler="nsga2", n_trials=60, seed=3)
    done = s.get_trials(states=(COMPLETE,))
    values = np.array([t.values for t in done])

    def dominated(v):
        return bool(((values >= v).all(axis=1) & (values > v).any(axis=1)).any())

    front = {t.number for t in done if not dominated(np.array(t.values))}
    assert {t.number for t in s.best_trials} == front


def test_engine_path_for_other_strategies(goog):
    s = study(goog, RsiMeanReversion, direction="long", window=(5, 30), n_trials=8, seed=4, metric="calmar_ratio")
    t = s.best_trial
    res = wb.backtest(goog, RsiMeanReversion(direction="long", **t.params))
    assert t.value == pytest.approx(res.stats.calmar_ratio, rel=1e-9)


def test_distributions_follow_the_declaration():
    dists, fixed = distributions(search_space(RsiMeanReversion, window=(5, 30), direction="long"))
    assert fixed == {"direction": "long"}
    assert dists["window"] == optuna.distributions.IntDistribution(5, 30, step=1)
    assert dists["lower"] == optuna.distributions.FloatDistribution(1.0, 50.0, step=1.0)
    dists, _ = distributions(search_space(SmaCross, fast=[5, 8, 20], slow=(30, 90, 20)))
    assert dists["fast"] == optuna.distributions.CategoricalDistribution([5, 8, 20])
    assert dists["slow"] == optuna.distributions.IntDistribution(30, 90, step=20)
    assert dists["direction"] == optuna.distributions.CategoricalDistribution(["long", "short", "both"])


def test_samplers_and_their_errors(goog):
    for sampler in ("random", "tpe", "nsga2"):
        s = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=6, sampler=sampler, seed=0)
        assert len(s.get_trials(states=(COMPLETE,))) == 6
    s = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=12, sampler="cmaes", seed=0)
    assert len(s.get_trials(states=(COMPLETE,))) >= 12
    assert isinstance(s.sampler, optuna.samplers.CmaEsSampler)
    if importlib.util.find_spec("torch") is None:
        with pytest.raises(InvalidParameterError, match=r"needs the 'torch' package.*quant-workbench\[gp\]"):
            study(goog, SmaCross, direction="long", n_trials=2, sampler="gp")
    else:
        s = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=6, sampler="gp", seed=0)
        assert len(s.get_trials(states=(COMPLETE,))) >= 6
    with pytest.raises(InvalidParameterError, match=r"`sampler` must be one of .* Did you mean 'tpe'\?"):
        study(goog, SmaCross, sampler="tpee")
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'max_drawdown'\?"):
        study(goog, SmaCross, metric=["sharpe_ratio", "max_drawdwn"], goal=["maximize", "maximize"])
    with pytest.raises(InvalidParameterError, match="one goal per metric"):
        study(goog, SmaCross, metric=["sharpe_ratio", "max_drawdown"], goal=["maximize"])
    with pytest.raises(OptimizationError, match="every parameter of SmaCross is fixed"):
        study(goog, SmaCross, fast=5, slow=20, direction="long")


def test_storage_in_the_workbench_store_and_its_trials(goog, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "art")
    s = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=10, storage=store,
              study_name="sma", seed=1)
    url = store_storage_url(store)
    assert url == f"sqlite:///{tmp_path / 'wb-optuna.db'}"
    again = optuna.load_study(study_name="sma", storage=url)
    assert len(again.get_trials(states=(COMPLETE,))) == 10  # Optuna's own tables beside the store
    runs = store.runs(kind="optimization")
    assert runs.height == 1 and runs["dataset_hash"][0] == wb.data.hashing.content_hash(goog)
    trials = store.trials(runs["id"][0])
    assert trials.height == len(s.trials)
    assert set(trials["state"]) == {"complete"}
    best = trials.sort("value", descending=True).row(0, named=True)
    assert best["value"] == pytest.approx(s.best_value) and best["fast"] == s.best_params["fast"]
    # resuming by name continues to a larger trial count
    s2 = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=14, storage=store,
               study_name="sma", seed=2)
    assert len(s2.get_trials(states=(COMPLETE,))) == 14
    store.close()


WORKER = textwrap.dedent(
    """
    import sys, time
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import workbench as wb
    from workbench.optimize import study
    from workbench.strategies import SmaCross

    url, name, n, delay, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]

    def slow_total_return(result):
        if marker != "-":  # the worker to be killed: say it is inside a trial, then stay there
            open(marker, "w").close()
            time.sleep(600)
        time.sleep(delay)
        return result.stats.total_return

    s = study(wb.data.sample("GOOG"), SmaCross, direction="long", fast=(2, 50), slow=(51, 200),
              metric=slow_total_return, n_trials=n, storage=url, study_name=name, batch_size=4,
              heartbeat_interval=1, grace_period=2, sampler="random")
    print("done", len(s.trials))
    """
)


def _states(url: str, name: str) -> dict[int, optuna.trial.FrozenTrial]:
    return {t.number: t for t in optuna.load_study(study_name=name, storage=url).get_trials()}


def _two_workers_one_killed(url: str, tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    name, n = "shared", 24
    optuna.create_study(study_name=name, storage=url, direction="maximize")  # both workers load it
    marker = tmp_path / "slow-worker-in-a-trial"
    slow, fast = (subprocess.Popen([sys.executable, str(script), url, name, str(n), "0.08", m], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for m in (str(marker), "-"))
    deadline = time.monotonic() + 600  # a hang guard only

    while True:
        states = _states(url, name)
        if marker.exists() and sum(t.state == COMPLETE for t in states.values()) >= 4:
            break
        assert slow.poll() is None, slow.communicate()
        assert fast.poll() is None, fast.communicate()
        assert time.monotonic() < deadline, "the workers never ran side by side"
        time.sleep(0.1)
    before = _states(url, name)
    os.kill(slow.pid, signal.SIGKILL)
    slow.wait()
    out, err = fast.communicate(timeout=180)
    assert fast.returncode == 0, err
    completed = {k: t.value for k, t in before.items() if t.state == COMPLETE}
    stale = {k for k, t in before.items() if t.state == RUNNING} - set(_states(url, name))
    # resume in this process: fails whatever is still stale, then tops the study up
    time.sleep(3)  # the heartbeat stopped with the kill: wait out the 2 s grace period
    s = study(wb.data.sample("GOOG"), SmaCross, direction="long", fast=(2, 50), slow=(51, 200), metric="total_return",
              n_trials=n + 4, storage=url, study_name=name, batch_size=4, heartbeat_interval=1, grace_period=2,
              sampler="random")
    after = {t.number: t for t in s.get_trials()}
    for k, v in completed.items():  # no completed trial lost or changed
        assert after[k].state == COMPLETE and after[k].value == v
    killed = [k for k, t in before.items() if t.state == RUNNING and after[k].state != COMPLETE]
    assert killed, "the killed worker left no running trial"
    assert all(after[k].state == FAIL for k in killed)  # stale trials marked failed by the heartbeat
    retried = {t.system_attrs.get("failed_trial") for t in after.values() if t.state == COMPLETE}
    assert set(killed) <= retried  # their parameters were run again
    assert sum(t.state == COMPLETE for t in after.values()) >= n + 4
    assert not any(t.state == RUNNING for t in after.values())
    assert not stale


def test_two_processes_share_a_sqlite_study_and_survive_sigkill(tmp_path):
    _two_workers_one_killed(f"sqlite:///{tmp_path / 'study.db'}", tmp_path)


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres")
def test_two_processes_share_a_postgres_study_and_survive_sigkill(postgres_server, tmp_path):
    with postgres_server.database() as db:
        _two_workers_one_killed(postgres_server.url(db), tmp_path)


@pytest.mark.postgres
@pytest.mark.xdist_group("postgres")
def test_studies_in_a_postgres_store_live_in_the_optuna_schema(postgres_server, goog, tmp_path):
    import sqlalchemy as sa

    with postgres_server.database() as db:
        store = Store(postgres_server.url(db), artifacts_dir=tmp_path)
        s = study(goog, SmaCross, direction="long", fast=(2, 20), slow=(30, 100), n_trials=6, storage=store,
                  study_name="pg", seed=1)
        url = store_storage_url(store)
        assert len(optuna.load_study(study_name="pg", storage=url).trials) == len(s.trials)
        with store.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names(schema="optuna"))
            public = set(sa.inspect(conn).get_table_names())
        assert {"studies", "trials", "alembic_version"} <= tables
        assert "studies" not in public and "trials" in public  # the store's own trials table
        assert store.trials(store.runs(kind="optimization")["id"][0]).height == len(s.trials)
        store.close()
