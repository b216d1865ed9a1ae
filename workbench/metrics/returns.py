"""Return and risk-adjusted-return metrics of one series of per-bar simple returns.

Every annualized figure takes ``periods_per_year`` (252 for trading days, 365 for crypto daily
bars, 12 for monthly bars...). Rates (``risk_free``, ``required_return``) are annual and
de-annualized by compounding: ``(1 + rate) ** (1 / periods_per_year) - 1`` per bar.

Conventions shared by every ratio: ``0 / 0`` gives ``0.0``; a non-zero numerator over a zero
denominator (an infinite ratio) gives NaN; no ratio is ever ±inf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench._validate import check_number
from workbench.errors import DataValidationError
from workbench.metrics._common import (
    as_mask,
    as_series,
    check_init_cash,
    check_periods_per_year,
    check_risk_free,
    check_years,
    per_period_rate,
    safe_ratio,
)
from workbench.metrics.drawdown import _drawdown

__all__ = [
    "simple_returns",
    "buy_and_hold_returns",
    "total_return",
    "cagr",
    "annual_return",
    "annual_volatility",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "omega_ratio",
    "alpha_beta",
    "exposure",
]

_MAX_LOG = 709.0  # exp(709) is close to the largest float64


# --------------------------------------------------------------------------- private cores
# Each core takes validated float64 arrays and plain floats; compute_stats calls them directly.

def _simple_returns(equity: np.ndarray, init_cash: float | None) -> np.ndarray:
    prev = np.empty_like(equity)
    prev[0] = equity[0] if init_cash is None else init_cash
    prev[1:] = equity[:-1]
    out = np.zeros_like(equity)
    alive = prev > 0.0
    out[alive] = equity[alive] / prev[alive] - 1.0
    return out


def _annualize_growth(growth: float, exponent: float) -> float:
    """``growth ** exponent - 1``; -1.0 for a wiped-out account, NaN beyond the float range."""
    if growth <= 0.0:
        return -1.0
    log = math.log(growth) * exponent
    if log > _MAX_LOG:
        return float("nan")
    return math.expm1(log)


def _sample_std(x: np.ndarray) -> float:
    """Sample standard deviation (ddof=1); exactly 0.0 for fewer than two or identical values."""
    if x.size < 2 or x.max() == x.min():
        return 0.0
    return float(np.std(x, ddof=1))


def _annual_return(r: np.ndarray, ppy: float) -> float:
    return _annualize_growth(float(np.prod(1.0 + r)), ppy / r.size)


def _annual_volatility(r: np.ndarray, ppy: float) -> float:
    return _sample_std(r) * math.sqrt(ppy)


def _sharpe(r: np.ndarray, ppy: float, risk_free: float) -> float:
    excess = r - per_period_rate(risk_free, ppy)
    return safe_ratio(float(np.mean(excess)), _sample_std(excess)) * math.sqrt(ppy)


def _sortino(r: np.ndarray, ppy: float, risk_free: float) -> float:
    excess = r - per_period_rate(risk_free, ppy)
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    return safe_ratio(float(np.mean(excess)), downside) * math.sqrt(ppy)


def _calmar(r: np.ndarray, ppy: float) -> float:
    max_dd = float(_drawdown(np.cumprod(1.0 + r), 1.0).min())
    return safe_ratio(_annual_return(r, ppy), -max_dd)


def _omega(r: np.ndarray, ppy: float, required_return: float) -> float:
    diff = r - per_period_rate(required_return, ppy)
    gains = float(diff[diff > 0.0].sum())
    losses = float(-diff[diff < 0.0].sum())
    return safe_ratio(gains, losses)


def _alpha_beta(r: np.ndarray, bench: np.ndarray, ppy: float, risk_free: float) -> tuple[float, float]:
    rf = per_period_rate(risk_free, ppy)
    ex, ex_bench = r - rf, bench - rf
    centred = ex_bench - ex_bench.mean()
    var = float(np.mean(centred * centred))
    if var == 0.0 or ex_bench.max() == ex_bench.min():
        beta = 0.0
    else:
        beta = float(np.mean(centred * (ex - ex.mean()))) / var
    return _annualize_growth(1.0 + float(np.mean(ex - beta * ex_bench)), ppy), beta


# --------------------------------------------------------------------------- public API

def buy_and_hold_returns(close: np.ndarray) -> np.ndarray:
    """Per-bar returns of holding the assets of closes ``close`` ``(n_bars, n_assets)`` in equal
    weights: the default benchmark of backtests and walk-forward analyses.

    The first return is 0.0; a bar where an asset has no close on both sides averages the assets
    that have (a bar where none has gives NaN).

    Examples
    --------
    >>> buy_and_hold_returns(np.array([[10.0, 4.0], [11.0, 5.0]]))
    array([0.   , 0.175])
    """
    c = np.asarray(close, dtype=np.float64)
    r = np.zeros(c.shape[0])
    change = c[1:] / c[:-1] - 1.0
    if np.isnan(change).any():  # a missing close: the mean of the assets priced on both bars
        r[1:] = np.nanmean(change, axis=1)
    elif c.shape[1] == 1:  # what nanmean gives without NaN (sum / count), without its cost
        r[1:] = change[:, 0]
    else:
        r[1:] = change.mean(axis=1)
    return r


def simple_returns(equity: Any, *, init_cash: float | None = None) -> np.ndarray:
    """Per-bar simple returns ``r_t = equity_t / equity_{t-1} - 1`` of an equity curve.

    The first return is ``equity_0 / init_cash - 1`` (``init_cash`` is the account value
    before bar 0), or 0.0 when ``init_cash`` is None. A bar that follows a non-positive equity
    (an account already wiped out) has return 0.0.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close, 1-D, finite.
    init_cash : float, optional
        Account value before the first bar.

    Returns
    -------
    numpy.ndarray
        One float64 return per bar.

    Raises
    ------
    DataValidationError
        If ``equity`` is empty, not 1-D or not finite.

    Examples
    --------
    >>> simple_returns([110.0, 99.0], init_cash=100.0)
    array([ 0.1, -0.1])
    """
    eq = as_series("equity", equity)
    return _simple_returns(eq, None if init_cash is None else check_init_cash(init_cash))


def total_return(equity: Any, *, init_cash: float) -> float:
    """Total return ``equity[-1] / init_cash - 1`` over the whole curve.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float
        Account value before the first bar.

    Returns
    -------
    float
        A fraction: 0.25 for +25%.

    Examples
    --------
    >>> total_return([100.0, 125.0], init_cash=100.0)
    0.25
    """
    eq = as_series("equity", equity)
    return float(eq[-1] / check_init_cash(init_cash) - 1.0)


def cagr(equity: Any, *, init_cash: float, periods_per_year: float, years: float | None = None) -> float:
    """Compound annual growth rate read off the ends of the equity curve.

    ``(equity[-1] / init_cash) ** (1 / years) - 1`` with ``years = len(equity) /
    periods_per_year`` unless a calendar span ``years`` is given (backtesting.py's "CAGR"
    uses the calendar; its "Return (Ann.)" counts bars). Counting bars, it equals
    :func:`annual_return` of the curve's returns to rounding. A curve that ends at or below
    zero gives -1.0 (everything lost); growth beyond the float range gives NaN.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close.
    init_cash : float
        Account value before the first bar.
    periods_per_year : float
        Bars per year.
    years : float, optional
        Calendar time from the start to the last bar, overriding the bar count.

    Returns
    -------
    float

    Examples
    --------
    >>> round(cagr([100.0, 110.0, 121.0], init_cash=100.0, periods_per_year=1), 12)
    0.1
    >>> round(cagr([121.0], init_cash=100.0, periods_per_year=252, years=2.0), 12)
    0.1
    """
    eq = as_series("equity", equity)
    cash = check_init_cash(init_cash)
    span = eq.size / check_periods_per_year(periods_per_year) if years is None else check_years(years)
    return _annualize_growth(float(eq[-1] / cash), 1.0 / span)


def annual_return(returns: Any, *, periods_per_year: float) -> float:
    """Annualized compound return ``prod(1 + r) ** (periods_per_year / n) - 1``.

    The same definition as empyrical's ``annual_return`` (its CAGR). A compounded wealth at or
    below zero gives -1.0; growth beyond the float range gives NaN.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.

    Returns
    -------
    float

    Examples
    --------
    >>> round(annual_return([0.1, 0.1], periods_per_year=2), 12)
    0.21
    """
    return _annual_return(as_series("returns", returns), check_periods_per_year(periods_per_year))


def annual_volatility(returns: Any, *, periods_per_year: float) -> float:
    """Annualized volatility: sample standard deviation (ddof=1) times ``sqrt(periods_per_year)``.

    The same definition as empyrical's ``annual_volatility``. Fewer than two returns, or
    identical returns, give exactly 0.0.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.

    Returns
    -------
    float

    Examples
    --------
    >>> annual_volatility([0.01, -0.01], periods_per_year=4)
    0.0282842712...
    """
    return _annual_volatility(as_series("returns", returns), check_periods_per_year(periods_per_year))


def sharpe_ratio(returns: Any, *, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Annualized Sharpe ratio ``mean(x) / std(x, ddof=1) * sqrt(periods_per_year)``.

    ``x = r - rf`` are the excess returns, with ``rf`` the annual ``risk_free`` de-annualized
    by compounding (as quantstats' ``sharpe``; empyrical takes a per-bar rate instead).
    Zero variance (identical returns, or fewer than two): 0.0 when the mean excess return is
    0, NaN otherwise (an infinite ratio) where empyrical gives ±inf.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.
    risk_free : float, default 0.0
        Annual risk-free rate as a fraction.

    Returns
    -------
    float

    Examples
    --------
    >>> sharpe_ratio([0.01, 0.03], periods_per_year=1)
    1.4142135...
    >>> sharpe_ratio([0.0, 0.0], periods_per_year=252)
    0.0
    """
    r = as_series("returns", returns)
    return _sharpe(r, check_periods_per_year(periods_per_year), check_risk_free(risk_free))


def sortino_ratio(returns: Any, *, periods_per_year: float, risk_free: float = 0.0) -> float:
    """Annualized Sortino ratio ``mean(x) / sqrt(mean(min(x, 0) ** 2)) * sqrt(periods_per_year)``.

    ``x`` are the excess returns over the de-annualized ``risk_free`` (see
    :func:`sharpe_ratio`); the downside deviation averages over all ``n`` bars (empyrical's
    and quantstats' definition). No downside: 0.0 when the mean excess return is 0, NaN
    otherwise (an infinite ratio).

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.
    risk_free : float, default 0.0
        Annual risk-free rate (the minimum acceptable return).

    Returns
    -------
    float

    Examples
    --------
    >>> sortino_ratio([0.03, -0.01], periods_per_year=1)
    1.4142135...
    """
    r = as_series("returns", returns)
    return _sortino(r, check_periods_per_year(periods_per_year), check_risk_free(risk_free))


def calmar_ratio(returns: Any, *, periods_per_year: float) -> float:
    """Calmar ratio: :func:`annual_return` over the absolute maximum drawdown.

    The drawdown is that of the wealth ``cumprod(1 + r)`` started at 1, so a loss on the
    first bar counts (empyrical's definition). No drawdown: 0.0 when the annual return is 0,
    NaN otherwise (empyrical gives NaN in both cases).

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.

    Returns
    -------
    float

    Examples
    --------
    >>> round(calmar_ratio([-0.5, 1.0], periods_per_year=2), 12)
    0.0
    >>> round(calmar_ratio([0.5, -0.2], periods_per_year=2), 12)
    1.0
    """
    r = as_series("returns", returns)
    return _calmar(r, check_periods_per_year(periods_per_year))


def omega_ratio(returns: Any, *, periods_per_year: float, required_return: float = 0.0) -> float:
    """Omega ratio: the sum of returns above a threshold over the sum of shortfalls below it.

    The threshold is the annual ``required_return`` de-annualized by compounding (empyrical's
    and quantstats' definition). No shortfall: 0.0 when nothing lies above the threshold
    either, NaN otherwise (empyrical gives NaN in both cases).

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    periods_per_year : float
        Bars per year.
    required_return : float, default 0.0
        Annual minimum acceptable return, > -1.

    Returns
    -------
    float

    Examples
    --------
    >>> omega_ratio([0.02, -0.01, 0.01], periods_per_year=252)
    3.0
    """
    r = as_series("returns", returns)
    req = check_number("required_return", required_return, -1, 1e6, lo_open=True)
    return _omega(r, check_periods_per_year(periods_per_year), req)


def alpha_beta(
    returns: Any, benchmark: Any, *, periods_per_year: float, risk_free: float = 0.0
) -> tuple[float, float]:
    """Annualized alpha and beta of ``returns`` against ``benchmark`` returns.

    With excess returns ``x = r - rf`` and ``y = b - rf`` (``rf`` de-annualized as in
    :func:`sharpe_ratio`): ``beta = cov(x, y) / var(y)`` (population moments) and
    ``alpha = (1 + mean(x - beta * y)) ** periods_per_year - 1`` (empyrical's definition).
    A constant benchmark explains nothing: beta is 0.0 (empyrical gives NaN) and alpha
    annualizes the mean excess return.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns of the strategy.
    benchmark : array-like
        Per-bar simple returns of the benchmark, same length.
    periods_per_year : float
        Bars per year.
    risk_free : float, default 0.0
        Annual risk-free rate.

    Returns
    -------
    tuple of float
        ``(alpha, beta)``.

    Raises
    ------
    DataValidationError
        If the two series differ in length.

    Examples
    --------
    >>> a, b = alpha_beta([0.02, -0.02, 0.04], [0.01, -0.01, 0.02], periods_per_year=1)
    >>> round(a, 12), round(b, 12)
    (0.0, 2.0)
    """
    r, bench = as_series("returns", returns), as_series("benchmark", benchmark)
    if r.size != bench.size:
        raise DataValidationError(
            f"`benchmark` must have one return per bar of `returns` ({r.size}); got {bench.size}. "
            "Align the two series on the same bars."
        )
    return _alpha_beta(r, bench, check_periods_per_year(periods_per_year), check_risk_free(risk_free))


def exposure(held: Any) -> float:
    """Fraction of bars on which the account holds a position (``held`` True or non-zero).

    Parameters
    ----------
    held : array-like
        One bool (or number, non-zero meaning held) per bar.

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> exposure([True, False, True, True])
    0.75
    """
    return float(as_mask("exposure", held).mean())
