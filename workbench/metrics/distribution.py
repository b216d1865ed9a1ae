"""Shape and tail metrics of the distribution of per-bar returns.

Percentiles use numpy's default linear interpolation. Series whose values are all identical
(zero variance, or a spread below the float resolution) get 0.0 for skew and excess kurtosis
rather than NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.metrics._common import as_series, check_cutoff, safe_ratio

__all__ = ["value_at_risk", "conditional_value_at_risk", "skew", "kurtosis", "tail_ratio"]


def _value_at_risk(r: np.ndarray, cutoff: float) -> float:
    return float(np.percentile(r, 100.0 * cutoff))


def _conditional_value_at_risk(r: np.ndarray, cutoff: float) -> float:
    k = int((r.size - 1) * cutoff)
    return float(np.sort(r)[: k + 1].mean())


def _central_moments(r: np.ndarray) -> tuple[float, float, float]:
    d = r - r.mean()
    d2 = d * d
    return float(d2.mean()), float((d2 * d).mean()), float((d2 * d2).mean())


def _skew(r: np.ndarray) -> float:
    m2, m3, _ = _central_moments(r)
    den = m2 * math.sqrt(m2)
    return 0.0 if den == 0.0 or r.max() == r.min() else m3 / den


def _kurtosis(r: np.ndarray) -> float:
    m2, _, m4 = _central_moments(r)
    den = m2 * m2
    return 0.0 if den == 0.0 or r.max() == r.min() else m4 / den - 3.0


def _tail_ratio(r: np.ndarray) -> float:
    hi, lo = np.percentile(r, [95.0, 5.0])
    return safe_ratio(abs(float(hi)), abs(float(lo)))


def value_at_risk(returns: Any, *, cutoff: float = 0.05) -> float:
    """Historical value at risk: the ``cutoff`` percentile of the per-bar returns.

    Linear interpolation between order statistics, as ``numpy.percentile`` and empyrical's
    ``value_at_risk``. quantstats' ``value_at_risk`` is parametric (a normal quantile) instead.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    cutoff : float, default 0.05
        Tail probability in (0, 0.5].

    Returns
    -------
    float
        A return (negative for a loss).

    Examples
    --------
    >>> value_at_risk([-0.04, -0.02, 0.0, 0.02, 0.04], cutoff=0.25)
    -0.02
    """
    return _value_at_risk(as_series("returns", returns), check_cutoff(cutoff))


def conditional_value_at_risk(returns: Any, *, cutoff: float = 0.05) -> float:
    """Historical conditional value at risk (expected shortfall) of the per-bar returns.

    The mean of the ``k + 1`` lowest returns, ``k = floor((n - 1) * cutoff)`` (empyrical's
    definition). quantstats' default is the parametric (normal) expected shortfall.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    cutoff : float, default 0.05
        Tail probability in (0, 0.5].

    Returns
    -------
    float

    Examples
    --------
    >>> conditional_value_at_risk([-0.04, -0.02, 0.0, 0.02, 0.04], cutoff=0.25)
    -0.03
    """
    return _conditional_value_at_risk(as_series("returns", returns), check_cutoff(cutoff))


def skew(returns: Any) -> float:
    """Skewness ``m3 / m2 ** 1.5`` with population central moments (no bias correction).

    The definition of ``scipy.stats.skew`` (empyrical's summary statistics). pandas and
    quantstats report the adjusted estimator ``G1 = g1 * sqrt(n (n - 1)) / (n - 2)``.
    Identical returns give 0.0.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.

    Returns
    -------
    float

    Examples
    --------
    >>> round(skew([0.0, 0.0, 0.03]), 12)
    0.707106781187
    """
    return _skew(as_series("returns", returns))


def kurtosis(returns: Any) -> float:
    """Excess kurtosis ``m4 / m2 ** 2 - 3`` with population central moments (no bias correction).

    The definition of ``scipy.stats.kurtosis`` (Fisher, biased; empyrical's summary
    statistics). pandas and quantstats report the adjusted estimator
    ``G2 = ((n + 1) g2 + 6) (n - 1) / ((n - 2)(n - 3))``. Identical returns give 0.0.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.

    Returns
    -------
    float

    Examples
    --------
    >>> round(kurtosis([-0.01, 0.01, -0.01, 0.01]), 12)
    -2.0
    """
    return _kurtosis(as_series("returns", returns))


def tail_ratio(returns: Any) -> float:
    """Tail ratio ``|95th percentile| / |5th percentile|`` of the per-bar returns.

    empyrical's and quantstats' definition. A zero 5th percentile gives 0.0 when the 95th is
    zero too, NaN otherwise (an infinite ratio; empyrical gives inf).

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.

    Returns
    -------
    float

    Examples
    --------
    >>> round(tail_ratio([-0.01, 0.0, 0.02] * 10), 12)
    2.0
    """
    return _tail_ratio(as_series("returns", returns))
