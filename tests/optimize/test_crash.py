"""A study killed with SIGKILL anywhere in a batch leaves no trial RUNNING for ever."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy as sa

import workbench as wb
from workbench.optimize import study
from workbench.optimize._orphans import HEARTBEAT_TABLE
from workbench.strategies import SmaCross

RUNNING, COMPLETE, FAIL = (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.COMPLETE,
                           optuna.trial.TrialState.FAIL)

_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    import optuna
    import workbench as wb
    from workbench.optimize import _evaluate, study
    from workbench.strategies import SmaCross

    url, where, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    calls = {"n": 0}

    def killing(original):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return wrapped

    if where == "ask":          # before the at-th ask creates its trial
        optuna.Study.ask = killing(optuna.Study.ask)
    elif where == "heartbeat":  # the at-th trial exists but has no heartbeat yet
        optuna.storages.RDBStorage.record_heartbeat = killing(optuna.storages.RDBStorage.record_heartbeat)
    else:                       # while the at-th batch is evaluated
        _evaluate.FusedEvaluator.evaluate = killing(_evaluate.FusedEvaluator.evaluate)
    study(wb.data.sample("GOOG"), SmaCross, direction="long", fast=(2, 50), slow=(51, 200), n_trials=12,
          storage=url, study_name="crash", batch_size=4, heartbeat_interval=1, grace_period=1, sampler="random",
          seed=5)
    print("not killed")
    """
)


@pytest.mark.parametrize(("where", "at"), [("ask", 6), ("heartbeat", 5), ("heartbeat", 7), ("evaluate", 2)],
                         ids=["mid-ask", "first-ask-of-batch-without-heartbeat", "mid-ask-without-heartbeat",
                              "evaluating"])
def test_a_study_killed_anywhere_in_a_batch_resumes_with_no_running_trial(tmp_path: Path, where: str,
                                                                           at: int) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    proc = subprocess.run([sys.executable, "-c", _WORKER, url, where, str(at)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -9, (proc.returncode, proc.stdout, proc.stderr)
    before = {t.number: t for t in optuna.load_study(study_name="crash", storage=url).get_trials()}
    left = [k for k, t in before.items() if t.state == RUNNING]
    assert left, "the kill left no running trial"
    time.sleep(2.5)  # past the grace period (1 s), which the storage's clock counts in whole seconds
    s = study(wb.data.sample("GOOG"), SmaCross, direction="long", fast=(2, 50), slow=(51, 200), n_trials=12,
              storage=url, study_name="crash", batch_size=4, heartbeat_interval=1, grace_period=1,
              sampler="random", seed=5)
    after = {t.number: t for t in s.get_trials()}
    assert not [k for k, t in after.items() if t.state == RUNNING]
    assert all(after[k].state == FAIL for k in left)
    retried = {t.system_attrs.get("failed_trial") for t in after.values() if t.state == COMPLETE}
    assert set(left) <= retried  # their parameters were run again
    assert sum(t.state == COMPLETE for t in after.values()) >= 12


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_the_heartbeat_table_the_orphan_check_reads(tmp_path: Path) -> None:
    """The one Optuna internal :mod:`workbench.optimize._orphans` relies on."""
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'h.db'}", heartbeat_interval=1)
    s = optuna.create_study(storage=storage)
    trial = s.ask()
    table = sa.table(HEARTBEAT_TABLE, sa.column("trial_id"))
    with storage.engine.connect() as conn:
        assert conn.execute(sa.select(table.c.trial_id)).scalars().all() == []
    storage.record_heartbeat(trial._trial_id)
    with storage.engine.connect() as conn:
        assert conn.execute(sa.select(table.c.trial_id)).scalars().all() == [trial._trial_id]
    storage.engine.dispose()
