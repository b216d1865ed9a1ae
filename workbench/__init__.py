"""Quant Workbench: data → strategy → backtest → optimize → portfolio → report → dashboard.

>>> import workbench as wb
>>> bars = wb.data.sample("GOOG")
>>> bars.height
2148

Submodules are imported on first use, so ``import workbench`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench._paths import configure_numba_cache
from workbench._version import __version__

configure_numba_cache()  # before anything imports numba

_SUBMODULES = {"data", "store", "metrics", "strategies", "optimize", "portfolio", "nb", "errors", "indicators", "backtesting", "ui", "demo", "kernel", "jobs"}
_ATTRS = {
    "backtest": ("workbench.backtesting", "backtest"),
    "BacktestConfig": ("workbench.backtesting", "BacktestConfig"),
    "BacktestResult": ("workbench.backtesting", "BacktestResult"),
    "Strategy": ("workbench.strategies", "Strategy"),
    "Param": ("workbench.strategies", "Param"),
    "Store": ("workbench.store", "Store"),
    "WorkbenchError": ("workbench.errors", "WorkbenchError"),
    "record": ("workbench.jobs.record", "record"),
}

__all__ = ["__version__", *sorted(_SUBMODULES), *sorted(_ATTRS)]

if TYPE_CHECKING:  # pragma: no cover
    from workbench import data, errors, metrics, optimize, portfolio, store, strategies  # noqa: F401
    from workbench.backtesting import BacktestConfig, BacktestResult, backtest  # noqa: F401
    from workbench.errors import WorkbenchError  # noqa: F401
    from workbench.jobs.record import record  # noqa: F401
    from workbench.store import Store  # noqa: F401
    from workbench.strategies import Param, Strategy  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"workbench.{name}")
    if name in _ATTRS:
        module, attr = _ATTRS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_ATTRS))
