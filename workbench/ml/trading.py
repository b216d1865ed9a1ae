"""Trading with a model: walk-forward confidence, confidence bands, and the model filter.

* :class:`WalkForwardModel` re-trains every ``retrain_every`` bars; the model that scores an
  entry decided at bar ``t`` was trained only on labels known before the block holding ``t``
  started (``known_bar < start <= t``), with features of bars up to each entry's own signal bar.
  Changing bars after ``t`` therefore changes no confidence at or before ``t``.
* :class:`StoredModel` scores entries with one trained model, loaded lazily; a model that fails
  to load gives a warning and a null confidence (the arbiter then decides without it).
* :func:`confidence_weight` maps a 0–100 confidence to a position weight in the pullback
  strategy's bands: high 0.8–1.0, medium 0.5–0.7, low 0.3–0.5.
* :class:`ModelFilter` wraps any vectorized strategy: its entries pass when the
  :class:`~workbench.ml.arbiter.Arbiter` approves and carry the confidence's weight, which
  :func:`~workbench.portfolio.sized_backtest`'s position sizer applies. The arbiter's weights and
  threshold are declared parameters, so the optimizer can search them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench._warnings import warn
from workbench.backtesting.config import BacktestConfig
from workbench.errors import InvalidParameterError, StrategyError
from workbench.ml.arbiter import Arbiter, ArbiterConfig, DecisionLog
from workbench.ml.features import FeatureSet
from workbench.ml.labels import FixedHorizon, LabeledSet, TripleBarrier, label_entries
from workbench.ml.model import ModelParams, SignalModel
from workbench.ml.scoring import Calibrator
from workbench.ml.sentiment import NEUTRAL
from workbench.strategies.base import Bars, Signals, Strategy
from workbench.strategies.params import Param

__all__ = ["WalkForwardModel", "StoredModel", "ModelFilter", "confidence_weight", "Bands"]


@dataclass(frozen=True)
class Bands:
    """Confidence bands: from ``high`` up → weight 0.8–1.0, from ``medium`` → 0.5–0.7, from
    ``low`` → 0.3–0.5, below ``low`` → 0 (no position)."""

    high: float = 70.0
    medium: float = 50.0
    low: float = 30.0


def confidence_weight(confidence: Any, bands: Bands = Bands()) -> np.ndarray:
    """Position weight of each confidence (NaN stays NaN), linear inside each band.

    >>> confidence_weight(np.array([20.0, 30.0, 49.9, 50.0, 60.0, 70.0, 100.0, np.nan])).round(3).tolist()
    [0.0, 0.3, 0.499, 0.5, 0.6, 0.8, 1.0, nan]
    """
    c = np.asarray(confidence, dtype=np.float64)
    b = bands
    with np.errstate(invalid="ignore"):
        high = 0.8 + 0.2 * np.clip((c - b.high) / (100.0 - b.high), 0, 1)
        med = 0.5 + 0.2 * np.clip((c - b.medium) / (b.high - b.medium), 0, 1)
        low = 0.3 + 0.2 * np.clip((c - b.low) / (b.medium - b.low), 0, 1)
        out = np.where(c >= b.high, high, np.where(c >= b.medium, med, np.where(c >= b.low, low, 0.0)))
    return np.where(np.isnan(c), np.nan, out)


@dataclass(frozen=True)
class WalkForwardModel:
    """Re-train every ``retrain_every`` bars on the labels known so far (at least ``min_train``
    of them), calibrating each model out of fold (an inner purged 3-fold CV) when
    ``calibration`` is not ``"none"``."""

    features: FeatureSet
    method: TripleBarrier | FixedHorizon = field(default_factory=TripleBarrier)
    params: ModelParams = field(default_factory=lambda: ModelParams(n_estimators=100))
    retrain_every: int = 126
    min_train: int = 60
    calibration: Literal["isotonic", "platt", "none"] = "isotonic"
    config: BacktestConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "retrain_every", check_int("retrain_every", self.retrain_every, 1))
        object.__setattr__(self, "min_train", check_int("min_train", self.min_train, 2))

    def key(self) -> str:
        return "wf:" + hashlib.sha256(repr(self).encode()).hexdigest()[:16]

    def entries(self, view: Bars, strategy: Strategy) -> pl.DataFrame:
        """Every entry with its ``confidence`` (NaN before the first model, in a feature's warm-up)
        and the ``model_from`` bar whose model scored it."""
        lab = label_entries(view, strategy, method=self.method, config=self.config).frame.sort("signal_bar", "asset")
        rows, cols = lab["signal_bar"].to_numpy(), lab["asset"].to_numpy()
        X = self.features.compute(view).at(rows, cols)
        complete = ~np.isnan(X).any(axis=1)
        known, y = lab["known_bar"].to_numpy(), lab["label"].to_numpy()
        conf = np.full(rows.size, np.nan)
        model_from = np.full(rows.size, -1, dtype=np.int64)
        for start in range(0, view.n_bars, self.retrain_every):
            block = (rows >= start) & (rows < start + self.retrain_every) & complete
            train = complete & (known >= 0) & (known < start)
            if not block.any() or train.sum() < self.min_train or np.unique(y[train]).size < 2:
                continue
            model = self._train(X[train], y[train], rows[train], known[train], lab["ret"].to_numpy()[train])
            conf[block] = model.confidence(X[block])
            model_from[block] = start
        return lab.with_columns(pl.Series("confidence", conf), pl.Series("model_from", model_from))

    def _train(self, X: np.ndarray, y: np.ndarray, rows: np.ndarray, known: np.ndarray, ret: np.ndarray) -> SignalModel:
        from workbench.ml.validation import PurgedCV, oof_predictions

        names = self.features.names
        model = SignalModel.fit(X, y, names, self.params)
        if self.calibration == "none" or y.size < 30:
            return model
        ds = LabeledSet(X, y, ret, rows, known, np.zeros(y.size, dtype=np.int64), rows, names, "", None, None)
        try:
            oof, tested = oof_predictions(ds, self.params, PurgedCV("kfold", n_splits=3).split(ds.label_end()))
            return model.with_calibration(Calibrator.fit(oof[tested], y[tested], method=self.calibration))
        except (InvalidParameterError, ValueError):  # a fold of one class: keep the raw probability
            return model

    def confidence(self, view: Bars, strategy: Strategy) -> np.ndarray:
        """Confidence per (bar, asset), NaN where there is no scored entry."""
        lab = self.entries(view, strategy)
        out = np.full((view.n_bars, view.n_assets), np.nan)
        out[lab["signal_bar"].to_numpy(), lab["asset"].to_numpy()] = lab["confidence"].to_numpy()
        return out


@dataclass(frozen=True)
class StoredModel:
    """Score entries with one trained model: a :class:`SignalModel` or a function that loads one
    (from the registry: ``lambda: registry.load("pullback", alias="champion")``)."""

    features: FeatureSet
    model: SignalModel | Callable[[], SignalModel]

    def key(self) -> str:
        return f"stored:{id(self.model)}"

    def confidence(self, view: Bars, strategy: Strategy) -> np.ndarray | None:
        """Confidence per (bar, asset) at the entries; None (with a warning) when the model
        cannot be loaded."""
        try:
            model = self.model if isinstance(self.model, SignalModel) else self.model()
        except Exception as exc:  # any loading failure: the filter goes on without the model
            warn(f"the signal model failed to load ({type(exc).__name__}: {exc}); ML confidence is null and the "
                 "arbiter decides on the other components.")
            return None
        sig = strategy.signals(view)
        entries = np.broadcast_to(np.asarray(sig.entries, dtype=bool).reshape(view.n_bars, -1),
                                  (view.n_bars, view.n_assets))
        rows, cols = np.nonzero(entries)
        X = self.features.compute(view).at(rows, cols)
        ok = ~np.isnan(X).any(axis=1)
        out = np.full((view.n_bars, view.n_assets), np.nan)
        out[rows[ok], cols[ok]] = model.confidence(X[ok])
        return out


class ModelFilter(Strategy):
    """A rule strategy filtered and sized by a model. Subclass it, naming the rule (``base``), the
    confidence source (``source``: :class:`WalkForwardModel` or :class:`StoredModel`) and
    optionally a ``sentiment`` adapter (none: NEUTRAL); the arbiter's weights and threshold are parameters.

    The rule score of an entry is its suggested weight (the rule's strength) or 1; the entry passes
    when the arbiter approves and takes :func:`confidence_weight` of its confidence (the rule's own
    weight when the confidence is null).
    """

    base: ClassVar[Strategy | None] = None
    source: ClassVar[Any] = None
    sentiment: ClassVar[Any] = None
    rule: ClassVar[str | None] = None
    bands: ClassVar[Bands] = Bands()

    w_rule = Param(0.3, low=0.0, high=1.0, step=0.1, help="arbiter weight of the rule's score")
    w_ml = Param(0.5, low=0.0, high=1.0, step=0.1, help="arbiter weight of the ML confidence")
    w_sentiment = Param(0.2, low=0.0, high=1.0, step=0.1, help="arbiter weight of the sentiment")
    threshold = Param(0.55, low=0.0, high=1.0, step=0.05, help="arbiter approval threshold")

    def arbiter(self) -> Arbiter:
        return Arbiter(ArbiterConfig(self.w_rule, self.w_ml, self.w_sentiment, self.threshold, self.rule))

    def _inputs(self, bars: Bars) -> tuple[Signals, np.ndarray, np.ndarray | None, np.ndarray | None]:
        if not isinstance(self.base, Strategy) or self.source is None:
            raise StrategyError(f"{self.name} must name a `base` strategy and a confidence `source` (class attributes).")
        sig = self.base.signals(bars)
        n, m = bars.n_bars, bars.n_assets
        entries = np.broadcast_to(np.asarray(sig.entries, dtype=bool).reshape(n, -1), (n, m))
        conf = bars.derive(f"ml:{self.source.key()}:{self.base!r}", lambda: _Boxed(self.source.confidence(bars, self.base)))
        sent = np.full((n, m), NEUTRAL) if self.sentiment is None else self.sentiment.scores(bars)
        return sig, entries, conf.value, sent

    def decisions(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, DecisionLog]:
        """The entry cells (rows, cols) and the arbiter's decision on each."""
        sig, entries, conf, sent = self._inputs(bars)
        rows, cols = np.nonzero(entries)
        w = sig.weight
        rule = np.ones(rows.size) if w is None else np.broadcast_to(
            np.asarray(w, dtype=np.float64).reshape(bars.n_bars, -1), entries.shape)[rows, cols]
        rule = np.where(np.isnan(rule), 1.0, np.clip(rule, 0.0, 1.0))
        c = None if conf is None else conf[rows, cols]
        s = None if sent is None else sent[rows, cols]
        return rows, cols, self.arbiter().decide_many(rule, c, s)

    def signals(self, bars: Bars) -> Signals:
        sig, entries, conf, _ = self._inputs(bars)
        rows, cols, log = self.decisions(bars)
        keep = np.zeros(entries.shape, dtype=bool)
        keep[rows[log.approved], cols[log.approved]] = True
        base_w = np.full(entries.shape, np.nan) if sig.weight is None else np.broadcast_to(
            np.asarray(sig.weight, dtype=np.float64).reshape(bars.n_bars, -1), entries.shape)
        weight = base_w if conf is None else np.where(np.isnan(conf), base_w, confidence_weight(conf, self.bands))
        keep &= ~(weight <= 0.0)  # approved, but below the lowest confidence band: no position
        return Signals(entries=keep, exits=sig.exits, short_entries=sig.short_entries, short_exits=sig.short_exits,
                       sl=sig.sl, tp=sig.tp, tsl=sig.tsl, weight=weight, stop_mode=sig.stop_mode)


@dataclass(frozen=True)
class _Boxed:
    value: Any
