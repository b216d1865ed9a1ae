"""Where Quant Workbench keeps its files: the store, artifacts and the Numba cache.

``WORKBENCH_HOME`` (default ``~/.workbench``) holds everything; ``WORKBENCH_DB_URL`` points the
store at any SQLAlchemy URL instead of the SQLite file; ``NUMBA_CACHE_DIR`` defaults to
``$WORKBENCH_HOME/numba-cache`` so compiled kernels persist across processes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["workbench_home", "numba_cache_dir", "configure_numba_cache"]


def workbench_home() -> Path:
    """The workbench's home directory (``$WORKBENCH_HOME`` or ``~/.workbench``), created if missing."""
    home = Path(os.environ.get("WORKBENCH_HOME") or Path.home() / ".workbench").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def numba_cache_dir() -> Path:
    """The Numba cache directory: ``$NUMBA_CACHE_DIR`` or ``$WORKBENCH_HOME/numba-cache``."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    return workbench_home() / "numba-cache"


def configure_numba_cache() -> Path:
    """Point Numba's on-disk cache at a writable directory before Numba is imported."""
    path = numba_cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError:  # read-only home: fall back to a per-user temp directory
        import tempfile

        path = Path(tempfile.gettempdir()) / f"workbench-numba-cache-{os.getuid()}"
        path.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    config = sys.modules.get("numba.core.config")
    if config is not None:  # Numba was imported first and has read its environment already
        config.CACHE_DIR = str(path)
    return path
