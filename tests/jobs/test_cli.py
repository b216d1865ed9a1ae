"""``workbench batch run|status|results|resume|cancel|list``: output and exit codes
(0 done, 1 a job failed, 2 bad input)."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from workbench.cli import app

from .conftest import tables_empty

pytestmark = pytest.mark.xdist_group("batch")


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def test_run_status_results_and_list(notebook: Path, tmp_path: Path, _isolated_home: Path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("label: [p]\n")
    res = _cli("batch", "run", str(notebook), "-p", "x", "1,2", "-p", "fail", "false,true", "--grid", str(grid),
               "--workers", "2", "--name", "cli-test")
    assert res.exit_code == 1, res.output  # the jobs with fail=true failed
    batch_id = res.stdout.split()[1].rstrip(":")
    assert "4 job(s)" in res.stdout and "failed 2" in res.stdout and "ValueError: boom at x=1" in res.stdout
    status = _cli("batch", "status", batch_id)
    assert status.exit_code == 1 and "succeeded 2" in status.stdout
    table = _cli("batch", "results", batch_id)
    assert table.exit_code == 0 and "a!" not in table.stdout and "p!" in table.stdout
    out = tmp_path / "results.csv"
    assert _cli("batch", "results", batch_id, "-o", str(out)).exit_code == 0
    frame = pl.read_csv(out)
    assert frame.select("x", "fail", "label", "state", "y").rows() == [
        (1, False, "p", "succeeded", 2), (1, True, "p", "failed", None),
        (2, False, "p", "succeeded", 4), (2, True, "p", "failed", None)]
    listed = _cli("batch", "list")
    assert batch_id in listed.stdout and "cli-test" in listed.stdout
    assert _cli("batch", "cancel", batch_id).stdout.startswith("cancelled 0 job(s)")


def test_every_job_succeeding_exits_0(notebook: Path, _isolated_home: Path):
    res = _cli("batch", "run", str(notebook), "-p", "x", "7", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert "succeeded 1 (of 1)" in res.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "y", "1"], "parameter `y` is not declared"),
    (["-p", "x", "one"], "parameter `x` must be int"),
    (["-p", "x"], "-p needs a name and values"),
    (["--grid", "missing.yaml"], "grid file 'missing.yaml' does not exist"),
    (["--kernel", "nope"], "`kernel_name` 'nope' is not an installed Jupyter kernel"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    (["--bogus"], "unexpected argument '--bogus'"),
])
def test_bad_input_exits_2_before_anything_is_written(args, message, notebook: Path, _isolated_home: Path):
    res = _cli("batch", "run", str(notebook), *args)
    assert res.exit_code == 2, res.output
    assert message in res.stderr
    assert tables_empty(f"sqlite:///{_isolated_home / 'workbench.db'}")


def test_a_missing_notebook_and_an_unknown_batch_id_exit_2(tmp_path: Path, _isolated_home: Path):
    res = _cli("batch", "run", str(tmp_path / "nope.ipynb"))
    assert res.exit_code == 2 and "does not exist" in res.stderr
    for command in ("status", "results", "resume", "cancel"):
        res = _cli("batch", command, "deadbeef")
        assert res.exit_code == 2 and "batch id 'deadbeef' does not exist" in res.stderr, command


def test_detach_returns_at_once_and_cancel_stops_a_running_kernel(notebook: Path, _isolated_home: Path):
    import time

    import workbench as wb

    res = _cli("batch", "run", str(notebook), "-p", "sleep", "120", "--workers", "1", "--detach")
    assert res.exit_code == 0, res.output
    batch_id = res.stdout.split()[1].rstrip(":")
    assert f"workbench batch status {batch_id}" in res.stdout
    handle = wb.jobs.batch(batch_id)
    deadline = time.monotonic() + 120
    while not _pids_with(f"WORKBENCH_BATCH_ID={batch_id}"):  # its kernel is up
        assert time.monotonic() < deadline, "the detached batch never started its job"
        time.sleep(0.2)
    assert _cli("batch", "cancel", batch_id).stdout.startswith("cancelled 1 job(s)")
    handle.wait(progress=False, timeout=60)
    job = handle.jobs()[0]
    assert job["state"] == "cancelled" and job["error"] == "cancelled"
    assert (Path(job["workdir"]) / "kernel.log").exists()
    deadline = time.monotonic() + 30  # the kernel is killed at its next heartbeat, the driver then exits
    while _pids_with(f"WORKBENCH_BATCH_ID={batch_id}") or _pids_with(batch_id, "cmdline"):
        assert time.monotonic() < deadline, "the cancelled job's kernel or the detached driver is still running"
        time.sleep(0.2)


def _pids_with(marker: str, where: str = "environ") -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / where).read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
