"""Drawdown metrics of an equity curve.

The drawdown at a bar is ``equity / running_peak - 1``: 0 at a new high, negative below it.
With ``init_cash`` the starting cash is the first peak, so a loss on the very first bar is a
drawdown. Drawdowns are clipped at -1 (an account at or below zero has lost everything).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.metrics._common import as_series, check_init_cash, runs

__all__ = [
    "drawdown_series",
    "max_drawdown",
    "max_drawdown_duration",
    "average_drawdown",
    "ulcer_index",
]


def _drawdown(equity: np.ndarray, init_cash: float | None) -> np.ndarray:
    if init_cash is None:
        peak = np.maximum.accumulate(equity)
    else:
        peak = np.maximum.accumulate(np.concatenate(([init_cash], equity)))[1:]
    dd = np.full(equity.size, -1.0)
    alive = peak > 0.0
    with np.errstate(over="ignore"):  # a tiny peak and a negative equity: -inf, clipped to -1
        dd[alive] = np.maximum(equity[alive] / peak[alive] - 1.0, -1.0)
    return dd


def _max_drawdown_duration(dd: np.ndarray) -> int:
    starts, ends = runs(dd < 0.0)
    return int((ends - starts).max()) if starts.size else 0


def _average_drawdown(dd: np.ndarray) -> float:
    starts, _ = runs(dd < 0.0)
    return float(np.minimum.reduceat(dd, starts).mean()) if starts.size else 0.0


def _ulcer_index(dd: np.ndarray) -> float:
    return math.sqrt(float(np.mean(dd * dd)))


def _checked(equity: Any, init_cash: float | None) -> np.ndarray:
    eq = as_series("equity", equity)
    return _drawdown(eq, None if init_cash is None else check_init_cash(init_cash))


def drawdown_series(equity: Any, *, init_cash: float | None = None) -> np.ndarray:
    """The drawdown at each bar, ``equity / running_peak - 1``, in [-1, 0].

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float, optional
        Account value before the first bar, counted as the first peak.

    Returns
    -------
    numpy.ndarray
        One float64 per bar.

    Examples
    --------
    >>> drawdown_series([100.0, 80.0, 120.0], init_cash=100.0)
    array([ 0. , -0.2,  0. ])
    """
    return _checked(equity, init_cash)


def max_drawdown(equity: Any, *, init_cash: float | None = None) -> float:
    """Maximum drawdown: the deepest ``equity / running_peak - 1``, a negative fraction.

    empyrical's and quantstats' definition (they start the wealth at 1, as ``init_cash``
    does here). 0.0 when the curve never falls below a previous peak; never below -1.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float, optional
        Account value before the first bar, counted as the first peak.

    Returns
    -------
    float
        In [-1, 0]: -0.25 for a 25% drawdown.

    Examples
    --------
    >>> max_drawdown([100.0, 120.0, 90.0, 130.0])
    -0.25
    >>> max_drawdown([90.0, 95.0], init_cash=100.0)
    -0.1
    """
    return float(_checked(equity, init_cash).min())


def max_drawdown_duration(equity: Any, *, init_cash: float | None = None) -> int:
    """The longest run of consecutive bars that close below their running peak.

    Counted in bars (multiply by the bar spacing for a time). A drawdown still open at the
    last bar counts up to the last bar. 0 when the curve never falls below a previous peak.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float, optional
        Account value before the first bar, counted as the first peak.

    Returns
    -------
    int

    Examples
    --------
    >>> max_drawdown_duration([100.0, 90.0, 95.0, 101.0, 99.0])
    2
    """
    return _max_drawdown_duration(_checked(equity, init_cash))


def average_drawdown(equity: Any, *, init_cash: float | None = None) -> float:
    """The mean depth of the drawdown episodes (as backtesting.py's "Avg. Drawdown").

    An episode is a maximal run of bars below the running peak; its depth is its lowest
    drawdown. 0.0 when the curve never falls below a previous peak.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float, optional
        Account value before the first bar, counted as the first peak.

    Returns
    -------
    float
        A negative fraction, or 0.0.

    Examples
    --------
    >>> round(average_drawdown([100.0, 90.0, 100.0, 70.0]), 12)
    -0.2
    """
    return _average_drawdown(_checked(equity, init_cash))


def ulcer_index(equity: Any, *, init_cash: float | None = None) -> float:
    """Ulcer index: the root mean square of the drawdown at every bar, as a fraction.

    ``sqrt(mean(dd ** 2))`` over the ``n`` bars (Martin's definition). quantstats divides the
    sum of squares by ``n - 1`` instead, which is larger by ``sqrt(n / (n - 1))``. 0.0 when
    the curve never falls below a previous peak.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float, optional
        Account value before the first bar, counted as the first peak.

    Returns
    -------
    float
        Non-negative.

    Examples
    --------
    >>> ulcer_index([100.0, 80.0, 100.0, 100.0])
    0.1
    """
    return _ulcer_index(_checked(equity, init_cash))
