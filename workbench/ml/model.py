"""A gradient-boosted classifier of rule entries (XGBoost) with calibrated 0–100 confidence.

XGBoost is imported here only when a model is trained or loaded. A :class:`SignalModel` holds the
booster, the feature names, the calibration map and the hyperparameters; it serializes to one JSON
document (:meth:`SignalModel.to_json`) whose booster part is XGBoost's own JSON model format —
never pickle. Training is deterministic: the same data, parameters and seed give bit-identical
predictions (``nthread`` is 1 by default, at most 2: on a busy machine a second thread costs more than it gives; the ``hist`` method is used).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workbench._validate import check_int, check_number
from workbench.errors import DataValidationError, WorkbenchError
from workbench.ml.scoring import Calibrator

__all__ = ["ModelParams", "SignalModel", "check_features", "xgboost_module", "ModelLoadError"]

FORMAT = "workbench.signal_model/1"


class ModelLoadError(WorkbenchError, ValueError):
    """A stored model cannot be loaded (corrupt, or written by a newer XGBoost)."""


def xgboost_module() -> Any:
    """Import XGBoost (the ``ml`` extra), after checking that it is installed."""
    from workbench._extras import require

    require("ml", "xgboost")
    import xgboost

    return xgboost


@dataclass(frozen=True)
class ModelParams:
    """Hyperparameters of the booster (XGBoost's names); ``seed`` and ``nthread`` (≤ 2) included.

    >>> ModelParams(max_depth=0)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `max_depth` must be an integer in [1, 16]; got 0.
    """

    learning_rate: float = 0.05
    max_depth: int = 3
    n_estimators: int = 200
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 1.0
    reg_lambda: float = 1.0
    reg_alpha: float = 0.0
    seed: int = 0
    nthread: int = 1

    def __post_init__(self) -> None:
        for name, lo, hi in (("learning_rate", 1e-4, 1.0), ("subsample", 0.1, 1.0), ("colsample_bytree", 0.1, 1.0),
                             ("min_child_weight", 0.0, 1e3), ("reg_lambda", 0.0, 1e3), ("reg_alpha", 0.0, 1e3)):
            object.__setattr__(self, name, check_number(name, getattr(self, name), lo, hi))
        object.__setattr__(self, "max_depth", check_int("max_depth", self.max_depth, 1, 16))
        object.__setattr__(self, "n_estimators", check_int("n_estimators", self.n_estimators, 1, 5000))
        object.__setattr__(self, "seed", check_int("seed", self.seed, 0))
        object.__setattr__(self, "nthread", check_int("nthread", self.nthread, 1, 2,
                                                       hint="The machine's cores are shared; use 1 or 2."))

    def booster_params(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("n_estimators")
        return {**d, "objective": "binary:logistic", "eval_metric": "logloss", "tree_method": "hist",
                "eta": d.pop("learning_rate"), "lambda": d.pop("reg_lambda"), "alpha": d.pop("reg_alpha")}


def check_features(X: Any, names: tuple[str, ...], *, where: str = "X") -> np.ndarray:
    """``X`` as a C-contiguous float64 matrix with one column per name and no NaN or inf; the
    error names the first bad feature and row."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise DataValidationError(f"`{where}` must have shape (n, {len(names)}) (features {', '.join(names)}); got {X.shape}.")
    bad = ~np.isfinite(X)
    if bad.any():
        i, f = (int(v) for v in np.argwhere(bad)[0])
        raise DataValidationError(
            f"feature {names[f]!r} is {X[i, f]} in row {i} of `{where}` ({int(bad.sum())} bad value(s)); drop the "
            "warm-up rows or fill them before training or predicting."
        )
    return X


@dataclass(frozen=True, eq=False)
class SignalModel:
    """A trained booster, its feature names, its calibration and its hyperparameters."""

    booster: Any
    feature_names: tuple[str, ...]
    params: ModelParams
    calibrator: Calibrator = field(default_factory=lambda: Calibrator("none"))

    @classmethod
    def fit(cls, X: Any, y: Any, feature_names: tuple[str, ...], params: ModelParams | None = None) -> SignalModel:
        """Train on rows ``X`` and labels ``y`` (0/1).

        Raises
        ------
        DataValidationError
            NaN/inf features, an empty training window, labels other than 0/1.
        """
        params = params or ModelParams()
        names = tuple(feature_names)
        X = check_features(X, names)
        y = np.asarray(y)
        if X.shape[0] == 0:
            raise DataValidationError("the training window is empty (no labelled entry known before it ends); "
                                      "start later, use a longer window or more data.")
        if y.shape != (X.shape[0],) or not np.isin(y, (0, 1)).all():
            raise DataValidationError(f"labels `y` must be {X.shape[0]} values of 0 or 1; got shape {y.shape}.")
        xgb = xgboost_module()
        dtrain = xgb.DMatrix(X, label=y.astype(np.float64), feature_names=list(names), nthread=params.nthread)
        booster = xgb.train(params.booster_params(), dtrain, num_boost_round=params.n_estimators)
        return cls(booster, names, params)

    def with_calibration(self, calibrator: Calibrator) -> SignalModel:
        return SignalModel(self.booster, self.feature_names, self.params, calibrator)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Raw probability that each row's label is 1."""
        X = check_features(X, self.feature_names)
        if X.shape[0] == 0:
            return np.empty(0)
        xgb = xgboost_module()
        d = xgb.DMatrix(X, feature_names=list(self.feature_names), nthread=self.params.nthread)
        return self.booster.predict(d).astype(np.float64)

    def confidence(self, X: Any) -> np.ndarray:
        """Calibrated probability × 100, in [0, 100]."""
        return 100.0 * np.clip(self.calibrator(self.predict_proba(X)), 0.0, 1.0)

    def importance(self) -> dict[str, float]:
        """Share of total gain per feature (features never split on: 0)."""
        gain = self.booster.get_score(importance_type="total_gain")
        total = sum(gain.values()) or 1.0
        return {n: float(gain.get(n, 0.0)) / total for n in self.feature_names}

    def to_json(self) -> str:
        """One JSON document: the booster in XGBoost's JSON format, features, calibration, params."""
        booster = json.loads(bytes(self.booster.save_raw(raw_format="json")).decode())
        return json.dumps({"format": FORMAT, "booster": booster, "features": list(self.feature_names),
                           "calibration": self.calibrator.to_dict(), "params": asdict(self.params)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> SignalModel:
        """Load :meth:`to_json` output; a newer XGBoost's artifact or a corrupt one is refused."""
        try:
            doc = json.loads(text)
            if doc.get("format") != FORMAT:
                raise ModelLoadError(f"not a workbench signal model (format {doc.get('format')!r}; expected {FORMAT!r}).")
            booster_doc = doc["booster"]
            names = tuple(doc["features"])
            params = ModelParams(**doc["params"])
            cal = Calibrator.from_dict(doc["calibration"])
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ModelLoadError):
                raise
            raise ModelLoadError(f"the model artifact is not valid JSON of a signal model ({exc}).") from exc
        xgb = xgboost_module()
        _check_version(booster_doc.get("version"), xgb.__version__)
        booster = xgb.Booster(params={"nthread": params.nthread})
        try:
            booster.load_model(bytearray(json.dumps(booster_doc).encode()))
        except xgb.core.XGBoostError as exc:
            raise ModelLoadError(f"XGBoost cannot read the model artifact: {str(exc).splitlines()[0]}") from exc
        return cls(booster, names, params, cal)


def _check_version(saved: Any, installed: str) -> None:
    try:
        have = tuple(int(p) for p in installed.split(".")[:3] if p.isdigit())
        made = tuple(int(v) for v in saved)
    except (TypeError, ValueError):
        raise ModelLoadError(f"the model artifact has no readable XGBoost version ({saved!r}).") from None
    if made > have:
        raise ModelLoadError(
            f"the model artifact was written by XGBoost {'.'.join(map(str, made))}, newer than the installed "
            f"{installed}; upgrade XGBoost (`pip install -U xgboost`) to load it."
        )
