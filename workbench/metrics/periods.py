"""Figures over calendar periods and rolling windows, and the worst drawdown episodes.

Calendar periods compound the per-bar returns inside each period (a month's return is
``prod(1 + r) - 1`` over its bars); rolling figures use the same definitions as
:mod:`workbench.metrics.returns` over each trailing window of ``window`` bars (NaN before the
first full window).

>>> import numpy as np, polars as pl, datetime as dt
>>> ts = pl.datetime_range(dt.datetime(2024, 1, 30), dt.datetime(2024, 2, 2), "1d", time_zone="UTC", eager=True)
>>> period_returns([0.1, 0.1, -0.5, 0.2], ts, every="1mo")["return"].round(4).to_list()
[0.21, -0.4]
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean
from workbench.metrics._common import (
    as_series,
    check_periods_per_year,
    check_risk_free,
    per_period_rate,
    runs,
)
from workbench.metrics.drawdown import _drawdown

__all__ = [
    "period_returns",
    "monthly_returns",
    "drawdown_periods",
    "rolling_sharpe",
    "rolling_sortino",
    "rolling_volatility",
    "rolling_beta",
    "trailing_returns",
]

Every = Literal["1d", "1w", "1mo", "1q", "1y"]
_EVERY = ("1d", "1w", "1mo", "1q", "1y")


def _aligned(returns: Any, ts: Any) -> tuple[np.ndarray, pl.Series]:
    r = as_series("returns", returns)
    stamps = ts if isinstance(ts, pl.Series) else pl.Series("ts", ts)
    if stamps.len() != r.size:
        raise DataValidationError(
            f"`ts` must have one timestamp per return ({r.size}); got {stamps.len()}. Pass the returns' own timestamps."
        )
    if not isinstance(stamps.dtype, pl.Datetime):
        raise DataValidationError(f"`ts` must hold datetimes; got {stamps.dtype}. Pass the `ts` column of the result.")
    return r, stamps.alias("ts")


def period_returns(returns: Any, ts: Any, *, every: Every = "1mo") -> pl.DataFrame:
    """Compounded return of each calendar period: ``period`` (its first instant), ``return``.

    Parameters
    ----------
    returns : array-like
        Per-bar simple returns.
    ts : polars.Series
        The bars' timestamps (the period is taken in their time zone).
    every : {"1d", "1w", "1mo", "1q", "1y"}
        Period length.

    Examples
    --------
    >>> import datetime as dt
    >>> ts = pl.Series([dt.datetime(2023, 12, 29), dt.datetime(2024, 1, 2)])
    >>> period_returns([0.1, 0.2], ts, every="1y")["return"].to_list()
    [0.1, 0.2]
    """
    if every not in _EVERY:
        raise InvalidParameterError(f"`every` must be one of {_EVERY}; got {every!r}.{did_you_mean(str(every), _EVERY)}")
    r, stamps = _aligned(returns, ts)
    frame = pl.DataFrame({"period": stamps.dt.truncate(every), "g": 1.0 + r})
    out = frame.group_by("period", maintain_order=True).agg(pl.col("g").product())
    return out.select("period", (pl.col("g") - 1.0).alias("return"))


def monthly_returns(returns: Any, ts: Any) -> pl.DataFrame:
    """Compounded returns by year (rows) and month (columns ``1``..``12``, null without bars),
    with the year's compounded return in ``year_return``.

    Examples
    --------
    >>> import datetime as dt
    >>> ts = pl.Series([dt.datetime(2024, 1, 5), dt.datetime(2024, 3, 5)])
    >>> monthly_returns([0.1, -0.1], ts).select("year", "1", "2", "3").row(0)
    (2024, 0.1, None, -0.1)
    """
    months = period_returns(returns, ts, every="1mo")
    months = months.with_columns(pl.col("period").dt.year().alias("year"), pl.col("period").dt.month().alias("month"))
    years = months.group_by("year").agg(((pl.col("return") + 1.0).product() - 1.0).alias("year_return"))
    wide = pl.DataFrame({"year": months["year"].unique().sort()})
    for m in range(1, 13):
        col = months.filter(pl.col("month") == m).select("year", pl.col("return").alias(str(m)))
        wide = wide.join(col, on="year", how="left")
    return wide.join(years, on="year", how="left").sort("year")


def drawdown_periods(equity: Any, ts: Any, *, init_cash: float | None = None, top: int = 5) -> pl.DataFrame:
    """The ``top`` deepest drawdown episodes, deepest first.

    An episode is a run of bars closing below the running peak (``init_cash`` is the first
    peak). Columns: ``start`` (first bar below the peak), ``valley`` (deepest bar), ``end``
    (first bar back at the peak; null if not recovered), ``depth`` (negative fraction),
    ``bars`` (bars below the peak) and ``recovery_bars`` (valley to end; null if not recovered).

    Examples
    --------
    >>> import datetime as dt
    >>> ts = pl.datetime_range(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 5), "1d", eager=True)
    >>> drawdown_periods([100, 90, 95, 101, 99], ts, init_cash=100).select("depth", "bars").rows()
    [(-0.1, 2), (-0.0198..., 1)]
    """
    eq = as_series("equity", equity)
    _, stamps = _aligned(np.zeros(eq.size), ts)
    dd = _drawdown(eq, init_cash)
    starts, ends = runs(dd < 0.0)
    rows = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=False):
        v = s + int(np.argmin(dd[s:e]))
        rec = e if e < eq.size else None
        rows.append((s, v, rec, float(dd[v]), e - s, None if rec is None else rec - v))
    rows.sort(key=lambda row: row[3])
    rows = rows[: max(int(top), 0)]
    at = lambda i: None if i is None else stamps[i]  # noqa: E731
    return pl.DataFrame({
        "start": pl.Series([at(r[0]) for r in rows], dtype=stamps.dtype),
        "valley": pl.Series([at(r[1]) for r in rows], dtype=stamps.dtype),
        "end": pl.Series([at(r[2]) for r in rows], dtype=stamps.dtype),
        "depth": pl.Series([r[3] for r in rows], dtype=pl.Float64),
        "bars": pl.Series([r[4] for r in rows], dtype=pl.Int64),
        "recovery_bars": pl.Series([r[5] for r in rows], dtype=pl.Int64),
    })


_TRAILING = (("MTD", "month", False), ("3M", "-3mo", False), ("6M", "-6mo", False), ("YTD", "year", False),
             ("1Y", "-1y", False), ("3Y (ann.)", "-3y", True), ("5Y (ann.)", "-5y", True),
             ("10Y (ann.)", "-10y", True))


def trailing_returns(returns: Any, ts: Any, *, periods_per_year: float) -> pl.DataFrame:
    """Returns over the trailing windows that end at the last bar: month and year to date, the
    last 3 and 6 months and 1 year (compounded), 3, 5 and 10 years and all the history
    (annualized like :func:`~workbench.metrics.annual_return`). A window starts at the first bar
    at or after its start (the first instant of the month or year for MTD and YTD, the last
    bar's time minus the span otherwise); windows longer than the history are left out.

    Examples
    --------
    >>> import datetime as dt
    >>> ts = pl.Series([dt.datetime(2023, 12, 29), dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 3)])
    >>> [(name, round(v, 6)) for name, v in trailing_returns([0.1, 0.1, 0.1], ts, periods_per_year=252).rows()[:2]]
    [('MTD', 0.21), ('YTD', 0.21)]
    """
    from workbench.metrics.returns import _annual_return

    r, stamps = _aligned(returns, ts)
    ppy = check_periods_per_year(periods_per_year)
    last, first = stamps[-1], stamps[0]
    names, values = [], []
    for name, span, annual in _TRAILING:
        if span in ("month", "year"):
            start = pl.Series([last]).dt.truncate("1mo" if span == "month" else "1y")[0]
        else:
            start = pl.Series([last]).dt.offset_by(span)[0]
            if start < first:
                continue
        window = r[(stamps >= start).to_numpy()]
        names.append(name)
        values.append(_annual_return(window, ppy) if annual else float(np.prod(1.0 + window) - 1.0))
    names.append("All-time (ann.)")
    values.append(_annual_return(r, ppy))
    return pl.DataFrame({"period": names, "return": values})


# --------------------------------------------------------------------------- rolling windows

def _window(window: Any, n: int) -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 2:
        raise InvalidParameterError(f"`window` must be an integer >= 2 (bars); got {window!r}.")
    return int(window)


def _rolling_sum(x: np.ndarray, w: int) -> np.ndarray:
    """Sum of each trailing window of ``w`` values (NaN before the first full window)."""
    out = np.full(x.size, np.nan)
    if x.size >= w:
        c = np.concatenate(([0.0], np.cumsum(x)))
        out[w - 1:] = c[w:] - c[:-w]
    return out


def _rolling_mean_std(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Trailing mean and sample standard deviation (centred on the whole series' mean first, so
    the sums of squares keep their precision)."""
    shift = float(x.mean()) if x.size else 0.0
    y = x - shift
    s1, s2 = _rolling_sum(y, w), _rolling_sum(y * y, w)
    var = np.maximum((s2 - s1 * s1 / w) / (w - 1), 0.0)
    return s1 / w + shift, np.sqrt(var)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Element-wise :func:`~workbench.metrics._common.safe_ratio` (0/0 → 0, x/0 → NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[(den == 0.0) & (num == 0.0)] = 0.0
    out[(den == 0.0) & (num != 0.0)] = np.nan
    return out


def rolling_volatility(returns: Any, *, window: int, periods_per_year: float) -> np.ndarray:
    """Annualized sample standard deviation over each trailing window.

    >>> rolling_volatility([0.01, -0.01, 0.01], window=2, periods_per_year=1).round(6).tolist()
    [nan, 0.014142, 0.014142]
    """
    r = as_series("returns", returns)
    _, std = _rolling_mean_std(r, _window(window, r.size))
    return std * math.sqrt(check_periods_per_year(periods_per_year))


def rolling_sharpe(returns: Any, *, window: int, periods_per_year: float, risk_free: float = 0.0) -> np.ndarray:
    """:func:`~workbench.metrics.sharpe_ratio` over each trailing window.

    >>> rolling_sharpe([0.01, 0.03, 0.02], window=2, periods_per_year=1).round(4).tolist()
    [nan, 1.4142, 3.5355]
    """
    r = as_series("returns", returns)
    ppy = check_periods_per_year(periods_per_year)
    ex = r - per_period_rate(check_risk_free(risk_free), ppy)
    mean, std = _rolling_mean_std(ex, _window(window, r.size))
    return _ratio(mean, std) * math.sqrt(ppy)


def rolling_sortino(returns: Any, *, window: int, periods_per_year: float, risk_free: float = 0.0) -> np.ndarray:
    """:func:`~workbench.metrics.sortino_ratio` over each trailing window.

    >>> rolling_sortino([0.01, -0.01, 0.03], window=2, periods_per_year=1).round(4).tolist()
    [nan, 0.0, 1.4142]
    """
    r = as_series("returns", returns)
    ppy = check_periods_per_year(periods_per_year)
    w = _window(window, r.size)
    ex = r - per_period_rate(check_risk_free(risk_free), ppy)
    mean = _rolling_sum(ex, w) / w
    down = np.sqrt(np.maximum(_rolling_sum(np.minimum(ex, 0.0) ** 2, w) / w, 0.0))
    return _ratio(mean, down) * math.sqrt(ppy)


def rolling_beta(returns: Any, benchmark: Any, *, window: int) -> np.ndarray:
    """Beta of ``returns`` against ``benchmark`` over each trailing window (0.0 where the
    benchmark is constant in the window, as :func:`~workbench.metrics.alpha_beta` gives).

    >>> rolling_beta([0.02, 0.04, 0.0], [0.01, 0.02, 0.0], window=2).round(6).tolist()
    [nan, 2.0, 2.0]
    """
    r, b = as_series("returns", returns), as_series("benchmark", benchmark)
    if b.size != r.size:
        raise DataValidationError(f"`benchmark` must have one return per bar ({r.size}); got {b.size}.")
    w = _window(window, r.size)
    x, y = b - b.mean(), r - r.mean()
    sx, sy = _rolling_sum(x, w), _rolling_sum(y, w)
    cov = _rolling_sum(x * y, w) - sx * sy / w
    var = _rolling_sum(x * x, w) - sx * sx / w
    flat = ~(var > 1e-12 * _rolling_sum(x * x, w))  # constant in the window (up to rounding), or NaN
    out = np.divide(cov, var, out=np.zeros(r.size), where=~flat)
    out[: w - 1] = np.nan
    return out
