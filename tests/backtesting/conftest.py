"""Shared helpers of the engine tests: tiny hand-made bar sets, a strategy that replays given
signals, and the plain reference simulator (``reference.py``), all handed out as one
session-scoped ``kit`` namespace (test modules cannot import each other under
``--import-mode=importlib``).
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl
import pytest

from workbench.strategies import Signals, Strategy

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
_BOOL = ("entries", "exits", "short_entries", "short_exits")


def make_bars(rows: Any, *, symbol: str | None = None, start: datetime = START) -> pl.DataFrame:
    """Daily bars from rows of ``(open, high, low, close)`` (or one price per row: a flat bar)."""
    a = np.asarray(rows, dtype=np.float64)
    if a.ndim == 1:
        a = np.repeat(a[:, None], 4, axis=1)
    n = a.shape[0]
    frame = pl.DataFrame({
        "ts": pl.Series([start + timedelta(days=i) for i in range(n)]).cast(pl.Datetime("us", "UTC")),
        "open": a[:, 0], "high": a[:, 1], "low": a[:, 2], "close": a[:, 3], "volume": np.full(n, 1_000.0),
    })
    if symbol is not None:
        frame = frame.with_columns(pl.lit(symbol).alias("symbol"))
    return frame


def at(n: int, *bars: int) -> np.ndarray:
    """A boolean signal of ``n`` bars, True at ``bars``."""
    out = np.zeros(n, dtype=np.bool_)
    out[list(bars)] = True
    return out


def levels(n: int, values: dict[int, float]) -> np.ndarray:
    """A float signal of ``n`` bars, NaN except at the given bars."""
    out = np.full(n, np.nan)
    for i, v in values.items():
        out[i] = v
    return out


class Replay(Strategy):
    """A vectorized strategy that returns the signals it was built with (arrays, scalars, or
    ``{bar: value}`` dicts). It declares no parameters, so its run id ignores the signals."""

    def __init__(self, **signals: Any) -> None:
        object.__setattr__(self, "_given", signals)
        super().__init__()

    def signals(self, bars: Any) -> Signals:
        out: dict[str, Any] = {}
        for name, value in self._given.items():
            if isinstance(value, dict):
                value = at(bars.n_bars, *[i for i, v in value.items() if v]) if name in _BOOL else levels(bars.n_bars, value)
            out[name] = value
        return Signals(**out)


def _load_reference() -> Any:
    path = Path(__file__).with_name("reference.py")
    spec = importlib.util.spec_from_file_location("workbench_tests_backtesting_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """Helpers shared by the engine tests."""
    return SimpleNamespace(make_bars=make_bars, at=at, levels=levels, Replay=Replay, reference=_load_reference())
