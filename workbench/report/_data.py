"""What a report shows, read from a result (or a stored run): never a second computation.

:class:`Track` is one account's track record with the figures of ``result.stats`` as they are,
the tearsheet figures of :mod:`workbench.metrics.tearsheet`, and the same figures of its
benchmark (buy and hold unless the result names another), each from the one definition in
:mod:`workbench.metrics`. :class:`ReportData` adds the header, the sections of its kind and the
frames an export writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import polars as pl

from workbench.metrics import Stats, compute_stats
from workbench.metrics.tearsheet import TearsheetStats, tearsheet_stats

__all__ = ["Figure", "Track", "ReportData", "figures_of", "track"]


@dataclass(frozen=True)
class Figure:
    """One row of the key-metrics table: the value shown and where it comes from."""

    key: str
    group: str
    label: str
    fmt: str
    value: Any
    benchmark: Any = None
    source: str = "stats"  # "stats": result.stats; "tearsheet": workbench.metrics.tearsheet


@dataclass(frozen=True)
class Track:
    """One account's track record as a report reads it."""

    ts: pl.Series
    returns: np.ndarray
    equity: np.ndarray
    init_cash: float
    periods_per_year: float
    risk_free: float
    stats: dict[str, Any]
    tearsheet: TearsheetStats
    benchmark: np.ndarray | None = None
    benchmark_name: str = "buy and hold"
    benchmark_stats: dict[str, Any] | None = None
    benchmark_tearsheet: TearsheetStats | None = None
    trades: pl.DataFrame | None = None

    @property
    def seconds(self) -> np.ndarray:
        """The bars' times in epoch seconds (chart coordinates)."""
        return self.ts.dt.epoch("us").to_numpy().astype(np.float64) / 1e6


def _none_to_nan(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (float("nan") if v is None else v) for k, v in stats.items()}


def track(ts: pl.Series, equity: np.ndarray, *, stats: Stats | dict[str, Any], init_cash: float,
          periods_per_year: float, risk_free: float = 0.0, benchmark: np.ndarray | None = None,
          benchmark_name: str = "buy and hold", trades: pl.DataFrame | None = None) -> Track:
    """The :class:`Track` of an equity curve whose figures are ``stats`` (the result's own)."""
    from workbench.metrics import simple_returns

    eq = np.ascontiguousarray(equity, dtype=np.float64)
    r = simple_returns(eq, init_cash=init_cash)
    kw = {"init_cash": init_cash, "periods_per_year": periods_per_year, "risk_free": risk_free}
    tear = tearsheet_stats(r, ts, equity=eq, benchmark=benchmark, **kw)
    b_stats = b_tear = None
    if benchmark is not None:
        b_eq = init_cash * np.cumprod(1.0 + np.asarray(benchmark, dtype=np.float64))
        b_stats = compute_stats(b_eq, benchmark=benchmark, **kw).to_dict()
        b_tear = tearsheet_stats(benchmark, ts, equity=b_eq, benchmark=benchmark, **kw)
    s = stats.to_dict() if isinstance(stats, Stats) else _none_to_nan(dict(stats))
    return Track(ts.alias("ts"), r, eq, float(init_cash), float(periods_per_year), float(risk_free), s, tear,
                 None if benchmark is None else np.asarray(benchmark, dtype=np.float64), benchmark_name,
                 b_stats, b_tear, trades)


_NO_BENCHMARK_GROUPS = ("Trades (closed)", "Costs", "Overview")


def figures_of(t: Track) -> list[Figure]:
    """Every figure of ``t.stats`` (in :class:`Stats` order) with the tearsheet's after those of
    the same group."""
    out: list[Figure] = []
    for f in fields(Stats):
        if f.name not in t.stats:
            continue
        group = f.metadata["group"]
        bench = None
        if t.benchmark_stats is not None and group not in _NO_BENCHMARK_GROUPS and f.name not in ("benchmark_return", "exposure"):
            bench = t.benchmark_stats[f.name]
        out.append(Figure(f.name, group, f.metadata["label"], f.metadata["fmt"], t.stats[f.name], bench))
    tear = t.tearsheet.to_dict()
    btear = t.benchmark_tearsheet.to_dict() if t.benchmark_tearsheet is not None else None
    for f in fields(TearsheetStats):
        bench = None if btear is None or f.name == "correlation" else btear[f.name]
        out.append(Figure(f.name, f.metadata["group"], f.metadata["label"], f.metadata["fmt"], tear[f.name], bench,
                          source="tearsheet"))
    order = {g: i for i, g in enumerate(dict.fromkeys(f.group for f in out))}
    return sorted(out, key=lambda f: order[f.group])  # stable: each group keeps its own order


@dataclass(frozen=True)
class Section:
    """A titled block of a report: ready HTML (charts and tables)."""

    title: str
    html: str


@dataclass(frozen=True)
class ReportData:
    """Everything one report or export of a run shows.

    ``frames`` are the tables an export writes (``equity``, ``returns``, ``orders``, ``trades``,
    ``positions``, ``weights``... as the result holds them); ``stats`` the figures by name.
    """

    kind: str
    title: str
    run_id: str
    header: list[tuple[str, str]]
    track: Track | None
    sections: list[Section] = field(default_factory=list)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def finite_or_none(value: Any) -> Any:
    """``value`` with NaN/inf as None (for JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
