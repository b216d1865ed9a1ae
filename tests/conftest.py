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


@pytest.fixture(scope="session")
def backtesting_py_goog():
    """backtesting.py's quick-start example, run by backtesting.py: ``SmaCross(10, 20)`` on its GOOG
    data, cash 10,000, commission 0.2%, exclusive orders. Returns ``(stats, GOOG)``.

    The peer oracle of :mod:`workbench.examples` (tests/backtesting/test_oracle_backtesting_py.py
    compares them figure by figure); a test-only dependency in the [dev] extra, so a missing one
    fails here rather than skipping.
    """
    import warnings

    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import GOOG, SMA

    class SmaCrossBt(Strategy):
        n1, n2 = 10, 20

        def init(self):
            self.sma1 = self.I(SMA, self.data.Close, self.n1)
            self.sma2 = self.I(SMA, self.data.Close, self.n2)

        def next(self):
            if crossover(self.sma1, self.sma2):
                self.position.close()
                self.buy()
            elif crossover(self.sma2, self.sma1):
                self.position.close()
                self.sell()

    with warnings.catch_warnings():  # "Some trades remain open at the end of backtest"
        warnings.filterwarnings("ignore", message="Some trades remain open", category=UserWarning)
        stats = Backtest(GOOG, SmaCrossBt, cash=10_000, commission=0.002, exclusive_orders=True).run()
    return stats, GOOG


@pytest.fixture(scope="session", autouse=True)
def _workbench_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Point ``WORKBENCH_HOME`` at a fresh temporary directory for the whole session."""
    home = tmp_path_factory.mktemp("workbench-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_HOME", str(home))
        yield str(home)
