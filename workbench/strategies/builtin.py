"""Built-in strategies, each a short, readable example of the vectorized style."""

from __future__ import annotations

import numpy as np

from workbench import indicators as ind
from workbench.indicators import crossed_above, crossed_below
from workbench.strategies.base import Bars, Signals, Strategy
from workbench.strategies.params import Param

__all__ = [
    "crossed_above", "crossed_below", "SmaCross", "EmaCross", "RsiMeanReversion",
    "BollingerBreakout", "DonchianBreakout", "TrendPullback",
]


_DIRECTION = Param("long", choices=("long", "short", "both"), help="trade long only, short only, or both ways")


def _directional(up: np.ndarray, down: np.ndarray, direction: str) -> Signals:
    """Long on ``up``/out on ``down``; mirrored for shorts; ``both`` reverses on each cross."""
    long_ = direction in ("long", "both")
    short = direction in ("short", "both")
    return Signals(
        entries=up if long_ else None, exits=down if long_ else None,
        short_entries=down if short else None, short_exits=up if short else None,
    )


class SmaCross(Strategy):
    """Moving-average crossover: long when the fast SMA crosses above the slow one.

    >>> import workbench as wb
    >>> wb.backtest(wb.data.sample("GOOG"), SmaCross()).stats.n_trades > 0
    True
    """

    fast = Param(10, low=2, high=200, help="fast SMA window (bars)")
    slow = Param(20, low=3, high=400, help="slow SMA window (bars)")
    direction = _DIRECTION
    constraints = ("fast < slow",)

    def signals(self, bars: Bars) -> Signals:
        up, down = ind.ma_crossings(bars.close, self.fast, self.slow, kind="sma")
        return _directional(up, down, self.direction)


class EmaCross(Strategy):
    """Exponential moving-average crossover (EMAs seeded with the SMA of their first window)."""

    fast = Param(12, low=2, high=200, help="fast EMA window (bars)")
    slow = Param(26, low=3, high=400, help="slow EMA window (bars)")
    direction = _DIRECTION
    constraints = ("fast < slow",)

    def signals(self, bars: Bars) -> Signals:
        up, down = ind.ma_crossings(bars.close, self.fast, self.slow, kind="ema")
        return _directional(up, down, self.direction)


class RsiMeanReversion(Strategy):
    """Buy when RSI recovers up through ``lower`` (leaving oversold); sell when it crosses above
    ``upper``. With ``direction="both"`` it also shorts when RSI falls back through ``upper``."""

    window = Param(14, low=2, high=100, help="RSI window (Wilder)")
    lower = Param(30.0, low=1.0, high=50.0, step=1.0, help="oversold level")
    upper = Param(70.0, low=50.0, high=99.0, step=1.0, help="overbought level")
    direction = _DIRECTION
    constraints = ("lower < upper",)

    def signals(self, bars: Bars) -> Signals:
        r = ind.rsi(bars.close, self.window)
        long_ = self.direction in ("long", "both")
        short = self.direction in ("short", "both")
        return Signals(
            entries=crossed_above(r, self.lower) if long_ else None,
            exits=crossed_above(r, self.upper) if long_ else None,
            short_entries=crossed_below(r, self.upper) if short else None,
            short_exits=crossed_below(r, self.lower) if short else None,
        )


class BollingerBreakout(Strategy):
    """Long when the close breaks above the upper Bollinger band; out when it falls below the middle."""

    window = Param(20, low=5, high=200, help="band window (bars)")
    k = Param(2.0, low=0.5, high=4.0, step=0.25, help="band width in standard deviations")

    def signals(self, bars: Bars) -> Signals:
        bands = ind.bollinger(bars.close, self.window, k=self.k)
        return Signals(entries=crossed_above(bars.close, bands.upper), exits=crossed_below(bars.close, bands.mid))


class DonchianBreakout(Strategy):
    """Turtle-style channel breakout: long when the close exceeds the highest high of the previous
    ``entry_window`` bars, out below the lowest low of the previous ``exit_window`` bars."""

    entry_window = Param(20, low=2, high=300, help="breakout channel (bars)")
    exit_window = Param(10, low=2, high=300, help="exit channel (bars)")
    constraints = ("exit_window <= entry_window",)

    def signals(self, bars: Bars) -> Signals:
        up = ind.donchian(bars.high, bars.low, self.entry_window).upper
        down = ind.donchian(bars.high, bars.low, self.exit_window).lower
        prev_up, prev_down = _shift(up), _shift(down)
        with np.errstate(invalid="ignore"):
            return Signals(entries=bars.close > prev_up, exits=bars.close < prev_down)


def _shift(a: np.ndarray) -> np.ndarray:
    out = np.full_like(a, np.nan)
    out[1:] = a[:-1]
    return out


class TrendPullback(Strategy):
    """Buy pullbacks in an uptrend, with the triple exit and a suggested position weight.

    Uptrend: close above its ``trend`` SMA. Pullback: the short RSI dipped below ``oversold``
    and turns back up. Exits: an initial stop ``stop_atr`` ATRs below the entry close, a trailing
    stop ``trail_atr`` ATRs below the best price, and a profit target ``target_atr`` ATRs above.
    The suggested weight grows with signal strength (distance above the trend in ATRs):
    high 0.8–1.0, medium 0.5–0.7, low 0.3–0.5.
    """

    trend = Param(100, low=20, high=400, help="trend SMA window (bars)")
    rsi_window = Param(3, low=2, high=30, help="pullback RSI window (bars)")
    oversold = Param(20.0, low=1.0, high=50.0, step=1.0, help="RSI level that marks a pullback")
    atr_window = Param(14, low=2, high=100, help="ATR window (bars)")
    stop_atr = Param(2.0, low=0.5, high=10.0, step=0.5, help="initial stop distance (ATRs)")
    trail_atr = Param(3.0, low=0.5, high=10.0, step=0.5, help="trailing stop distance (ATRs)")
    target_atr = Param(4.0, low=0.5, high=20.0, step=0.5, help="profit target distance (ATRs)")

    def signals(self, bars: Bars) -> Signals:
        close = bars.close
        trend = ind.sma(close, self.trend)
        r = ind.rsi(close, self.rsi_window)
        atr = ind.atr(bars.high, bars.low, close, self.atr_window)
        with np.errstate(invalid="ignore", divide="ignore"):
            uptrend = close > trend
            entries = uptrend & crossed_above(r, self.oversold)
            strength = (close - trend) / atr
            stop = close - self.stop_atr * atr
            trail = self.trail_atr * atr
        return Signals(  # no stop where it would fall at or below zero, no trail without range
            entries=entries, sl=np.where(stop > 0, stop, np.nan), tp=close + self.target_atr * atr,
            tsl=np.where(trail > 0, trail, np.nan), weight=signal_weight(strength), stop_mode="price",
        )


def signal_weight(strength: np.ndarray) -> np.ndarray:
    """Map signal strength (ATRs above trend) to a weight: ≥ 3 → 0.8–1.0 (high), 1–3 → 0.5–0.7
    (medium), below 1 → 0.3–0.5 (low); NaN stays NaN.

    >>> signal_weight(np.array([0.0, 1.0, 2.0, 3.0, 6.0, np.nan])).round(2).tolist()
    [0.3, 0.5, 0.6, 0.8, 1.0, nan]
    """
    s = np.asarray(strength, dtype=np.float64)
    low = 0.3 + 0.2 * np.clip(s, 0.0, 1.0)
    medium = 0.5 + 0.1 * np.clip(s - 1.0, 0.0, 2.0)
    high = 0.8 + 0.2 * np.clip((s - 3.0) / 3.0, 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        return np.where(s >= 3.0, high, np.where(s >= 1.0, medium, low))
