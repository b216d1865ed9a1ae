"""Compile part of the engine in a second process while the first compiles the rest.

Numba compiles one function at a time, in one thread. The first backtest on an empty kernel
cache compiles the signal loop and everything it calls (depth first): about eight seconds on one
core while the other core idles. When :func:`start` sees that the signal loop is not cached
yet, it starts ``python -m workbench.nb.warm``, which compiles the kernels the first process
will need last (:data:`TASKS`: the ones at the end of its depth-first order) into the same
cache, then the statistics kernel (:data:`STATS`), which the first process does not wait for
(:func:`workbench.metrics.compute_stats` uses the NumPy definitions until the kernel is
cached). When the first process reaches one of them it loads it from the cache instead of
compiling it. Nothing depends on the second process: if it is late, fails or is switched off
(``WORKBENCH_PARALLEL_COMPILE=0``), the first process compiles the kernel itself, and the
results are the same either way.

One second process works on a cache at a time: it holds ``warm.lock`` in the cache directory
while it compiles (refreshed after each kernel; a lock untouched for :data:`STALE_S` seconds is
left over from a process that died), and :func:`start` starts none while the lock is held.

The signatures are built from the same setup the engine uses (:func:`signatures`); a test checks
that they are the ones a backtest compiles.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["TASKS", "STATS", "LOCK", "signatures", "is_cold", "start", "main"]

TASKS = (
    ("workbench.nb.execution", "check_stops_nb"),
    ("workbench.nb.simulate", "entry_intent_nb"),
    ("workbench.nb.simulate", "read_intent_nb"),
    ("workbench.nb.simulate", "mark_open_trades_nb"),
)
"""The kernels compiled by the second process, in its order: those the first process reaches
latest in its depth-first compilation of :func:`~workbench.nb.simulate.signal_bars_nb`."""

STATS = ("workbench.nb.stats_nb", "stats_nb")
"""The statistics kernel (:func:`workbench.nb.stats_nb.stats_nb`), compiled after :data:`TASKS`."""

LOCK = "warm.lock"
"""The file in the cache directory a second process holds while it compiles."""

STALE_S = 120.0
"""Seconds after which a second process's lock is taken for left over (the process died)."""

_checked: set[Any] = set()  # the kernels start() has looked at in this process
_started: set[str] = set()  # the kernels a second process started from here compiles


def signatures() -> dict[str, tuple[Any, ...]]:
    """The argument types each kernel of :data:`TASKS` is compiled for by a backtest."""
    import numba
    import numpy as np
    from numba import types

    from workbench.backtesting.config import BacktestConfig
    from workbench.nb import simulate as sim
    from workbench.nb.enums import order_dt, trade_dt

    cfg = BacktestConfig().record()
    state, intent, cash, counts, *_ = sim.setup(cfg, 2, 1)
    orders, trades = np.empty(1, dtype=order_dt), np.empty(1, dtype=trade_dt)
    t, i64, f64 = numba.typeof, types.int64, types.float64
    value = t(np.full((1, 1), np.nan))  # sizes, prices, stops, weights: 2-D float64 (broadcast)
    floats, ints, flags = t(np.empty(1)), t(np.empty(1, dtype=np.int64)), t(np.empty(1, dtype=np.bool_))
    return {
        "check_stops_nb": (t(cfg), t(state), t(cash), t(orders), t(trades), t(counts), i64, i64, f64, f64, f64),
        "entry_intent_nb": (t(intent), i64, i64, *(value,) * 7),
        "read_intent_nb": (t(cfg), t(state), t(cash), t(orders), t(counts), t(intent), i64, i64),
        "mark_open_trades_nb": (t(state), t(trades), i64),
        # equity, init_cash, periods_per_year, risk_free, years, bench, held, pnl, ret, entry_bar,
        # exit_bar, is_open, out (workbench.metrics.stats passes writable C-contiguous arrays)
        "stats_nb": (floats, f64, f64, f64, f64, floats, flags, floats, floats, ints, ints, flags, floats),
    }


def _kernel(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


def is_cold(kernel: Any) -> bool:
    """Whether ``kernel`` (a Numba dispatcher with ``cache=True``) has no cache index yet."""
    try:
        return not os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:  # another Numba's internals: do not guess
        return False


def start(kernel: Any, tasks: tuple[tuple[str, str], ...] = (*TASKS, STATS), *,
          popen: Callable[..., Any] = subprocess.Popen) -> bool:
    """Start a second process compiling ``tasks`` (those no second process from here compiles
    yet) when ``kernel`` is not cached; ``kernel`` is looked at once per process. True if started."""
    if kernel in _checked:
        return False
    _checked.add(kernel)
    todo = [task for task in tasks if task[1] not in _started]
    if not todo or os.environ.get("WORKBENCH_PARALLEL_COMPILE", "1") == "0" or not is_cold(kernel) or _held():
        return False
    try:
        popen([sys.executable, "-m", "workbench.nb.warm", *(task[1] for task in todo)], stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    except OSError:  # no process can be started here: the first process compiles everything
        return False
    _started.update(task[1] for task in todo)
    return True


def _lock_path() -> str:
    from workbench._paths import numba_cache_dir

    return str(numba_cache_dir() / LOCK)


def _held() -> bool:
    """Whether a live second process holds the cache's lock."""
    try:
        return time.time() - os.path.getmtime(_lock_path()) < STALE_S
    except OSError:
        return False


def _take() -> bool:
    """Take the cache's lock (True), or find it held by a live second process (False)."""
    path = _lock_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if _held():
        return False
    with contextlib.suppress(OSError):
        os.remove(path)  # left over
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:  # another second process took it first
        return False
    return True


def main(names: list[str]) -> None:
    """Compile the named kernels of :data:`TASKS` and :data:`STATS` into the cache, in order
    (the second process), unless another second process is at work on the cache."""
    if not _take():
        return
    try:
        sigs = signatures()
        where = dict((name, module) for module, name in (*TASKS, STATS))
        for name in names:
            _kernel(where[name], name).compile(sigs[name])
            os.utime(_lock_path())  # still at work
    finally:
        with contextlib.suppress(OSError):
            os.remove(_lock_path())


if __name__ == "__main__":
    main(sys.argv[1:])
