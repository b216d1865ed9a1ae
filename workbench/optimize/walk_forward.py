"""Walk-forward optimization: search in sample, trade the chosen parameters out of sample, move on.

Each fold's search sees only the fold's in-sample bars. The chosen parameters then run on the
bars from the fold's in-sample start to its out-of-sample end (the in-sample bars warm the
indicators up; nothing after the out-of-sample window is read), and the fold's out-of-sample
returns are its bars in the test window. The out-of-sample returns of all folds, compounded,
make one equity curve: each fold starts from the previous fold's ending equity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench._reportable import Reportable
from workbench.backtesting.config import BacktestConfig
from workbench.errors import InvalidParameterError, OptimizationError, did_you_mean
from workbench.metrics import Stats, buy_and_hold_returns, compute_stats
from workbench.optimize import _evaluate as ev
from workbench.optimize.grid import run_sweep
from workbench.optimize.space import search_space
from workbench.optimize.splits import walk_forward_splits
from workbench.strategies.base import Strategy

__all__ = ["walk_forward", "WalkForwardResult", "fold_bars"]

Search = Literal["grid", "random", "study"]
_SEARCHES = ("grid", "random", "study")


@dataclass(frozen=True, eq=False)
class WalkForwardResult(Reportable):
    """The outcome of :func:`walk_forward`.

    Attributes
    ----------
    folds : polars.DataFrame
        One row per fold: ``fold``, ``train_start``, ``train_end``, ``test_start``,
        ``test_end`` (timestamps), the chosen parameters, ``is_<metric>``, ``oos_<metric>`` and
        ``degradation`` (out-of-sample over in-sample metric).
    equity : polars.DataFrame
        ``ts, equity``: the stitched out-of-sample equity curve.
    stats : Stats
        Statistics of the stitched out-of-sample curve.
    degradation : float
        Mean out-of-sample metric over mean in-sample metric (1 = no degradation).
    benchmark_returns : numpy.ndarray
        Per-bar returns of buying and holding the assets over the same out-of-sample bars
        (each test window's first return is from the bar before it), aligned with ``equity``.
    """

    folds: pl.DataFrame
    equity: pl.DataFrame
    stats: Stats
    metric: str
    goal: str
    params: tuple[str, ...]
    degradation: float
    returns: np.ndarray = field(repr=False)
    benchmark_returns: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        return (f"WalkForwardResult({self.folds.height} folds, {self.metric}: in-sample mean "
                f"{self.folds[f'is_{self.metric}'].mean():.4g}, out-of-sample mean "
                f"{self.folds[f'oos_{self.metric}'].mean():.4g}, degradation {self.degradation:.2f}, "
                f"stitched total return {self.stats.total_return:.2%})")


def fold_bars(frame: pl.DataFrame, ts: pl.Series, idx: np.ndarray) -> pl.DataFrame:
    """The rows of ``frame`` from timestamp ``ts[idx[0]]`` to ``ts[idx[-1]]`` (``ts``: the
    sorted unique timestamps; ``idx``: a contiguous window of them)."""
    return frame.filter(pl.col("ts").is_between(ts[int(idx[0])], ts[int(idx[-1])]))


def walk_forward(
    bars: Any,
    strategy: type[Strategy] | Strategy,
    *,
    train: int | str,
    test: int | str,
    step: int | str | None = None,
    anchored: bool = False,
    search: Search = "grid",
    metric: str = "sharpe_ratio",
    goal: Literal["maximize", "minimize"] = "maximize",
    constraint: str | Sequence[str] | None = None,
    config: BacktestConfig | None = None,
    engine: Literal["auto", "fused", "backtest"] = "auto",
    n_sets: int = 100,
    n_trials: int = 100,
    sampler: str = "tpe",
    seed: int | None = 0,
    n_jobs: int | Any = 1,
    **ranges_and_settings: Any,
) -> WalkForwardResult:
    """Walk-forward optimization over rolling (or anchored) windows.

    Parameters
    ----------
    bars, strategy
        As for :func:`~workbench.optimize.grid`.
    train, test, step, anchored
        Window sizes in bars (ints) or calendar durations (``"2y"``, ``"6mo"``), as for
        :func:`~workbench.optimize.walk_forward_splits`; ``step`` defaults to ``test``.
    search
        ``"grid"``, ``"random"`` (``n_sets`` sets, ``seed``) or ``"study"`` (Optuna,
        ``n_trials`` trials with ``sampler`` and ``seed``) in each fold.
    metric, goal
        A Stats field to optimize in sample and report out of sample.
    n_jobs
        For grid and random searches on the engine path: worker processes, or a Dask
        ``distributed.Client`` or scheduler address (each fold's parameter sets run as Dask
        tasks). The folds' results do not depend on it.
    **ranges_and_settings
        Parameter ranges and backtest settings, as for :func:`~workbench.optimize.grid`.

    Returns
    -------
    WalkForwardResult

    Raises
    ------
    InvalidParameterError
        Windows longer than the data, or bad sizes / names.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross
    >>> wf = walk_forward(wb.data.sample("GOOG"), SmaCross, train=500, test=250, direction="long",
    ...                   fast=range(5, 30, 5), slow=range(30, 100, 10), fees=0.002)
    >>> wf.folds.height, wf.equity.height
    (6, 1500)
    """
    if search not in _SEARCHES:
        raise InvalidParameterError(f"`search` must be one of 'grid', 'random', 'study'; got {search!r}.{did_you_mean(str(search), _SEARCHES)}")
    cls = strategy if isinstance(strategy, type) else type(strategy)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise InvalidParameterError(f"`strategy` must be a Strategy class such as SmaCross (or an instance); got {strategy!r}.")
    ranges, settings = ev.split_settings(cls, ranges_and_settings)
    cfg = (config or BacktestConfig()).replace(**settings)
    obj = ev.objective(metric, goal)
    if obj.fn is not None:
        raise InvalidParameterError("walk_forward takes a Stats field as `metric` (it is reported out of sample too).")
    space = search_space(strategy, constraint=constraint, **ranges)
    data = ev.dataset(bars, cfg)
    ts = data.frame["ts"].unique().sort()
    windows = list(_splits(ts, train=train, test=test, step=step, anchored=anchored))
    hold = buy_and_hold_returns(data.view.close)
    rows, pieces = [], []
    for k, (tr, te) in enumerate(windows):
        is_frame = fold_bars(data.frame, ts, tr)
        params, is_value = _search_fold(is_frame, strategy, space, cfg, obj, search, engine=engine, n_sets=n_sets,
                                        n_trials=n_trials, sampler=sampler, seed=seed, ranges=ranges,
                                        constraint=constraint, n_jobs=n_jobs)
        oos_r, oos_stats = _out_of_sample(data, ts, tr, te, cls(**params), cfg)
        oos_value = float(oos_stats.to_dict()[obj.name])
        rows.append({"fold": k, "train_start": ts[int(tr[0])], "train_end": ts[int(tr[-1])],
                     "test_start": ts[int(te[0])], "test_end": ts[int(te[-1])], **params, f"is_{obj.name}": is_value, f"oos_{obj.name}": oos_value,
                     "degradation": oos_value / is_value if is_value not in (0.0,) and math.isfinite(is_value) else math.nan})
        pieces.append((ts.gather(te), oos_r, hold[te]))
    folds = pl.DataFrame(rows)
    stamps = pl.concat([p[0] for p in pieces])
    rets = np.concatenate([p[1] for p in pieces])
    bench = np.concatenate([p[2] for p in pieces])
    bench.flags.writeable = False
    cash = cfg.cash * data.view.n_assets if not cfg.cash_sharing else cfg.cash
    equity = cash * np.cumprod(1.0 + rets)
    stats = compute_stats(equity, init_cash=cash, periods_per_year=data.periods_per_year, risk_free=cfg.risk_free)
    is_mean = float(folds[f"is_{obj.name}"].mean())
    oos_mean = float(folds[f"oos_{obj.name}"].mean())
    return WalkForwardResult(
        folds=folds, equity=pl.DataFrame({"ts": stamps, "equity": equity}),
        stats=stats, metric=obj.name, goal=obj.goal, params=space.names,
        degradation=oos_mean / is_mean if is_mean != 0 and math.isfinite(is_mean) else math.nan, returns=rets,
        benchmark_returns=bench,
    )


def _splits(ts: pl.Series, **kw: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    by_time = isinstance(kw["train"], str) or isinstance(kw["test"], str)
    try:
        out = list(walk_forward_splits(ts if by_time else ts.len(), **kw))
    except (InvalidParameterError, OptimizationError) as exc:
        raise InvalidParameterError(f"walk-forward windows do not fit the data ({ts.len()} bars): {exc}") from None
    if not out:
        raise InvalidParameterError(
            f"walk-forward windows train={kw['train']!r} + test={kw['test']!r} are longer than the data "
            f"({ts.len()} bars); shorten them."
        )
    return out


def _search_fold(frame: pl.DataFrame, strategy: Any, space: Any, cfg: BacktestConfig, obj: ev.Objective,
                 search: str, *, engine: str, n_sets: int, n_trials: int, sampler: str, seed: int | None,
                 ranges: dict[str, Any], constraint: Any, n_jobs: Any = 1) -> tuple[dict[str, Any], float]:
    if search == "study":
        import optuna

        from workbench.optimize.study import study

        s = study(frame, strategy, metric=obj.name, goal=obj.goal, sampler=sampler, n_trials=n_trials, seed=seed,
                  config=cfg, engine=engine, constraint=constraint, **ranges)
        done = s.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        best = max(done, key=lambda t: obj.sign * t.value)
        params = {d.name: (best.params[d.name] if d.name in best.params else d.values[0]) for d in space.dims}
        return params, float(best.value)
    data = ev.dataset(frame, cfg)
    sets = space.grid() if search == "grid" else space.sample(n_sets, seed=seed)
    res = run_sweep(data, space, sets, cfg, obj, method=search, engine=engine, overfit=False, n_jobs=n_jobs)
    return res.best_params, float(res.best[obj.name])


def _out_of_sample(data: ev.Dataset, ts: pl.Series, tr: np.ndarray, te: np.ndarray, strategy: Strategy,
                   cfg: BacktestConfig) -> tuple[np.ndarray, Stats]:
    """Run from the fold's in-sample start to its out-of-sample end; keep the test window."""
    from workbench.metrics import simple_returns

    window = np.arange(tr[0], te[-1] + 1)
    frame = fold_bars(data.frame, ts, window)
    sub = ev.dataset(frame, cfg)
    res = ev.run_one(sub, strategy, cfg)
    equity = res.equity_values.sum(axis=1)
    n_test = te.size
    start = equity.size - n_test
    before = equity[start - 1] if start > 0 else res.init_cash
    seg = equity[start:]
    if not before > 0:  # the account was wiped out in sample: nothing left to trade
        seg, before = np.full(n_test, 1.0), 1.0
    r = simple_returns(seg, init_cash=before)
    stats = compute_stats(seg, init_cash=before, periods_per_year=data.periods_per_year, risk_free=cfg.risk_free)
    return r, stats
