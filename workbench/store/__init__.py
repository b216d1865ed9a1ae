"""The store: the system of record of datasets and runs.

SQLModel tables with Alembic migrations (applied when a store opens), SQLite in WAL mode under
``$WORKBENCH_HOME`` by default or any SQLAlchemy URL (``$WORKBENCH_DB_URL``, e.g. PostgreSQL),
and Parquet artifacts beside it. Every read returns a frozen record or a polars DataFrame.

>>> import tempfile
>>> from workbench.store import Store
>>> with Store("sqlite://", artifacts_dir=tempfile.mkdtemp()) as store:
...     _ = store.save_run("a1b2c3", kind="backtest", spec={"window": 20}, metrics={"sharpe": 0.8})
...     store.runs().select("id", "status", "sharpe").rows()
[('a1b2c3', 'succeeded', 0.8)]
"""

from __future__ import annotations

from workbench.store.records import DatasetRecord, RunRecord
from workbench.store.store import Store

__all__ = ["Store", "DatasetRecord", "RunRecord"]
