"""Evaluate many parameter sets of one strategy on one dataset.

Two evaluators give the same numbers where both apply:

* :class:`FusedEvaluator` — the crossover built-ins (``SmaCross``, ``EmaCross``) on one asset run
  in the fused parallel kernel :func:`workbench.nb.sweep.cross_sweep_nb` (indicator → signal →
  simulation → metric per set, memory O(bars + sets));
* :class:`EngineEvaluator` — every other strategy, setting or metric: one engine run per set,
  sequentially or in a process pool.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import backtest, prepare_bars, run_signals, source_frame
from workbench.backtesting.result import BacktestResult
from workbench.errors import InvalidParameterError, OptimizationError, StrategyError, did_you_mean
from workbench.metrics import Stats
from workbench.nb import sweep as _sw
from workbench.strategies.base import Bars, Signals, Strategy
from workbench.strategies.builtin import EmaCross, SmaCross

__all__ = [
    "STATS_FIELDS", "Objective", "Dataset", "objective", "dataset", "split_settings",
    "FusedEvaluator", "EngineEvaluator", "evaluator",
]

STATS_FIELDS = tuple(f.name for f in fields(Stats))
_FUSED_KINDS: dict[type, int] = {SmaCross: _sw.MA_SMA, EmaCross: _sw.MA_EMA}
_DIRECTIONS = {"long": 0, "short": 1, "both": 2}
_TABLE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Objective:
    """What a search ranks by: a :class:`~workbench.metrics.Stats` field or a callable of the
    :class:`~workbench.backtesting.BacktestResult`, maximized or minimized."""

    name: str
    fn: Callable[[BacktestResult], float] | None
    goal: str

    @property
    def sign(self) -> float:
        return 1.0 if self.goal == "maximize" else -1.0


def objective(metric: Any, goal: str = "maximize") -> Objective:
    """Validate ``metric`` (a Stats field name, with "did you mean", or a callable)."""
    if goal not in ("maximize", "minimize"):
        raise InvalidParameterError(
            f"`goal` must be one of 'maximize', 'minimize'; got {goal!r}."
            + did_you_mean(str(goal), ["maximize", "minimize"])
        )
    if callable(metric):
        return Objective(getattr(metric, "__name__", "objective"), metric, goal)
    if not isinstance(metric, str) or metric not in STATS_FIELDS:
        raise InvalidParameterError(
            f"`metric` must be a field of workbench.metrics.Stats or a callable(result) -> float; got "
            f"{metric!r}.{did_you_mean(str(metric), STATS_FIELDS)} Fields: {', '.join(STATS_FIELDS)}."
        )
    return Objective(metric, None, goal)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Validated bars, the strategy's view of them, and what identifies them."""

    frame: pl.DataFrame
    view: Bars
    periods_per_year: float
    hash: str

    @property
    def n_bars(self) -> int:
        return self.view.n_bars


def dataset(bars: Any, cfg: BacktestConfig) -> Dataset:
    """Prepare ``bars`` once for every evaluation."""
    from workbench.data.frequency import frequency_of
    from workbench.data.hashing import content_hash

    frame, view = prepare_bars(bars)  # checks the bars
    frame = source_frame(frame, view)
    ppy = cfg.periods_per_year if cfg.periods_per_year is not None else frequency_of(view.ts, view.time_zone).periods_per_year
    return Dataset(frame, view, float(ppy), content_hash(frame, check=False))


def split_settings(cls: type[Strategy], kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split keyword arguments into parameter ranges and backtest settings (parameters win)."""
    declared = cls.param_space()
    settings_names = {f.name for f in fields(BacktestConfig)}
    ranges, settings = {}, {}
    for name, value in kwargs.items():
        if name in declared:
            ranges[name] = value
        elif name in settings_names:
            settings[name] = value
        else:
            raise InvalidParameterError(
                f"{name!r} is neither a parameter of {cls.__name__} nor a backtest setting."
                f"{did_you_mean(name, [*declared, *settings_names])} Parameters: {', '.join(declared)}."
            )
    return ranges, settings


def _stats_row(res: BacktestResult, obj: Objective) -> dict[str, float]:
    row = {k: float(v) for k, v in res.stats.to_dict().items()}
    if obj.fn is not None:
        value = obj.fn(res)
        try:
            row[obj.name] = float(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"`metric` {obj.name!r} must return a number; got {value!r}.") from None
    return row


def run_one(data: Dataset, strategy: Strategy, cfg: BacktestConfig) -> BacktestResult:
    """One engine run on the prepared bars (vectorized strategies skip re-validating them)."""
    if strategy.style != "vectorized":
        return backtest(data.frame, strategy, config=cfg)
    sig = strategy.signals(data.view)
    if not isinstance(sig, Signals):
        raise StrategyError(f"{strategy.name}.signals() must return a Signals object; got {type(sig).__name__}.")
    out, stop_mode = run_signals(cfg, data.view, sig, owner=strategy.name)
    return BacktestResult._from_kernel(cfg, strategy, data.frame, data.view, out, stop_mode=stop_mode)


def _returns(res: BacktestResult) -> np.ndarray:
    from workbench.metrics import simple_returns

    return simple_returns(res.equity_values.sum(axis=1), init_cash=res.init_cash)


def _dask_target(n_jobs: Any) -> Any:
    """``n_jobs`` as a Dask client or scheduler address, or ``None`` for a number of processes."""
    if isinstance(n_jobs, str):
        if "://" not in n_jobs:
            raise InvalidParameterError(
                f"`n_jobs` must be a number of processes, a Dask client or a scheduler address such as "
                f"'tcp://127.0.0.1:8786'; got {n_jobs!r}."
            )
        return n_jobs
    if hasattr(n_jobs, "submit") and hasattr(n_jobs, "gather") and hasattr(n_jobs, "scatter"):
        return n_jobs
    return None


class EngineEvaluator:
    """Runs the engine once per parameter set: sequentially, in ``n_jobs`` processes, or as
    Dask tasks when ``n_jobs`` is a Dask client or a scheduler address."""

    name = "backtest"

    def __init__(self, data: Dataset, cls: type[Strategy], cfg: BacktestConfig, obj: Objective, *,
                 n_jobs: Any = 1) -> None:
        self.data, self.cls, self.cfg, self.obj = data, cls, cfg, obj
        self.dask = _dask_target(n_jobs)
        self.n_jobs = 1 if self.dask is not None else check_int(
            "n_jobs", n_jobs, 1, hint="It is a number of worker processes, a Dask client or a scheduler address.")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return STATS_FIELDS + ((self.obj.name,) if self.obj.fn is not None else ())

    def evaluate(self, sets: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Metrics (n_sets × metric_names) and per-set durations in seconds."""
        rows = sets.to_dicts()
        if self.dask is not None:
            return self._on_dask(rows)
        if self.n_jobs == 1 or len(rows) < 2 * self.n_jobs:
            return _engine_chunk(self.data.frame, self.cls, self.cfg, self.obj, rows, self.data.periods_per_year)
        step = max(1, math.ceil(len(rows) / (4 * self.n_jobs)))
        chunks = [rows[i : i + step] for i in range(0, len(rows), step)]
        import concurrent.futures as cf  # the worker pool's modules load only when a pool runs
        import multiprocessing

        ctx = multiprocessing.get_context("forkserver")
        with cf.ProcessPoolExecutor(max_workers=self.n_jobs, mp_context=ctx) as pool:
            parts = list(pool.map(_engine_chunk, *zip(*[
                (self.data.frame, self.cls, self.cfg, self.obj, chunk, self.data.periods_per_year)
                for chunk in chunks], strict=False)))
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _on_dask(self, rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Chunks of parameter sets as Dask tasks (the bars sent to each worker once)."""
        from workbench._extras import require

        require("batch", "distributed")
        from distributed import Client

        own = isinstance(self.dask, str)
        try:
            client = Client(self.dask, timeout=10, set_as_default=False) if own else self.dask
        except (OSError, TimeoutError) as exc:
            raise InvalidParameterError(
                f"`n_jobs` names a Dask scheduler that cannot be reached ({self.dask!r}): {exc}. Start one "
                f"(`dask scheduler`) or pass a number of processes."
            ) from exc
        try:
            threads = max(1, sum(client.nthreads().values()))
            step = max(1, math.ceil(len(rows) / (4 * threads)))
            frame = client.scatter(self.data.frame, broadcast=True)
            futures = [client.submit(_engine_chunk, frame, self.cls, self.cfg, self.obj, rows[i : i + step],
                                     self.data.periods_per_year, pure=False) for i in range(0, len(rows), step)]
            parts = client.gather(futures)
        finally:
            if own:
                client.close()
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def returns(self, sets: pl.DataFrame) -> np.ndarray:
        """Per-bar returns of each set, shape ``(n_bars, n_sets)``."""
        out = np.empty((self.data.n_bars, sets.height))
        for k, row in enumerate(sets.to_dicts()):
            out[:, k] = _returns(run_one(self.data, self.cls(**row), self.cfg))
        return out


def _engine_chunk(frame: pl.DataFrame, cls: type[Strategy], cfg: BacktestConfig, obj: Objective,
                  rows: Sequence[dict[str, Any]], ppy: float) -> tuple[np.ndarray, np.ndarray]:
    frame_, view = prepare_bars(frame)
    data = Dataset(frame_, view, ppy, "")
    names = STATS_FIELDS + ((obj.name,) if obj.fn is not None else ())
    out = np.empty((len(rows), len(names)))
    spent = np.empty(len(rows))
    for k, row in enumerate(rows):
        t0 = time.perf_counter()
        res = run_one(data, cls(**row), cfg)
        values = _stats_row(res, obj)
        out[k] = [values[n] for n in names]
        spent[k] = time.perf_counter() - t0
    return out, spent


class FusedEvaluator:
    """The crossover built-ins in the fused parallel kernel (see :mod:`workbench.nb.sweep`)."""

    name = "fused"
    metric_names = _sw.SWEEP_METRICS

    def __init__(self, data: Dataset, cls: type[Strategy], cfg: BacktestConfig, obj: Objective, *,
                 path: bool = True) -> None:
        self.data, self.cls, self.cfg, self.obj = data, cls, cfg, obj
        self.kind = _FUSED_KINDS[cls]
        self.open = np.ascontiguousarray(data.view.open[:, 0])
        self.close = np.ascontiguousarray(data.view.close[:, 0])
        self.path = path or obj.name in _sw.PATH_METRICS

    def _settings(self, path: bool) -> np.ndarray:
        c, n, ppy = self.cfg, self.data.n_bars, self.data.periods_per_year
        return np.array([
            c.cash, c.fees, c.fixed_fees, c.slippage, c.slippage_ticks, c.tick_size, c.spread, c.size,
            c.lot_size, c.leverage, c.maintenance_margin, float(c.allow_short), float(c.reverse),
            float(c.fill == "same_close"), ppy, c.risk_free, 1.0 / (n / ppy), float(path),
        ], dtype=np.float64)

    def _arrays(self, sets: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fast = sets["fast"].to_numpy().astype(np.int64)
        slow = sets["slow"].to_numpy().astype(np.int64)
        directions = sets["direction"].replace_strict(_DIRECTIONS, return_dtype=pl.Int64).to_numpy()
        longest = int(max(fast.max(), slow.max())) if fast.size else 0
        if longest > self.data.n_bars:
            name = "slow" if slow.max() >= fast.max() else "fast"
            raise InvalidParameterError(
                f"`{name}` must be an integer in [1, {self.data.n_bars}] (the number of bars); got {longest}. "
                "Narrow its range or use more bars."
            )
        return fast, slow, np.ascontiguousarray(directions, dtype=np.int64)

    def _run(self, sets: pl.DataFrame, *, path: bool, keep_returns: bool) -> tuple[np.ndarray, np.ndarray]:
        """Run the kernel over ``sets``. The moving averages of the distinct windows go in one
        table when it fits ``_TABLE_BYTES``; otherwise the (fast, slow) plane is cut into tiles
        whose windows fit, one table per tile; with room for fewer than 4 windows, each block
        of sets computes its own averages."""
        fast, slow, directions = self._arrays(sets)
        n, m = self.data.n_bars, fast.size
        order = np.lexsort((slow, fast))
        f, s, d = fast[order], slow[order], directions[order]
        out = np.empty((m, len(_sw.SWEEP_METRICS)))
        rets = np.empty((m, n)) if keep_returns else np.empty((0, 0))
        settings = self._settings(path)
        cap = _TABLE_BYTES // (8 * max(n, 1))
        windows = np.unique(np.concatenate([f, s]))
        if windows.size <= cap or cap < 4:
            self._kernel(f, s, d, windows if windows.size <= cap else None, settings, out, rets)
        else:
            fu, su = np.unique(f), np.unique(s)
            a = cap // 2
            tile_f = np.searchsorted(fu, f) // a
            tile_s = np.searchsorted(su, s) // (cap - a)
            tiles = tile_f * (int(tile_s.max()) + 1) + tile_s
            for t in np.unique(tiles):
                idx = np.flatnonzero(tiles == t)
                part_out = np.empty((idx.size, out.shape[1]))
                part_rets = np.empty((idx.size, n)) if keep_returns else rets
                self._kernel(f[idx], s[idx], d[idx], np.unique(np.concatenate([f[idx], s[idx]])), settings,
                             part_out, part_rets)
                out[idx] = part_out
                if keep_returns:
                    rets[idx] = part_rets
        inverse = np.empty_like(order)
        inverse[order] = np.arange(m)
        return out[inverse], (rets[inverse].T if keep_returns else rets)

    def _kernel(self, f: np.ndarray, s: np.ndarray, d: np.ndarray, windows: np.ndarray | None,
                settings: np.ndarray, out: np.ndarray, rets: np.ndarray) -> None:
        n = self.data.n_bars
        if windows is not None:
            table = np.empty((windows.size, n))
            _sw.ma_table_nb(self.close, windows, self.kind, table)
            row_of = np.full(int(windows.max()) + 1, -1, dtype=np.int64)
            row_of[windows] = np.arange(windows.size)
        else:
            table, row_of = np.empty((0, n)), np.empty(0, dtype=np.int64)
        _sw.cross_sweep_nb(self.open, self.close, np.ascontiguousarray(f), np.ascontiguousarray(s),
                           np.ascontiguousarray(d), self.kind, table, row_of, settings, out, rets,
                           _sw.default_blocks())

    def evaluate(self, sets: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        t0 = time.perf_counter()
        out, _ = self._run(sets, path=self.path, keep_returns=False)
        spent = np.full(sets.height, (time.perf_counter() - t0) / max(sets.height, 1))
        return out, spent

    def returns(self, sets: pl.DataFrame) -> np.ndarray:
        return self._run(sets, path=True, keep_returns=True)[1]


def evaluator(data: Dataset, cls: type[Strategy], cfg: BacktestConfig, obj: Objective, space: Any,
              *, engine: str = "auto", n_jobs: Any = 1, path: bool = True) -> FusedEvaluator | EngineEvaluator:
    """The fused evaluator when it applies (and ``engine`` allows), else the engine one."""
    if engine not in ("auto", "fused", "backtest"):
        raise InvalidParameterError(
            f"`engine` must be one of 'auto', 'fused', 'backtest'; got {engine!r}."
            + did_you_mean(str(engine), ["auto", "fused", "backtest"])
        )
    dims = {d.name: d for d in getattr(space, "dims", ())}
    long_only = "direction" in dims and dims["direction"].values == ("long",)
    why = _fused_refusal(data, cls, cfg, obj, long_only)
    if engine == "fused" and why:
        raise OptimizationError(f"the fused sweep cannot run this search: {why} Use engine='auto' or 'backtest'.")
    if engine == "backtest" or why:
        return EngineEvaluator(data, cls, cfg, obj, n_jobs=n_jobs)
    return FusedEvaluator(data, cls, cfg, obj, path=path)


def _fused_refusal(data: Dataset, cls: type[Strategy], cfg: BacktestConfig, obj: Objective, long_only: bool) -> str:
    if cls not in _FUSED_KINDS:
        return f"{cls.__name__} has no fused kernel (SmaCross and EmaCross have)."
    if data.view.n_assets != 1:
        return "it runs one asset; these bars hold several."
    if cfg.sizing != "percent" or cfg.accumulate or cfg.sl is not None or cfg.tp is not None or cfg.tsl is not None:
        return "it supports percent sizing without accumulation or default stops."
    if not cfg.allow_short and not long_only:
        return "with allow_short=False it runs direction='long' only (the engine checks each set's short entries)."
    if obj.fn is not None or obj.name not in _sw.SWEEP_METRICS:
        return f"metric {obj.name!r} is not one it computes ({', '.join(_sw.SWEEP_METRICS)})."
    return ""
