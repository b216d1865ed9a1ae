"""Results of every kind, built once per session, for the report tests; the store backends
(SQLite and a real PostgreSQL server) are the fixtures of ``tests/store/conftest.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import workbench as wb
from workbench.strategies import SmaCross

_name = "_workbench_store_fixtures"
if _name not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_name, Path(__file__).parents[1] / "store" / "conftest.py")
    sys.modules[_name] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules[_name])  # type: ignore[union-attr]
_store_fixtures = sys.modules[_name]
postgres_server = _store_fixtures.postgres_server
store_url = _store_fixtures.store_url
backend = _store_fixtures.backend


@pytest.fixture(scope="session")
def goog():
    return wb.data.sample("GOOG")


@pytest.fixture(scope="session")
def backtest_result(goog):
    return wb.backtest(goog, SmaCross(fast=10, slow=30), fees=0.001)


@pytest.fixture(scope="session")
def portfolio_result():
    from workbench.portfolio import rebalance

    bars = wb.data.synthetic(300, n_symbols=3, seed=1)
    return rebalance(bars, {"S0": 0.5, "S1": 0.3, "S2": 0.2}, schedule="monthly")


@pytest.fixture(scope="session")
def sweep_result(goog):
    from workbench.optimize import grid

    return grid(goog, SmaCross, fast=[5, 10, 20], slow=[30, 50, 80], direction="long")


@pytest.fixture(scope="session")
def study_result(goog):
    import optuna

    from workbench.optimize import study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return study(goog, SmaCross, direction="long", fast=(2, 40), slow=(20, 150), n_trials=16, seed=3)


@pytest.fixture(scope="session")
def walk_forward_result(goog):
    from workbench.optimize import walk_forward

    return walk_forward(goog, SmaCross, train=500, test=250, direction="long", fast=[5, 10], slow=[30, 60])
