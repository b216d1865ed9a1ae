"""The research batch of ``workbench demo``: four jobs of 03_strategy, their recorded figures
summarized, the executed notebooks and their HTML on disk."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from workbench.jobs.demo import DEMO_GRID, research_batch

pytestmark = pytest.mark.xdist_group("batch")


def test_research_batch_runs_every_job_and_prints_their_figures_and_paths(kernel: str, _isolated_home: Path):
    buffer = io.StringIO()
    handle = research_batch(Console(file=buffer, width=160), workers=2)
    res = handle.results()
    assert res.height == len(DEMO_GRID["dataset"]) * len(DEMO_GRID["fast"])
    assert res["state"].to_list() == ["succeeded"] * res.height
    assert res.filter(res["dataset"] == "GOOG")["n_trades"].to_list()[0] > 0
    text = buffer.getvalue()
    for row in res.iter_rows(named=True):
        assert Path(row["output_path"]).is_file() and Path(row["html_path"]).is_file()
        assert row["html_path"] in text and f"{row['sharpe']:.2f}" in text
    assert f"workbench batch results {handle.id}" in text
