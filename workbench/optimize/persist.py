"""Optimizations in the store: each one a run (``kind="optimization"``) with all its trials.

A sweep given ``store=`` saves its run (status ``running``) before evaluating, then writes its
trials in chunks as they finish (each chunk one transaction). Its id is the hash of its spec
(strategy, space, metric, settings, dataset hash, method and seed), so running the same search
on the same data again finds the run and evaluates only the sets it has no trial for. When done
the run turns ``succeeded`` with the best set and the overfitting figures as its metrics.

Optuna studies created through :func:`~workbench.optimize.study` on the store's database live in
Optuna's own tables of that database (so ``optuna-dashboard <url>`` shows them); their trials are
also copied into the store's ``trials`` table under a run of their own.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from workbench.errors import StoreError

if TYPE_CHECKING:
    from workbench.optimize._evaluate import Dataset, Objective
    from workbench.optimize.result import SweepResult
    from workbench.store import Store

__all__ = ["evaluate_stored", "finish_run", "trials", "save_study", "chunk_size"]


def chunk_size(engine: str) -> int:
    """Sets evaluated (and committed) per chunk: large for the fused kernel, small otherwise."""
    return 50_000 if engine == "fused" else 32


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _existing(store: Store, run_id: str) -> Any:
    try:
        rec = store.run(run_id)
    except StoreError:
        return None
    return rec if rec.id == run_id else None


def _json_float(v: Any) -> float:
    return float("nan") if v is None else float(v)


def evaluate_stored(store: Store, run_id: str, spec: dict[str, Any], sets: pl.DataFrame, evaluator: Any,
                    obj: Objective, data: Dataset, *, name: str | None = None, strategy: Any = None) -> np.ndarray:
    """Evaluate the ``sets`` (with their ``set`` numbers) not yet stored under ``run_id``, saving
    each chunk's trials as it finishes; return every set's metrics (stored ones read back)."""
    rec = _existing(store, run_id)
    label = name or f"{spec['method']} {spec['space']['strategy'].rsplit('.', 1)[-1]}"
    if rec is None:
        from workbench.store.rerun import run_artifacts

        kept = run_artifacts(store, strategy, data.frame, data.hash, keep_data=None) if strategy is not None else None
        store.save_run(run_id, kind="optimization", spec=spec, status="running", dataset_hash=data.hash,
                       name=label, started_at=_now(), artifacts=kept)
    elif rec.status != "running":
        store.update_run(run_id, status="running")
    names = list(evaluator.metric_names)
    out = np.full((sets.height, len(names)), np.nan)
    done = store.trial_numbers(run_id)
    position = {int(s): i for i, s in enumerate(sets["set"].to_list())}
    if done.size:
        stored = store.trials(run_id)
        for row in stored.iter_rows(named=True):
            i = position.get(int(row["number"]))
            if i is not None:
                out[i] = [_json_float(row.get(n, row.get(f"metric_{n}"))) for n in names]
    todo = sets.filter(~pl.col("set").is_in(done.tolist()))
    step = chunk_size(evaluator.name)
    params = [c for c in sets.columns if c != "set"]
    try:
        with store.beating(run_id):
            for start in range(0, todo.height, step):
                chunk = todo.slice(start, step)
                began = _now()
                values, spent = evaluator.evaluate(chunk.select(params))
                rows = []
                for k, row in enumerate(chunk.iter_rows(named=True)):
                    metrics = {n: float(values[k, j]) for j, n in enumerate(names)}
                    value = metrics.get(obj.name, math.nan)
                    rows.append({"number": row["set"], "params": {p: row[p] for p in params}, "metrics": metrics,
                                 "value": value, "state": "complete", "started_at": began,
                                 "finished_at": _now(), "duration_s": float(spent[k])})
                    out[position[int(row["set"])]] = values[k]
                store.save_trials(run_id, rows)
    except BaseException as exc:
        store.update_run(run_id, status="failed", error=f"interrupted: {type(exc).__name__}: {exc}"[:2000])
        raise
    return out


def finish_run(store: Store, result: SweepResult) -> None:
    """Mark the optimization run succeeded, with the best set and overfitting figures as metrics."""
    store.update_run(result.run_id, status="succeeded", metrics=result.summary())


def trials(run_id: str, *, store: Store | None = None) -> pl.DataFrame:
    """Every stored trial of the optimization ``run_id`` (a unique prefix is enough): number,
    state, objective value, timings, one column per parameter and per metric.

    Examples
    --------
    >>> import tempfile, workbench as wb
    >>> from workbench.store import Store
    >>> from workbench.strategies import SmaCross
    >>> from workbench.optimize import grid
    >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
    >>> res = grid(wb.data.sample("GOOG"), SmaCross, fast=[5, 10], slow=[20, 40], direction="long",
    ...            overfit=False, store=store)
    >>> trials(res.run_id, store=store).select("number", "fast", "slow").height
    4
    >>> store.run(res.run_id).status
    'succeeded'
    """
    from workbench.store import Store as _Store

    store = store or _Store()
    return store.trials(store.run(run_id).id)


def study_rows(study: Any, metric_names: list[str]) -> list[dict[str, Any]]:
    """One trial row per finished Optuna trial of ``study`` (complete, pruned or failed)."""
    rows = []
    for t in study.trials:
        state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(t.state.name)
        if state is None:
            continue
        values = list(t.values) if t.values is not None else []
        metrics = {k: v for k, v in t.user_attrs.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        for n, v in zip(metric_names, values, strict=False):
            metrics.setdefault(n, v)
        start, end = t.datetime_start, t.datetime_complete
        rows.append({
            "number": t.number, "params": dict(t.params), "metrics": metrics,
            "value": values[0] if values else None, "state": state,
            "started_at": start.astimezone(dt.timezone.utc) if start else None,
            "finished_at": end.astimezone(dt.timezone.utc) if end else None,
            "duration_s": (end - start).total_seconds() if start and end else None,
        })
    return rows


def save_study(store: Store, study: Any, spec: dict[str, Any], *, dataset_hash: str,
               metric_names: list[str], name: str | None = None, artifacts: dict[str, Any] | None = None) -> str:
    """Record an Optuna ``study`` as an optimization run with one trial row per Optuna trial."""
    from workbench.backtesting.result import run_id_of

    run_id = run_id_of({**spec, "study_name": study.study_name})
    if _existing(store, run_id) is None:
        store.save_run(run_id, kind="optimization", spec={**spec, "study_name": study.study_name}, status="running",
                       dataset_hash=dataset_hash, name=name or f"study {study.study_name}", started_at=_now(),
                       artifacts=artifacts)
    rows = study_rows(study, metric_names)
    store.save_trials(run_id, rows)
    summary: dict[str, Any] = {"n_trials": len(rows), "study_name": study.study_name}
    completed = [t for t in study.trials if t.state.name == "COMPLETE"]
    if completed and len(study.directions) == 1:
        summary["best_params"] = dict(study.best_trial.params)
        summary["best_value"] = study.best_value
    store.update_run(run_id, status="succeeded", metrics=summary)
    return run_id
