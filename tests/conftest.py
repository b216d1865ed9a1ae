"""Session-wide test set-up: every test runs with ``WORKBENCH_HOME`` in a temporary directory, so
the suite never writes a store or artifacts into the user's real home.

``import workbench`` (below, before the switch) points ``NUMBA_CACHE_DIR`` at the usual persistent
cache unless it is already set; the fixture leaves that variable alone, so compiled kernels are
reused across test sessions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import workbench  # noqa: F401  (configures NUMBA_CACHE_DIR before the home is switched)


@pytest.fixture(scope="session", autouse=True)
def _workbench_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point ``WORKBENCH_HOME`` at a fresh temporary directory for the whole session."""
    home = tmp_path_factory.mktemp("workbench-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        yield str(home)
