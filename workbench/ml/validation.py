"""Validation without leakage: purged walk-forward and combinatorial purged CV with an embargo.

Rows are labelled entries in signal order; row ``i``'s label spans rows ``i .. label_end[i]``
(:meth:`~workbench.ml.labels.LabeledSet.label_end`). Both splitters come from
:mod:`workbench.optimize.splits`: :class:`~workbench.optimize.splits.CombinatorialPurgedKFold`
purges and embargoes on those spans; walk-forward windows drop every training row whose label is
not known before the test window starts. :func:`cross_validate` trains a model per split, scores
the held-out rows, reports every metric per fold and overall beside the naive baselines, and fits
the calibration on the out-of-fold forecasts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_int
from workbench.errors import OptimizationError
from workbench.ml.labels import LabeledSet
from workbench.ml.model import ModelParams, SignalModel
from workbench.ml.scoring import Calibrator, baselines, classification_metrics
from workbench.optimize.splits import CombinatorialPurgedKFold, walk_forward_splits

__all__ = ["PurgedCV", "CVResult", "cross_validate", "oof_predictions"]


@dataclass(frozen=True)
class PurgedCV:
    """How to split: ``"kfold"`` (purged K-fold: CPCV with one test group), ``"cpcv"``
    (``n_test_splits`` groups per split) or ``"walk_forward"`` (anchored windows of
    ``n_splits`` test blocks after a first training block), with an ``embargo`` in rows.

    Examples
    --------
    >>> ends = np.minimum(np.arange(20) + 3, 19)
    >>> train, test = next(PurgedCV("walk_forward", n_splits=3).split(ends))
    >>> train.tolist(), test.tolist()
    ([0, 1], [5, 6, 7, 8, 9])
    """

    method: Literal["kfold", "cpcv", "walk_forward"] = "kfold"
    n_splits: int = 5
    n_test_splits: int = 2
    embargo: int = 0

    def __post_init__(self) -> None:
        check_choice("method", self.method, ("kfold", "cpcv", "walk_forward"))
        object.__setattr__(self, "n_splits", check_int("n_splits", self.n_splits, 2))
        object.__setattr__(self, "embargo", check_int("embargo", self.embargo, 0, hint="It is a number of rows."))
        if self.method == "cpcv":
            check_int("n_test_splits", self.n_test_splits, 1, self.n_splits - 1)

    def split(self, label_end: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(train_rows, test_rows)`` per split; no training label overlaps a test window or
        its embargo."""
        n = int(label_end.shape[0])
        if self.method == "walk_forward":
            block = n // (self.n_splits + 1)
            if block < 1:
                raise OptimizationError(f"{n} rows cannot make {self.n_splits} walk-forward test windows; use fewer splits.")
            for train, test in walk_forward_splits(n, train=block, test=block, anchored=True, partial=True):
                keep = label_end[train] < test[0]
                if not keep.any():
                    raise OptimizationError(
                        f"the training window before row {int(test[0])} is empty once labels not known by then are "
                        "purged; use fewer splits, a shorter label horizon or more data."
                    )
                yield train[keep], test
            return
        k = 1 if self.method == "kfold" else self.n_test_splits
        yield from CombinatorialPurgedKFold(self.n_splits, k, embargo=self.embargo).split(n, label_end=label_end)


@dataclass(frozen=True)
class CVResult:
    """Out-of-sample results: ``folds`` (one row per split: sizes and every metric of the model,
    the majority baseline and the unfiltered rule), ``overall`` metrics on the pooled out-of-fold
    forecasts (and the baselines'), ``oof`` raw probabilities (NaN where a row was never tested;
    averaged where tested more than once), the out-of-fold ``calibrator`` and the final ``model``
    trained on every row, calibrated."""

    folds: pl.DataFrame
    overall: dict[str, dict[str, float]]
    oof: np.ndarray
    calibrator: Calibrator
    model: SignalModel
    params: ModelParams
    cv: PurgedCV


def cross_validate(ds: LabeledSet, *, params: ModelParams | None = None, cv: PurgedCV | None = None,
                   calibration: Literal["isotonic", "platt", "none"] = "isotonic") -> CVResult:
    """Purged cross-validation of an XGBoost model on a :class:`LabeledSet`.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.ml import make_dataset, default_features
    >>> from workbench.strategies import TrendPullback
    >>> ds = make_dataset(wb.data.sample("GOOG"), TrendPullback(rsi_window=2, oversold=30.0), default_features(10))
    >>> res = cross_validate(ds, params=ModelParams(n_estimators=20), cv=PurgedCV("kfold", n_splits=4))
    >>> res.folds.height, sorted(res.overall)
    (4, ['majority', 'model', 'rule'])
    """
    params = params or ModelParams()
    cv = cv or PurgedCV()
    check_choice("calibration", calibration, ("isotonic", "platt", "none"))
    rows: list[dict[str, Any]] = []
    oof, tested = oof_predictions(ds, params, cv.split(ds.label_end()),
                                  on_fold=lambda i, tr, te, p: rows.append(_fold_row(i, ds, tr, te, p)))
    y, ret = ds.y[tested], ds.ret[tested]
    overall = {"model": classification_metrics(y, oof[tested], ret),
               **baselines(ds.y[~tested] if (~tested).any() else ds.y, y, ret)}
    cal = Calibrator.fit(oof[tested], y, method=calibration)
    final = SignalModel.fit(ds.X, ds.y, ds.feature_names, params).with_calibration(cal)
    return CVResult(pl.DataFrame(rows), overall, oof, cal, final, params, cv)


def oof_predictions(ds: LabeledSet, params: ModelParams, splits: Iterable[tuple[np.ndarray, np.ndarray]], *,
                    on_fold: Callable[[int, np.ndarray, np.ndarray, np.ndarray], Any] | None = None,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold raw probabilities (averaged over the splits that test a row; NaN where none
    does) and the mask of tested rows; ``on_fold(i, train, test, p)`` sees each split."""
    sums, counts = np.zeros(len(ds)), np.zeros(len(ds))
    for i, (train, test) in enumerate(splits):
        p = SignalModel.fit(ds.X[train], ds.y[train], ds.feature_names, params).predict_proba(ds.X[test])
        sums[test] += p
        counts[test] += 1
        if on_fold is not None:
            on_fold(i, train, test, p)
    tested = counts > 0
    return np.where(tested, sums / np.maximum(counts, 1), np.nan), tested


def _fold_row(i: int, ds: LabeledSet, train: np.ndarray, test: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    row: dict[str, Any] = {"fold": i, "n_train": int(train.size), "n_test": int(test.size),
                           "test_start": ds.ts[test[0]], "test_end": ds.ts[test[-1]]}
    y, ret = ds.y[test], ds.ret[test]
    row.update(classification_metrics(y, p, ret))
    for name, m in baselines(ds.y[train], y, ret).items():
        row.update({f"{name}_{k}": v for k, v in m.items()})
    return row
