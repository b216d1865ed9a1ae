"""Alembic environment of the store's migrations.

The store runs it programmatically (:func:`workbench.store._migrate.upgrade`) with an open
connection in ``config.attributes["connection"]``; developers can run it through
:func:`workbench.store._migrate.alembic_config` with a URL. Migrations use plain SQLAlchemy
types (``UTCDateTime`` is rendered as ``sa.DateTime(timezone=True)``) so old revisions never
depend on today's model code. SQLite uses batch mode, since it cannot ``ALTER`` most things.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import workbench.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

__all__: list[str] = []


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    from workbench.store.models import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=SQLModel.metadata,
        render_item=_render_item,
        compare_type=True,
        **kwargs,
    )


def _run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, render_as_batch=str(url).startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    from workbench.store._engine import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set `sqlalchemy.url` (see workbench.store._migrate.alembic_config)")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run_with(conn)
    finally:
        engine.dispose()


def _run_with(connection: sa.Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


# Importing this file outside an Alembic run (pytest's --doctest-modules does) must do nothing.
if hasattr(context, "config"):
    if context.is_offline_mode():
        _run_offline()
    else:
        _run_online()
