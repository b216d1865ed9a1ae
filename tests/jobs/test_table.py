"""The job rows: claims are exclusive, orphans are re-queued, a lost claim writes nothing —
on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from workbench.jobs import _table
from workbench.store import Store
from workbench.store._engine import create_engine


def _batch(url: str, n: int, batch_id: str = "b1") -> sa.Engine:
    Store(url).close()
    engine = create_engine(url)
    _table.insert_batch(engine, {"id": batch_id, "name": None, "notebook": "/n.ipynb", "kernel_name": "workbench",
                                 "output_dir": "/tmp/x", "options": {}}, [{"x": i} for i in range(n)])
    return engine


def test_concurrent_claimants_never_share_a_job(store_url: str):
    engine = _batch(store_url, 120)
    won: list[list[int]] = [[], [], []]

    def claimant(k: int) -> None:
        mine = create_engine(store_url)
        while True:
            got = _table.claim(mine, "b1", 4)
            if not got:
                break
            won[k].extend(j["number"] for j in got)
        mine.dispose()

    threads = [threading.Thread(target=claimant, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [n for w in won for n in w]
    assert sorted(every) == list(range(120))  # each job claimed exactly once
    assert _table.counts(engine, "b1")["running"] == 120
    engine.dispose()


def test_stale_running_jobs_are_requeued_fresh_and_finished_ones_are_not(store_url: str):
    engine = _batch(store_url, 3)
    a, b, c = _table.claim(engine, "b1", 3)
    assert _table.start(engine, a["id"], a["claim"], worker="w", workdir="/tmp/a") == 1
    assert _table.finish(engine, a["id"], a["claim"], "succeeded", values={"y": 1})
    old = _table.now() - dt.timedelta(seconds=120)
    with engine.begin() as conn:
        conn.execute(_table.JOBS.update().where(_table.JOBS.c.id.in_([a["id"], b["id"]])).values(heartbeat_at=old))
    assert _table.requeue_stale(engine, "b1", 60) == 1  # b only: a succeeded, c is fresh
    tally = _table.counts(engine, "b1")
    assert tally == {"queued": 1, "running": 1, "succeeded": 1, "failed": 0, "cancelled": 0}
    # the execution that held b lost its claim: it cannot start, beat or finish any more
    assert _table.start(engine, b["id"], b["claim"], worker="w", workdir="/tmp/b") is None
    assert _table.heartbeat(engine, [(b["id"], b["claim"]), (c["id"], c["claim"])]) == {c["id"]}
    assert not _table.finish(engine, b["id"], b["claim"], "succeeded")
    again = _table.claim(engine, "b1", 5)
    assert [j["number"] for j in again] == [b["number"]] and again[0]["claim"] != b["claim"]
    engine.dispose()


def test_cancel_takes_queued_and_running_jobs_and_their_claims(store_url: str):
    engine = _batch(store_url, 4)
    held = _table.claim(engine, "b1", 1)[0]
    assert _table.cancel(engine, "b1") == 4
    assert _table.counts(engine, "b1")["cancelled"] == 4
    assert _table.heartbeat(engine, [(held["id"], held["claim"])]) == set()
    assert _table.claim(engine, "b1", 4) == []
    engine.dispose()
