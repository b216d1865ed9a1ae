"""Classification metrics of probability forecasts, naive baselines, and calibration.

Metrics: accuracy, precision, recall, F1 (at a 0.5 threshold), ROC AUC (Mann-Whitney, ties half),
log loss, Brier score, and the information coefficient (Spearman correlation of the forecast with
the realized return). Baselines: the majority class of the training labels (a constant forecast of
the training base rate) and the unfiltered rule (every entry taken).

Calibration (:class:`Calibrator`) maps raw probabilities to calibrated ones, fitted out of fold:
isotonic (pool-adjacent-violators, interpolated between its steps) or Platt (a logistic fit of
the log-odds). Both are non-decreasing, so the 0–100 confidence keeps the model's ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from workbench._validate import check_choice
from workbench.errors import DataValidationError

__all__ = ["classification_metrics", "baselines", "Calibrator", "METRICS"]

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier", "ic")
_EPS = float(np.finfo(np.float64).eps)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties share their mean rank)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(xs)) + 1]
    ends = np.r_[starts[1:], xs.size]
    avg = (starts + ends + 1) / 2.0
    out = np.empty(x.size)
    out[order] = np.repeat(avg, ends - starts)
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(_ranks(a), _ranks(b))[0, 1])


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (NaN with one class only)."""
    pos = int(y.sum())
    neg = y.size - pos
    if pos == 0 or neg == 0:
        return float("nan")
    r = _ranks(p)
    return float((r[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def classification_metrics(y: Any, p: Any, ret: Any = None) -> dict[str, float]:
    """Every metric of :data:`METRICS` for labels ``y`` (0/1), forecasts ``p`` in [0, 1] and, for
    the IC, realized returns ``ret`` (default: the labels).

    >>> m = classification_metrics([0, 1, 1, 0], [0.2, 0.9, 0.6, 0.4])
    >>> m["accuracy"], m["roc_auc"], round(m["brier"], 4)
    (1.0, 1.0, 0.0925)
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1 or y.size == 0:
        raise DataValidationError(f"labels and forecasts must be non-empty 1-D arrays of one length; got {y.shape}, {p.shape}.")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise DataValidationError("forecasts must be probabilities in [0, 1] without NaN.")
    hit = p >= 0.5
    tp = int((hit & (y == 1)).sum())
    precision = tp / hit.sum() if hit.any() else float("nan")
    recall = tp / (y == 1).sum() if (y == 1).any() else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    q = np.clip(p, _EPS, 1 - _EPS)
    r = y.astype(np.float64) if ret is None else np.asarray(ret, dtype=np.float64)
    return {
        "accuracy": float((hit == (y == 1)).mean()), "precision": float(precision), "recall": float(recall),
        "f1": float(f1), "roc_auc": roc_auc(y, p),
        "log_loss": float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))),
        "brier": float(np.mean((p - y) ** 2)), "ic": _spearman(p, r),
    }


def baselines(y_train: np.ndarray, y_test: np.ndarray, ret_test: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """The metrics of the naive forecasts on a test set: ``majority`` (the training base rate,
    constant) and ``rule`` (take every entry: probability 1)."""
    base = float(np.mean(y_train)) if y_train.size else 0.5
    return {
        "majority": classification_metrics(y_test, np.full(y_test.size, base), ret_test),
        "rule": classification_metrics(y_test, np.ones(y_test.size), ret_test),
    }


def _pav(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic (non-decreasing) least-squares fit by pool-adjacent-violators, on sorted ``x``."""
    order = np.argsort(x, kind="mergesort")
    xs, ys = x[order], y[order].astype(np.float64)
    vals, wts, lo = [], [], []
    for i, v in enumerate(ys):
        vals.append(v)
        wts.append(1.0)
        lo.append(i)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            w = wts[-2] + wts[-1]
            vals[-2] = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / w
            wts[-2] = w
            del vals[-1], wts[-1], lo[-1]
    knots_x, knots_y = [], []
    bounds = [*lo, xs.size]
    for k, v in enumerate(vals):  # each block: its first and last x at the block's value
        knots_x += [xs[bounds[k]], xs[bounds[k + 1] - 1]]
        knots_y += [v, v]
    return np.asarray(knots_x), np.asarray(knots_y)


@dataclass(frozen=True)
class Calibrator:
    """A non-decreasing map from raw to calibrated probability.

    Examples
    --------
    >>> cal = Calibrator.fit([0.1, 0.2, 0.3, 0.8, 0.9], [0, 1, 0, 1, 1], method="isotonic")
    >>> cal(np.array([0.1, 0.25, 0.85])).round(3).tolist()
    [0.0, 0.5, 1.0]
    >>> Calibrator.from_dict(cal.to_dict()) == cal
    True
    """

    method: Literal["isotonic", "platt", "none"]
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    @classmethod
    def fit(cls, p: Any, y: Any, *, method: Literal["isotonic", "platt", "none"] = "isotonic") -> Calibrator:
        check_choice("calibration", method, ("isotonic", "platt", "none"))
        p = np.asarray(p, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if method == "none":
            return cls("none")
        if p.size < 2 or np.unique(y).size < 2:
            raise DataValidationError(
                f"calibration needs out-of-fold forecasts of both classes; got {p.size} forecasts of "
                f"{np.unique(y).size} class(es). Use more labelled entries or calibration='none'."
            )
        if method == "isotonic":
            kx, ky = _pav(p, y)
            return cls("isotonic", tuple(map(float, kx)), tuple(map(float, ky)))
        return cls("platt", (), tuple(map(float, _platt(p, y))))

    def __call__(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        if self.method == "none":
            return p
        if self.method == "isotonic":
            return np.interp(p, self.x, self.y)
        a, b = self.y
        z = np.log(np.clip(p, _EPS, 1 - _EPS) / np.clip(1 - p, _EPS, 1))
        return 1.0 / (1.0 + np.exp(-(a * z + b)))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        return cls(d["method"], tuple(d.get("x", ())), tuple(d.get("y", ())))


def _platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Logistic fit ``sigmoid(a * logit(p) + b)`` by Newton's method (Platt's smoothed targets);
    the slope is kept non-negative so the map never reverses the ranking."""
    z = np.log(np.clip(p, _EPS, 1 - _EPS) / np.clip(1 - p, _EPS, 1))
    n1, n0 = y.sum(), y.size - y.sum()
    t = np.where(y > 0, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))
    a, b = 1.0, 0.0
    for _ in range(50):
        q = 1.0 / (1.0 + np.exp(-(a * z + b)))
        g = np.array([np.sum((q - t) * z), np.sum(q - t)])
        w = q * (1 - q) + 1e-12
        h = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    return max(a, 0.0), b
