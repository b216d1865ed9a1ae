"""The runs page's state: filters, sorting, a run's detail, errors as messages."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.store import Store
from workbench.strategies import RsiMeanReversion, SmaCross
from workbench.ui.runs import RunDetail, RunsBrowser, open_store, runs_view


@pytest.fixture()
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'wb.db'}", artifacts_dir=tmp_path / "artifacts") as s:
        goog = wb.data.sample("GOOG")
        for fast in (5, 10, 15):
            wb.backtest(goog, SmaCross(fast=fast, slow=30)).save(s)
        wb.backtest(wb.data.sample("EURUSD"), RsiMeanReversion()).save(s)
        s.save_run("opt-1", kind="optimization", spec={"space": {"strategy": "workbench.strategies.builtin.SmaCross"}},
                   metrics={"n_sets": 4}, status="running")
        yield s


def test_every_run_is_listed_with_strategy_and_filters_combine(store):
    b = RunsBrowser(store=store)
    assert b.table.height == 5
    assert set(b.param.strategy.objects) == {"", "SmaCross", "RsiMeanReversion"}
    assert set(b.param.kind.objects) == {"", "backtest", "optimization"}
    b.strategy = "SmaCross"
    assert b.table.height == 4  # three backtests and the sweep of SmaCross
    b.kind = "backtest"
    assert b.table.height == 3
    b.sort_by, b.descending = "sharpe_ratio", False
    sharpes = b.table["sharpe_ratio"].to_list()
    assert sharpes == sorted(sharpes)
    b.metric, b.min_value = "sharpe_ratio", sharpes[1]
    assert b.table["sharpe_ratio"].to_list() == sharpes[1:]
    b.min_value = None
    b.search = "fast=15"
    assert b.table.height == 1 and "fast=15" in b.table["name"][0]


def test_dataset_filter_separates_the_datasets(store):
    b = RunsBrowser(store=store)
    datasets = [d for d in b.param.dataset.objects if d]
    assert len(datasets) == 2
    b.dataset = datasets[0]
    assert sorted([b.table.height, RunsBrowser(store=store, dataset=datasets[1]).table.height]) == [1, 3]


def test_detail_shows_parameters_provenance_equity_and_trades(store):
    runs = store.runs(kind="backtest")
    rid = runs.filter(runs["name"].str.contains("fast=10"))["id"][0]
    d = RunDetail(store=store, run_id=rid[:8])
    assert d.error == "" and d.record.id == rid
    assert d.params == {"fast": 10, "slow": 30, "direction": "long"}
    assert d.provenance["content_hash"] == d.record.dataset_hash
    assert d.equity.height > 1000 and "pnl" in d.trades.columns


def test_unknown_run_and_unopenable_store_become_messages(store, tmp_path):
    d = RunDetail(store=store, run_id="zzzz")
    assert "No run with id or id prefix 'zzzz'" in d.error and d.record is None
    from workbench.errors import StoreError

    with pytest.raises(StoreError, match="Could not open the store at postgresql"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert runs_view(RunsBrowser(store=store), d) is not None


def test_rerun_and_verify_says_equal_or_what_differs(store):
    from workbench.store.rerun import Check, VerifyReport

    rid = store.runs(kind="backtest")["id"][0]
    d = RunDetail(store=store, run_id=rid)
    d.verify()  # the real re-run: its outcome (or why it could not run) is shown, never raised
    assert rid in d.verification
    checks = (Check("metric", "sharpe_ratio", True), Check("artifact", "equity", True))
    store.verify = lambda run_id: VerifyReport(run_id, "backtest", checks)
    d.verify()
    assert d.verification.startswith(f"Re-run of {rid} reproduces it: 2 checks equal")
    store.verify = lambda run_id: VerifyReport(run_id, "backtest", (Check("metric", "cagr", False, "0.1 != 0.2"),))
    d.verify()
    assert "DIFFERS in 1 checks: metric cagr: 0.1 != 0.2" in d.verification
    empty = RunDetail(store=store)
    empty.verify()
    assert empty.verification == "Select a run first."
