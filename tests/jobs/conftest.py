"""Fixtures of the batch tests: tiny notebooks, the workbench kernel, and the store backends
(SQLite and a real PostgreSQL server, the fixtures of ``tests/store/conftest.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

_spec = importlib.util.spec_from_file_location("_workbench_store_fixtures", Path(__file__).parents[1] / "store" / "conftest.py")
_store_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _store_fixtures
_spec.loader.exec_module(_store_fixtures)  # type: ignore[union-attr]
postgres_server = _store_fixtures.postgres_server
store_url = _store_fixtures.store_url
backend = _store_fixtures.backend
_isolated_home = _store_fixtures._isolated_home
POSTGRES = _store_fixtures.POSTGRES
BACKENDS = _store_fixtures.BACKENDS

# A notebook small enough for 2 shared cores: a few parameters, a body that records values, can
# fail on request, sleep, or kill its own kernel once (to exercise retries).
BODY = """\
import os, time
from pathlib import Path
import workbench as wb
time.sleep(sleep)
if die_once and not Path(die_once).exists():
    Path(die_once).touch()
    os._exit(1)
if fail:
    raise ValueError(f"boom at x={x}")
wb.record("y", x * 2)
wb.record("label_out", label + "!")
if log:
    with open(log, "a") as fh:
        fh.write(f"{x}\\n")
"""
PARAMS = "x = 1\nlabel = 'a'\nfail = False\nsleep = 0.0\ndie_once = ''\nlog = ''\n"


def write_notebook(path: Path, params: str | None = PARAMS, body: str = BODY, kernel: str = "workbench") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python (Quant Workbench)", "language": "python"}
    cells = []
    if params is not None:
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell(body))
    nb.cells = cells
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def kernel() -> str:
    import workbench.kernel

    workbench.kernel.install(prefix=sys.prefix)
    return workbench.kernel.KERNEL_NAME


@pytest.fixture
def notebook(tmp_path: Path, kernel: str) -> Path:
    return write_notebook(tmp_path / "tiny.ipynb")


def tables_empty(url: str) -> bool:
    """No batch and no job row (or no store at all)."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return True
    engine = sa.create_engine(url)
    try:
        names = set(sa.inspect(engine).get_table_names())
        if "batches" not in names:
            return True
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT (SELECT COUNT(*) FROM batches) + (SELECT COUNT(*) FROM jobs)")).scalar()
        return n == 0
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params: Any) -> list[Any]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()
