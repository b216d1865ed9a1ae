"""Batches end to end on a local Dask cluster: recorded values, a notebook's own failure (no
retry), a kernel that dies (retried), a time-out (kernel killed) — and every bad input refused
before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError, JobError

from .conftest import tables_empty, write_notebook

pytestmark = pytest.mark.xdist_group("batch")


def test_a_batch_runs_records_fails_retries_and_times_out(notebook: Path, tmp_path: Path):
    marker = tmp_path / "died-once"
    grid = [{"x": [1, 2]}, {"x": 3, "fail": True}, {"x": 4, "die_once": str(marker)}, {"x": 5, "sleep": 60.0}]
    handle = wb.jobs.submit(notebook, grid, workers=2, timeout=20, retries=2, name="tiny", heartbeat_s=0.5)
    handle.wait(progress=False, timeout=240)
    res = handle.results().sort("number")
    assert res.columns[:7] == ["number", "x", "fail", "sleep", "die_once", "state", "attempts"]  # notebook order
    assert res["x"].to_list() == [1, 2, 3, 4, 5]
    assert res["state"].to_list() == ["succeeded", "succeeded", "failed", "succeeded", "failed"]
    assert res["y"].to_list() == [2, 4, None, 8, None]
    assert res["label_out"].to_list()[:2] == ["a!", "a!"]
    assert res["attempts"].to_list() == [1, 1, 1, 2, 1]  # the notebook's exception is not retried
    jobs = {j["number"]: j for j in handle.jobs()}
    failed = jobs[2]
    assert failed["error"] == "ValueError: boom at x=3"
    assert 'raise ValueError(f"boom at x={x}")' in failed["failed_cell"]
    assert "ValueError" in failed["traceback"] and "\x1b[" not in failed["traceback"]
    executed = nbformat.read(failed["output_path"], as_version=4)  # papermill keeps the failed notebook
    assert any(o.get("ename") == "ValueError" for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert marker.exists() and jobs[3]["state"] == "succeeded"
    assert "timed out" in jobs[4]["error"] and "timeout=20" in jobs[4]["error"]
    assert jobs[4]["duration_s"] < 50
    for job in jobs.values():
        assert Path(job["workdir"]).is_dir() and Path(job["output_path"]).is_file()
        html = Path(job["html_path"]).read_text()
        assert html.lstrip().lower().startswith("<!doctype html")
        assert re.search(r"<script[^>]*src=\"https?://", html) is None  # offline: nothing from a CDN
    assert len({j["workdir"] for j in jobs.values()}) == 5
    again = wb.jobs.batch(handle.id)  # a handle from the id sees the same batch
    assert again.status() == {"queued": 0, "running": 0, "succeeded": 3, "failed": 2, "cancelled": 0, "total": 5}
    assert again.results().equals(handle.results())
    listed = wb.jobs.batches()
    assert listed.filter(listed["id"] == handle.id)["succeeded"].to_list() == [3]


def test_an_unknown_batch_id_is_refused_at_once():
    with pytest.raises(JobError, match="batch id 'nope' does not exist"):
        wb.jobs.batch("nope")


@pytest.mark.parametrize("case", ["no-parameters-cell", "undeclared", "wrong-type", "bad-grid", "missing-kernel",
                                  "missing-notebook", "unreachable-scheduler"])
def test_bad_input_fails_before_any_row_is_written(case: str, notebook: Path, tmp_path: Path, kernel: str):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    kwargs: dict = {"grid": {"x": [1]}}
    if case == "no-parameters-cell":
        notebook = write_notebook(tmp_path / "plain.ipynb", params=None)
    elif case == "undeclared":
        kwargs = {"grid": {"x": [1], "window": [3]}}
    elif case == "wrong-type":
        kwargs = {"params": {"x": ["one"]}}
    elif case == "bad-grid":
        (tmp_path / "g.yaml").write_text("x: [1,\n")
        kwargs = {"grid_file": tmp_path / "g.yaml"}
    elif case == "missing-kernel":
        kwargs["kernel_name"] = "no-such-kernel"
    elif case == "missing-notebook":
        notebook = tmp_path / "missing.ipynb"
    else:
        kwargs["scheduler"] = "tcp://127.0.0.1:9"
    error = JobError if case == "unreachable-scheduler" else InvalidParameterError
    with pytest.raises(error) as info:
        wb.jobs.submit(notebook, url=url, workers=1, **kwargs)
    assert str(info.value)
    assert tables_empty(url)
