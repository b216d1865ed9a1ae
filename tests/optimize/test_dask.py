"""Sweeps on Dask: grid, random and walk-forward given a Dask client or a scheduler address run
their parameter sets as Dask tasks and give exactly the single-process numbers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import workbench as wb
from workbench.errors import InvalidParameterError
from workbench.optimize import grid, random, walk_forward
from workbench.strategies import SmaCross

pytestmark = pytest.mark.xdist_group("batch")


@pytest.fixture(scope="module")
def client() -> Iterator:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    c = Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def bars():
    return wb.data.sample("GOOG").head(600)


def test_grid_on_dask_equals_one_process(client, bars):
    kwargs = {"fast": range(5, 11, 5), "slow": [20, 30, 40], "engine": "backtest", "fees": 0.002, "overfit": False}
    one = grid(bars, SmaCross, **kwargs)
    on_client = grid(bars, SmaCross, n_jobs=client, **kwargs)
    on_address = grid(bars, SmaCross, n_jobs=client.scheduler.address, **kwargs)
    cols = [c for c in one.frame.columns if c != "duration_s"]
    assert on_client.frame.select(cols).equals(one.frame.select(cols))
    assert on_address.frame.select(cols).equals(one.frame.select(cols))
    assert on_client.best_params == one.best_params


def test_random_and_walk_forward_on_dask_equal_one_process(client, bars):
    one = random(bars, SmaCross, n_sets=6, seed=3, engine="backtest", overfit=False, direction="long")
    dask = random(bars, SmaCross, n_sets=6, seed=3, engine="backtest", overfit=False, direction="long", n_jobs=client)
    cols = [c for c in one.frame.columns if c != "duration_s"]
    assert dask.frame.select(cols).equals(one.frame.select(cols))
    kwargs = {"train": 300, "test": 150, "engine": "backtest", "fast": [5, 10], "slow": [20, 40], "direction": "long"}
    wf_one = walk_forward(bars, SmaCross, **kwargs)
    wf_dask = walk_forward(bars, SmaCross, n_jobs=client, **kwargs)
    assert wf_dask.folds.equals(wf_one.folds)
    assert wf_dask.equity.equals(wf_one.equity)


def test_a_bad_n_jobs_target_is_named(bars):
    with pytest.raises(InvalidParameterError, match="`n_jobs` must be a number of processes, a Dask client"):
        grid(bars, SmaCross, fast=[5], slow=[20], engine="backtest", n_jobs="localhost:8786", overfit=False)
