"""The figures a tearsheet shows beside :class:`~workbench.metrics.Stats`: autocorrelation-penalized
("smart") ratios, the probabilistic Sharpe ratio, recovery factor, risk of ruin, correlation with
the benchmark and the best, worst and win rate of calendar periods.

Each is one function here (or in :mod:`workbench.metrics.periods`), the one definition every report
shows. Relation to quantstats, named where it differs on purpose:

- ``smart_sharpe_ratio`` / ``smart_sortino_ratio``: quantstats' ``sharpe(smart=True)`` and
  ``sortino(smart=True)`` (the ratio divided by the autocorrelation penalty).
- ``risk_of_ruin``: quantstats' ``risk_of_ruin`` (per-bar win rate over non-zero returns).
- ``period_win_rate``: quantstats' ``win_rate`` (positive over non-zero returns).
- ``recovery_factor``: the compounded total return over ``|max_drawdown|``. quantstats sums the
  simple returns (``sum(r) - rf``), which is not a return an account earned; we keep compounding,
  as every return figure of :class:`~workbench.metrics.Stats` does.
- ``probabilistic_sharpe_ratio``: Bailey & López de Prado's PSR of the per-bar excess returns
  against 0 (:func:`workbench.optimize.overfit.probabilistic_sharpe_ratio`); quantstats' variant
  deflates by the annualized Sharpe and is not compared.
- Figures the tearsheet takes from :class:`~workbench.metrics.Stats` that quantstats computes from
  per-bar returns: ``kelly_criterion``, ``win_rate`` and ``max_consecutive_wins``/``losses`` are
  figures of closed *trades* here (quantstats counts up and down bars); the per-bar win rate is
  ``win_rate_day`` and the period win rates beside it.

>>> round(risk_of_ruin([0.01, -0.01, 0.02, 0.0]), 6)
0.0016
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from workbench.metrics import periods as _periods
from workbench.metrics._common import (
    as_series,
    check_init_cash,
    check_periods_per_year,
    check_risk_free,
    per_period_rate,
    safe_ratio,
)
from workbench.metrics.drawdown import _drawdown
from workbench.metrics.returns import _sharpe, _sortino
from workbench.metrics.stats import _f, _format

__all__ = [
    "TearsheetStats",
    "tearsheet_stats",
    "autocorr_penalty",
    "smart_sharpe_ratio",
    "smart_sortino_ratio",
    "risk_of_ruin",
    "recovery_factor",
    "correlation",
    "period_win_rate",
    "gain_to_pain_ratio",
    "common_sense_ratio",
    "cpc_index",
    "expected_return",
    "information_ratio",
]

_NAN = float("nan")


def autocorr_penalty(returns: Any) -> float:
    """``sqrt(1 + 2 Σ_{k=1}^{n-1} (n - k)/n · |ρ|^k)`` with ``ρ`` the lag-1 autocorrelation; 1.0
    for fewer than two or constant returns.

    >>> round(autocorr_penalty([0.01, 0.02, 0.03, 0.01]), 6)
    1.436141
    """
    r = as_series("returns", returns)
    n = r.size
    if n < 2 or r[:-1].max() == r[:-1].min() or r[1:].max() == r[1:].min():
        return 1.0
    rho = abs(float(np.corrcoef(r[:-1], r[1:])[0, 1]))
    k = np.arange(1, n)
    return math.sqrt(1.0 + 2.0 * float(np.sum((n - k) / n * rho**k)))


def _smart(ratio: Any, returns: Any, periods_per_year: float, risk_free: float) -> float:
    r = as_series("returns", returns)
    ppy, rf = check_periods_per_year(periods_per_year), check_risk_free(risk_free)
    return ratio(r, ppy, rf) / autocorr_penalty(r - per_period_rate(rf, ppy))


def smart_sharpe_ratio(returns: Any, *, periods_per_year: float, risk_free: float = 0.0) -> float:
    """:func:`~workbench.metrics.sharpe_ratio` divided by :func:`autocorr_penalty` of the excess
    returns.

    >>> round(smart_sharpe_ratio([0.01, -0.02, 0.03, 0.01], periods_per_year=252), 4)
    4.0213
    """
    return _smart(_sharpe, returns, periods_per_year, risk_free)


def smart_sortino_ratio(returns: Any, *, periods_per_year: float, risk_free: float = 0.0) -> float:
    """:func:`~workbench.metrics.sortino_ratio` divided by :func:`autocorr_penalty` of the excess
    returns.

    >>> round(smart_sortino_ratio([0.01, -0.02, 0.03, 0.01], periods_per_year=252), 4)
    8.2902
    """
    return _smart(_sortino, returns, periods_per_year, risk_free)


def period_win_rate(returns: Any) -> float:
    """Positive returns over non-zero returns (periods without a gain or loss are not counted);
    0.0 when every return is zero.

    >>> period_win_rate([0.01, 0.0, -0.02, 0.03])
    0.666...
    """
    r = as_series("returns", returns)
    moved = int(np.count_nonzero(r))
    return 0.0 if moved == 0 else int((r > 0).sum()) / moved


def risk_of_ruin(returns: Any) -> float:
    """Gambler's-ruin estimate ``((1 - w) / (1 + w)) ** n`` with ``w`` the :func:`period_win_rate`
    of the ``n`` per-bar returns.

    >>> risk_of_ruin([0.0, 0.0])
    1.0
    """
    r = as_series("returns", returns)
    w = period_win_rate(r)
    return float(((1.0 - w) / (1.0 + w)) ** r.size)


def recovery_factor(equity: Any, *, init_cash: float) -> float:
    """Total return over the depth of the maximum drawdown (``0/0 → 0``, ``x/0 → NaN``).

    >>> round(recovery_factor([100.0, 90.0, 120.0], init_cash=100.0), 6)
    2.0
    """
    eq = as_series("equity", equity)
    cash = check_init_cash(init_cash)
    return safe_ratio(float(eq[-1] / cash - 1.0), -float(_drawdown(eq, cash).min()))


def correlation(returns: Any, benchmark: Any) -> float:
    """Pearson correlation of two return series; 0.0 when either is constant.

    >>> correlation([0.01, 0.02, 0.03], [0.02, 0.04, 0.06])
    1.0
    """
    r, b = as_series("returns", returns), as_series("benchmark", benchmark)
    if r.size != b.size:
        from workbench.errors import DataValidationError

        raise DataValidationError(f"`benchmark` must have one return per bar ({r.size}); got {b.size}.")
    x, y = r - r.mean(), b - b.mean()
    den = math.sqrt(float(np.dot(x, x)) * float(np.dot(y, y)))
    return 0.0 if den == 0.0 else max(-1.0, min(1.0, float(np.dot(x, y)) / den))


def gain_to_pain_ratio(returns: Any) -> float:
    """Sum of the per-bar returns over the sum of the losing ones, in absolute value (quantstats'
    ``gain_to_pain_ratio`` of daily bars); ``0/0 → 0``, ``x/0 → NaN``.

    >>> gain_to_pain_ratio([0.02, -0.01, 0.03, -0.01])
    1.5
    """
    r = as_series("returns", returns)
    return safe_ratio(float(r.sum()), -float(r[r < 0].sum()))


def _profit_factor(r: np.ndarray) -> float:
    return safe_ratio(float(r[r >= 0].sum()), -float(r[r < 0].sum()))


def common_sense_ratio(returns: Any) -> float:
    """Profit factor of the per-bar returns times :func:`~workbench.metrics.tail_ratio`
    (quantstats' ``common_sense_ratio``).

    >>> round(common_sense_ratio([0.02, -0.01, 0.03, -0.01, 0.0]), 6)
    7.0
    """
    from workbench.metrics.distribution import _tail_ratio

    r = as_series("returns", returns)
    return _profit_factor(r) * _tail_ratio(r)


def cpc_index(returns: Any) -> float:
    """Profit factor × :func:`period_win_rate` × mean win over mean loss of the per-bar returns
    (quantstats' ``cpc_index``).

    >>> round(cpc_index([0.02, -0.01, 0.03, -0.01]), 6)
    3.125
    """
    r = as_series("returns", returns)
    wins, losses = r[r > 0], r[r < 0]
    if wins.size == 0 or losses.size == 0:
        return 0.0 if wins.size == 0 else _NAN
    return _profit_factor(r) * period_win_rate(r) * float(wins.mean()) / abs(float(losses.mean()))


def expected_return(returns: Any) -> float:
    """Geometric mean of ``returns``: ``prod(1 + r) ** (1 / n) - 1`` (quantstats' ``expected_return``).

    >>> round(expected_return([0.1, -0.1, 0.21]), 6)
    0.062038
    """
    from workbench.metrics.returns import _annualize_growth

    r = as_series("returns", returns)
    return _annualize_growth(float(np.prod(1.0 + r)), 1.0 / r.size)


def information_ratio(returns: Any, benchmark: Any) -> float:
    """Mean over sample standard deviation of the active returns ``returns - benchmark``, per bar
    (not annualized, as quantstats' ``information_ratio``); 0.0 for a constant active return.

    >>> round(information_ratio([0.02, 0.01, 0.03], [0.01, 0.01, 0.01]), 6)
    1.0
    """
    r, b = as_series("returns", returns), as_series("benchmark", benchmark)
    if r.size != b.size:
        from workbench.errors import DataValidationError

        raise DataValidationError(f"`benchmark` must have one return per bar ({r.size}); got {b.size}.")
    active = r - b
    from workbench.metrics.returns import _sample_std

    sd = _sample_std(active)
    return 0.0 if sd == 0.0 else float(active.mean()) / sd


@dataclass(frozen=True, slots=True)
class TearsheetStats:
    """The figures of a tearsheet beyond :class:`~workbench.metrics.Stats` (see the module).

    Period figures compound the bars of each calendar day, month, quarter and year in the bars'
    time zone; best and worst are NaN without such a period.
    """

    smart_sharpe_ratio: float = _f("Ratios", "Smart Sharpe ratio", "num")
    smart_sortino_ratio: float = _f("Ratios", "Smart Sortino ratio", "num")
    probabilistic_sharpe_ratio: float = _f("Ratios", "Probabilistic Sharpe ratio", "pct")
    recovery_factor: float = _f("Ratios", "Recovery factor", "num")
    risk_of_ruin: float = _f("Risk", "Risk of ruin", "pct")
    correlation: float = _f("Ratios", "Correlation", "num")
    r_squared: float = _f("Ratios", "R²", "num")
    information_ratio: float = _f("Ratios", "Information ratio (per bar)", "num")
    gain_to_pain_ratio: float = _f("Ratios", "Gain/pain ratio", "num")
    common_sense_ratio: float = _f("Ratios", "Common sense ratio", "num")
    cpc_index: float = _f("Ratios", "CPC index", "num")
    expected_day: float = _f("Periods", "Expected daily return", "pct")
    expected_month: float = _f("Periods", "Expected monthly return", "pct")
    expected_year: float = _f("Periods", "Expected yearly return", "pct")
    avg_up_month: float = _f("Periods", "Average up month", "pct")
    avg_down_month: float = _f("Periods", "Average down month", "pct")
    best_day: float = _f("Periods", "Best day", "pct")
    worst_day: float = _f("Periods", "Worst day", "pct")
    best_month: float = _f("Periods", "Best month", "pct")
    worst_month: float = _f("Periods", "Worst month", "pct")
    best_year: float = _f("Periods", "Best year", "pct")
    worst_year: float = _f("Periods", "Worst year", "pct")
    win_rate_day: float = _f("Periods", "Winning days", "pct")
    win_rate_month: float = _f("Periods", "Winning months", "pct")
    win_rate_quarter: float = _f("Periods", "Winning quarters", "pct")
    win_rate_year: float = _f("Periods", "Winning years", "pct")

    def to_dict(self) -> dict[str, float]:
        """Every figure by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _psr(r: np.ndarray, ppy: float, rf: float) -> float:
    from workbench.errors import WorkbenchError
    from workbench.optimize.overfit import probabilistic_sharpe_ratio

    try:
        return float(probabilistic_sharpe_ratio(r - per_period_rate(rf, ppy)))
    except WorkbenchError:  # fewer than two or constant returns: no Sharpe ratio to test
        return _NAN


def tearsheet_stats(returns: Any, ts: Any, *, equity: Any, init_cash: float, periods_per_year: float,
                    risk_free: float = 0.0, benchmark: Any = None) -> TearsheetStats:
    """Fill :class:`TearsheetStats` for one account.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> ts = pl.datetime_range(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 4), "1d", time_zone="UTC", eager=True)
    >>> s = tearsheet_stats([0.01, -0.02, 0.03, 0.01], ts, equity=[101.0, 98.98, 101.9494, 102.968894],
    ...                     init_cash=100.0, periods_per_year=252)
    >>> s.best_day, s.worst_day, s.win_rate_day
    (0.03, -0.02, 0.75)
    """
    r = as_series("returns", returns)
    ppy, rf = check_periods_per_year(periods_per_year), check_risk_free(risk_free)
    out: dict[str, float] = {
        "smart_sharpe_ratio": smart_sharpe_ratio(r, periods_per_year=ppy, risk_free=rf),
        "smart_sortino_ratio": smart_sortino_ratio(r, periods_per_year=ppy, risk_free=rf),
        "probabilistic_sharpe_ratio": _psr(r, ppy, rf),
        "recovery_factor": recovery_factor(equity, init_cash=init_cash),
        "risk_of_ruin": risk_of_ruin(r),
        "correlation": _NAN if benchmark is None else correlation(r, benchmark),
        "information_ratio": _NAN if benchmark is None else information_ratio(r, benchmark),
        "gain_to_pain_ratio": gain_to_pain_ratio(r), "common_sense_ratio": common_sense_ratio(r),
        "cpc_index": cpc_index(r),
    }
    out["r_squared"] = out["correlation"] ** 2
    for every, name in (("1d", "day"), ("1mo", "month"), ("1q", "quarter"), ("1y", "year")):
        p = _periods.period_returns(r, ts, every=every)["return"].to_numpy()
        out[f"win_rate_{name}"] = period_win_rate(p)
        if name != "quarter":
            out[f"best_{name}"], out[f"worst_{name}"] = float(p.max()), float(p.min())
            out[f"expected_{name}"] = expected_return(p)
        if name == "month":
            up, down = p[p > 0], p[p < 0]
            out["avg_up_month"] = float(up.mean()) if up.size else _NAN
            out["avg_down_month"] = float(down.mean()) if down.size else _NAN
    return TearsheetStats(**{k: (_NAN if isinstance(v, float) and math.isinf(v) else v) for k, v in out.items()})


def format_figure(value: float | int, fmt: str) -> str:
    """The text a report shows for a figure (the same as :class:`~workbench.metrics.Stats`' repr)."""
    return _format(value, fmt)
