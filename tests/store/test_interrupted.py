"""Runs carry a heartbeat: a killed run reads as ``interrupted``, with the command that resumes it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import workbench as wb
from workbench.cli import app
from workbench.store import Store
from workbench.strategies import SmaCross

_SWEEP = textwrap.dedent(
    """
    import os, signal, sys
    import workbench as wb
    from workbench.optimize import grid
    from workbench.store import Store
    from workbench.store import trials as _trials

    saved = {"n": 0}
    original = _trials.save_trials

    def save_then_die(store, run_id, rows):
        n = original(store, run_id, rows)
        saved["n"] += 1
        if saved["n"] == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return n

    _trials.save_trials = save_then_die
    grid(wb.data.sample("GOOG"), "STRATEGY", fast=range(5, 15), slow=range(20, 30), direction="long",
         engine="backtest", overfit=False, store=Store())
    """
).replace('"STRATEGY"', "__import__('workbench.strategies', fromlist=['SmaCross']).SmaCross")


def _backdate(store: Store, run_id: str, seconds: float) -> None:
    then = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)
    runs = sa.table("runs", sa.column("id"), sa.column("heartbeat_at"))
    with store.engine.begin() as conn:
        conn.execute(runs.update().where(runs.c.id == run_id).values(
            heartbeat_at=then.replace(tzinfo=None) if store.engine.dialect.name == "sqlite" else then))


def test_a_killed_sweep_is_interrupted_and_resumes_to_the_same_result(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    proc = subprocess.run([sys.executable, "-c", _SWEEP], capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "WORKBENCH_HOME": str(home)})
    assert proc.returncode == -9, proc.stderr
    with Store() as store:
        (run_id,) = store.runs()["id"].to_list()
        assert store.run(run_id).status == "running"  # its heartbeat is fresh: indistinguishable yet
        _backdate(store, run_id, 120)  # two minutes later
        rec = store.run(run_id)
        assert rec.status == "interrupted"
        assert rec.resume == f"workbench runs resume {run_id}"
        assert store.runs(status="interrupted")["id"].to_list() == [run_id]
        assert store.runs(status="running").height == 0
        assert len(store.trial_numbers(run_id)) == 64  # two chunks of 32 were saved before the kill
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "interrupted" in listed.output
    assert f"resume: workbench runs resume {run_id}" in listed.output
    resumed = runner.invoke(app, ["runs", "resume", run_id[:8]], env={"COLUMNS": "250"})
    assert resumed.exit_code == 0, resumed.output
    assert f"{run_id} succeeded: 100 sets" in resumed.output
    with Store() as store:
        assert store.run(run_id).status == "succeeded"
        whole = wb.optimize.grid(wb.data.sample("GOOG"), SmaCross, fast=range(5, 15), slow=range(20, 30),
                                 direction="long", engine="backtest", overfit=False)
        assert whole.run_id == run_id
        stored = store.trials(run_id).sort("number")
        assert stored["sharpe_ratio"].to_list() == whole.frame.sort("set")["sharpe_ratio"].fill_nan(None).to_list()


def test_a_live_run_keeps_beating_and_is_not_interrupted(store: Store) -> None:
    store.stale_after = 0.6
    store.save_run("live", kind="optimization", spec={"method": "grid"}, status="running")
    with store.beating("live", every=0.1):
        time.sleep(1.2)
        assert store.run("live").status == "running"
        assert store.runs(status="running")["id"].to_list() == ["live"]
    time.sleep(0.8)
    rec = store.run("live")
    assert rec.status == "interrupted" and rec.heartbeat_at is not None
    assert rec.resume == "workbench runs resume live"
    assert store.update_run("live", status="running").status == "running"  # resuming beats again
    store.save_run("done", kind="backtest", spec={}, status="succeeded")
    time.sleep(0.8)
    assert store.run("done").status == "succeeded"  # only running runs can be interrupted
