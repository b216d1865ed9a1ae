"""The batch runner: parallel notebooks on a 2-worker LocalCluster vs a serial papermill loop,
its fixed cost per notebook, how soon a finished job shows in the store, and 1,000 tiny jobs.

1. 16 notebooks, each ~2 s of CPU work: ``workbench.jobs.submit(..., workers=2)`` against a loop
   of ``papermill.execute_notebook`` calls (same kernel, same notebook) — target ≥ 1.7× faster.
   Fixed overhead per notebook = batch wall time × workers / notebooks − work (kernel start,
   papermill, HTML rendering, store writes, scheduling) — target ≤ 1.5 s.
2. Visibility: each notebook records the wall time its last cell ended; the submitter polls the
   store every 10 ms; latency = first time the job is seen ``succeeded`` − that end time
   (kernel shutdown, HTML, commit, poll) — target ≤ 1 s (worst job reported).
3. 1,000 tiny jobs through the store and the scheduler alone (claims, Dask tasks, start/finish
   transactions; each task runs no kernel): jobs/s and the submitter's peak RSS.

Prints one JSON line. Run: ``python benchmarks/bench_batch.py`` (~2-3 minutes on 2 idle cores).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))

import nbformat  # noqa: E402

import workbench as wb  # noqa: E402
import workbench.kernel  # noqa: E402
from workbench.jobs import _table  # noqa: E402

N_NOTEBOOKS = 16
WORK_S = 2.0
N_TINY = 1_000
WORKERS = 2

PARAMS = "work_s = 2.0\nseed = 0\n"
BODY = """\
import time
import workbench as wb
start = time.process_time()
x = seed
while time.process_time() - start < work_s:  # CPU work, not sleep
    for _ in range(10_000):
        x = (x * 1103515245 + 12345) % 2147483648
wb.record("x", x)
wb.record("ended_at", time.time())
"""


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "workbench", "display_name": "Python (Quant Workbench)", "language": "python"}
    cell = nbformat.v4.new_code_cell(PARAMS)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(BODY)]
    path = folder / "work.ipynb"
    nbformat.write(nb, path)
    return path


def _serial(path: Path, folder: Path) -> float:
    import papermill

    start = time.perf_counter()
    for i in range(N_NOTEBOOKS):
        papermill.execute_notebook(str(path), str(folder / f"serial-{i}.ipynb"), parameters={"seed": i},
                                   kernel_name="workbench", progress_bar=False, cwd=str(folder))
    return time.perf_counter() - start


def _batch(path: Path) -> tuple[float, float]:
    seen: dict[int, float] = {}
    start = time.perf_counter()
    handle = wb.jobs.submit(path, {"seed": list(range(N_NOTEBOOKS))}, workers=WORKERS)
    while len(seen) < N_NOTEBOOKS:
        t = time.time()
        for row in handle.jobs():
            if row["state"] in ("succeeded", "failed") and row["number"] not in seen:
                seen[row["number"]] = t
        time.sleep(0.01)
    handle.wait(progress=False)
    wall = time.perf_counter() - start
    rows = {r["number"]: r for r in handle.jobs()}
    assert all(r["state"] == "succeeded" for r in rows.values()), [r["error"] for r in rows.values()]
    latency = max(seen[n] - rows[n]["values"]["ended_at"] for n in rows)
    return wall, latency


def _tiny_job(job: dict) -> str:
    from workbench.jobs import _execute

    engine = _table.engine_for(job["url"])
    if _table.start(engine, job["job_id"], job["claim"], worker=_execute.worker_name(), workdir=job["workdir"]) is None:
        return "lost"
    _table.finish(engine, job["job_id"], job["claim"], "succeeded", values={"x": job["params"]["seed"]})
    return "succeeded"


def _tiny(path: Path) -> tuple[float, float]:
    from workbench.jobs import _drive
    from workbench.jobs.batch import prepare

    url = f"sqlite:///{Path(os.environ['WORKBENCH_HOME']) / 'workbench.db'}"
    _, sets = prepare(path, {"seed": list(range(N_TINY))})
    engine = _table.engine_for(url)
    batch_id = "tiny"
    _table.insert_batch(engine, {"id": batch_id, "name": "tiny", "notebook": str(path), "kernel_name": "workbench",
                                 "output_dir": str(path.parent / "tiny"), "options": {}}, sets)
    client, cluster = _drive.connect(None, WORKERS)
    try:
        start = time.perf_counter()
        _drive.drive(batch_id, url, client, execute=_tiny_job)
        wall = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    assert _table.counts(engine, batch_id)["succeeded"] == N_TINY
    return N_TINY / wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    workbench.kernel.install(prefix=sys.prefix)
    folder = Path(tempfile.mkdtemp(prefix="wb-bench-batch-"))
    path = _notebook(folder)
    serial = _serial(path, folder)
    batch, latency = _batch(path)
    jobs_per_s, peak_mb = _tiny(path)
    print(json.dumps({
        "bench": "batch", "python": platform.python_version(), "cores": os.cpu_count(),
        "notebooks": N_NOTEBOOKS, "work_s": WORK_S, "workers": WORKERS,
        "serial_papermill_s": round(serial, 2), "batch_runner_s": round(batch, 2),
        "speedup_vs_serial": round(serial / batch, 2),
        "overhead_per_notebook_s": round(batch * WORKERS / N_NOTEBOOKS - WORK_S, 2),
        "serial_overhead_per_notebook_s": round(serial / N_NOTEBOOKS - WORK_S, 2),
        "store_visibility_latency_max_s": round(latency, 3),
        "tiny_jobs": N_TINY, "tiny_jobs_per_s": round(jobs_per_s, 1), "submitter_peak_rss_mb": round(peak_mb, 1),
    }))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
