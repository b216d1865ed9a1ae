"""RUNNING trials no worker owns: asked, then their process killed before a heartbeat was written.

Optuna's :func:`optuna.storages.fail_stale_trials` fails the RUNNING trials whose heartbeat is
older than the grace period, but a trial with no heartbeat at all (its worker died between the
ask and the first heartbeat) is never stale to it, and stays RUNNING for ever. :func:`study`
writes the heartbeat right after each ask, which leaves that window tiny; :func:`fail_orphans`
closes it: a RUNNING trial with no heartbeat, started longer ago than the grace period, is failed
and handed to the storage's stale-trial callback (which re-queues its parameters), exactly as a
stale one.

One assumption about Optuna's internals (tested in ``tests/optimize/test_crash.py``): an
``RDBStorage`` keeps heartbeats in the table ``trial_heartbeats(trial_id, heartbeat)`` of its
``engine``.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

__all__ = ["fail_orphans", "HEARTBEAT_TABLE"]

HEARTBEAT_TABLE = "trial_heartbeats"


def _grace(storage: Any) -> float:
    interval = storage.get_heartbeat_interval()
    return float(storage.grace_period if storage.grace_period is not None else 2 * interval)


def fail_orphans(study: Any) -> list[int]:
    """Fail the RUNNING trials of ``study`` that have no heartbeat and started more than the
    grace period ago; return their numbers."""
    import optuna
    import sqlalchemy as sa

    storage = study._storage
    if not isinstance(storage, optuna.storages.RDBStorage) or storage.get_heartbeat_interval() is None:
        return []
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    cutoff = dt.datetime.now() - dt.timedelta(seconds=_grace(storage))  # Optuna dates trials in local time
    old = {t._trial_id: t for t in running if t.datetime_start is not None and t.datetime_start < cutoff}
    if not old:
        return []
    table = sa.table(HEARTBEAT_TABLE, sa.column("trial_id"))
    with storage.engine.connect() as conn:
        beating = set(conn.execute(sa.select(table.c.trial_id).where(table.c.trial_id.in_(list(old)))).scalars())
    failed = []
    for trial_id in sorted(set(old) - beating):
        try:
            if storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:  # another worker got there first
            continue
    callback = storage.get_heartbeat_stale_trial_callback()
    for trial_id in failed:
        if callback is not None:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return [old[i].number for i in failed]
