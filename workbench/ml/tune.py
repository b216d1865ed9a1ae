"""Hyperparameter search with Optuna inside the purged cross-validation; every trial stored.

The search space is declared once with :class:`~workbench.strategies.Param` (learning rate, depth,
estimators, subsampling, regularization); each trial runs the whole purged CV
(:func:`~workbench.ml.validation.cross_validate`'s splits) and is scored by its pooled out-of-fold
log loss. With a ``store``, the search is a run (``kind="ml_tuning"``) and every trial a row of
its trials, written as soon as it finishes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench.ml.labels import LabeledSet
from workbench.ml.model import ModelParams
from workbench.ml.scoring import classification_metrics
from workbench.ml.validation import PurgedCV, oof_predictions
from workbench.strategies.params import Param

__all__ = ["SEARCH_SPACE", "TuneResult", "tune"]

SEARCH_SPACE: dict[str, Param] = {
    "learning_rate": Param(0.05, low=0.01, high=0.3, log=True, help="shrinkage per tree"),
    "max_depth": Param(3, low=2, high=6, help="depth of each tree"),
    "n_estimators": Param(200, low=50, high=400, step=50, help="number of trees"),
    "subsample": Param(0.8, low=0.5, high=1.0, step=0.1, help="rows sampled per tree"),
    "colsample_bytree": Param(0.8, low=0.5, high=1.0, step=0.1, help="features sampled per tree"),
    "reg_lambda": Param(1.0, low=1e-3, high=10.0, log=True, help="L2 regularization"),
    "reg_alpha": Param(1e-3, low=1e-3, high=1.0, log=True, help="L1 regularization"),
}


@dataclass(frozen=True)
class TuneResult:
    """``best_params``, ``best_value`` (out-of-fold log loss) and ``trials`` (one row per trial:
    number, every parameter, every out-of-fold metric); ``run_id`` when stored."""

    best_params: ModelParams
    best_value: float
    trials: pl.DataFrame
    run_id: str | None


def _oof_metrics(ds: LabeledSet, params: ModelParams, splits: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    oof, tested = oof_predictions(ds, params, splits)
    return classification_metrics(ds.y[tested], oof[tested], ds.ret[tested])


def tune(ds: LabeledSet, *, n_trials: int = 20, cv: PurgedCV | None = None, seed: int = 0, store: Any = None,
         name: str = "ml_tuning") -> TuneResult:
    """Search :data:`SEARCH_SPACE` with Optuna's TPE sampler (seeded) to minimize the purged
    out-of-fold log loss.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.ml import make_dataset, default_features
    >>> from workbench.strategies import TrendPullback
    >>> ds = make_dataset(wb.data.sample("GOOG"), TrendPullback(rsi_window=2, oversold=30.0), default_features(6))
    >>> res = tune(ds, n_trials=2, cv=PurgedCV("kfold", n_splits=3))
    >>> res.trials.height, res.best_value == res.trials["log_loss"].min()
    (2, True)
    """
    import optuna

    n_trials = check_int("n_trials", n_trials, 1)
    cv = cv or PurgedCV()
    splits = list(cv.split(ds.label_end()))
    run_id = _start_run(store, ds, cv, n_trials, seed, name) if store is not None else None
    rows: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        values = {k: p.suggest(trial, k) for k, p in SEARCH_SPACE.items()}
        started = dt.datetime.now(dt.timezone.utc)
        metrics = _oof_metrics(ds, ModelParams(**values, seed=seed), splits)
        row = {"number": trial.number, "params": values, "metrics": metrics, "value": metrics["log_loss"],
               "started_at": started, "finished_at": dt.datetime.now(dt.timezone.utc)}
        if store is not None:
            store.save_trials(run_id, [row])
        rows.append({"number": trial.number, **values, **metrics})
        return metrics["log_loss"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    best = ModelParams(**study.best_params, seed=seed)
    if store is not None:
        store.update_run(run_id, status="succeeded", metrics={"best_log_loss": study.best_value,
                                                               "best_params": asdict(best)})
    return TuneResult(best, float(study.best_value), pl.DataFrame(rows), run_id)


def _start_run(store: Any, ds: LabeledSet, cv: PurgedCV, n_trials: int, seed: int, name: str) -> str:
    spec = {"kind": "ml_tuning", "features": list(ds.feature_names), "dataset_hash": ds.content_hash,
            "cv": asdict(cv), "n_trials": n_trials, "seed": seed, "rows": len(ds)}
    run_id = "mltune-" + hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    store.save_run(run_id, kind="ml_tuning", name=name, spec=spec, dataset_hash=ds.content_hash, status="running")
    return run_id
