"""Batches of parameterized notebooks: submit, watch, resume, cancel, compare results.

>>> import workbench as wb
>>> wb.jobs.expand({"fast": [5, 10], "symbol": ["GOOG", "MSFT"]})[1]
{'fast': 5, 'symbol': 'MSFT'}
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from workbench._paths import workbench_home
from workbench._reportable import Reportable
from workbench._validate import check_int, check_number
from workbench.errors import InvalidParameterError, JobError
from workbench.jobs import _table
from workbench.jobs.params import check_params, expand, notebook_params, read_grid
from workbench.store._engine import resolve_url

__all__ = ["BatchHandle", "submit", "prepare", "batch", "batches", "resume", "cancel"]

_FIXED = ("number", "state", "attempts", "duration_s", "worker", "output_path", "html_path", "error")


def _kernel(nb_path: Path, kernel_name: str | None) -> str:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager

    name = kernel_name or nbformat.read(nb_path, as_version=4).metadata.get("kernelspec", {}).get("name")
    available = sorted(KernelSpecManager().find_kernel_specs())
    if not name or name not in available:
        raise InvalidParameterError(
            f"`kernel_name` {name!r} is not an installed Jupyter kernel (installed: {', '.join(available) or 'none'}). "
            f"Fix: `workbench kernel install`, or pass --kernel with one of those."
        )
    return name


def _open_store(url: str) -> Any:
    from workbench.store import Store

    Store(url).close()  # migrates a new store before any job row is written
    return _table.engine_for(url)


def prepare(notebook: str | Path, grid: Any = None, *, params: Mapping[str, Sequence[str]] | None = None,
            grid_file: str | Path | None = None) -> tuple[Path, list[dict[str, Any]]]:
    """Check a notebook and expand its jobs' parameter sets; nothing is written.

    ``grid`` holds Python values (a mapping name → values, or a list of mappings); ``params``
    holds command-line text (name → list of texts, each parsed as the parameter's type);
    ``grid_file`` a YAML grid. Their cartesian product is the batch.
    """
    nb_path = Path(notebook).expanduser().resolve()
    declared = notebook_params(nb_path)
    sets = expand(read_grid(grid_file)) if grid_file is not None else [{}]
    if grid is not None:
        sets = [{**a, **b} for a in sets for b in expand(grid)]
    axes = {name: [check_params(declared, {name: t}, text=True)[name] for t in texts]
            for name, texts in (params or {}).items()}
    jobs = [{**s, **extra} for s in sets for extra in expand(axes)]
    return nb_path, [check_params(declared, job) for job in jobs]


class BatchHandle(Reportable):
    """A batch in the store, from any process: its state, its jobs, its results.

    Obtained from :func:`submit` or :func:`batch`. Every method reads the store, so a handle
    made in another process (or after a crash) sees the same batch.
    """

    def __init__(self, batch_id: str, url: str, *, _thread: threading.Thread | None = None) -> None:
        self._id, self._url, self._thread = batch_id, url, _thread
        self._engine = _table.engine_for(url)
        self._row = _table.batch_row(self._engine, batch_id)

    @property
    def id(self) -> str:
        """The batch id (``workbench batch status ID``)."""
        return self._id

    @property
    def name(self) -> str | None:
        return self._row["name"]

    @property
    def notebook(self) -> str:
        return self._row["notebook"]

    @property
    def output_dir(self) -> Path:
        return Path(self._row["output_dir"])

    def __repr__(self) -> str:
        tally = self.status()
        shown = ", ".join(f"{k}={v}" for k, v in tally.items() if v)
        return f"BatchHandle({self._id!r}, {shown})"

    def status(self) -> dict[str, int]:
        """Jobs per state: ``queued, running, succeeded, failed, cancelled`` and ``total``."""
        tally = _table.counts(self._engine, self._id)
        return {**tally, "total": sum(tally.values())}

    def done(self) -> bool:
        """Whether no job is queued or running."""
        tally = self.status()
        return tally["queued"] == 0 and tally["running"] == 0

    def wait(self, *, timeout: float | None = None, progress: bool = True, poll_s: float = 0.25) -> BatchHandle:
        """Block until the batch is done (a tqdm bar when ``progress``); return ``self``.

        Raises
        ------
        JobError
            ``timeout`` seconds passed first (the batch keeps running).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.status()["total"], desc=f"batch {self._id[:8]}", unit="job")
        try:
            while True:
                tally = self.status()
                finished = tally["succeeded"] + tally["failed"] + tally["cancelled"]
                if bar is not None:
                    bar.update(finished - bar.n)
                    bar.set_postfix(failed=tally["failed"], running=tally["running"], refresh=False)
                if tally["queued"] == 0 and tally["running"] == 0:
                    break
                if self._thread is not None and not self._thread.is_alive() and getattr(self._thread, "error", None):
                    raise self._thread.error  # type: ignore[attr-defined]
                if deadline is not None and time.monotonic() > deadline:
                    raise JobError(f"batch {self._id} is not done after {timeout} s ({tally}); it keeps running.")
                time.sleep(poll_s)
        finally:
            if bar is not None:
                bar.close()
        if self._thread is not None:
            self._thread.join()
        return self

    def jobs(self) -> list[dict[str, Any]]:
        """Every job's row (parameters, state, attempts, timings, outputs, error)."""
        return _table.job_rows(self._engine, self._id)

    def results(self) -> pl.DataFrame:
        """One row per job: ``number``, each parameter, ``state``, ``attempts``, ``duration_s``,
        every recorded value (frames and figures as their file path), ``worker``, the executed
        notebook and its HTML, ``error``."""
        rows = self.jobs()
        names: list[str] = []
        for row in rows:
            for key in [*row["params"], *row["values"]]:
                if key not in names and key not in _FIXED:
                    names.append(key)
        data: dict[str, list[Any]] = {"number": [r["number"] for r in rows]}
        used = {k for r in rows for k in r["params"]}
        params = [k for k in self._row["options"].get("parameters", []) if k in used]
        params += [k for k in names if k in used and k not in params]
        for key in names:
            source = "params" if key in params else "values"
            data[key] = [_cell(r[source].get(key)) for r in rows]
        for key in _FIXED[1:]:
            data[key] = [r[key] for r in rows]
        columns = {k: _series(k, v) for k, v in data.items()}
        ordered = ["number", *params, *_FIXED[1:4], *[k for k in names if k not in params], *_FIXED[4:]]
        return pl.DataFrame([columns[k] for k in ordered])

    def cancel(self) -> int:
        """Cancel every job not finished yet; how many. Running kernels stop within a heartbeat."""
        return _table.cancel(self._engine, self._id)


def _cell(value: Any) -> Any:
    if isinstance(value, dict) and value.get("kind") in ("frame", "figure"):
        return value["path"]
    return value


def _series(name: str, values: list[Any]) -> pl.Series:
    try:
        return pl.Series(name, values, strict=True)
    except (TypeError, pl.exceptions.PolarsError):
        import json

        return pl.Series(name, [None if v is None else json.dumps(v) if not isinstance(v, str) else v
                                for v in values], dtype=pl.String)


def _options(timeout: Any, retries: Any, heartbeat_s: Any, stale_after_s: Any) -> dict[str, Any]:
    return {
        "timeout": None if timeout is None else check_number("timeout", timeout, 0, None, lo_open=True),
        "retries": check_int("retries", retries, 0, 100),
        "heartbeat_s": check_number("heartbeat_s", heartbeat_s, 0.05, 3600),
        "stale_after_s": check_number("stale_after_s", stale_after_s, 0.1, None),
    }


def submit(notebook: str | Path, grid: Any = None, *, params: Mapping[str, Sequence[str]] | None = None,
           grid_file: str | Path | None = None, name: str | None = None, workers: int | None = None,
           scheduler: str | None = None, timeout: float | None = None, retries: int = 2,
           kernel_name: str | None = None, url: str | None = None, output_dir: str | Path | None = None,
           heartbeat_s: float = 2.0, stale_after_s: float = 30.0, detach: bool = False) -> BatchHandle:
    """Run ``notebook`` once per parameter set of ``grid`` as a batch of jobs on Dask.

    Parameters
    ----------
    notebook : str or Path
        A notebook with a cell tagged ``parameters``.
    grid : mapping or list of mappings, optional
        Parameter name → list of values (the jobs are their cartesian product), or a list of such
        mappings. ``None``: one job with the notebook's defaults.
    params, grid_file
        Command-line forms: name → texts (parsed as the parameter's type) and a YAML grid file.
    name : str, optional
        A label shown by ``workbench batch list``.
    workers : int, optional
        Worker processes of the local cluster (default: one per core). Ignored with ``scheduler``.
    scheduler : str, optional
        An existing Dask scheduler (``tcp://host:8786``); default ``$WORKBENCH_DASK_SCHEDULER``.
    timeout : float, optional
        Seconds a job may run before its kernel is killed and it fails.
    retries : int
        Retries of infrastructure failures (kernel death, worker lost, kernel start time-out).
    kernel_name : str, optional
        Jupyter kernel (default: the notebook's).
    url : str, optional
        The store's database URL (default ``$WORKBENCH_DB_URL`` or SQLite under ``WORKBENCH_HOME``).
    output_dir : path, optional
        Where each job's working directory goes (default ``WORKBENCH_HOME/batches/<id>``).
    heartbeat_s, stale_after_s : float
        How often a held job's heartbeat is written; how old it may get before
        :func:`resume` treats the job as orphaned.
    detach : bool
        Drive the batch from a separate process and return at once.

    Returns
    -------
    BatchHandle
        ``.id``, ``.status()``, ``.wait()``, ``.results()``.

    Raises
    ------
    InvalidParameterError
        A bad notebook, parameter, value, grid or kernel: raised before anything is written.
    JobError
        The scheduler cannot be reached (before anything is written).
    """
    nb_path, sets = prepare(notebook, grid, params=params, grid_file=grid_file)
    kernel = _kernel(nb_path, kernel_name)
    options = {**_options(timeout, retries, heartbeat_s, stale_after_s), "parameters": list(notebook_params(nb_path))}
    if workers is not None:
        check_int("workers", workers, 1, 4096)
    db_url = resolve_url(url)
    client = cluster = None
    if not detach:
        from workbench.jobs._drive import connect

        client, cluster = connect(scheduler, workers)
    elif scheduler:
        from workbench.jobs._drive import connect

        connect(scheduler, None)[0].close()  # reachable now, or an error before any row
    try:
        engine = _open_store(db_url)
        batch_id = secrets.token_hex(8)
        out = Path(output_dir) if output_dir is not None else workbench_home() / "batches" / batch_id
        _table.insert_batch(engine, {"id": batch_id, "name": name, "notebook": str(nb_path), "kernel_name": kernel,
                                     "output_dir": str(out.resolve()), "options": options}, sets)
    except BaseException:
        _close(client, cluster)
        raise
    if detach:
        _spawn(batch_id, db_url, scheduler, workers)
        return BatchHandle(batch_id, db_url)
    return BatchHandle(batch_id, db_url, _thread=_start(batch_id, db_url, client, cluster))


def _close(client: Any, cluster: Any) -> None:
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()


def _start(batch_id: str, url: str, client: Any, cluster: Any, stale_after_s: float | None = None) -> threading.Thread:
    from workbench.jobs._drive import drive

    def run() -> None:
        try:
            drive(batch_id, url, client, stale_after_s=stale_after_s)
        except BaseException as exc:  # surfaced by wait()
            thread.error = exc  # type: ignore[attr-defined]
        finally:
            _close(client, cluster)

    thread = threading.Thread(target=run, name=f"workbench-batch-{batch_id}", daemon=True)
    thread.error = None  # type: ignore[attr-defined]
    thread.start()
    return thread


def _spawn(batch_id: str, url: str, scheduler: str | None, workers: int | None) -> None:
    log = workbench_home() / "batches" / f"{batch_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        subprocess.Popen([sys.executable, "-m", "workbench.jobs._drive", batch_id, url, scheduler or "",
                          str(workers or "")], stdout=fh, stderr=fh, stdin=subprocess.DEVNULL,
                         start_new_session=True)


def batch(batch_id: str, *, url: str | None = None) -> BatchHandle:
    """The handle of an existing batch (any process); a :class:`JobError` for an unknown id."""
    db_url = resolve_url(url)
    _open_store(db_url)
    return BatchHandle(str(batch_id), db_url)


def resume(batch_id: str, *, url: str | None = None, workers: int | None = None, scheduler: str | None = None,
           stale_after_s: float | None = None) -> BatchHandle:
    """Run what is left of a batch: queued jobs, and ``running`` jobs whose heartbeat is older
    than ``stale_after_s`` (their runner died). Succeeded jobs never run again; concurrent
    resumes never run a job twice. Returns a handle whose ``wait()`` blocks until done."""
    db_url = resolve_url(url)
    _table.batch_row(_open_store(db_url), batch_id)
    if stale_after_s is not None:
        check_number("stale_after_s", stale_after_s, 0.1, None)
    from workbench.jobs._drive import connect

    client, cluster = connect(scheduler, workers)
    return BatchHandle(batch_id, db_url, _thread=_start(batch_id, db_url, client, cluster, stale_after_s))


def cancel(batch_id: str, *, url: str | None = None) -> int:
    """Cancel every unfinished job of a batch; how many were cancelled."""
    return batch(batch_id, url=url).cancel()


def batches(*, url: str | None = None, limit: int = 50) -> pl.DataFrame:
    """The newest batches: ``id, name, notebook, created_at, total`` and a count per state."""
    rows = _table.batch_rows(_open_store(resolve_url(url)), check_int("limit", limit, 1, 100_000))
    schema = {"id": pl.String, "name": pl.String, "notebook": pl.String, "created_at": pl.Datetime("us", "UTC"),
              "total": pl.Int64, **{s: pl.Int64 for s in ("queued", "running", "succeeded", "failed", "cancelled")}}
    return pl.DataFrame([{"id": r["id"], "name": r["name"], "notebook": r["notebook"], "created_at": r["created_at"],
                          "total": r["n_jobs"], **r["counts"]} for r in rows], schema=schema)
