"""The demo registers every sample dataset and one backtest run, idempotently; runs/data/db commands
read what it stored. One demo run (through the library) and one through the CLI are shared by the
module."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import workbench.data as wd
from workbench.cli import app
from workbench.demo import DemoReport, run_demo
from workbench.store import Store

pytestmark = pytest.mark.xdist_group("cli-demo")
SAMPLES = wd.samples()["name"].to_list()


@dataclass(frozen=True)
class Demo:
    home: Path
    first: DemoReport
    first_output: str
    first_datasets: list[tuple[str, str]]  # (name, created_at) after the first run
    second_exit_code: int
    second_output: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Run the demo twice on one fresh home: through ``run_demo`` and then through ``workbench demo``."""
    home = tmp_path_factory.mktemp("demo-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        mp.delenv("WORKBENCH_DB_URL", raising=False)
        buffer = io.StringIO()
        first = run_demo(console=Console(file=buffer, width=120))
        with Store() as store:
            created = [(r["name"], str(r["created_at"])) for r in store.datasets().iter_rows(named=True)]
        second = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "120"})
        yield Demo(home, first, buffer.getvalue(), created, second.exit_code, second.stdout)


@pytest.fixture
def at_demo_home(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.setenv("WORKBENCH_HOME", str(demo.home))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    return demo


def _goog_sma_cross_by_backtesting_py() -> dict[str, float]:
    """backtesting.py's canonical example: SmaCross(10, 20) on GOOG, 10,000 cash, 0.2% commission,
    exclusive orders (long on the up-cross, short on the down-cross), whole shares."""
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import GOOG, SMA

    class SmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, 10)
            self.slow = self.I(SMA, self.data.Close, 20)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.sell()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = Backtest(GOOG, SmaCross, cash=10_000, commission=0.002, exclusive_orders=True).run()
    return {"final_equity": s["Equity Final [$]"], "n_trades": s["# Trades"],
            "total_return": s["Return [%]"] / 100, "max_drawdown": s["Max. Drawdown [%]"] / 100}


def test_demo_registers_every_sample_with_its_facts(demo: Demo) -> None:
    assert [r.name for r in demo.first.datasets] == SAMPLES
    for rec in demo.first.datasets:
        bars = wd.sample(rec.name)
        freq = wd.infer_frequency(bars)
        assert rec.source == f"sample:{rec.name}"
        assert rec.content_hash == wd.content_hash(bars)
        assert rec.rows == bars.height
        assert rec.start == bars["ts"].min() and rec.end == bars["ts"].max()
        assert rec.frequency == freq.label and rec.periods_per_year == freq.periods_per_year
    stocks = next(r for r in demo.first.datasets if r.name == "STOCKS20")
    assert len(stocks.symbols) == 20


def test_demo_backtest_matches_backtesting_py(demo: Demo) -> None:
    oracle = _goog_sma_cross_by_backtesting_py()
    head = demo.first.backtest
    assert head.n_trades == oracle["n_trades"]
    assert head.final_equity == pytest.approx(oracle["final_equity"], rel=1e-9)
    assert head.total_return == pytest.approx(oracle["total_return"], rel=1e-9)
    assert head.max_drawdown == pytest.approx(oracle["max_drawdown"], rel=1e-9)


def test_demo_saves_one_run_with_artifacts(at_demo_home: Demo) -> None:
    with Store() as store:
        runs = store.runs()
        rec = store.run(at_demo_home.first.backtest.run_id)
        trades = store.load_artifact(rec.id, "trades")
    assert runs.height == 1 and runs["kind"].to_list() == ["backtest"]
    assert rec.spec["strategy"]["params"] == {"fast": 10, "slow": 20, "direction": "both"}
    assert rec.spec["dataset_hash"] == wd.content_hash(wd.sample("GOOG"))
    assert rec.metrics["n_trades"] == at_demo_home.first.backtest.n_trades
    assert trades.height >= at_demo_home.first.backtest.n_trades


def test_demo_is_idempotent(at_demo_home: Demo) -> None:
    assert at_demo_home.second_exit_code == 0, at_demo_home.second_output
    with Store() as store:
        after = [(r["name"], str(r["created_at"])) for r in store.datasets().iter_rows(named=True)]
        assert store.runs().height == 1
    assert after == at_demo_home.first_datasets
    assert len(after) == len(SAMPLES)


@pytest.mark.parametrize("which", ["first_output", "second_output"])
def test_demo_prints_summary_headline_and_whereabouts(demo: Demo, which: str) -> None:
    text = getattr(demo, which)
    for name in SAMPLES:
        assert name in text
    head = demo.first.backtest
    assert f"{head.total_return:.2%}" in text and f"{head.max_drawdown:.2%}" in text
    assert f"{head.sharpe_ratio:.3f}" in text and f"{head.cagr:.2%}" in text
    for rec in demo.first.datasets:
        assert rec.content_hash[:8] in text
    assert str(demo.home / "workbench.db") in text
    assert "workbench runs list" in text and head.run_id in text


def test_runs_list_and_show_by_prefix(cli, at_demo_home: Demo) -> None:
    run_id = at_demo_home.first.backtest.run_id
    listed = cli("runs", "list")
    assert listed.exit_code == 0 and run_id in listed.stdout
    assert f"{at_demo_home.first.backtest.total_return:.2%}" in listed.stdout
    assert "No runs of kind 'optimization'" in cli("runs", "list", "--kind", "optimization").stdout
    shown = cli("runs", "show", run_id[:6])
    assert shown.exit_code == 0, shown.output
    assert f"run {run_id}" in shown.stdout
    assert '"direction": "both"' in shown.stdout and "Sharpe ratio" in shown.stdout
    for name in ("equity", "trades", "orders"):
        assert str(at_demo_home.home / "artifacts" / run_id) in shown.stdout and name in shown.stdout
    as_json = json.loads(cli("runs", "show", run_id[:6], "--json").stdout)
    with Store() as store:
        assert as_json == json.loads(store.run(run_id).model_dump_json())


def test_runs_show_unknown_prefix_is_one_line(cli, at_demo_home: Demo) -> None:
    result = cli("runs", "show", "zzzz")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No run with id or id prefix 'zzzz'") and result.stderr.count("\n") == 1


def test_data_list_and_show_after_demo(cli, at_demo_home: Demo) -> None:
    listed = cli("data", "list")
    assert listed.exit_code == 0
    assert listed.stdout.count("GOOG") >= 2  # a sample and a registered dataset
    shown = cli("data", "show", "goog", "--rows", "2")
    assert shown.exit_code == 0, shown.output
    assert wd.content_hash(wd.sample("GOOG")) in shown.stdout
    assert "registered" in shown.stdout and "2,148" in shown.stdout


def test_db_upgrade(cli, at_demo_home: Demo) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0
    with Store() as store:
        assert f"schema revision {store.revision}." in result.stdout


def test_db_upgrade_creates_a_fresh_store(cli, home: Path) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert (home / "workbench.db").is_file()
    assert "No runs in" in cli("runs", "list").stdout
