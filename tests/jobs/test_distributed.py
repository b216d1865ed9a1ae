"""Real distributed runs: a `dask scheduler` and two `dask worker` processes on 127.0.0.1, one
worker SIGKILLed mid-batch; and the submitter SIGKILLed mid-batch then resumed twice at once, on
SQLite and on a real PostgreSQL server. No job is lost, no job runs twice."""

from __future__ import annotations

import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench as wb

from .conftest import rows

pytestmark = [pytest.mark.xdist_group("batch"), pytest.mark.slow]

DASK = shutil.which("dask", path=os.path.dirname(sys.executable)) or "dask"
WORKBENCH = [sys.executable, "-m", "workbench"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


def _kill_leftover_kernels(batch_ids: list[str]) -> None:
    """Kernels of a SIGKILLed worker exit on their own when they notice; make sure of it."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(f"WORKBENCH_BATCH_ID={b}".encode() in env for b in batch_ids):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, dict[str, subprocess.Popen]]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "dask.log").open("w")
    start = {"stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True, "cwd": tmp_path}
    procs = {"scheduler": subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                             "--no-dashboard"], **start)}
    for name in ("w1", "w2"):
        procs[name] = subprocess.Popen([DASK, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny",
                                        "--no-dashboard", "--host", "127.0.0.1"], **start)
    try:
        from distributed import Client

        def two_workers() -> bool:
            with Client(address, timeout=5, set_as_default=False) as client:
                return len(client.scheduler_info()["workers"]) == 2

        _wait_for(two_workers, 90, "the two dask workers")
        yield address, procs
    finally:
        for proc in procs.values():
            _kill_group(proc)
        log.close()


def _log_counts(log: Path) -> collections.Counter:
    return collections.Counter(int(line.split()[0]) for line in log.read_text().splitlines()) if log.exists() else collections.Counter()


def test_a_worker_killed_mid_batch_loses_no_job_and_runs_none_twice(cluster, notebook: Path, tmp_path: Path,
                                                                    _isolated_home: Path):
    address, procs = cluster
    log = tmp_path / "done.log"
    url = f"sqlite:///{_isolated_home / 'workbench.db'}"
    submitter = subprocess.Popen([*WORKBENCH, "batch", "run", str(notebook), "-p", "x", "1,2,3,4,5,6",
                                  "-p", "sleep", "4", "-p", "log", str(log), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                                 cwd=tmp_path)
    batch_id = None
    try:
        w1_pid = procs["w1"].pid

        def started_on_w1() -> bool:
            if not _has_jobs(url):
                return False
            return any(_worker_pid(address) == w1_pid for address in _running_workers(url))

        _wait_for(started_on_w1, 120, "a job running on worker w1")
        os.kill(w1_pid, signal.SIGKILL)
        out, err = submitter.communicate(timeout=240)
        assert submitter.returncode == 0, out + err
        batch_id = out.split()[1].rstrip(":")
    finally:
        _kill_group(submitter)
        _kill_leftover_kernels([r[0] for r in rows(url, "SELECT id FROM batches")])
    res = wb.jobs.batch(batch_id, url=url).results().sort("x")
    assert res["state"].to_list() == ["succeeded"] * 6
    assert res["y"].to_list() == [2, 4, 6, 8, 10, 12]
    assert max(res["attempts"].to_list()) == 2  # the job on the killed worker ran again elsewhere
    assert _log_counts(log) == {x: 1 for x in range(1, 7)}  # every job completed exactly once


def _running_workers(url: str) -> list[str]:
    return [r[0] for r in rows(url, "SELECT worker FROM jobs WHERE state = 'running' AND started_at IS NOT NULL")]


def _worker_pid(address: str) -> int | None:
    """The pid listening on a worker's address (our own dask worker processes)."""
    port = int(address.rsplit(":", 1)[1])
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"dask" in cmdline and b"worker" in cmdline and _listens(int(proc.name), port):
            return int(proc.name)
    return None


def _listens(pid: int, port: int) -> bool:
    try:
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    sockets = {i[8:-1] for i in inodes if i.startswith("socket:[")}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A" and parts[9] in sockets:
                return True
    return False


def test_a_killed_submitter_loses_nothing_and_two_resumes_run_no_job_twice(store_url: str, notebook: Path,
                                                                        tmp_path: Path):
    log = tmp_path / "done.log"
    env = {**os.environ, "WORKBENCH_DB_URL": store_url}
    submitter = subprocess.Popen([*WORKBENCH, "batch", "run", str(notebook), "-p", "x", "1,2,3,4,5,6",
                                  "-p", "sleep", "2", "-p", "log", str(log), "--workers", "2"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                 start_new_session=True, cwd=tmp_path)
    batch_ids: list[str] = []
    try:
        def some_done_some_running():
            found = rows(store_url, "SELECT batch_id, state FROM jobs") if _has_jobs(store_url) else []
            states = [s for _, s in found]
            return found and "succeeded" in states and "running" in states and found[0][0]

        batch_id = _wait_for(some_done_some_running, 180, "a batch half done")
        batch_ids.append(batch_id)
        os.killpg(submitter.pid, signal.SIGKILL)  # the submitter, its local cluster and kernels
        submitter.wait(timeout=30)
        before = {r[0]: r[1:] for r in rows(store_url, "SELECT number, attempts, finished_at FROM jobs WHERE state = 'succeeded'")}
        lines_before = _log_counts(log)
        assert before and len(before) < 6
        time.sleep(1)
        # the stale bound is several heartbeats (2 s): a held job's beat delayed on a loaded machine
        # must not read as an orphan, while the killed submitter's jobs turn stale soon enough
        resumes = [subprocess.Popen([*WORKBENCH, "batch", "resume", batch_id, "--stale-after", "10", "--workers", "1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                    start_new_session=True, cwd=tmp_path) for _ in range(2)]
        for proc in resumes:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, out + err
    finally:
        _kill_group(submitter)
        _kill_leftover_kernels(batch_ids)
    res = wb.jobs.batch(batch_id, url=store_url).results().sort("x")
    assert res["state"].to_list() == ["succeeded"] * 6
    assert res["y"].to_list() == [2, 4, 6, 8, 10, 12]
    after = {r[0]: r[1:] for r in rows(store_url, "SELECT number, attempts, finished_at FROM jobs")}
    for number, kept in before.items():
        assert after[number] == kept  # a succeeded job never runs again
    again = _log_counts(log) - lines_before
    assert set(again) | set(lines_before) == set(range(1, 7))  # none lost
    assert all(n == 1 for n in again.values())  # after the kill, no job ran twice (two resumes at once)
    assert not any(x in again for x in (res.filter(res["number"].is_in(list(before)))["x"].to_list()))


def _has_jobs(url: str) -> bool:
    try:
        return bool(rows(url, "SELECT COUNT(*) FROM jobs")[0][0])
    except Exception:  # the store does not exist yet
        return False
