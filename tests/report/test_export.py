"""Exports round-trip for every kind of run, and bad input gets a clear error with nothing left
behind."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from workbench.errors import DataValidationError, InvalidParameterError, StoreError
from workbench.report import FORMATS, export, export_run, read_export, report, report_run
from workbench.report._atomic import atomic_directory, atomic_write
from workbench.report._export import stats_frame
from workbench.report._kinds import report_data
from workbench.store import Store
from workbench.strategies import SmaCross

KINDS = ("backtest_result", "portfolio_result", "sweep_result", "study_result", "walk_forward_result")


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_round_trips_in_every_format(kind, request, tmp_path):
    result = request.getfixturevalue(kind)
    data = report_data(result)
    out = export(result, tmp_path / "x")
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["format"], manifest["version"], manifest["kind"]) == ("workbench-export", 1, data.kind)
    expected = dict(data.frames) | {"stats": stats_frame(data.stats)}
    assert set(manifest["frames"]) == set(expected)
    for fmt in FORMATS:
        back = read_export(out, format=fmt)
        assert set(back) == set(expected)
        for name, frame in expected.items():
            assert_frame_equal(back[name], frame, check_exact=True), (fmt, name)


def test_a_backtest_exports_its_frames_as_the_result_holds_them(backtest_result, portfolio_result, tmp_path):
    back = read_export(backtest_result.export(tmp_path / "b", formats=("json",)))
    for name in ("equity", "returns", "orders", "trades", "positions"):
        assert_frame_equal(back[name], getattr(backtest_result, name), check_exact=True)
    assert back["stats"].row(0, named=True)["sharpe_ratio"] == backtest_result.stats.sharpe_ratio
    pf = read_export(portfolio_result.export(tmp_path / "p", formats=("csv",)), format="csv")
    assert_frame_equal(pf["weights"], portfolio_result.weights, check_exact=True)


def test_a_stored_run_round_trips_and_reports(backtest_result, store_url, tmp_path):
    with Store(store_url, artifacts_dir=tmp_path / "art") as store:
        run_id = backtest_result.save(store)
        out = export_run(run_id[:6], tmp_path / "x", store=store, formats=("parquet", "csv"))
        for fmt in ("parquet", "csv"):
            back = read_export(out, format=fmt)
            for name in ("equity", "trades", "orders", "benchmark"):
                assert_frame_equal(back[name], store.load_artifact(run_id, name), check_exact=True)
            assert_frame_equal(back["returns"], backtest_result.returns, check_exact=True)
        page = report_run(run_id, tmp_path / "r.html", store=store).read_text()
        assert f'data-key="sharpe_ratio" data-role="strategy" data-fmt="num" data-value="{backtest_result.stats.sharpe_ratio!r}"' in page
        assert "Buy and hold" in page
        assert "workbench.strategies.builtin.SmaCross v1" in page and "2004-08-19 00:00" in page


def test_unknown_run_id_names_it(tmp_path):
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}", artifacts_dir=tmp_path / "art") as store:
        with pytest.raises(StoreError, match="No run with id or id prefix 'nope'"):
            report_run("nope", tmp_path / "r.html", store=store)
        with pytest.raises(StoreError, match="No run with id or id prefix 'nope'"):
            export_run("nope", tmp_path / "x", store=store)
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "x").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_deleted_artifacts_are_named_and_nothing_is_written(backtest_result, tmp_path):
    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}", artifacts_dir=tmp_path / "art") as store:
        run_id = backtest_result.save(store)
        (tmp_path / "art" / store.run(run_id).artifacts["equity"]).unlink()
        out = tmp_path / "out"
        out.mkdir()
        with pytest.raises(StoreError, match=r"artifact file .*equity\.parquet.* is missing"):
            report_run(run_id, out / "r.pdf", store=store)
        with pytest.raises(StoreError, match=r"equity\.parquet"):
            export_run(run_id, out / "x", store=store)
        assert list(out.iterdir()) == []


def test_unknown_format_is_named(backtest_result, tmp_path):
    with pytest.raises(InvalidParameterError, match=r"`format` must be 'html' or 'pdf'; got 'docx'"):
        report(backtest_result, tmp_path / "r.html", format="docx")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"`format` must be 'html' or 'pdf'; got 'txt'"):
        report(backtest_result, tmp_path / "r.txt")
    with pytest.raises(InvalidParameterError, match=r"`formats` must name only csv, parquet, json; got 'xlsx'"):
        export(backtest_result, tmp_path / "x", formats=("csv", "xlsx"))
    with pytest.raises(InvalidParameterError, match="`result` must be a backtest"):
        report(object(), tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_paths_are_named(backtest_result, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    with pytest.raises(InvalidParameterError, match=r"cannot be written: the directory .*file\.txt' does not exist"):
        report(backtest_result, blocker / "r.html")
    with pytest.raises(InvalidParameterError, match="cannot be written: it is a directory"):
        report(backtest_result, tmp_path)
    with pytest.raises(InvalidParameterError, match="cannot be written: it is a file, not a directory"):
        export(backtest_result, blocker)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("the previous report")

    def half_then_fail(path: str) -> None:
        with open(path, "w") as f:
            f.write("<html>half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert sorted(os.listdir(tmp_path)) == ["r.html"] and target.read_text() == "the previous report"
    with pytest.raises(RuntimeError, match="stop"), atomic_directory(tmp_path / "exp") as tmp:
        (tmp / "equity.csv").write_text("ts\n")
        raise RuntimeError("stop")
    assert sorted(os.listdir(tmp_path)) == ["r.html"]


def test_read_export_names_what_is_missing(backtest_result, tmp_path):
    with pytest.raises(DataValidationError, match="holds no manifest.json"):
        read_export(tmp_path)
    out = export(backtest_result, tmp_path / "x", formats=("csv",))
    (out / "trades.csv").unlink()
    with pytest.raises(DataValidationError, match=r"lists frame 'trades' but .*trades\.csv' is missing"):
        read_export(out)
    with pytest.raises(InvalidParameterError, match=r"`format` must be one this export holds \(csv\); got 'json'"):
        read_export(out, format="json")


def test_the_json_layout_is_documented_columns(backtest_result, tmp_path):
    out = export(backtest_result, tmp_path / "x", formats=("json",))
    body = json.loads((out / "equity.json").read_text())
    assert (body["format"], body["version"], body["name"]) == ("workbench-frame", 1, "equity")
    assert body["schema"]["ts"] == "Datetime[us, UTC]"
    first = backtest_result.equity["ts"][0]
    assert body["columns"]["ts"][0] == int(pl.Series([first]).dt.epoch("us")[0])


def _finished_batch(url: str) -> str:
    """A batch of three notebook jobs as the runner leaves them (two succeeded with values, one failed)."""
    from workbench.jobs import _table

    engine = _table.engine_for(url)
    _table.insert_batch(engine, {"id": "bt1", "name": "sma grid", "notebook": "/n.ipynb", "kernel_name": "workbench",
                                 "output_dir": "/tmp/out", "options": {"parameters": ["fast"]}},
                        [{"fast": f} for f in (5, 10, 20)])
    for job, sharpe in zip(_table.claim(engine, "bt1", 3), (0.8, 1.1, None), strict=True):
        _table.start(engine, job["id"], job["claim"], worker="w", workdir="/tmp")
        if sharpe is None:
            _table.finish(engine, job["id"], job["claim"], "failed", error="ZeroDivisionError")
        else:
            _table.finish(engine, job["id"], job["claim"], "succeeded", values={"sharpe": sharpe})
    return "bt1"


def test_a_batch_reports_and_exports_its_results(store_url, tmp_path):
    from workbench.jobs import batch

    url = store_url
    with Store(url, artifacts_dir=tmp_path / "art") as store:
        batch_id = _finished_batch(url)
        handle = batch(batch_id, url=url)
        page = handle.report(tmp_path / "b.html").read_text()
        assert "Results" in page and "sma grid" in page and "ZeroDivisionError" in page
        assert 'data-key="jobs.succeeded" data-role="batch" data-fmt="int" data-value="2"' in page
        assert 'data-key="jobs.failed" data-role="batch" data-fmt="int" data-value="1"' in page
        back = read_export(handle.export(tmp_path / "x"), format="json")
        assert_frame_equal(back["results"], handle.results(), check_exact=True)
        assert report_run(batch_id, tmp_path / "b2.html", store=store).read_text().count("ZeroDivisionError") == 1


def test_a_stored_sweep_reports_its_search(goog, tmp_path):
    from workbench.optimize import grid

    with Store(f"sqlite:///{tmp_path / 'db.sqlite'}", artifacts_dir=tmp_path / "art") as store:
        res = grid(goog, SmaCross, fast=[5, 10, 20], slow=[30, 50], direction="long", store=store)
        page = report_run(res.run_id, tmp_path / "s.html", store=store).read_text()
        for title in ("Overfitting statistics", "Parameter heatmap", "Optimization history", "Trials"):
            assert title in page
        assert f'data-key="overfit.dsr" data-role="overfit" data-fmt="num" data-value="{res.overfit.dsr!r}"' in page
        back = read_export(export_run(res.run_id, tmp_path / "x", store=store), format="csv")
        assert_frame_equal(back["trials"], store.trials(res.run_id), check_exact=True)
