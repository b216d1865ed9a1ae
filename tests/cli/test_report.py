"""``workbench runs report`` and ``workbench runs export`` on a stored run."""

from __future__ import annotations

from pathlib import Path

import workbench as wb
from workbench.report import read_export
from workbench.store import Store
from workbench.strategies import SmaCross


def _saved_run() -> str:
    res = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=30))
    with Store() as store:
        return res.save(store)


def test_report_and_export_a_stored_run(cli, home, tmp_path: Path) -> None:
    run_id = _saved_run()
    out = tmp_path / "r.html"
    res = cli("runs", "report", run_id[:8], "-o", str(out))
    assert res.exit_code == 0, res.output
    assert f"Wrote {out}" in res.output
    assert out.read_text().startswith("<!DOCTYPE html>") and run_id in out.read_text()
    res = cli("runs", "report", run_id, "-o", str(tmp_path / "r.pdf"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    res = cli("runs", "export", run_id, "-o", str(tmp_path / "x"), "-f", "csv", "-f", "json")
    assert res.exit_code == 0, res.output
    back = read_export(tmp_path / "x", format="json")
    assert {"equity", "trades", "orders", "returns", "stats"} <= set(back)


def test_bad_input_exits_with_a_clear_error(cli, home, tmp_path: Path) -> None:
    run_id = _saved_run()
    res = cli("runs", "report", "ffff0000")
    assert res.exit_code == 1 and "No run with id or id prefix 'ffff0000'" in res.output
    res = cli("runs", "report", run_id, "-f", "docx")
    assert res.exit_code == 2 and "docx" in res.output
    res = cli("runs", "report", run_id, "-o", str(tmp_path / "missing" / "r.html"))
    assert res.exit_code == 1 and "cannot be written: the directory" in res.output
    res = cli("runs", "export", run_id, "-o", str(tmp_path / "x"), "-f", "xlsx")
    assert res.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]
