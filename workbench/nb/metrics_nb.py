"""Scalar performance metrics of one series, callable from inside other kernels.

The fused parameter sweeps compute a metric per parameter set without leaving Numba; these
kernels are their building blocks. Each equals (to 1e-12 relative) the numpy function of the
same name in :mod:`workbench.metrics`, which documents the definition and the conventions
(``0 / 0 → 0.0``, an infinite ratio → NaN, never ±inf). Inputs are validated by the caller:
float64 arrays of at least one finite value, ``periods_per_year > 0``, ``init_cash > 0``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "returns_1d_nb",
    "total_return_nb",
    "annual_return_1d_nb",
    "sharpe_ratio_1d_nb",
    "sortino_ratio_1d_nb",
    "max_drawdown_1d_nb",
    "calmar_ratio_1d_nb",
]

_MAX_LOG = 709.0


@njit(cache=True)
def _safe_ratio_nb(num, den):
    """``num / den`` with ``0 / 0 → 0.0`` and ``x / 0 → NaN`` (``metrics._common.safe_ratio``)."""
    if den == 0.0:
        return 0.0 if num == 0.0 else np.nan
    return num / den


@njit(cache=True)
def _annualize_growth_nb(growth, exponent):
    """``growth ** exponent - 1``; -1.0 for growth <= 0, NaN beyond the float range."""
    if growth <= 0.0:
        return -1.0
    log = math.log(growth) * exponent
    if log > _MAX_LOG:
        return np.nan
    return math.expm1(log)


@njit(cache=True)
def _per_period_rate_nb(annual_rate, periods_per_year):
    return (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0


@njit(cache=True)
def _excess_mean_std_nb(returns, rf):
    """Mean and sample std (ddof=1) of ``returns - rf``; std exactly 0 for < 2 or equal values."""
    n = returns.shape[0]
    total = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        x = returns[i] - rf
        total += x
        lo = min(lo, x)
        hi = max(hi, x)
    mean = total / n
    if n < 2 or lo == hi:
        return mean, 0.0
    ss = 0.0
    for i in range(n):
        d = returns[i] - rf - mean
        ss += d * d
    return mean, math.sqrt(ss / (n - 1))


@njit(cache=True)
def returns_1d_nb(equity, init_cash, out):
    """Write per-bar simple returns of ``equity`` into ``out``.

    Reference: ``workbench.metrics.simple_returns(equity, init_cash=init_cash)``; an
    ``init_cash`` of 0 stands for None (the first return is 0).
    """
    prev = init_cash
    for i in range(equity.shape[0]):
        if i > 0:
            prev = equity[i - 1]
        elif prev <= 0.0:
            prev = equity[0]
        out[i] = equity[i] / prev - 1.0 if prev > 0.0 else 0.0


@njit(cache=True)
def total_return_nb(equity, init_cash):
    """``equity[-1] / init_cash - 1``.

    Reference: ``workbench.metrics.total_return``.
    """
    return equity[equity.shape[0] - 1] / init_cash - 1.0


@njit(cache=True)
def annual_return_1d_nb(returns, periods_per_year):
    """Annualized compound return of per-bar ``returns``.

    Reference: ``workbench.metrics.annual_return``.
    """
    growth = 1.0
    for i in range(returns.shape[0]):
        growth *= 1.0 + returns[i]
    return _annualize_growth_nb(growth, periods_per_year / returns.shape[0])


@njit(cache=True)
def sharpe_ratio_1d_nb(returns, periods_per_year, risk_free=0.0):
    """Annualized Sharpe ratio of per-bar ``returns`` over an annual ``risk_free`` rate.

    Reference: ``workbench.metrics.sharpe_ratio``.
    """
    mean, std = _excess_mean_std_nb(returns, _per_period_rate_nb(risk_free, periods_per_year))
    return _safe_ratio_nb(mean, std) * math.sqrt(periods_per_year)


@njit(cache=True)
def sortino_ratio_1d_nb(returns, periods_per_year, risk_free=0.0):
    """Annualized Sortino ratio of per-bar ``returns`` over an annual ``risk_free`` rate.

    Reference: ``workbench.metrics.sortino_ratio``.
    """
    rf = _per_period_rate_nb(risk_free, periods_per_year)
    n = returns.shape[0]
    total = 0.0
    down = 0.0
    for i in range(n):
        x = returns[i] - rf
        total += x
        if x < 0.0:
            down += x * x
    return _safe_ratio_nb(total / n, math.sqrt(down / n)) * math.sqrt(periods_per_year)


@njit(cache=True)
def max_drawdown_1d_nb(equity, init_cash=0.0):
    """Maximum drawdown of ``equity``, in [-1, 0], with ``init_cash`` as the first peak.

    Reference: ``workbench.metrics.max_drawdown(equity, init_cash=init_cash)``; an
    ``init_cash`` of 0 stands for None (no peak before the first bar).
    """
    peak = init_cash
    worst = 0.0
    for i in range(equity.shape[0]):
        peak = max(peak, equity[i])
        dd = max(equity[i] / peak - 1.0, -1.0) if peak > 0.0 else -1.0
        worst = min(worst, dd)
    return worst


@njit(cache=True)
def calmar_ratio_1d_nb(returns, periods_per_year):
    """Calmar ratio of per-bar ``returns``: annual return over the drawdown of ``cumprod(1 + r)``.

    Reference: ``workbench.metrics.calmar_ratio``.
    """
    wealth = 1.0
    peak = 1.0
    worst = 0.0
    for i in range(returns.shape[0]):
        wealth *= 1.0 + returns[i]
        peak = max(peak, wealth)
        worst = min(worst, max(wealth / peak - 1.0, -1.0))
    return _safe_ratio_nb(annual_return_1d_nb(returns, periods_per_year), -worst)
