"""Opening a store migrates it; re-opening and upgrading are no-ops; newer schemas are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from workbench.errors import InvalidParameterError, SchemaVersionError, StoreError
from workbench.store import Store
from workbench.store._migrate import MIGRATIONS_DIR, head_revision

STORE_TABLES = {"datasets", "runs", "trials", "batches", "jobs", "ml_models", "ml_aliases", "ml_promotions",
                "ml_ab_records"}
# Every revision shipped, in order; a new migration appends to this list.
REVISIONS = ["0001", "0002", "0003", "0004", "0005"]


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_head_is_the_last_revision_shipped_in_the_package():
    assert head_revision() == REVISIONS[-1]
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    shipped = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("0*.py"))
    assert shipped == REVISIONS


def test_revisions_form_one_linear_chain():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert chain == REVISIONS
    assert script.get_heads() == [REVISIONS[-1]]


def test_opening_an_empty_database_applies_the_migrations(store_url: str, tmp_path: Path):
    assert _tables(store_url) == set()
    with Store(store_url, artifacts_dir=tmp_path) as store:
        assert store.revision == head_revision()
    assert _tables(store_url) == STORE_TABLES | {"alembic_version"}


def test_reopening_and_upgrade_are_idempotent_and_keep_data(store_url: str, tmp_path: Path):
    with Store(store_url, artifacts_dir=tmp_path) as store:
        store.save_run("r1", kind="backtest", spec={"a": 1})
    for _ in range(2):
        with Store(store_url, artifacts_dir=tmp_path) as store:
            assert store.upgrade() == head_revision()
            assert store.revision == head_revision()
            assert store.runs()["id"].to_list() == ["r1"]
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert versions == [head_revision()]


def test_default_store_upgrade_is_a_noop_at_head(_isolated_home: Path):
    with Store() as store:
        assert store.upgrade() == head_revision()
        before = store.revision
        assert store.upgrade() == head_revision()
        assert store.revision == before == head_revision()
    assert (_isolated_home / "workbench.db").is_file()


def test_newer_schema_revision_is_refused_with_the_fix(store_url: str, tmp_path: Path):
    Store(store_url, artifacts_dir=tmp_path).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError) as info:
        Store(store_url, artifacts_dir=tmp_path)
    message = str(info.value)
    assert "'f00dfeed9999'" in message
    assert f"'{head_revision()}'" in message
    assert "pip install -U quant-workbench" in message
    assert isinstance(info.value, StoreError)


def test_models_agree_with_the_migrations(store_url: str, tmp_path: Path):
    """The SQLModel classes describe exactly the schema the migrations build."""
    Store(store_url, artifacts_dir=tmp_path).close()
    ours = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        if table.name in STORE_TABLES:
            table.to_metadata(ours)
    assert set(ours.tables) == STORE_TABLES

    def include_name(name, type_, parent_names) -> bool:
        return name in STORE_TABLES if type_ == "table" else True

    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), ours)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(store: Store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_url_resolution_prefers_argument_then_env_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_home: Path
):
    with Store() as store:
        assert store.url == f"sqlite:///{_isolated_home / 'workbench.db'}"
        assert store.artifacts_dir == _isolated_home / "artifacts"
    env_db = tmp_path / "from-env.db"
    monkeypatch.setenv("WORKBENCH_DB_URL", f"sqlite:///{env_db}")
    with Store() as store:
        assert store.url == f"sqlite:///{env_db}"
    explicit = tmp_path / "explicit.db"
    with Store(f"sqlite:///{explicit}") as store:
        assert store.url == f"sqlite:///{explicit}"
    assert env_db.is_file() and explicit.is_file()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.postgres
@pytest.mark.xdist_group("postgres")
def test_password_is_masked_in_url_and_repr(backend: str, postgres_server, tmp_path: Path):
    # the test server trusts local connections, so any password opens it
    with postgres_server.database() as name:
        with Store(postgres_server.url(name, password="s3cret-pw"), artifacts_dir=tmp_path) as store:
            assert "s3cret-pw" not in store.url
            assert "s3cret-pw" not in repr(store)
            assert "***" in store.url


def test_unreachable_database_is_a_store_error(tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Could not open the store at sqlite:///"):
        Store(f"sqlite:///{blocker}/sub/workbench.db")


def test_closed_store_says_so(store: Store):
    store.close()
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.runs()


def test_bad_urls_and_missing_drivers_are_explained():
    with pytest.raises(InvalidParameterError, match="`url` is not a valid SQLAlchemy URL"):
        Store("not a url")
    with pytest.raises(InvalidParameterError, match="`url` must be a SQLAlchemy database URL"):
        Store("  ")
    with pytest.raises(StoreError, match="driver is missing") as info:
        Store("postgresql+nosuchdriver://user:hunter2@localhost/db")
    assert "hunter2" not in str(info.value)
