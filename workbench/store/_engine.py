"""Engines for the store: URL resolution, SQLite pragmas and write transactions.

SQLite connections run in WAL mode with a busy timeout and foreign keys on, set on every new
connection by an event listener. The driver's own transaction handling is switched off and
SQLAlchemy emits ``BEGIN`` itself, so DDL is transactional (migrations are all-or-nothing) and
writers take the write lock up front (``BEGIN IMMEDIATE``): a writer then waits for the busy
timeout instead of failing with "database is locked" when another process committed first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from workbench._paths import workbench_home
from workbench.errors import InvalidParameterError, StoreError
from workbench.store._codec import canonical_json

__all__ = ["BUSY_TIMEOUT_S", "resolve_url", "create_engine", "write_transaction", "masked_url"]

BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for another writer's lock before giving up."""

_WRITE = "workbench_write"


def resolve_url(url: str | None) -> str:
    """``url``, else ``$WORKBENCH_DB_URL``, else the SQLite file ``$WORKBENCH_HOME/workbench.db``."""
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            raise InvalidParameterError(
                f"`url` must be a SQLAlchemy database URL such as 'sqlite:///path/workbench.db' or "
                f"'postgresql+psycopg://user:password@host/db'; got {url!r}."
            )
        return url.strip()
    env = os.environ.get("WORKBENCH_DB_URL", "").strip()
    if env:
        return env
    return f"sqlite:///{workbench_home() / 'workbench.db'}"


def masked_url(url: sa.URL) -> str:
    """The URL as text with its password replaced by ``***``."""
    return url.render_as_string(hide_password=True)


def _is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with the store's settings (SQLite pragmas, canonical JSON)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidParameterError(
            f"`url` is not a valid SQLAlchemy URL; got {url!r}. Use e.g. "
            f"'sqlite:///path/workbench.db' or 'postgresql+psycopg://user:password@host/db'."
        ) from exc
    kwargs: dict[str, Any] = {"json_serializer": canonical_json}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
        if _is_memory_sqlite(parsed):
            kwargs["poolclass"] = StaticPool
        elif parsed.database:
            folder = os.path.dirname(os.path.abspath(parsed.database))
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"Could not open the store at {masked_url(parsed)}: cannot create the folder "
                    f"{folder!r} ({exc}). Pass a writable path or set WORKBENCH_HOME."
                ) from exc
    else:
        kwargs["pool_pre_ping"] = True
        if backend == "postgresql" and parsed.get_driver_name() == "psycopg":
            from workbench._extras import require

            require("postgres")
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        hint = " Install it with: pip install 'quant-workbench[postgres]'." if backend == "postgresql" else ""
        raise StoreError(
            f"Cannot open the store at {masked_url(parsed)}: the database driver is missing ({exc}).{hint}"
        ) from exc
    if backend == "sqlite":
        _install_sqlite_listeners(engine, memory=_is_memory_sqlite(parsed))
    return engine


def _install_sqlite_listeners(engine: sa.Engine, *, memory: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside one write transaction, committed on success, rolled back on error.

    On SQLite the transaction takes the write lock when it begins (``BEGIN IMMEDIATE``).
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn
