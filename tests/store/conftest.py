"""Fixtures of the store tests: every test using ``store_url`` / ``store`` runs on two backends,
SQLite (a temp file) and a real PostgreSQL server started here for the session.

PostgreSQL comes from Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``). As root,
the server runs as the ``postgres`` system user through ``runuser``. Without the binaries the
PostgreSQL tests fail, unless ``WORKBENCH_SKIP_POSTGRES=1`` is set, in which case they skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

POSTGRES = pytest.param(
    "postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("postgres")], id="postgres"
)
BACKENDS = ["sqlite", POSTGRES]


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str = "postgres"

    def url(self, database: str, *, password: str | None = None) -> str:
        auth = self.user if password is None else f"{self.user}:{password}"
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self):  # noqa: ANN201 - a psycopg connection
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A fresh, empty database for one test; dropped afterwards."""
        name = f"wb_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            with self.admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_bindir() -> Path | None:
    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runner(tmp: Path) -> list[str]:
    """The command prefix running PostgreSQL binaries: as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "PostgreSQL refuses to run as root and there is no `postgres` system user. Install "
            "Debian's `postgresql` package (apt-get install postgresql), which creates it."
        )
    for path in [tmp, *tmp.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free 127.0.0.1 port, alive for the test session."""
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("WORKBENCH_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL binaries not found and WORKBENCH_SKIP_POSTGRES=1")
        pytest.fail(
            "The store tests need a PostgreSQL server and found no /usr/lib/postgresql/*/bin/initdb. "
            "Install Debian's `postgresql` package (apt-get install postgresql), or set "
            "WORKBENCH_SKIP_POSTGRES=1 to skip the PostgreSQL tests."
        )
    import psycopg  # noqa: F401  (the [postgres] extra, in [dev]: missing, it fails loudly)
    tmp = Path(tempfile.mkdtemp(prefix="wbpg-"))  # short path: the unix socket lives here
    data, log, port = tmp / "data", tmp / "postgres.log", _free_port()
    prefix = _runner(tmp)
    _run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
          "-E", "UTF8", "--no-sync"], "initdb")
    options = (f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    start = [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
             "-o", options, "start"]
    proc = subprocess.run(start, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed:\n{proc.stdout}\n{proc.stderr}\n{text}")
    try:
        yield PostgresServer(port=port)
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every store test gets its own WORKBENCH_HOME and no WORKBENCH_DB_URL."""
    home = tmp_path / "home"
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    return home


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a fresh, empty database on the test's backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'workbench.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.database() as name:
        yield server.url(name)


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator:
    from workbench.store import Store

    opened = Store(store_url, artifacts_dir=tmp_path / "artifacts")
    try:
        yield opened
    finally:
        opened.close()
