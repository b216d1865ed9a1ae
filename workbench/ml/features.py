"""Features declared once (name, kind, window), computed by the Numba indicators for many assets.

A :class:`Feature` is declared like a strategy parameter: its ``kind`` fixes the formula, the range
and the meaning, ``window`` the look-back. A :class:`FeatureSet` computes every feature for every
asset at once (one indicator kernel call per feature over the ``(n_bars, n_assets)`` arrays) and
generates its own documentation (:meth:`FeatureSet.describe`). Every value at bar ``t`` uses bars
up to ``t`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from workbench import indicators as ind
from workbench._validate import check_int
from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean
from workbench.strategies.base import Bars

__all__ = ["Feature", "FeatureSet", "FeatureMatrix", "default_features", "KINDS"]


def _lag(x: np.ndarray, w: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    out[w:] = x[:-w]
    return out


def _ret(b: Bars, w: int) -> np.ndarray:
    return b.close / _lag(b.close, w) - 1.0


def _vol(b: Bars, w: int) -> np.ndarray:
    r = b.derive("ml:log_return", lambda: np.log(b.close / _lag(b.close, 1)))
    return ind.rolling_std(r, w, ddof=1) if w > 1 else np.abs(r)


def _atr(b: Bars, w: int) -> np.ndarray:
    """ATR(w), computed once per bars and window (kept with the bars' derived values)."""
    return b.derive(f"ml:atr:{w}", lambda: ind.atr(b.high, b.low, b.close, w))


def _ma_dist(b: Bars, w: int, atr_window: int) -> np.ndarray:
    return (b.close - ind.sma(b.close, w)) / _atr(b, atr_window)


def _ema_dist(b: Bars, w: int, atr_window: int) -> np.ndarray:
    return (b.close - ind.ema(b.close, w)) / _atr(b, atr_window)


def _channel(b: Bars, w: int) -> np.ndarray:
    ch = ind.donchian(b.high, b.low, w)
    return (b.close - ch.lower) / (ch.upper - ch.lower)


@dataclass(frozen=True)
class _Kind:
    formula: str
    range: str
    meaning: str
    compute: Callable[..., np.ndarray]
    uses_atr: bool = False


KINDS: dict[str, _Kind] = {
    "return": _Kind("close[t] / close[t-w] - 1", "(-1, inf)", "momentum over w bars", _ret),
    "volatility": _Kind("std(log(close[i] / close[i-1]), i in t-w+1..t), ddof 1", "[0, inf)",
                        "realized volatility per bar", _vol),
    "rsi": _Kind("Wilder RSI(close, w)", "[0, 100]", "overbought (high) / oversold (low)",
                 lambda b, w: ind.rsi(b.close, w)),
    "atr_pct": _Kind("ATR(w) / close", "[0, inf)", "range-based volatility as a fraction of price",
                     lambda b, w: _atr(b, w) / b.close),
    "ma_distance": _Kind("(close - SMA(close, w)) / ATR(atr_window)", "(-inf, inf)",
                         "trend strength: ATRs above (+) or below (-) the average; the pullback rule's "
                         "signal strength for w = its trend window", _ma_dist, uses_atr=True),
    "ema_distance": _Kind("(close - EMA(close, w)) / ATR(atr_window)", "(-inf, inf)",
                          "ATRs above (+) or below (-) the exponential average", _ema_dist, uses_atr=True),
    "volume_z": _Kind("(volume - mean_w(volume)) / std_w(volume)", "(-inf, inf)",
                      "unusual volume (z-score over w bars)", lambda b, w: ind.zscore(b.volume, w)),
    "price_z": _Kind("(close - mean_w(close)) / std_w(close)", "(-inf, inf)",
                     "stretch from the rolling mean in standard deviations", lambda b, w: ind.zscore(b.close, w)),
    "channel_position": _Kind("(close - min_w(low)) / (max_w(high) - min_w(low))", "[0, 1]",
                              "where the close sits in the w-bar Donchian channel", _channel),
}


@dataclass(frozen=True)
class Feature:
    """One declared feature: a ``name``, a ``kind`` (one of :data:`KINDS`) and a ``window``.

    Examples
    --------
    >>> Feature("mom_20", "return", 20).formula
    'close[t] / close[t-w] - 1 (w = 20)'
    >>> Feature("x", "retrun", 5)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `kind` of feature 'x' must be one of return, volatility, rsi, atr_pct, ma_distance, ema_distance, volume_z, price_z, channel_position; got 'retrun'. Did you mean 'return'?
    """

    name: str
    kind: str
    window: int
    atr_window: int = 14
    help: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InvalidParameterError(f"a feature `name` must be an identifier; got {self.name!r}.")
        if self.kind not in KINDS:
            raise InvalidParameterError(
                f"`kind` of feature {self.name!r} must be one of {', '.join(KINDS)}; got {self.kind!r}."
                f"{did_you_mean(str(self.kind), KINDS)}"
            )
        object.__setattr__(self, "window", check_int(f"{self.name}.window", self.window, 1))
        object.__setattr__(self, "atr_window", check_int(f"{self.name}.atr_window", self.atr_window, 1))

    @property
    def formula(self) -> str:
        """The formula with its window(s) filled in."""
        k = KINDS[self.kind]
        extra = f", atr_window = {self.atr_window}" if k.uses_atr else ""
        return f"{k.formula} (w = {self.window}{extra})"

    def compute(self, bars: Bars) -> np.ndarray:
        """Values of shape ``(n_bars, n_assets)``; NaN during the warm-up."""
        k = KINDS[self.kind]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = k.compute(bars, self.window, self.atr_window) if k.uses_atr else k.compute(bars, self.window)
        out = np.asarray(out, dtype=np.float64)
        out[~np.isfinite(out)] = np.nan  # a zero range or a zero price move: undefined, not infinite
        return out


@dataclass(frozen=True)
class FeatureMatrix:
    """Computed features: ``values[f, t, j]`` for feature ``f``, bar ``t``, asset ``j`` (each
    feature one contiguous ``(n_bars, n_assets)`` block)."""

    values: np.ndarray
    names: tuple[str, ...]
    ts: np.ndarray
    symbols: tuple[str, ...]

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The feature rows of the (bar, asset) pairs, shape ``(len(rows), n_features)``."""
        return np.ascontiguousarray(self.values[:, np.asarray(rows), np.asarray(cols)].T)

    def to_frame(self) -> pl.DataFrame:
        """A long polars frame: ``ts``, ``symbol`` and one column per feature."""
        _, n, m = self.values.shape
        cols = {"ts": np.tile(self.ts, m), "symbol": np.repeat(np.array(self.symbols), n)}
        for f, name in enumerate(self.names):
            cols[name] = self.values[f].T.reshape(-1)
        return pl.DataFrame(cols)


@dataclass(frozen=True)
class FeatureSet:
    """An ordered set of :class:`Feature` declarations.

    Examples
    --------
    >>> import workbench as wb
    >>> fs = FeatureSet((Feature("mom_5", "return", 5), Feature("rsi_14", "rsi", 14)))
    >>> fm = fs.compute(wb.data.sample("GOOG"))
    >>> fm.values.shape, fm.names
    ((2, 2148, 1), ('mom_5', 'rsi_14'))
    >>> print(fs.describe().splitlines()[2])
    | mom_5 | return | close[t] / close[t-w] - 1 (w = 5) | (-1, inf) | momentum over w bars |
    """

    features: tuple[Feature, ...]
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        feats = tuple(self.features)
        if not feats or not all(isinstance(f, Feature) for f in feats):
            raise InvalidParameterError("`features` must be a non-empty sequence of Feature declarations.")
        names = tuple(f.name for f in feats)
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidParameterError(f"feature names must be unique; {', '.join(dup)} declared twice.")
        object.__setattr__(self, "features", feats)
        object.__setattr__(self, "_names", names)

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def compute(self, bars: Any, *, extra: Mapping[str, Any] | None = None) -> FeatureMatrix:
        """Compute every feature for every asset of ``bars`` (a bars frame, long format for many
        assets, or :class:`~workbench.data.BarArrays`). ``extra`` adds named arrays of shape
        ``(n_bars,)`` or ``(n_bars, n_assets)`` computed elsewhere (a rule's own signal strength)."""
        from workbench.backtesting.engine import prepare_bars

        view = bars if isinstance(bars, Bars) else prepare_bars(bars)[1]
        n, m = view.n_bars, view.n_assets
        cols = [f.compute(view) for f in self.features]
        names = list(self._names)
        for name, arr in (extra or {}).items():
            cols.append(_extra(name, arr, n, m, names))
            names.append(name)
        values = np.stack(cols, axis=0)
        return FeatureMatrix(values, tuple(names), view.ts, tuple(view.symbols))

    def describe(self, importance: Mapping[str, float] | None = None) -> str:
        """Markdown documentation: every feature's kind, formula, range and meaning, and with
        ``importance`` (a trained model's) its share and rank."""
        head = "| feature | kind | formula | range | meaning |"
        rule = "|---|---|---|---|---|"
        if importance is not None:
            head, rule = head + " importance | rank |", rule + "---|---|"
            order = sorted(self._names, key=lambda n: -float(importance.get(n, 0.0)))
        lines = [head, rule]
        for f in self.features:
            k = KINDS[f.kind]
            row = f"| {f.name} | {f.kind} | {f.formula} | {k.range} | {f.help or k.meaning} |"
            if importance is not None:
                row += f" {float(importance.get(f.name, 0.0)):.3f} | {order.index(f.name) + 1} |"
            lines.append(row)
        return "\n".join(lines)

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON-ready declarations (stored with a model)."""
        return [{"name": f.name, "kind": f.kind, "window": f.window, "atr_window": f.atr_window} for f in self.features]

    @classmethod
    def from_dict(cls, items: list[Mapping[str, Any]]) -> FeatureSet:
        return cls(tuple(Feature(**dict(i)) for i in items))


def _extra(name: str, arr: Any, n: int, m: int, names: list[str]) -> np.ndarray:
    if name in names:
        raise InvalidParameterError(f"extra feature {name!r} repeats a declared feature name; rename it.")
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape != (n, m):
        raise DataValidationError(f"extra feature {name!r} must have shape ({n},) or ({n}, {m}); got {a.shape}.")
    if np.isinf(a).any():
        t = int(np.argwhere(np.isinf(a))[0][0])
        raise DataValidationError(f"extra feature {name!r} holds inf at bar {t}; replace it with NaN or a finite value.")
    return a


def default_features(n: int = 12) -> FeatureSet:
    """A ready feature set of ``n`` features (up to 30): returns over several horizons, volatility,
    RSI, ATR-scaled distances to moving averages, volume z-score, channel position.

    >>> default_features(30).names[:4]
    ('ret_1', 'ret_5', 'ret_20', 'vol_20')
    """
    n = check_int("n", n, 1, 30)
    specs = [("return", 1), ("return", 5), ("return", 20), ("volatility", 20), ("rsi", 14),
             ("ma_distance", 50), ("volume_z", 20), ("atr_pct", 14), ("channel_position", 20),
             ("ma_distance", 100), ("rsi", 3), ("ema_distance", 20), ("return", 60), ("volatility", 5),
             ("volatility", 60), ("price_z", 20), ("rsi", 7), ("ma_distance", 200), ("volume_z", 5),
             ("channel_position", 55), ("return", 10), ("return", 120), ("atr_pct", 5), ("ema_distance", 50),
             ("price_z", 60), ("volume_z", 60), ("rsi", 28), ("channel_position", 10), ("ma_distance", 20),
             ("volatility", 120)]
    short = {"return": "ret", "volatility": "vol", "ma_distance": "madist", "ema_distance": "emadist",
             "channel_position": "chan", "price_z": "pz", "volume_z": "volz", "atr_pct": "atrpct", "rsi": "rsi"}
    return FeatureSet(tuple(Feature(f"{short[k]}_{w}", k, w) for k, w in specs[:n]))
