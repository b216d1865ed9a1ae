"""One job's execution, on a Dask worker: papermill runs the notebook in the job's own working
directory, with a heartbeat, a deadline, retries of infrastructure failures, and the outcome
written to the store under the job's claim.

An exception raised by the notebook's code fails the job at once (the failed notebook, its
failing cell and traceback are kept). The kernel dying or not starting is an infrastructure
failure: retried with exponential backoff up to ``retries`` times. A job whose execution outlives
``timeout`` has its kernel killed and fails with that reason. A job taken away meanwhile
(cancelled, or re-queued as an orphan) has its kernel killed and writes nothing.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

from workbench.jobs import _table
from workbench.jobs.record import RECORD_ENV, read_records

__all__ = ["run_job", "worker_name"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>")
_HTML_LOCK = threading.Lock()


def worker_name() -> str:
    """The Dask worker's address, else ``host:pid``."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _kernel_manager(kernel_name: str, env: dict[str, str], log: Path) -> Any:
    from jupyter_client.manager import AsyncKernelManager

    class JobKernelManager(AsyncKernelManager):
        """A kernel manager that adds the job's variables to the kernel's environment."""

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["env"] = {**(kw.get("env") or os.environ), **env}
            with log.open("ab") as fh:  # the kernel's own output stays with the job
                kw["stdout"] = kw["stderr"] = fh
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return JobKernelManager(kernel_name=kernel_name)


def _kill(km: Any) -> None:
    provisioner = getattr(km, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    if not pid:
        return
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _shutdown(km: Any) -> None:
    import asyncio

    try:
        if km.has_kernel:
            asyncio.run(km.shutdown_kernel(now=True))
    except Exception:  # the kernel may already be gone
        _kill(km)


class _Watch:
    """Heartbeat every ``interval`` s; kill the kernel at the deadline or when the claim is lost."""

    def __init__(self, job: dict[str, Any], km: Any, interval: float, timeout: float | None) -> None:
        self.job, self.km, self.interval = job, km, interval
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timed_out = self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workbench-job-heartbeat", daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        engine = _table.engine_for(self.job["url"])
        next_beat = time.monotonic() + self.interval
        while not self._stop.wait(0.1):
            t = time.monotonic()
            if self.deadline is not None and t >= self.deadline:
                self.timed_out = True
                _kill(self.km)
                return
            if t >= next_beat:
                next_beat = t + self.interval
                try:
                    held = _table.heartbeat(engine, [(self.job["job_id"], self.job["claim"])])
                except Exception:  # a store hiccup: try again at the next beat
                    continue
                if not held:
                    self.lost = True
                    _kill(self.km)
                    return


def _infrastructure(exc: BaseException) -> bool:
    from nbclient.exceptions import DeadKernelError

    text = str(exc).lower()
    return isinstance(exc, (DeadKernelError, TimeoutError, ConnectionError)) or (
        isinstance(exc, RuntimeError) and ("kernel" in text and ("died" in text or "respond" in text)))


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(embed_images=True)  # loading its templates costs more than rendering a small notebook


def _html(output: Path) -> str | None:
    """The executed notebook rendered to a self-contained HTML file beside it."""
    if not output.is_file():
        return None
    import nbformat

    with _HTML_LOCK:
        body, _ = _exporter().from_notebook_node(nbformat.read(output, as_version=4))
    body = _REMOTE_SCRIPT.sub("", body)  # offline: no require.js or MathJax from a CDN
    html = output.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return str(html)


def _execute_once(job: dict[str, Any], workdir: Path, output: Path) -> tuple[_Watch, BaseException | None]:
    import papermill

    record_file = workdir / "record.jsonl"
    record_file.unlink(missing_ok=True)
    env = {RECORD_ENV: str(record_file), "WORKBENCH_BATCH_ID": job["batch_id"],
           "WORKBENCH_JOB_NUMBER": str(job["number"])}
    km = _kernel_manager(job["kernel_name"], env, workdir / "kernel.log")
    error: BaseException | None = None
    with _Watch(job, km, job["heartbeat_s"], job["timeout"]) as watch:
        try:
            papermill.execute_notebook(
                job["notebook"], str(output), parameters=job["params"], kernel_name=job["kernel_name"],
                cwd=str(workdir), progress_bar=False, log_output=False, start_timeout=job["start_timeout"], km=km)
        except BaseException as exc:  # classified by the caller
            error = exc
        finally:
            _shutdown(km)
    return watch, error


def _failure_fields(exc: BaseException) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {"error": f"{exc.ename}: {exc.evalue}", "failed_cell": exc.source,
                "traceback": _ANSI.sub("", "\n".join(exc.traceback))}
    return {"error": f"{type(exc).__name__}: {exc}"}


def run_job(job: dict[str, Any]) -> str:
    """Execute one claimed job and write its outcome; the state it ended in (or ``"lost"``).

    ``job`` holds ``url, batch_id, job_id, number, claim, notebook, kernel_name, params,
    workdir, timeout, retries, heartbeat_s, start_timeout, backoff_s``.
    """
    engine = _table.engine_for(job["url"])
    workdir = Path(job["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / Path(job["notebook"]).name
    while True:
        attempt = _table.start(engine, job["job_id"], job["claim"], worker=worker_name(), workdir=str(workdir))
        if attempt is None:
            return "lost"
        if attempt > job["retries"] + 1:
            _table.finish(engine, job["job_id"], job["claim"], "failed",
                          error=f"gave up after {attempt - 1} attempts (the kernel or the worker was lost each time)")
            return "failed"
        watch, exc = _execute_once(job, workdir, output)
        if watch.lost:
            return "lost"
        outputs = {"output_path": str(output) if output.is_file() else None, "html_path": _html(output),
                   "values": read_records(workdir / "record.jsonl")}
        if exc is None:
            _table.finish(engine, job["job_id"], job["claim"], "succeeded", **outputs, error=None)
            return "succeeded"
        if watch.timed_out:
            _table.finish(engine, job["job_id"], job["claim"], "failed", **outputs,
                          error=f"timed out: the job ran longer than timeout={job['timeout']} s; its kernel was killed")
            return "failed"
        if _infrastructure(exc) and attempt <= job["retries"]:
            _table.note(engine, job["job_id"], job["claim"], f"attempt {attempt}: {type(exc).__name__}: {exc}")
            time.sleep(job["backoff_s"] * 2 ** (attempt - 1))
            continue
        _table.finish(engine, job["job_id"], job["claim"], "failed", **outputs, **_failure_fields(exc))
        return "failed"
