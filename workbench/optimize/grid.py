"""Grid and random search over a strategy's declared parameter space.

``grid(bars, SmaCross, fast=range(2, 101), slow=range(3, 102), fees=0.002)`` evaluates every set;
``random(..., n_sets=500, seed=1)`` a uniform sample. The crossover built-ins run in the fused
parallel kernel (memory O(bars + sets)); other strategies run the engine once per set, optionally
in ``n_jobs`` processes. Both give the same numbers. Next to the best set the result reports the
probabilistic and deflated Sharpe ratios, the minimum track record length and the probability
of backtest overfitting (:class:`~workbench.optimize.result.OverfitReport`).

With ``store=``, the optimization is a run in the store (``kind="optimization"``) whose trials
are written in chunks as they finish; running the same search again on the same data continues
with the sets not yet done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench._version import __version__
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.result import run_id_of
from workbench.errors import InvalidParameterError
from workbench.optimize import _evaluate as ev
from workbench.optimize.result import SweepResult, overfit_report
from workbench.optimize.space import SearchSpace, search_space
from workbench.strategies.base import Strategy

if TYPE_CHECKING:
    from workbench.store import Store

__all__ = ["grid", "random", "run_sweep"]

Metric = str | Callable[[Any], float]
Goal = Literal["maximize", "minimize"]
Engine = Literal["auto", "fused", "backtest"]

_PBO_SETS = 128
_PBO_BYTES = 32 * 2**20


def grid(
    bars: Any,
    strategy: type[Strategy] | Strategy,
    *,
    metric: Metric = "sharpe_ratio",
    goal: Goal = "maximize",
    constraint: str | Sequence[str] | None = None,
    config: BacktestConfig | None = None,
    engine: Engine = "auto",
    n_jobs: int | Any = 1,
    overfit: bool = True,
    pbo_sets: int = _PBO_SETS,
    store: Store | None = None,
    name: str | None = None,
    **ranges_and_settings: Any,
) -> SweepResult:
    """Evaluate every parameter set of a grid and rank them by ``metric``.

    Parameters
    ----------
    bars
        Canonical bars (:func:`workbench.data.load`).
    strategy
        A Strategy class (its declared parameters span the space) or an instance (its values
        fix the parameters not given a range).
    metric
        A field of :class:`workbench.metrics.Stats` (``"sharpe_ratio"``, ``"total_return"``…)
        or a callable ``(BacktestResult) -> float`` (engine path).
    goal
        ``"maximize"`` or ``"minimize"`` the metric.
    constraint
        Extra boolean expressions over parameters (``"slow >= 2 * fast"``), on top of the
        strategy's ``constraints``.
    config
        Backtest settings; keyword settings (``fees=``, ``fill=``…) override its fields.
    engine
        ``"auto"`` (fused kernel when it applies), ``"fused"`` (required) or ``"backtest"``.
    n_jobs
        Worker processes of the engine path (the strategy class must be importable), or a Dask
        ``distributed.Client`` or scheduler address (``"tcp://host:8786"``): the parameter sets
        then run as Dask tasks on its workers. Every choice gives the same numbers.
    overfit
        Compute the overfitting figures of the best set (needs every set's Sharpe ratio, so the
        fused kernel also tracks the equity path).
    pbo_sets
        At most this many sets (a uniform sample always holding the best) enter the CSCV of the
        probability of backtest overfitting; their per-bar returns are kept in memory.
    store
        Record the optimization and its trials in this store, resumably.
    name
        A label for the stored run.
    **ranges_and_settings
        Parameter ranges (``fast=range(2, 101)``, ``slow=(3, 200, 1)``, ``direction="long"``)
        and backtest settings (``fees=0.002``) by name.

    Returns
    -------
    SweepResult

    Raises
    ------
    InvalidParameterError
        Unknown parameter, setting or metric (with "did you mean"); ranges outside the declared
        bounds.
    OptimizationError
        An empty space, or a constraint no set satisfies.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross
    >>> res = grid(wb.data.sample("GOOG"), SmaCross, fast=range(5, 8), slow=[20, 30],
    ...            direction="long", metric="total_return", fees=0.002, overfit=False)
    >>> res.frame.height, res.engine, sorted(res.best_params)
    (6, 'fused', ['direction', 'fast', 'slow'])
    """
    return _search("grid", bars, strategy, metric=metric, goal=goal, constraint=constraint,
                   config=config, engine=engine, n_jobs=n_jobs, overfit=overfit, pbo_sets=pbo_sets,
                   store=store, name=name, n_sets=None, seed=None, kwargs=ranges_and_settings)


def random(
    bars: Any,
    strategy: type[Strategy] | Strategy,
    *,
    n_sets: int = 100,
    seed: int | None = None,
    metric: Metric = "sharpe_ratio",
    goal: Goal = "maximize",
    constraint: str | Sequence[str] | None = None,
    config: BacktestConfig | None = None,
    engine: Engine = "auto",
    n_jobs: int | Any = 1,
    overfit: bool = True,
    pbo_sets: int = _PBO_SETS,
    store: Store | None = None,
    name: str | None = None,
    **ranges_and_settings: Any,
) -> SweepResult:
    """Evaluate ``n_sets`` distinct random parameter sets (see :func:`grid` for the options).

    Discrete parameters draw uniformly from their values, continuous ones (floats without a
    step) uniformly or log-uniformly between their bounds; sets breaking a constraint are
    redrawn. A stored random search resumes only with the same ``seed``.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import EmaCross
    >>> res = random(wb.data.sample("GOOG"), EmaCross, n_sets=20, seed=7, direction="long",
    ...              overfit=False)
    >>> res.frame.height, res.frame["set"].n_unique()
    (20, 20)
    """
    n = check_int("n_sets", n_sets, 1)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**31)  # recorded in the spec
    seed = check_int("seed", seed, 0)
    return _search("random", bars, strategy, metric=metric, goal=goal, constraint=constraint,
                   config=config, engine=engine, n_jobs=n_jobs, overfit=overfit, pbo_sets=pbo_sets,
                   store=store, name=name, n_sets=n, seed=seed, kwargs=ranges_and_settings)


def _search(method: str, bars: Any, strategy: Any, *, metric: Metric, goal: str, constraint: Any,
            config: BacktestConfig | None, engine: str, n_jobs: Any, overfit: bool, pbo_sets: int,
            store: Store | None, name: str | None, n_sets: int | None, seed: int | None,
            kwargs: dict[str, Any]) -> SweepResult:
    cls = strategy if isinstance(strategy, type) else type(strategy)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise InvalidParameterError(f"`strategy` must be a Strategy class such as SmaCross (or an instance); got {strategy!r}.")
    ranges, settings = ev.split_settings(cls, kwargs)
    cfg = (config or BacktestConfig()).replace(**settings)
    obj = ev.objective(metric, goal)
    space = search_space(strategy, constraint=constraint, **ranges)
    sets = space.grid() if method == "grid" else space.sample(n_sets or 1, seed=seed)
    data = ev.dataset(bars, cfg)
    return run_sweep(data, space, sets, cfg, obj, method=method, engine=engine, n_jobs=n_jobs, overfit=overfit,
                     pbo_sets=pbo_sets, store=store, name=name, extra_spec={"n_sets": n_sets, "seed": seed})


def run_sweep(data: ev.Dataset, space: SearchSpace, sets: pl.DataFrame, cfg: BacktestConfig, obj: ev.Objective, *,
              method: str, engine: str = "auto", n_jobs: Any = 1, overfit: bool = True, pbo_sets: int = _PBO_SETS,
              store: Store | None = None, name: str | None = None,
              extra_spec: dict[str, Any] | None = None) -> SweepResult:
    """Evaluate the parameter ``sets`` of ``space`` on prepared bars and build the result
    (the common core of grid, random and walk-forward folds)."""
    pbo_sets = check_int("pbo_sets", pbo_sets, 2)
    t0 = time.perf_counter()
    evaluator = ev.evaluator(data, space.strategy, cfg, obj, space, engine=engine, n_jobs=n_jobs, path=overfit)
    spec = {
        "kind": "optimization", "method": method, "space": space.describe(), "metric": obj.name,
        "goal": obj.goal, "config": cfg.to_dict(), "dataset_hash": data.hash,
        "engine": evaluator.name, "workbench_version": __version__, "overfit": bool(overfit), "pbo_sets": pbo_sets,
        **(extra_spec or {}),
    }
    run_id = run_id_of(spec)
    sets = sets.with_row_index("set").with_columns(pl.col("set").cast(pl.Int64))
    if store is not None:
        from workbench.optimize.persist import evaluate_stored

        values = evaluate_stored(store, run_id, spec, sets, evaluator, obj, data, name=name, strategy=space.strategy)
    else:
        values, _ = evaluator.evaluate(sets.drop("set"))
    frame = _ranked(sets, values, evaluator.metric_names, obj)
    report = _overfit(frame, evaluator, data, obj, pbo_sets) if overfit else None
    elapsed = time.perf_counter() - t0
    result = SweepResult(
        frame=frame, strategy=space.strategy, params=space.names, metric=obj.name, goal=obj.goal,
        config=cfg, method=method, engine=evaluator.name, n_bars=data.n_bars,
        periods_per_year=data.periods_per_year, overfit=report, run_id=run_id, dataset_hash=data.hash,
        elapsed_s=elapsed, spec=spec, bars=data.frame,
    )
    if store is not None:
        from workbench.optimize.persist import finish_run

        finish_run(store, result)
    return result


def _ranked(sets: pl.DataFrame, values: np.ndarray, names: Sequence[str], obj: ev.Objective) -> pl.DataFrame:
    metrics = pl.DataFrame({n: values[:, k] for k, n in enumerate(names)})
    for n in ("n_trades", "n_open_trades", "n_bars", "max_drawdown_duration", "max_consecutive_wins",
              "max_consecutive_losses", "max_trade_duration"):
        if n in metrics.columns:
            metrics = metrics.with_columns(pl.col(n).cast(pl.Int64))
    frame = pl.concat([sets, metrics], how="horizontal")
    # best first, NaN last, ties in set order (a stable NumPy sort: NaN sorts last either way)
    v = values[:, list(names).index(obj.name)]
    return frame[np.argsort(-v if obj.goal == "maximize" else v, kind="stable")]


def _overfit(frame: pl.DataFrame, evaluator: Any, data: ev.Dataset, obj: ev.Objective, pbo_sets: int) -> Any:
    cap = max(2, min(pbo_sets, _PBO_BYTES // (8 * max(data.n_bars, 1))))
    params = [c for c in frame.columns if c not in evaluator.metric_names and c != "set"]
    if frame.height <= cap:
        sample = frame
    else:
        rng = np.random.default_rng(0)
        rest = np.sort(rng.choice(np.arange(1, frame.height), size=cap - 1, replace=False))
        sample = frame[np.concatenate([[0], rest])]
    rets = evaluator.returns(sample.select(params))
    sharpes = frame["sharpe_ratio"].to_numpy().astype(np.float64)
    return overfit_report(rets[:, 0], sharpes, periods_per_year=data.periods_per_year,
                          sample_returns=rets if sample.height >= 2 else None)
