"""What this installation has and lacks: ``workbench doctor``.

:func:`diagnose` looks, without importing any optional package, at the extras and their versions,
the system programs the workbench can use (headless Chromium, a PostgreSQL server), the Numba
kernel cache and the store's URL, and says for each missing piece what it would enable and how to
get it.
"""

from __future__ import annotations

import glob
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from workbench._extras import DIST_NAME, EXTRAS, status

__all__ = ["Finding", "diagnose", "CORE_PACKAGES"]

#: the core's distributions whose versions a bug report wants
CORE_PACKAGES = ("numpy", "numba", "polars", "scipy", "optuna", "cvxpy-base", "clarabel", "sqlalchemy")

_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis.

    Attributes
    ----------
    section
        ``"core"``, ``"extra"``, ``"system"`` or ``"files"``.
    name
        What was looked at (``"dashboards"``, ``"chromium"``, ``"store"``…).
    ok
        Whether it is present and usable.
    detail
        What was found: versions, a path, a size; for a missing piece, what is missing.
    enables
        What it gives (a missing piece: what installing it would enable) and how to get it.
    """

    section: str
    name: str
    ok: bool
    detail: str
    enables: str = ""


def _core() -> list[Finding]:
    found = []
    for dist in CORE_PACKAGES:
        try:
            found.append(Finding("core", dist, True, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            found.append(Finding("core", dist, False, "not installed",
                                 f"the core needs it: pip install '{DIST_NAME}'"))
    return found


def _extras() -> list[Finding]:
    found = []
    for extra, (enables, _) in EXTRAS.items():
        checks = status(extra)
        ok = all(s.ok for s in checks)
        parts = [f"{s.package.dist} {s.version}" if s.ok else s.problem() for s in checks]
        how = "" if ok else f" — pip install '{DIST_NAME}[{extra}]'"
        found.append(Finding("extra", extra, ok, ", ".join(parts), enables + how))
    return found


def _version_of(program: str) -> str:
    try:
        done = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else ""


def chromium_path() -> str | None:
    """The first Chromium or Chrome executable on ``PATH`` (or ``/usr/bin/chromium``), else None."""
    for name in _CHROMIUM:
        where = shutil.which(name)
        if where:
            return where
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def postgres_bin() -> str | None:
    """The directory of a PostgreSQL server's programs (``initdb``, ``postgres``), else None."""
    initdb = shutil.which("initdb")
    if initdb:
        return str(Path(initdb).parent)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
                   if Path(p).parts[4].isdigit() else 0)
    return str(Path(found[-1]).parent) if found else None


def _system() -> list[Finding]:
    chromium = chromium_path()
    pg = postgres_bin()
    browser = "headless browser checks of the dashboards (their tests, page screenshots)"
    server = "a local PostgreSQL server for the store (WORKBENCH_DB_URL) and the PostgreSQL tests"
    return [
        Finding("system", "chromium", chromium is not None,
                f"{chromium} ({_version_of(chromium) or 'version unknown'})" if chromium else "not found",
                browser + ("" if chromium else " — apt-get install chromium (make test does it as root)")),
        Finding("system", "postgresql", pg is not None,
                f"{pg} ({_version_of(str(Path(pg) / 'postgres')) or 'version unknown'})" if pg else "not found",
                server + ("" if pg else " — apt-get install postgresql (make test does it as root)")),
    ]


def _size_mb(path: Path) -> tuple[int, float]:
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
    return len(files), sum(p.stat().st_size for p in files) / 1e6


def _files() -> list[Finding]:
    import sqlalchemy as sa

    from workbench._paths import numba_cache_dir
    from workbench.store._engine import masked_url, resolve_url

    cache = numba_cache_dir()
    n, mb = _size_mb(cache)
    url = sa.make_url(resolve_url(None))
    store_detail = masked_url(url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        exists = Path(url.database).exists()
        store_detail += f" ({'exists' if exists else 'created on first use'})"
    return [
        Finding("files", "numba cache", n > 0, f"{cache}: {n} files, {mb:.1f} MB",
                "compiled engine kernels reused across processes (a warm start)"
                + ("" if n else "; filled by the first backtest or `workbench demo`")),
        Finding("files", "store", True, store_detail,
                "every run, dataset and study; set WORKBENCH_DB_URL for another database"),
    ]


def diagnose() -> list[Finding]:
    """Everything ``workbench doctor`` reports, in order: core, extras, system programs, files.

    Examples
    --------
    >>> findings = diagnose()
    >>> [f.name for f in findings if f.section == "extra"][:3]
    ['notebooks', 'dashboards', 'batch']
    >>> next(f for f in findings if f.name == "numba").ok
    True
    """
    from workbench import __version__

    return [
        Finding("core", DIST_NAME, True, f"{__version__} ({Path(__file__).parent})"),
        Finding("core", "python", True, f"{platform.python_version()} ({sys.executable})"),
        *_core(), *_extras(), *_system(), *_files(),
    ]
