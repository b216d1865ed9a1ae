"""The batch and job rows in the store: every state change is one short transaction.

A claimant takes a job with a conditional update (``... WHERE state = 'queued'``) that also
writes a fresh claim token, so two claimants cannot both win (SQLite serializes writers with
``BEGIN IMMEDIATE``; PostgreSQL re-checks the condition after the row lock). Every later write
of that execution is conditional on the token. ``heartbeat_at`` is refreshed while a job is
held; a ``running`` job whose heartbeat is older than a bound was orphaned and may be re-queued.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from workbench.errors import JobError, did_you_mean
from workbench.store._engine import create_engine, write_transaction
from workbench.store.models import JOB_STATES, Batch, Job

__all__ = [
    "engine_for", "now", "insert_batch", "batch_row", "job_rows", "counts", "claim", "start",
    "heartbeat", "finish", "note", "requeue_stale", "cancel", "batch_rows",
]

BATCHES: sa.Table = Batch.__table__  # type: ignore[attr-defined]
JOBS: sa.Table = Job.__table__  # type: ignore[attr-defined]
_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def engine_for(url: str) -> sa.Engine:
    """One engine per URL and process (workers run many jobs against the same store)."""
    with _LOCK:
        if url not in _ENGINES:
            _ENGINES[url] = create_engine(url)
        return _ENGINES[url]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def insert_batch(engine: sa.Engine, batch: Mapping[str, Any], param_sets: Sequence[Mapping[str, Any]]) -> None:
    """Write a batch and its queued jobs in one transaction (all or nothing)."""
    t = now()
    rows = [{"batch_id": batch["id"], "number": i, "params": dict(p), "state": "queued", "attempts": 0,
             "queued_at": t, "values": {}} for i, p in enumerate(param_sets)]
    with write_transaction(engine) as conn:
        conn.execute(BATCHES.insert().values(**batch, n_jobs=len(rows), created_at=t))
        for i in range(0, len(rows), 1000):
            conn.execute(JOBS.insert(), rows[i:i + 1000])


def batch_row(engine: sa.Engine, batch_id: Any) -> dict[str, Any]:
    """The batch's row; a :class:`JobError` naming close ids if there is none."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(BATCHES).where(BATCHES.c.id == str(batch_id))).mappings().first()
        if row is None:
            recent = conn.execute(sa.select(BATCHES.c.id).order_by(BATCHES.c.created_at.desc()).limit(200)).scalars().all()
    if row is None:
        raise JobError(
            f"batch id {batch_id!r} does not exist in the store.{did_you_mean(str(batch_id), recent)} "
            f"Fix: list the batches with `workbench batch list`."
        )
    return dict(row)


def batch_rows(engine: sa.Engine, limit: int) -> list[dict[str, Any]]:
    """The newest batches with their job counts per state."""
    with engine.connect() as conn:
        batches = conn.execute(sa.select(BATCHES).order_by(BATCHES.c.created_at.desc()).limit(limit)).mappings().all()
        ids = [b["id"] for b in batches]
        q = (sa.select(JOBS.c.batch_id, JOBS.c.state, sa.func.count()).where(JOBS.c.batch_id.in_(ids))
             .group_by(JOBS.c.batch_id, JOBS.c.state))
        tallies: dict[str, dict[str, int]] = {}
        for bid, state, n in conn.execute(q):
            tallies.setdefault(bid, {})[state] = n
    return [{**b, "counts": {s: tallies.get(b["id"], {}).get(s, 0) for s in JOB_STATES}} for b in batches]


def job_rows(engine: sa.Engine, batch_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = sa.select(JOBS).where(JOBS.c.batch_id == batch_id).order_by(JOBS.c.number)
        return [dict(r) for r in conn.execute(q).mappings()]


def counts(engine: sa.Engine, batch_id: str) -> dict[str, int]:
    """Jobs per state (every state present, zeros included)."""
    with engine.connect() as conn:
        q = sa.select(JOBS.c.state, sa.func.count()).where(JOBS.c.batch_id == batch_id).group_by(JOBS.c.state)
        found = dict(conn.execute(q).all())
    return {s: int(found.get(s, 0)) for s in JOB_STATES}


def claim(engine: sa.Engine, batch_id: str, limit: int) -> list[dict[str, Any]]:
    """Take up to ``limit`` queued jobs (lowest numbers first); return ``id, number, params, claim``."""
    if limit <= 0:
        return []
    with engine.connect() as conn:
        q = (sa.select(JOBS.c.id, JOBS.c.number, JOBS.c.params)
             .where(JOBS.c.batch_id == batch_id, JOBS.c.state == "queued").order_by(JOBS.c.number).limit(limit))
        candidates = [dict(r) for r in conn.execute(q).mappings()]
    won = []
    if not candidates:
        return won
    t = now()
    with write_transaction(engine) as conn:
        for job in candidates:
            token = secrets.token_hex(8)
            res = conn.execute(JOBS.update().where(JOBS.c.id == job["id"], JOBS.c.state == "queued")
                               .values(state="running", claim=token, heartbeat_at=t, error=None))
            if res.rowcount == 1:
                won.append({**job, "claim": token})
    return won


def start(engine: sa.Engine, job_id: int, token: str, *, worker: str, workdir: str) -> int | None:
    """Mark an execution as started (``attempts + 1``); its attempt number, or ``None`` if the
    claim was lost (the job was cancelled or re-queued meanwhile)."""
    t = now()
    with write_transaction(engine) as conn:
        res = conn.execute(JOBS.update().where(JOBS.c.id == job_id, JOBS.c.claim == token, JOBS.c.state == "running")
                           .values(attempts=JOBS.c.attempts + 1, started_at=t, heartbeat_at=t, worker=worker,
                                   workdir=workdir, finished_at=None, duration_s=None))
        if res.rowcount != 1:
            return None
        return int(conn.execute(sa.select(JOBS.c.attempts).where(JOBS.c.id == job_id)).scalar_one())


def heartbeat(engine: sa.Engine, held: Iterable[tuple[int, str]]) -> set[int]:
    """Refresh ``heartbeat_at`` of the jobs still held under their tokens; return their ids."""
    held = list(held)
    alive: set[int] = set()
    if not held:
        return alive
    t = now()
    with write_transaction(engine) as conn:
        for job_id, token in held:
            res = conn.execute(JOBS.update().where(JOBS.c.id == job_id, JOBS.c.claim == token, JOBS.c.state == "running")
                               .values(heartbeat_at=t))
            if res.rowcount == 1:
                alive.add(job_id)
    return alive


def finish(engine: sa.Engine, job_id: int, token: str, state: str, **fields: Any) -> bool:
    """Move a held job to ``state`` (succeeded/failed) with its outputs; ``False`` if not held."""
    t = now()
    with write_transaction(engine) as conn:
        started = conn.execute(sa.select(JOBS.c.started_at).where(JOBS.c.id == job_id)).scalar()
        duration = None if started is None else max((t - started).total_seconds(), 0.0)
        res = conn.execute(JOBS.update().where(JOBS.c.id == job_id, JOBS.c.claim == token, JOBS.c.state == "running")
                           .values(state=state, finished_at=t, heartbeat_at=t, duration_s=duration, **fields))
        return res.rowcount == 1


def note(engine: sa.Engine, job_id: int, token: str, error: str) -> None:
    """Keep the reason of a failed attempt that will be retried (the job stays ``running``)."""
    with write_transaction(engine) as conn:
        conn.execute(JOBS.update().where(JOBS.c.id == job_id, JOBS.c.claim == token, JOBS.c.state == "running")
                     .values(error=error))


def requeue_stale(engine: sa.Engine, batch_id: str, stale_after_s: float) -> int:
    """Put back ``running`` jobs whose heartbeat is older than ``stale_after_s``; how many."""
    limit = now() - dt.timedelta(seconds=stale_after_s)
    with write_transaction(engine) as conn:
        res = conn.execute(JOBS.update()
                           .where(JOBS.c.batch_id == batch_id, JOBS.c.state == "running",
                                  sa.or_(JOBS.c.heartbeat_at.is_(None), JOBS.c.heartbeat_at < limit))
                           .values(state="queued", claim=None))
        return int(res.rowcount)


def cancel(engine: sa.Engine, batch_id: str) -> int:
    """Cancel every queued or running job of the batch (running kernels stop at their next
    heartbeat); how many were cancelled."""
    t = now()
    with write_transaction(engine) as conn:
        res = conn.execute(JOBS.update()
                           .where(JOBS.c.batch_id == batch_id, JOBS.c.state.in_(("queued", "running")))
                           .values(state="cancelled", claim=None, finished_at=t, error="cancelled"))
        return int(res.rowcount)
