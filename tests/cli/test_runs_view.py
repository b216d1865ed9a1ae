"""The CLI's view of runs: dataset, an optimization's best set and figures, compact ranges, durations."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import workbench as wb
from workbench.cli import app
from workbench.store import Store
from workbench.strategies import SmaCross


def test_runs_list_and_show_a_sweep_and_a_backtest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    bars = wb.data.sample("GOOG")
    with Store() as store:
        from workbench.demo import register_bars

        register_bars(store, "goog-daily", bars, source="sample:GOOG")
        bt = wb.backtest(bars, SmaCross())
        bt_id = bt.save(store)
        res = wb.optimize.grid(bars, SmaCross, fast=range(2, 30), slow=[40, 60], direction="long", store=store)
        assert store.run(bt_id).duration_s == pytest.approx(bt.elapsed_s, abs=2e-6) and bt.elapsed_s > 0
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines() if line.strip()}
    assert "goog-daily" in lines[bt_id] and "goog-daily" in lines[res.run_id]
    best = res.best
    assert f"{best['sharpe_ratio']:.2f}" in lines[res.run_id]  # the best set's figures, not n/a
    assert f"fast={best['fast']}" in lines[res.run_id] and f"slow={best['slow']}" in lines[res.run_id]
    shown = runner.invoke(app, ["runs", "show", res.run_id], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert '"2..29 step 1 (28 values)"' in shown.output
    assert len(shown.output.splitlines()) < 120
    assert "best.sharpe_ratio" in shown.output
