"""`Stats`, the typed summary of one backtest, and `compute_stats`, which fills it."""

from __future__ import annotations

import functools
import html
import math
import operator
import os
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from workbench._validate import check_number
from workbench.errors import DataValidationError
from workbench.metrics import distribution as _dist
from workbench.metrics import drawdown as _dd
from workbench.metrics import returns as _ret
from workbench.metrics import trades as _tr
from workbench.metrics._common import (
    as_mask,
    as_series,
    check_init_cash,
    check_periods_per_year,
    check_risk_free,
    check_years,
)

__all__ = ["Stats", "compute_stats"]

_NAN = float("nan")


def _f(group: str, label: str, fmt: str) -> Any:
    """A field's display metadata: its section, row label and format (pct/num/int/cash/bars)."""
    return field(metadata={"group": group, "label": label, "fmt": fmt})


@dataclass(frozen=True, slots=True)
class Stats:
    """Performance and trade statistics of one backtest (built by :func:`compute_stats`).

    Fractions are plain numbers (0.12 for 12%). Ratios follow ``0 / 0 → 0.0`` and report an
    infinite ratio as NaN; averages over an empty set are NaN; counts are integers, 0 when
    there is nothing to count. No field is ever ±inf.

    Attributes
    ----------
    start_equity : float
        Account value before the first bar (``init_cash``).
    end_equity : float
        Account value at the last bar's close.
    n_bars : int
        Number of bars.
    periods_per_year : float
        Bars per year used by every annualized figure.
    total_return : float
        ``end_equity / start_equity - 1``.
    cagr : float
        Compound annual growth rate from the curve's ends over ``years`` (calendar span if
        given to :func:`compute_stats`, else ``n_bars / periods_per_year``); -1.0 if the account
        ends at or below zero.
    annual_return : float
        ``prod(1 + r) ** (periods_per_year / n_bars) - 1`` of the per-bar returns (empyrical).
    benchmark_return : float
        Compounded total return of the benchmark; NaN without a benchmark.
    exposure : float
        Fraction of bars holding a position; NaN when no exposure mask was given.
    annual_volatility : float
        Sample standard deviation of per-bar returns times ``sqrt(periods_per_year)``; 0.0 for
        fewer than two or identical returns.
    max_drawdown : float
        Deepest drop below a running peak (``init_cash`` is the first peak), in [-1, 0].
    max_drawdown_duration : int
        Longest run of bars closing below the running peak, in bars; 0 without drawdown.
    average_drawdown : float
        Mean depth of the drawdown episodes; 0.0 without drawdown.
    ulcer_index : float
        Root mean square of the per-bar drawdown; 0.0 without drawdown.
    value_at_risk : float
        5th percentile of per-bar returns (historical, linear interpolation).
    conditional_value_at_risk : float
        Mean of the worst 5% of per-bar returns (empyrical's rule).
    skew : float
        Population skewness of per-bar returns; 0.0 for identical returns.
    kurtosis : float
        Population excess kurtosis of per-bar returns; 0.0 for identical returns.
    tail_ratio : float
        ``|95th percentile| / |5th percentile|``; 0.0 if both are 0, NaN if only the 5th is.
    sharpe_ratio : float
        Annualized mean over sample standard deviation of excess returns; zero variance gives
        0.0 with a zero mean, NaN otherwise.
    sortino_ratio : float
        Annualized mean excess return over downside deviation; no downside gives 0.0 with a
        zero mean, NaN otherwise.
    calmar_ratio : float
        ``annual_return / |max_drawdown|``; no drawdown gives 0.0 with a zero annual return,
        NaN otherwise.
    omega_ratio : float
        Sum of per-bar returns above 0 over the sum of shortfalls below 0; no shortfall gives
        0.0 with no gain, NaN otherwise.
    alpha : float
        Annualized alpha against the benchmark (empyrical); NaN without a benchmark.
    beta : float
        Beta against the benchmark, 0.0 for a constant benchmark; NaN without a benchmark.
    risk_free : float
        Annual risk-free rate used by the Sharpe and Sortino ratios, alpha and beta.
    n_trades : int
        Number of closed trades. Every trade statistic below uses closed trades only.
    n_open_trades : int
        Number of trades still open at the last bar.
    win_rate : float
        Fraction of closed trades with positive ``pnl``; 0.0 without trades.
    best_trade : float
        Highest trade return; NaN without trades.
    worst_trade : float
        Lowest trade return; NaN without trades.
    avg_trade : float
        Mean trade return; NaN without trades.
    avg_win : float
        Mean return of winning trades; NaN without a win.
    avg_loss : float
        Mean return of losing trades (negative); NaN without a loss.
    payoff_ratio : float
        ``avg_win / |avg_loss|``; 0.0 without a win, NaN with wins but no loss.
    profit_factor : float
        Gross profit over gross loss (cash); 0.0 with neither, NaN with profit but no loss.
    expectancy : float
        Mean ``pnl`` per trade (cash); NaN without trades.
    sqn : float
        ``sqrt(n) * mean(pnl) / std(pnl)``; 0.0 with a zero mean or no trades when the spread is
        zero, NaN otherwise.
    kelly_criterion : float
        ``win_rate - (1 - win_rate) / payoff_ratio``; 0.0 without trades, ``win_rate`` without
        a loss, NaN with losses but no win.
    max_consecutive_wins : int
        Longest streak of winning trades; 0 without trades.
    max_consecutive_losses : int
        Longest streak of losing trades; 0 without trades.
    avg_trade_duration : float
        Mean ``exit_bar - entry_bar``, in bars; NaN without trades.
    max_trade_duration : int
        Longest ``exit_bar - entry_bar``, in bars; 0 without trades.
    total_fees : float
        Fees paid over the backtest (cash).
    total_slippage : float
        Cost of slippage and spread over the backtest (cash).

    Examples
    --------
    >>> s = compute_stats([101.0, 99.0, 103.0], init_cash=100.0, periods_per_year=252)
    >>> s.total_return, s.n_trades
    (0.03, 0)
    >>> s.to_dict()["max_drawdown"]
    -0.0198019...
    """

    start_equity: float = _f("Overview", "Start equity", "cash")
    end_equity: float = _f("Overview", "End equity", "cash")
    n_bars: int = _f("Overview", "Bars", "int")
    periods_per_year: float = _f("Overview", "Bars per year", "num")
    total_return: float = _f("Returns", "Total return", "pct")
    cagr: float = _f("Returns", "CAGR", "pct")
    annual_return: float = _f("Returns", "Annual return", "pct")
    benchmark_return: float = _f("Returns", "Benchmark return", "pct")
    exposure: float = _f("Returns", "Exposure", "pct")
    annual_volatility: float = _f("Risk", "Annual volatility", "pct")
    max_drawdown: float = _f("Risk", "Max drawdown", "pct")
    max_drawdown_duration: int = _f("Risk", "Max drawdown duration", "bars")
    average_drawdown: float = _f("Risk", "Average drawdown", "pct")
    ulcer_index: float = _f("Risk", "Ulcer index", "pct")
    value_at_risk: float = _f("Risk", "Value at risk (5%)", "pct")
    conditional_value_at_risk: float = _f("Risk", "Conditional VaR (5%)", "pct")
    skew: float = _f("Risk", "Skew", "num")
    kurtosis: float = _f("Risk", "Excess kurtosis", "num")
    tail_ratio: float = _f("Risk", "Tail ratio", "num")
    sharpe_ratio: float = _f("Ratios", "Sharpe ratio", "num")
    sortino_ratio: float = _f("Ratios", "Sortino ratio", "num")
    calmar_ratio: float = _f("Ratios", "Calmar ratio", "num")
    omega_ratio: float = _f("Ratios", "Omega ratio", "num")
    alpha: float = _f("Ratios", "Alpha", "pct")
    beta: float = _f("Ratios", "Beta", "num")
    risk_free: float = _f("Ratios", "Risk-free rate", "pct")
    n_trades: int = _f("Trades (closed)", "Trades", "int")
    n_open_trades: int = _f("Trades (closed)", "Open trades", "int")
    win_rate: float = _f("Trades (closed)", "Win rate", "pct")
    best_trade: float = _f("Trades (closed)", "Best trade", "pct")
    worst_trade: float = _f("Trades (closed)", "Worst trade", "pct")
    avg_trade: float = _f("Trades (closed)", "Average trade", "pct")
    avg_win: float = _f("Trades (closed)", "Average win", "pct")
    avg_loss: float = _f("Trades (closed)", "Average loss", "pct")
    payoff_ratio: float = _f("Trades (closed)", "Payoff ratio", "num")
    profit_factor: float = _f("Trades (closed)", "Profit factor", "num")
    expectancy: float = _f("Trades (closed)", "Expectancy", "cash")
    sqn: float = _f("Trades (closed)", "SQN", "num")
    kelly_criterion: float = _f("Trades (closed)", "Kelly criterion", "num")
    max_consecutive_wins: int = _f("Trades (closed)", "Max consecutive wins", "int")
    max_consecutive_losses: int = _f("Trades (closed)", "Max consecutive losses", "int")
    avg_trade_duration: float = _f("Trades (closed)", "Average duration", "bars")
    max_trade_duration: int = _f("Trades (closed)", "Max duration", "bars")
    total_fees: float = _f("Costs", "Fees", "cash")
    total_slippage: float = _f("Costs", "Slippage", "cash")

    def to_dict(self) -> dict[str, float | int]:
        """Every figure by field name, as plain Python floats and ints."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def _rows(self) -> list[tuple[str, str, str]]:
        return [(f.metadata["group"], f.metadata["label"], _format(getattr(self, f.name), f.metadata["fmt"]))
                for f in fields(self)]

    def __repr__(self) -> str:
        lines, group = ["Stats"], None
        for grp, label, text in self._rows():
            if grp != group:
                lines.append(f"  {grp}")
                group = grp
            lines.append(f"    {label:<24}{text:>16}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows, group = [], None
        for grp, label, text in self._rows():
            if grp != group:
                rows.append(f'<tr><th colspan="2" style="text-align:left">{html.escape(grp)}</th></tr>')
                group = grp
            rows.append(f'<tr><td style="text-align:left">{html.escape(label)}</td>'
                        f'<td style="text-align:right">{html.escape(text)}</td></tr>')
        return f'<table class="workbench-stats">{"".join(rows)}</table>'


def _format(value: float | int, fmt: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if fmt == "pct":
        return f"{value:.2%}"
    if fmt == "cash":
        return f"{value:,.2f}"
    if fmt == "int":
        return f"{value:d}"
    if fmt == "bars":
        return f"{value:d} bars" if isinstance(value, int) else f"{value:.1f} bars"
    return f"{value:.3f}" if abs(value) < 1e6 else f"{value:.4g}"


# --------------------------------------------------------------------------- numpy reference
# compute_stats gets every figure from one kernel (workbench.nb.stats_nb); these helpers compute
# the same figures with the numpy definitions of the metric modules. They are the reference the
# kernel is tested against; compute_stats uses them for the first computation of a process (see
# _kernel) and for inputs the kernel refuses (closed trades built by hand with non-finite values
# or negative durations).

def _return_figures(eq: np.ndarray, r: np.ndarray, cash: float, ppy: float, rf: float,
                    years: float) -> dict[str, Any]:
    dd = _dd._drawdown(eq, cash)
    return {
        "total_return": float(eq[-1] / cash - 1.0),
        "cagr": _ret._annualize_growth(float(eq[-1] / cash), 1.0 / years),
        "annual_return": _ret._annual_return(r, ppy),
        "annual_volatility": _ret._annual_volatility(r, ppy),
        "max_drawdown": float(dd.min()),
        "max_drawdown_duration": _dd._max_drawdown_duration(dd),
        "average_drawdown": _dd._average_drawdown(dd),
        "ulcer_index": _dd._ulcer_index(dd),
        "value_at_risk": _dist._value_at_risk(r, 0.05),
        "conditional_value_at_risk": _dist._conditional_value_at_risk(r, 0.05),
        "skew": _dist._skew(r),
        "kurtosis": _dist._kurtosis(r),
        "tail_ratio": _dist._tail_ratio(r),
        "sharpe_ratio": _ret._sharpe(r, ppy, rf),
        "sortino_ratio": _ret._sortino(r, ppy, rf),
        "calmar_ratio": _ret._calmar(r, ppy),
        "omega_ratio": _ret._omega(r, ppy, 0.0),
    }


def _checked_benchmark(benchmark: Any, n_bars: int) -> np.ndarray:
    bench = as_series("benchmark", benchmark)
    if bench.size != n_bars:
        raise DataValidationError(
            f"`benchmark` must have one return per bar ({n_bars}); got {bench.size}. "
            "Pass the benchmark's per-bar returns aligned with `equity`."
        )
    return bench


def _benchmark_figures(r: np.ndarray, benchmark: Any, ppy: float, rf: float) -> dict[str, float]:
    if benchmark is None:
        return {"benchmark_return": _NAN, "alpha": _NAN, "beta": _NAN}
    bench = _checked_benchmark(benchmark, r.size)
    alpha, beta = _ret._alpha_beta(r, bench, ppy, rf)
    return {"benchmark_return": float(np.prod(1.0 + bench) - 1.0), "alpha": alpha, "beta": beta}


def _closed(trades: Any) -> _tr.ClosedTrades:
    """The closed trades of ``trades`` (None, a trades frame, or :class:`ClosedTrades`)."""
    if trades is None:
        return _tr.ClosedTrades.empty()
    return trades if isinstance(trades, _tr.ClosedTrades) else _tr.closed_trades(trades)


def _trade_figures(trades: Any) -> dict[str, Any]:
    t = _closed(trades)
    return _tr.trade_figures(t) | {"n_open_trades": t.n_open}


def _numpy_figures(eq: np.ndarray, cash: float, ppy: float, rf: float, years: float,
                   bench: np.ndarray | None, t: _tr.ClosedTrades) -> dict[str, Any]:
    """Every figure but the settings (and `exposure`), from the numpy helpers above."""
    with np.errstate(over="ignore", invalid="ignore"):
        r = _ret._simple_returns(eq, cash)
        figures = _return_figures(eq, r, cash, ppy, rf, years) | _benchmark_figures(r, bench, ppy, rf)
        figures |= _trade_figures(t)
    for name, value in figures.items():
        if isinstance(value, float) and math.isinf(value):
            figures[name] = _NAN
    return figures


# --------------------------------------------------------------------------- the kernel path

_EMPTY_F64 = np.empty(0)
_EMPTY_I64 = np.empty(0, dtype=np.int64)
_EMPTY_BOOL = np.empty(0, dtype=np.bool_)
_SETTINGS = ("start_equity", "end_equity", "n_bars", "periods_per_year", "risk_free", "total_fees",
             "total_slippage")


class _Kernel:
    """:mod:`workbench.nb.stats_nb` (imported on first use: Numba loads with it) and the plan that
    turns its output vector, followed by the settings, into the arguments of :class:`Stats`."""

    def __init__(self) -> None:
        from workbench.nb import stats_nb as nb

        self.call, self.n_fields, self.ok = nb.stats_nb, nb.N_FIELDS, nb.OK
        self.int_fields = tuple(nb.FIELDS.index(name) for name in nb.INT_FIELDS)
        self.n_open = nb.FIELDS.index("n_open_trades")
        names = nb.FIELDS + _SETTINGS
        self.arguments = operator.itemgetter(*(names.index(f.name) for f in fields(Stats)))


_KERNEL: _Kernel | None = None
_NUMPY_DONE = False  # the NumPy definitions have served a computation in this process


def _kernel() -> _Kernel | None:
    """The statistics kernel, or None to use the NumPy definitions this time (same figures).

    Loading the compiled kernel costs a process ~0.3 s and compiling it several seconds, more
    than the NumPy definitions take for one backtest. So the first computation of a process uses
    NumPy, and the kernel serves from the second on, once it is in the cache; on an empty cache
    a second process compiles it meanwhile (:mod:`workbench.nb.warm`; with
    ``WORKBENCH_PARALLEL_COMPILE=0`` nothing compiles it and NumPy keeps serving, rather than a
    long compilation in the middle of a computation). ``WORKBENCH_STATS_KERNEL`` set to
    ``always`` (load or compile it at once) or ``never`` overrides this.
    """
    global _KERNEL
    if _KERNEL is not None:
        return _KERNEL
    mode = os.environ.get("WORKBENCH_STATS_KERNEL", "auto")
    if mode == "never":
        return None
    if mode != "always":
        from workbench.nb import stats_nb, warm

        if warm.is_cold(stats_nb.stats_nb):
            warm.start(stats_nb.stats_nb, (warm.STATS,))
            return None
        if not _NUMPY_DONE:
            return None
    _KERNEL = _Kernel()
    return _KERNEL


def _writable(a: np.ndarray) -> np.ndarray:
    """``a``, or a copy when it is read-only (one kernel type for every input: one compilation)."""
    return a if a.flags.writeable else a.copy()


def _kernel_stats(eq: np.ndarray, cash: float, ppy: float, rf: float, years: float, fees: float,
                  slippage: float, bench: np.ndarray, held: np.ndarray, pnl: np.ndarray, ret: np.ndarray,
                  entry_bar: np.ndarray, exit_bar: np.ndarray, is_open: np.ndarray,
                  n_open: int | None = None) -> Stats | None:
    """:class:`Stats` from one call of :func:`workbench.nb.stats_nb.stats_nb`, or None when the
    kernel refuses an input (non-finite, misaligned, or a closed trade breaking its contract) or
    the NumPy definitions serve this time (:func:`_kernel`).

    The arrays must be C-contiguous float64 (``eq``, ``bench``, ``pnl``, ``ret``), int64 (the
    bars) and bool (``held``, ``is_open``); ``bench`` and ``held`` are empty when not given
    (their figures NaN). ``n_open`` replaces the kernel's count of ``is_open``.
    """
    k = _kernel()
    if k is None:
        return None
    out = np.empty(k.n_fields)
    arrays = (_writable(a) for a in (eq, bench, held, pnl, ret, entry_bar, exit_bar, is_open))
    eq, bench, held, pnl, ret, entry_bar, exit_bar, is_open = arrays
    if k.call(eq, cash, ppy, rf, years, bench, held, pnl, ret, entry_bar, exit_bar, is_open, out) != k.ok:
        return None
    values = out.tolist()
    for i in k.int_fields:
        values[i] = int(values[i])
    if n_open is not None:
        values[k.n_open] = n_open
    values += (cash, float(eq[-1]), eq.size, ppy, rf, fees, slippage)
    return Stats(*k.arguments(values))


def _trade_columns(t: _tr.ClosedTrades) -> tuple[np.ndarray, ...]:
    """:class:`ClosedTrades` as the kernel's trade columns: closed, and in closing order (the
    exit bars count up, the entry bars give the durations)."""
    if len(t.pnl) == 0:
        return _EMPTY_F64, _EMPTY_F64, _EMPTY_I64, _EMPTY_I64, _EMPTY_BOOL
    pnl = np.ascontiguousarray(t.pnl, dtype=np.float64)
    exit_bar = np.arange(pnl.size, dtype=np.int64)
    return (pnl, np.ascontiguousarray(t.ret, dtype=np.float64),
            exit_bar - np.asarray(t.duration, dtype=np.int64), exit_bar, np.zeros(pnl.size, dtype=np.bool_))


@functools.lru_cache(maxsize=64, typed=True)
def _checked_settings(init_cash: Any, periods_per_year: Any, risk_free: Any) -> tuple[float, float, float]:
    """The checked settings of a backtest's statistics, kept for the settings seen last (one
    backtest after another repeats them; typed, so ``True`` is checked apart from ``1``)."""
    return check_init_cash(init_cash), check_periods_per_year(periods_per_year), check_risk_free(risk_free)


def _stats_of_engine(equity: np.ndarray, *, init_cash: float, periods_per_year: float, risk_free: float,
                     held: np.ndarray, benchmark: np.ndarray, fees_paid: float, slippage_paid: float,
                     pnl: np.ndarray, ret: np.ndarray, entry_bar: np.ndarray, exit_bar: np.ndarray,
                     is_open: np.ndarray) -> Stats | None:
    """:func:`compute_stats` of a backtest's own arrays, without re-validating them.

    ``held`` and ``benchmark`` are one value per bar; the trade columns hold every trade (open
    ones included) in any order, as the engine records them. The settings are checked as
    :func:`compute_stats` checks them; the arrays are checked by the kernel itself. None means
    it refused one, or the NumPy definitions serve this time: :func:`compute_stats` then names
    the problem, or computes the figures.
    """
    try:
        cash, ppy, rf = _checked_settings(init_cash, periods_per_year, risk_free)
    except TypeError:  # an unhashable value: checked (and named) without the memo
        cash, ppy, rf = _checked_settings.__wrapped__(init_cash, periods_per_year, risk_free)
    fees = check_number("fees_paid", fees_paid, -1e15, 1e15)
    slippage = check_number("slippage_paid", slippage_paid, -1e15, 1e15)
    f64, c = np.float64, np.ascontiguousarray
    eq = c(equity, dtype=f64)
    if eq.ndim != 1 or eq.size == 0:
        return None
    return _kernel_stats(
        eq, cash, ppy, rf, eq.size / ppy, fees, slippage, c(benchmark, dtype=f64), c(held, dtype=np.bool_),
        c(pnl, dtype=f64), c(ret, dtype=f64), c(entry_bar, dtype=np.int64), c(exit_bar, dtype=np.int64),
        c(is_open, dtype=np.bool_),
    )


def compute_stats(
    equity: Any,
    *,
    init_cash: float,
    periods_per_year: float,
    trades: Any = None,
    exposure: Any = None,
    benchmark: Any = None,
    fees_paid: float = 0.0,
    slippage_paid: float = 0.0,
    risk_free: float = 0.0,
    years: float | None = None,
) -> Stats:
    """Compute every figure of :class:`Stats` for one equity curve (and its trades).

    Per-bar returns are ``equity_t / equity_{t-1} - 1`` with ``init_cash`` before bar 0, so the
    first bar's return is ``equity_0 / init_cash - 1``. Figures that overflow the float range
    (absurd growth over a handful of bars) are reported as NaN, never ±inf.

    After validating its inputs, it computes every figure with the NumPy definitions of
    :mod:`workbench.metrics` the first time in a process, and from then on in one compiled kernel
    call (:func:`workbench.nb.stats_nb.stats_nb`, the same operations in the same order, so the
    same figures) once the kernel is in the Numba cache; see ``WORKBENCH_STATS_KERNEL``.

    Parameters
    ----------
    equity : array-like
        Account value at each bar's close, 1-D, finite, at least one bar.
    init_cash : float
        Account value before the first bar.
    periods_per_year : float
        Bars per year (252 trading days, 365 crypto days, 12 months...).
    trades : polars.DataFrame or ClosedTrades, optional
        The trades frame (``pnl``, ``ret``, ``entry_bar``, ``exit_bar``, ``is_open``...), or its
        closed trades as arrays (:func:`workbench.metrics.trades.closed_trades_of`). Trade
        statistics use closed trades only. None means no trades.
    exposure : array-like, optional
        One bool per bar, True where a position is held.
    benchmark : array-like, optional
        Per-bar returns of a benchmark (buy & hold of the traded asset), one per bar.
    fees_paid, slippage_paid : float, default 0.0
        Total costs in cash, reported as they are.
    risk_free : float, default 0.0
        Annual risk-free rate for the Sharpe and Sortino ratios, alpha and beta.
    years : float, optional
        Calendar time from the start to the last bar, for ``cagr``; defaults to
        ``n_bars / periods_per_year``.

    Returns
    -------
    Stats

    Raises
    ------
    DataValidationError
        If a series is empty, not 1-D, not finite or misaligned with ``equity``, or the trades
        frame breaks its contract.
    InvalidParameterError
        If a setting is out of range.

    Examples
    --------
    >>> s = compute_stats([100.0, 110.0, 99.0, 121.0], init_cash=100.0, periods_per_year=252,
    ...                   exposure=[False, True, True, True])
    >>> round(s.total_return, 12), s.max_drawdown, s.max_drawdown_duration, s.exposure
    (0.21, -0.1, 1, 0.75)
    """
    eq = as_series("equity", equity)
    cash, ppy = check_init_cash(init_cash), check_periods_per_year(periods_per_year)
    rf = check_risk_free(risk_free)
    span = eq.size / ppy if years is None else check_years(years)
    fees = check_number("fees_paid", fees_paid, -1e15, 1e15)
    slippage = check_number("slippage_paid", slippage_paid, -1e15, 1e15)
    if exposure is None:
        held = _EMPTY_BOOL
    elif (isinstance(exposure, np.ndarray) and exposure.dtype == np.bool_ and exposure.ndim == 1
          and exposure.size == eq.size):
        held = np.ascontiguousarray(exposure)  # bools are finite: as_mask would give the same flags
    else:
        held = as_mask("exposure", exposure, eq.size)
    bench = None if benchmark is None else _checked_benchmark(benchmark, eq.size)
    t = _closed(trades)
    stats = _kernel_stats(eq, cash, ppy, rf, span, fees, slippage, _EMPTY_F64 if bench is None else bench,
                          held, *_trade_columns(t), n_open=t.n_open)
    if stats is not None:
        return stats
    # the NumPy definitions: the first computation of a process, or closed trades built by hand
    # that break the kernel's contract
    global _NUMPY_DONE
    figures = _numpy_figures(eq, cash, ppy, rf, span, bench, t)
    _NUMPY_DONE = True
    return Stats(start_equity=cash, end_equity=float(eq[-1]), n_bars=int(eq.size), periods_per_year=ppy,
                 exposure=_NAN if exposure is None else float(held.mean()), risk_free=rf, total_fees=fees,
                 total_slippage=slippage, **figures)
