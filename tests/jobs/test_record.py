"""``workbench.record``: a no-op outside a batch; inside a job, one JSON line per call."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError
from workbench.jobs.record import RECORD_ENV, read_records


def test_outside_a_batch_it_returns_the_value_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    frame = pl.DataFrame({"a": [1]})
    assert wb.record("sharpe", 1.5) == 1.5
    assert wb.record("frame", frame) is frame
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "a b", "1x", None, "number", "state", "x" * 101])
def test_a_bad_name_is_refused_naming_it(name, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    with pytest.raises(InvalidParameterError, match="`name`"):
        wb.record(name, 1)


def test_inside_a_job_values_frames_and_figures_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "record.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(target))

    class Figure:
        def savefig(self, path):
            Path(path).write_bytes(b"\x89PNG")

    import numpy as np

    wb.record("sharpe", np.float64(1.25))
    wb.record("sharpe", 1.5)  # the last value wins
    wb.record("n", 3)
    wb.record("weights", {"GOOG": 0.5, "MSFT": np.float32(0.5)})
    wb.record("nan", float("nan"))
    wb.record("table", pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    wb.record("plot", Figure())
    values = read_records(target)
    assert values["sharpe"] == 1.5 and values["n"] == 3 and values["nan"] is None
    assert values["weights"] == {"GOOG": 0.5, "MSFT": 0.5}
    assert values["table"]["kind"] == "frame" and values["table"]["rows"] == 2
    assert pl.read_parquet(values["table"]["path"])["b"].to_list() == ["x", "y"]
    assert values["plot"]["kind"] == "figure" and Path(values["plot"]["path"]).read_bytes() == b"\x89PNG"
    assert len(target.read_text().splitlines()) == 7
    assert all(json.loads(line) for line in target.read_text().splitlines())


def test_a_value_that_cannot_be_recorded_names_what_can(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(RECORD_ENV, str(tmp_path / "record.jsonl"))
    with pytest.raises(InvalidParameterError, match="cannot be recorded: got object"):
        wb.record("thing", object())


def test_import_workbench_and_record_load_neither_papermill_nor_dask():
    import subprocess
    import sys

    code = ("import sys, workbench as wb; wb.record('a', 1); import workbench.jobs; "
            "bad = [m for m in ('papermill', 'dask', 'distributed', 'nbconvert') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
