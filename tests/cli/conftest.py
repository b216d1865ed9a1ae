"""Shared set-up of the command-line tests: a fresh WORKBENCH_HOME per test and a runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from workbench.cli import app

WIDE = {"COLUMNS": "300"}  # no wrapping of help text and tables

Invoke = Callable[..., Result]


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**WIDE, **(env or {})})


@pytest.fixture
def cli() -> Invoke:
    """``cli("data", "list")`` runs ``workbench data list`` in-process and returns the result."""
    return _invoke


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty WORKBENCH_HOME (the store and artifacts go there)."""
    path = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(path))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    yield path


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    """Bars whose third row (row 2) has high < low."""
    path = tmp_path / "bad.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Volume\n"
        "2024-01-02,10,11,9,10.5,100\n"
        "2024-01-03,10.5,11.5,10,11,120\n"
        "2024-01-04,11,10,12,11.5,90\n"
    )
    return path
