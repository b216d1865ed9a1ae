"""Bayesian and evolutionary search with Optuna, over the strategy's declared parameter space.

:func:`study` returns the real :class:`optuna.Study`, so Optuna's API and visualizations work as
usual. Trials are asked for and told in batches: one batch of parameter sets is evaluated by one
call of the fused parallel kernel (or of the engine), instead of one backtest per ask.

Storage: in memory (default), the workbench store's database (``storage="store"`` or a
:class:`~workbench.store.Store`), or any Optuna RDB URL such as PostgreSQL, so several processes
or machines work on one study. Optuna versions its tables with Alembic's default
``alembic_version`` table, as the store does, so the two cannot share one schema: with a
PostgreSQL store the studies live in the schema ``optuna`` of the same database, with a SQLite
store in the file ``<store>-optuna.db`` beside it. :func:`store_storage_url` gives that URL, for
``optuna.load_study`` and ``optuna-dashboard <url>``. RDB storages record a heartbeat for the trials being
evaluated, written as each one is asked; a worker killed anywhere in a batch (while asking or
evaluating) leaves its trials stale, the next batch of any worker marks them failed and re-queues
their parameters, and the study still reaches its trial count.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench.backtesting.config import BacktestConfig
from workbench.errors import InvalidParameterError, OptimizationError, did_you_mean
from workbench.optimize import _evaluate as ev
from workbench.optimize.space import Dimension, SearchSpace, rows_satisfying, search_space
from workbench.strategies.base import Strategy

if TYPE_CHECKING:
    import optuna

    from workbench.store import Store

__all__ = ["study", "distributions", "store_storage_url", "SAMPLERS"]

SAMPLERS = ("tpe", "cmaes", "gp", "nsga2", "random")
Sampler = Literal["tpe", "cmaes", "gp", "nsga2", "random"]
_MAX_ASK_FACTOR = 20


def distributions(space: SearchSpace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna distributions of the searched dimensions, and the fixed values of the others."""
    import optuna.distributions as od

    dists: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for d in space.dims:
        if d.fixed:
            fixed[d.name] = d.values[0]  # type: ignore[index]
        else:
            dists[d.name] = _distribution(d, od)
    if not dists:
        raise OptimizationError(
            f"every parameter of {space.strategy.__name__} is fixed ({fixed}); give at least one a range to search."
        )
    return dists, fixed


def _distribution(d: Dimension, od: Any) -> Any:
    if d.values is None:
        return od.FloatDistribution(float(d.low), float(d.high), log=bool(d.param.log and d.low > 0))  # type: ignore[arg-type]
    vals = list(d.values)
    if d.param.type in ("int", "float") and d.param.choices is None and len(vals) > 1:
        steps = np.diff(np.asarray(vals, dtype=np.float64))
        if np.allclose(steps, steps[0]) and steps[0] > 0:
            if d.param.type == "int":
                return od.IntDistribution(int(vals[0]), int(vals[-1]), step=int(round(steps[0])))
            return od.FloatDistribution(float(vals[0]), float(vals[-1]), step=float(steps[0]))
    return od.CategoricalDistribution(vals)


def _sampler(sampler: Any, seed: int | None, n_objectives: int) -> Any:
    import optuna

    if not isinstance(sampler, str):
        if isinstance(sampler, optuna.samplers.BaseSampler):
            return sampler
        raise InvalidParameterError(f"`sampler` must be one of {', '.join(map(repr, SAMPLERS))} or an Optuna sampler; got {sampler!r}.")
    if sampler not in SAMPLERS:
        raise InvalidParameterError(
            f"`sampler` must be one of {', '.join(map(repr, SAMPLERS))}; got {sampler!r}.{did_you_mean(sampler, SAMPLERS)}"
        )
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if n_objectives > 1:
        raise InvalidParameterError(f"`sampler`={sampler!r} optimizes one objective; use 'nsga2', 'tpe' or 'random' for several.")
    if sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    try:
        import torch  # noqa: F401  (Optuna's Gaussian-process sampler is written in PyTorch)
    except ImportError:
        raise InvalidParameterError(
            "`sampler`='gp' needs the 'torch' package, which is not installed. "
            "Install it with the gp extra (pip install 'quant-workbench[gp]') or use sampler='tpe'."
        ) from None
    return optuna.samplers.GPSampler(seed=seed)


def store_storage_url(store: Store) -> str:
    """The Optuna storage URL of the studies kept with ``store`` (password included: keep it
    out of logs). PostgreSQL: the same database with ``search_path`` set to the schema
    ``optuna`` (created if missing); SQLite: the file ``<store>-optuna.db`` beside the store.

    Raises
    ------
    InvalidParameterError
        An in-memory store, or a database other than SQLite and PostgreSQL.
    """
    from pathlib import Path

    import sqlalchemy as sa

    url = store.engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise InvalidParameterError(
                "an in-memory store cannot hold Optuna studies; open the store on a file or use storage=None."
            )
        path = Path(url.database)  # type: ignore[arg-type]
        return url.set(database=str(path.with_name(f"{path.stem}-optuna{path.suffix or '.db'}"))).render_as_string(
            hide_password=False)
    if backend == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS optuna"))
        return url.update_query_dict({"options": "-csearch_path=optuna"}).render_as_string(hide_password=False)
    raise InvalidParameterError(f"Optuna studies in the store need SQLite or PostgreSQL; this store uses {backend!r}.")


def _storage(storage: Any, heartbeat_interval: int, grace_period: int | None) -> tuple[Any, Any]:
    """The Optuna storage and, when the store's database is used, the Store."""
    import optuna

    from workbench.store import Store

    store = None
    if storage is None:
        return None, None
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage, None
    if storage == "store":
        storage = Store()
    if isinstance(storage, Store):
        store = storage
        url = store_storage_url(storage)
    elif isinstance(storage, str):
        url = storage
    else:
        raise InvalidParameterError(
            f"`storage` must be None (in memory), 'store', a Store, an RDB URL or an Optuna storage; got {storage!r}."
        )
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60}
    else:
        kwargs["pool_pre_ping"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        rdb = optuna.storages.RDBStorage(
            url, engine_kwargs=kwargs, heartbeat_interval=heartbeat_interval, grace_period=grace_period,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3),
        )
    return rdb, store


def study(
    bars: Any,
    strategy: type[Strategy] | Strategy,
    *,
    metric: str | Sequence[str] = "sharpe_ratio",
    goal: str | Sequence[str] = "maximize",
    sampler: Sampler | Any = "tpe",
    n_trials: int = 100,
    storage: Any = None,
    study_name: str | None = None,
    pruner: Any = None,
    seed: int | None = None,
    batch_size: int | None = None,
    constraint: str | Sequence[str] | None = None,
    config: BacktestConfig | None = None,
    engine: Literal["auto", "fused", "backtest"] = "auto",
    heartbeat_interval: int = 5,
    grace_period: int | None = None,
    store: Store | None = None,
    **ranges_and_settings: Any,
) -> optuna.Study:
    """Search ``strategy``'s parameters with Optuna; returns the :class:`optuna.Study`.

    Parameters
    ----------
    bars, strategy
        As for :func:`~workbench.optimize.grid`.
    metric, goal
        One Stats field (or a callable of the result) and ``"maximize"``/``"minimize"``; or a
        list of fields and a list of goals for a multi-objective study (its Pareto front is
        ``study.best_trials``).
    sampler
        ``"tpe"`` (default), ``"cmaes"``, ``"gp"``, ``"nsga2"``, ``"random"``, or an Optuna sampler.
    n_trials
        The study runs until it holds at least this many complete trials (counting those of
        earlier runs and of other workers sharing the storage).
    storage
        None (in memory), ``"store"`` or a Store (next to its tables, see
        :func:`store_storage_url`), an RDB URL, or an Optuna storage.
    study_name
        Name of the study; an existing study of that name in ``storage`` is continued.
    pruner
        An Optuna pruner, passed to the study (batch-evaluated trials report no intermediate
        values, so it only acts on trials a user evaluates).
    seed
        Seed of the sampler.
    batch_size
        Trials asked for and evaluated together (default 64 with the fused kernel, 8 otherwise).
    heartbeat_interval, grace_period
        Seconds between heartbeats of running trials in an RDB storage, and how long one may be
        missed before its trial counts as stale (default twice the interval).
    store
        Also record the study's trials as an optimization run in this store.
    **ranges_and_settings
        Parameter ranges and backtest settings, as for :func:`~workbench.optimize.grid`.

    Examples
    --------
    >>> import workbench as wb, optuna
    >>> from workbench.strategies import SmaCross
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> s = study(wb.data.sample("GOOG"), SmaCross, direction="long", fast=(2, 50), slow=(10, 200),
    ...           n_trials=40, seed=3)
    >>> len(s.trials) >= 40, sorted(s.best_params)
    (True, ['fast', 'slow'])
    """
    import optuna

    cls = strategy if isinstance(strategy, type) else type(strategy)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise InvalidParameterError(f"`strategy` must be a Strategy class such as SmaCross (or an instance); got {strategy!r}.")
    metrics = [metric] if isinstance(metric, str) or callable(metric) else list(metric)
    goals = [goal] * len(metrics) if isinstance(goal, str) else list(goal)
    if not metrics or len(goals) != len(metrics):
        raise InvalidParameterError(f"`goal` must give one goal per metric ({len(metrics)}); got {goal!r}.")
    objs = [ev.objective(m, g) for m, g in zip(metrics, goals, strict=False)]
    if len(objs) > 1 and any(o.fn is not None for o in objs):
        raise InvalidParameterError("a multi-objective study takes metric names (Stats fields), not callables.")
    n_trials = check_int("n_trials", n_trials, 1)
    heartbeat_interval = check_int("heartbeat_interval", heartbeat_interval, 1)
    ranges, settings = ev.split_settings(cls, ranges_and_settings)
    cfg = (config or BacktestConfig()).replace(**settings)
    space = search_space(strategy, constraint=constraint, **ranges)
    dists, fixed = distributions(space)
    data = ev.dataset(bars, cfg)
    evaluator = ev.evaluator(data, cls, cfg, objs[0], space, engine=engine, path=True)
    if any(o.name not in evaluator.metric_names for o in objs):
        evaluator = ev.evaluator(data, cls, cfg, objs[0], space, engine="backtest")
    batch = check_int("batch_size", batch_size if batch_size is not None else (64 if evaluator.name == "fused" else 8), 1)
    rdb, db_store = _storage(storage, heartbeat_interval, grace_period)
    s = optuna.create_study(
        storage=rdb, sampler=_sampler(sampler, seed, len(objs)), pruner=pruner, study_name=study_name,
        directions=[o.goal for o in objs], load_if_exists=True,
    )
    spec = {"kind": "optimization", "method": "study", "space": space.describe(), "metrics": [o.name for o in objs],
            "goals": [o.goal for o in objs], "config": cfg.to_dict(), "dataset_hash": data.hash,
            "sampler": sampler if isinstance(sampler, str) else type(sampler).__name__, "seed": seed,
            "n_trials": n_trials, "batch_size": batch, "engine": evaluator.name}
    if "workbench" not in s.user_attrs:
        s.set_user_attr("workbench", {k: v for k, v in spec.items() if k != "config"})
    _run(s, space, dists, fixed, evaluator, objs, n_trials, batch)
    target = store or db_store
    if target is not None:
        from workbench.optimize.persist import save_study
        from workbench.store.rerun import run_artifacts

        kept = run_artifacts(target, cls, data.frame, data.hash, keep_data=None)
        save_study(target, s, spec, dataset_hash=data.hash, metric_names=[o.name for o in objs], artifacts=kept)
    return s


def _complete(s: optuna.Study) -> int:
    import optuna

    return len(s.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def _run(s: optuna.Study, space: SearchSpace, dists: dict[str, Any], fixed: dict[str, Any], evaluator: Any,
         objs: list[ev.Objective], n_trials: int, batch: int) -> None:
    asked = 0
    while True:
        _fail_stale(s)
        missing = n_trials - _complete(s)
        if missing <= 0:
            return
        if asked > _MAX_ASK_FACTOR * n_trials:
            raise OptimizationError(
                f"the study asked for {asked} trials without reaching {n_trials} complete ones; the constraints "
                f"{list(space.constraints)} reject most of the space. Narrow the ranges to the feasible region."
            )
        trials = _ask(s, dists, min(batch, missing))
        asked += len(trials)
        with _heartbeat(s, trials):
            _evaluate_batch(s, space, trials, fixed, evaluator, objs)


def _ask(s: optuna.Study, dists: dict[str, Any], k: int) -> list[Any]:
    """Ask for ``k`` trials, writing each one's heartbeat as soon as it exists (RDB storages), so
    a worker killed during the ask leaves trials that turn stale instead of RUNNING for ever."""
    storage = s._storage
    beat = getattr(storage, "get_heartbeat_interval", lambda: None)() is not None
    trials = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        for _ in range(k):
            trial = s.ask(fixed_distributions=dists)
            if beat:
                storage.record_heartbeat(trial._trial_id)
            trials.append(trial)
    return trials


def _fail_stale(s: optuna.Study) -> None:
    """Fail (and re-queue) the trials of killed workers: stale heartbeats, and trials asked by a
    worker killed before their first heartbeat (:mod:`workbench.optimize._orphans`)."""
    import optuna

    from workbench.optimize._orphans import fail_orphans

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(s)
        fail_orphans(s)


@contextlib.contextmanager
def _heartbeat(s: optuna.Study, trials: list[Any]) -> Iterator[None]:
    """Record the heartbeat of the batch's trials while it is evaluated (RDB storages)."""
    storage = s._storage
    interval = getattr(storage, "get_heartbeat_interval", lambda: None)()
    if interval is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while True:
            for t in trials:
                with contextlib.suppress(Exception):
                    storage.record_heartbeat(t._trial_id)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _evaluate_batch(s: optuna.Study, space: SearchSpace, trials: list[Any], fixed: dict[str, Any],
                    evaluator: Any, objs: list[ev.Objective]) -> None:
    import optuna

    rows = [{**fixed, **t.params} for t in trials]
    rows = [{n: r[n] for n in space.names} for r in rows]
    ok = rows_satisfying(space, rows) if space.constraints else [True] * len(rows)
    feasible = [i for i, good in enumerate(ok) if good]
    for i, good in enumerate(ok):
        if not good:
            trials[i].set_user_attr("constraint", "violated")
            s.tell(trials[i], state=optuna.trial.TrialState.PRUNED)
    if not feasible:
        return
    frame = pl.DataFrame([rows[i] for i in feasible], schema=space.schema())
    values, _ = evaluator.evaluate(frame)
    names = list(evaluator.metric_names)
    for k, i in enumerate(feasible):
        metrics = {n: float(values[k, j]) for j, n in enumerate(names)}
        out = [metrics[o.name] for o in objs]
        trial = trials[i]
        trial.set_user_attr("metrics", {n: (v if np.isfinite(v) else None) for n, v in metrics.items()})
        if not all(np.isfinite(out)):
            s.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            s.tell(trial, out if len(out) > 1 else out[0])
