"""The driver of a batch: claims queued jobs from the store and hands them to Dask as tasks.

It keeps about two tasks in flight per worker thread, refreshes the heartbeat of the jobs it
holds, re-queues orphans (``running`` with a stale heartbeat) and returns when no job of the
batch is queued or running. Dask is the executor, the store is the truth: a task Dask reruns
after losing a worker finds its claim and counts an attempt; a lost driver leaves rows that
:func:`workbench.jobs.resume` picks up.

``python -m workbench.jobs._drive BATCH_ID URL [SCHEDULER]`` drives a batch detached from the
shell that submitted it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.errors import JobError
from workbench.jobs import _table

__all__ = ["connect", "drive", "SCHEDULER_ENV"]

SCHEDULER_ENV = "WORKBENCH_DASK_SCHEDULER"
"""The environment variable naming an existing Dask scheduler (``tcp://host:port``)."""

_CONNECT_TIMEOUT_S = 5


def connect(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Dask client on ``scheduler`` (or ``$WORKBENCH_DASK_SCHEDULER``), else on a new
    ``LocalCluster`` of ``workers`` single-thread processes (default: one per core); with the
    cluster to close (``None`` for an existing scheduler)."""
    from workbench._extras import require

    require("batch", "distributed")
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        try:
            return Client(address, timeout=_CONNECT_TIMEOUT_S, set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise JobError(
                f"cannot reach the Dask scheduler at `scheduler`={address!r}: {exc}. Fix: start one "
                f"(`dask scheduler`), check the address (tcp://host:8786), or omit --scheduler to run "
                f"on a local cluster."
            ) from exc
    n = workers or os.cpu_count() or 1
    # No dashboard; the scheduler's own HTTP endpoint on a free loopback port (its default, 8787,
    # is taken by the second cluster on a machine, and the fallback warns).
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                           silence_logs=40)
    return Client(cluster, set_as_default=False), cluster


def _spec(batch: dict[str, Any], job: dict[str, Any], url: str) -> dict[str, Any]:
    opts = batch["options"]
    return {
        "url": url, "batch_id": batch["id"], "job_id": job["id"], "number": job["number"],
        "claim": job["claim"], "notebook": batch["notebook"], "kernel_name": batch["kernel_name"],
        "params": job["params"], "workdir": str(Path(batch["output_dir"]) / f"job-{job['number']:05d}"),
        "timeout": opts.get("timeout"), "retries": opts.get("retries", 2),
        "heartbeat_s": opts.get("heartbeat_s", 2.0), "start_timeout": opts.get("start_timeout", 60),
        "backoff_s": opts.get("backoff_s", 1.0),
    }


def _collect(done: list[Any], in_flight: dict[Any, dict[str, Any]], engine: Any) -> None:
    for fut in done:
        job = in_flight.pop(fut)
        if fut.status == "error" or fut.status == "cancelled":
            try:
                exc = fut.exception()
            except Exception as err:  # a cancelled future raises on access
                exc = err
            _table.finish(engine, job["id"], job["claim"], "failed",
                          error=f"the Dask task failed ({type(exc).__name__}: {exc}); the workers running it "
                                f"were lost repeatedly or the task could not run")
        fut.release()


def _first_done(futures: list[Any], timeout: float) -> list[Any]:
    """The futures done within ``timeout`` s (as soon as one is)."""
    deadline = time.monotonic() + timeout
    while True:
        done = [f for f in futures if f.done()]
        if done or time.monotonic() >= deadline:
            return done
        time.sleep(0.01)


def drive(batch_id: str, url: str, client: Any, *, stale_after_s: float | None = None,
          execute: Callable[[dict[str, Any]], str] | None = None) -> None:
    """Run the batch's queued jobs on ``client`` until none is queued or running.

    ``execute`` runs one claimed job on a worker (default
    :func:`workbench.jobs._execute.run_job`); the benchmark swaps it to time the store and the
    scheduler alone.
    """
    from workbench.jobs._execute import run_job

    execute = execute or run_job
    engine = _table.engine_for(url)
    batch = _table.batch_row(engine, batch_id)
    opts = batch["options"]
    beat = float(opts.get("heartbeat_s", 2.0))
    stale = float(stale_after_s if stale_after_s is not None else opts.get("stale_after_s", 30.0))
    in_flight: dict[Any, dict[str, Any]] = {}
    last_beat = time.monotonic()
    while True:
        _table.requeue_stale(engine, batch_id, stale)
        threads = sum(client.nthreads().values()) or 1
        for job in _table.claim(engine, batch_id, 2 * threads - len(in_flight)):
            fut = client.submit(execute, _spec(batch, job, url), pure=False,
                                key=f"workbench-job-{batch_id}-{job['number']}-{job['claim']}")
            in_flight[fut] = job
        if not in_flight:
            tally = _table.counts(engine, batch_id)
            if tally["queued"] == 0 and tally["running"] == 0:
                return
            time.sleep(min(beat, 1.0))  # jobs held by another driver: wait for them or their staleness
            continue
        _collect(_first_done(list(in_flight), min(beat, 1.0)), in_flight, engine)
        if time.monotonic() - last_beat >= beat / 2:
            _table.heartbeat(engine, [(j["id"], j["claim"]) for j in in_flight.values()])
            last_beat = time.monotonic()


def main(argv: list[str]) -> int:
    batch_id, url = argv[0], argv[1]
    scheduler = argv[2] if len(argv) > 2 and argv[2] else None
    workers = int(argv[3]) if len(argv) > 3 and argv[3] else None
    client, cluster = connect(scheduler, workers)
    try:
        drive(batch_id, url, client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
