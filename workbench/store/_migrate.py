"""Apply the store's Alembic migrations programmatically (no ``alembic.ini`` needed).

The migration scripts ship inside the package (``workbench/store/migrations``). Opening a store
brings its schema to the newest revision this version knows, inside one transaction that holds
the database's write lock (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so processes
opening the same new store at once do not race. A database stamped with a revision this version
does not know was written by a newer Quant Workbench and is refused.

For developers, :func:`alembic_config` also drives the Alembic commands, e.g. a new migration::

    from alembic import command
    from workbench.store._migrate import alembic_config
    command.revision(alembic_config("sqlite:////tmp/dev.db"), message="add jobs",
                     autogenerate=True, rev_id="0002")
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from workbench.errors import SchemaVersionError
from workbench.store._engine import masked_url, write_transaction

__all__ = ["MIGRATIONS_DIR", "alembic_config", "head_revision", "current_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x5142_5354  # "QBST": one advisory lock id for store migrations


def alembic_config(url: str | None = None, connection: sa.Connection | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations (and ``url`` or ``connection``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest schema revision this version of Quant Workbench knows."""
    heads = _script().get_heads()
    return heads[0] if len(heads) == 1 else ",".join(sorted(heads))


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the database is stamped with (``None`` for an empty database)."""
    heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) if heads else None


def _check_known(conn: sa.Connection, script: ScriptDirectory) -> str | None:
    current = MigrationContext.configure(conn).get_current_heads()
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = [rev for rev in current if rev not in known]
    if unknown:
        found = ",".join(sorted(unknown))
        raise SchemaVersionError(
            f"The store at {masked_url(conn.engine.url)} has schema revision '{found}', which is "
            f"newer than this version of Quant Workbench knows (newest: '{head_revision()}'). "
            f"Upgrade quant-workbench: pip install -U quant-workbench"
        )
    return ",".join(sorted(current)) if current else None


def upgrade(engine: sa.Engine) -> str:
    """Bring the database to the newest revision (a no-op at head); return that revision.

    Raises
    ------
    SchemaVersionError
        The database was stamped by a newer version of Quant Workbench.
    """
    script = _script()
    head = head_revision()
    with engine.connect() as conn:  # cheap read-only check first: the usual case is "at head"
        with conn.begin():
            if _check_known(conn, script) == head:
                return head
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        if _check_known(conn, script) != head:  # another process may have migrated meanwhile
            command.upgrade(alembic_config(connection=conn), "heads")
    return head
