"""Labels of a rule's entries, each recording the bar at which it became known.

* :class:`TripleBarrier` — the entry traded alone with the strategy's own stop-loss, trailing stop
  and profit target (the engine's stop logic: :mod:`workbench.nb.labels_nb`) and a time limit of
  ``horizon`` bars; the label is 1 when the trade's net return is positive.
* :class:`FixedHorizon` — the return from the fill to the close ``horizon`` bars after the signal;
  the label is 1 when it exceeds ``threshold``.

:func:`label_entries` labels every entry of a strategy (or of given signals); :func:`make_dataset`
joins the labels with a :class:`~workbench.ml.features.FeatureSet` into a :class:`LabeledSet`
ready for purged cross-validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from workbench._validate import check_int, check_number
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import _flex, prepare_bars
from workbench.errors import DataValidationError, InvalidParameterError, StrategyError
from workbench.ml.features import FeatureSet
from workbench.nb.enums import ExitReason
from workbench.nb.labels_nb import TIME_BARRIER, forward_return_nb, triple_barrier_nb
from workbench.strategies.base import Bars, Signals, Strategy

__all__ = ["TripleBarrier", "FixedHorizon", "Labels", "LabeledSet", "label_entries", "make_dataset"]

_REASONS = {int(r): r.name.lower() for r in ExitReason} | {TIME_BARRIER: "time_limit", -1: "open"}


@dataclass(frozen=True)
class TripleBarrier:
    """Profit target, stop and time limit: the strategy's own ``tp``/``sl``/``tsl`` (or the
    configuration's where it has none) and an exit decided ``horizon`` bars after the signal."""

    horizon: int = 20

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizon", check_int("horizon", self.horizon, 1, hint="It is a number of bars."))


@dataclass(frozen=True)
class FixedHorizon:
    """The forward return over ``horizon`` bars; label 1 when it exceeds ``threshold``."""

    horizon: int = 10
    threshold: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "horizon", check_int("horizon", self.horizon, 1, hint="It is a number of bars."))
        object.__setattr__(self, "threshold", check_number("threshold", self.threshold, -1.0, None))


@dataclass(frozen=True)
class Labels:
    """One row per entry: ``signal_bar`` (decision at its close), ``asset``, ``entry_bar`` (fill),
    ``known_bar`` (the bar at which the outcome is known; -1 when the data end first), ``ret``,
    ``label`` (1/0, -1 unknown) and the ``barrier`` that ended it."""

    frame: pl.DataFrame

    @property
    def known(self) -> np.ndarray:
        """Mask of the labels known inside the data."""
        return self.frame["known_bar"].to_numpy() >= 0


def _entries(view: Bars, source: Strategy | Signals) -> tuple[np.ndarray, np.ndarray, np.ndarray, Signals]:
    sig = source.signals(view) if isinstance(source, Strategy) else source
    owner = source.name if isinstance(source, Strategy) else "signals"
    if not isinstance(sig, Signals):
        raise StrategyError(f"{owner} must give a Signals object; got {type(sig).__name__}.")
    n, m = view.n_bars, view.n_assets
    longs = np.broadcast_to(_flex("entries", sig.entries, n, m, owner, boolean=True), (n, m))
    shorts = np.broadcast_to(_flex("short_entries", sig.short_entries, n, m, owner, boolean=True), (n, m))
    direction = longs.astype(np.int64) - shorts.astype(np.int64)
    rows, cols = np.nonzero(direction)
    return rows.astype(np.int64), cols.astype(np.int64), direction[rows, cols], sig


def label_entries(bars: Any, source: Strategy | Signals, *, method: TripleBarrier | FixedHorizon | None = None,
                  config: BacktestConfig | None = None) -> Labels:
    """Label every entry of ``source`` (a vectorized strategy or its :class:`Signals`) on ``bars``.

    Raises
    ------
    InvalidParameterError
        A horizon as long as the data or longer.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import TrendPullback
    >>> lab = label_entries(wb.data.sample("GOOG"), TrendPullback(), method=TripleBarrier(20))
    >>> sorted(set(lab.frame["barrier"].to_list()))
    ['stop_loss', 'take_profit', 'time_limit', 'trailing_stop']
    >>> bool((lab.frame["known_bar"] > lab.frame["signal_bar"]).all())
    True
    """
    method = TripleBarrier() if method is None else method
    if not isinstance(method, (TripleBarrier, FixedHorizon)):
        raise InvalidParameterError(f"`method` must be TripleBarrier(...) or FixedHorizon(...); got {method!r}.")
    cfg = config or BacktestConfig()
    view = bars if isinstance(bars, Bars) else prepare_bars(bars)[1]
    n, m = view.n_bars, view.n_assets
    if method.horizon >= n:
        raise InvalidParameterError(
            f"label `horizon` = {method.horizon} bars is not shorter than the {n} bars of data; "
            "use a shorter horizon or more data."
        )
    rows, cols, direction, sig = _entries(view, source)
    k = rows.size
    entry = np.full(k, -1, dtype=np.int64)
    known = np.full(k, -1, dtype=np.int64)
    ret = np.full(k, np.nan)
    reason = np.full(k, -1, dtype=np.int64)
    if isinstance(method, TripleBarrier):
        levels = {f: np.broadcast_to(_flex(f, getattr(sig, f), n, m, "signals", boolean=False), (n, m))[rows, cols]
                  for f in ("sl", "tp", "tsl")}
        stop_mode = 1 if sig.stop_mode == "price" else 0
        triple_barrier_nb(cfg.record(stop_mode=stop_mode), view.open, view.high, view.low, view.close, rows, cols,
                          direction.astype(np.float64), np.ascontiguousarray(levels["sl"]),
                          np.ascontiguousarray(levels["tp"]), np.ascontiguousarray(levels["tsl"]), method.horizon,
                          entry, known, ret, reason)
        positive = ret > 0
    else:
        next_open = cfg.fill == "next_open"
        forward_return_nb(view.open, view.close, rows, cols, method.horizon, next_open, ret, known)
        ret = ret * direction
        entry = np.where(known >= 0, rows + (1 if next_open else 0), -1)
        reason = np.where(known >= 0, TIME_BARRIER, -1)
        positive = ret > method.threshold
    label = np.where(known >= 0, positive.astype(np.int64), -1)
    frame = pl.DataFrame({
        "signal_bar": rows, "asset": cols, "ts": view.ts[rows], "symbol": np.array(view.symbols)[cols],
        "direction": direction, "entry_bar": entry, "known_bar": known, "ret": ret, "label": label,
        "barrier": [_REASONS.get(int(r), "other") for r in reason],
    })
    return Labels(frame)


@dataclass(frozen=True)
class LabeledSet:
    """Feature rows of labelled entries, in signal order: ``X`` (n, n_features), ``y`` (0/1),
    ``ret``, ``signal_bar``, ``known_bar``, ``asset``, ``ts``; ``feature_names``; the bars'
    ``content_hash`` and date range (the model's data snapshot)."""

    X: np.ndarray
    y: np.ndarray
    ret: np.ndarray
    signal_bar: np.ndarray
    known_bar: np.ndarray
    asset: np.ndarray
    ts: np.ndarray
    feature_names: tuple[str, ...]
    content_hash: str
    start: Any
    end: Any

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def label_end(self) -> np.ndarray:
        """Each row's label end as a row position (the last row whose signal bar is at or before
        the label's known bar): the span purging works on."""
        ends = np.searchsorted(self.signal_bar, self.known_bar, side="right") - 1
        return np.maximum(ends, np.arange(len(self))).astype(np.int64)


def make_dataset(bars: Any, source: Strategy | Signals, features: FeatureSet, *,
                 method: TripleBarrier | FixedHorizon | None = None, config: BacktestConfig | None = None) -> LabeledSet:
    """Features at each entry's signal bar joined with its label; entries in a feature's warm-up
    (NaN) and labels not known inside the data are left out.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import TrendPullback
    >>> from workbench.ml.features import default_features
    >>> ds = make_dataset(wb.data.sample("GOOG"), TrendPullback(), default_features(8))
    >>> ds.X.shape[1], bool((ds.known_bar > ds.signal_bar).all()), set(ds.y.tolist())
    (8, True, {0, 1})
    """
    from workbench.data.hashing import content_hash

    frame, view = prepare_bars(bars)
    fm = features.compute(view)
    lab = label_entries(view, source, method=method, config=config).frame
    order = np.lexsort((lab["asset"].to_numpy(), lab["signal_bar"].to_numpy()))
    lab = lab[order]
    rows, cols = lab["signal_bar"].to_numpy(), lab["asset"].to_numpy()
    X = fm.at(rows, cols)
    keep = (lab["known_bar"].to_numpy() >= 0) & ~np.isnan(X).any(axis=1)
    if not keep.any():
        raise DataValidationError(
            f"no entry has both a known label and complete features ({lab.height} entries, none usable); "
            "use more data, shorter feature windows or a shorter label horizon."
        )
    lab, X = lab.filter(pl.Series(keep)), X[keep]
    digest = content_hash(frame) if frame is not None else "arrays"
    return LabeledSet(
        np.ascontiguousarray(X), lab["label"].to_numpy(), lab["ret"].to_numpy(), lab["signal_bar"].to_numpy(),
        lab["known_bar"].to_numpy(), lab["asset"].to_numpy(), lab["ts"].to_numpy(), fm.names, digest,
        view.ts[0], view.ts[-1],
    )

