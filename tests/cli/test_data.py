"""``workbench data validate | import | show`` on files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import workbench.data as wd
from workbench.cli._datasets import copy_path
from workbench.store import Store


@pytest.fixture
def goog_csv(tmp_path: Path) -> Path:
    """The first 300 GOOG bars as a CSV with the usual column names."""
    path = tmp_path / "goog300.csv"
    bars = wd.sample("GOOG").head(300)
    bars.select(pl.col("ts").dt.strftime("%Y-%m-%d").alias("Date"), pl.col("open").alias("Open"),
                pl.col("high").alias("High"), pl.col("low").alias("Low"), pl.col("close").alias("Close"),
                pl.col("volume").alias("Volume")).write_csv(path)
    return path


def test_validate_reports_the_facts(cli, home, goog_csv: Path) -> None:
    result = cli("data", "validate", str(goog_csv))
    assert result.exit_code == 0, result.output
    bars = wd.load(goog_csv)
    assert result.stdout.startswith(f"ok: {goog_csv} holds 300 valid bars")
    assert wd.content_hash(bars)[:12] in result.stdout
    assert "frequency 1d (252 bars/year)" in result.stdout


def test_import_registers_the_dataset(cli, home, goog_csv: Path) -> None:
    result = cli("data", "import", str(goog_csv), "--name", "goog300")
    assert result.exit_code == 0, result.output
    expected = wd.load(goog_csv)
    with Store() as store:
        rec = store.dataset("goog300")
    assert rec.source == str(goog_csv.resolve())
    assert rec.content_hash == wd.content_hash(expected)
    assert rec.rows == 300 and rec.symbols == ("goog300",)
    assert rec.start == expected["ts"].min() and rec.end == expected["ts"].max()
    assert rec.frequency == "1d" and rec.periods_per_year == 252.0
    copy = copy_path("goog300")
    assert copy == home / "datasets" / "goog300.parquet"
    assert pl.read_parquet(copy).equals(expected)
    assert "goog300" in cli("data", "list").stdout


def test_import_with_symbol_and_timezone(cli, home, goog_csv: Path) -> None:
    result = cli("data", "import", str(goog_csv), "--name", "g", "--symbol", "GOOG", "--tz", "America/New_York")
    assert result.exit_code == 0, result.output
    expected = wd.load(goog_csv, symbol="GOOG", tz="America/New_York")
    with Store() as store:
        rec = store.dataset("g")
    assert rec.symbols == ("GOOG",) and rec.content_hash == wd.content_hash(expected)
    assert rec.start == expected["ts"].min()


def test_imported_dataset_is_usable_by_name(cli, home, goog_csv: Path) -> None:
    assert cli("data", "import", str(goog_csv), "--name", "goog300").exit_code == 0
    shown = cli("data", "show", "goog300")
    assert shown.exit_code == 0 and "300" in shown.stdout and str(goog_csv.resolve()) in shown.stdout
    run = cli("backtest", "SmaCross", "--data", "goog300", "--fast", "5", "--slow", "30")
    assert run.exit_code == 0, run.output
    assert "on goog300" in run.stdout and "300 bars" in run.stdout


def test_a_changed_dataset_is_refused(cli, home, goog_csv: Path) -> None:
    assert cli("data", "import", str(goog_csv), "--name", "goog300").exit_code == 0
    copy = copy_path("goog300")
    pl.read_parquet(copy).head(200).write_parquet(copy)
    result = cli("backtest", "SmaCross", "--data", "goog300")
    assert result.exit_code == 1
    assert "dataset 'goog300' changed since it was registered" in result.stderr


def test_import_refuses_a_bad_name_and_bad_bars(cli, home, goog_csv: Path, bad_csv: Path) -> None:
    result = cli("data", "import", str(goog_csv), "--name", "../escape")
    assert result.exit_code == 1 and "`--name` must start with a letter or digit" in result.stderr
    result = cli("data", "import", str(bad_csv), "--name", "bad")
    assert result.exit_code == 1 and "`high` is below `low`" in result.stderr
    with Store() as store:
        assert store.datasets().height == 0
    assert not (home / "datasets" / "bad.parquet").exists()


def test_show_a_file_and_a_sample(cli, home, goog_csv: Path) -> None:
    result = cli("data", "show", str(goog_csv), "-n", "1")
    assert result.exit_code == 0, result.output
    assert wd.content_hash(wd.load(goog_csv)) in result.stdout
    result = cli("data", "show", "btcusd")
    assert result.exit_code == 0 and "1mo (12 bars/year)" in result.stdout and "sample:BTCUSD" in result.stdout
