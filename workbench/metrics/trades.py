"""Trade statistics of a backtest's trades frame.

Every statistic uses **closed trades only** (rows with ``is_open == False``), taken in the
order they were closed (``exit_bar``, then ``entry_bar``). A trade is a win when its ``pnl``
(cash, net of entry and exit fees) is positive, a loss when negative; a break-even trade is
neither, but counts as a trade. Return-based figures use ``ret`` (the trade return as a
fraction, net of fees); durations are ``exit_bar - entry_bar`` in bars.

Conventions: counts are integers, 0 without trades; averages over an empty set (the mean win
when nothing won) are NaN; ratios follow ``0 / 0 → 0.0`` and ``x / 0 → NaN``; nothing is ±inf.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from workbench.errors import DataValidationError, did_you_mean
from workbench.metrics._common import runs, safe_ratio

__all__ = [
    "n_trades",
    "win_rate",
    "best_trade",
    "worst_trade",
    "avg_trade",
    "avg_win",
    "avg_loss",
    "payoff_ratio",
    "profit_factor",
    "expectancy",
    "sqn",
    "kelly_criterion",
    "max_consecutive_wins",
    "max_consecutive_losses",
    "avg_trade_duration",
    "max_trade_duration",
]

TRADE_COLUMNS = ("pnl", "ret", "entry_bar", "exit_bar", "is_open")
_NAN = float("nan")


class ClosedTrades(NamedTuple):
    """The closed trades as float64 / int64 arrays, in closing order."""

    pnl: np.ndarray
    ret: np.ndarray
    duration: np.ndarray
    n_open: int = 0  # the trades still open, left out of the arrays

    @classmethod
    def empty(cls) -> ClosedTrades:
        return cls(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64))


def _check_columns(trades: pl.DataFrame) -> None:
    for col in TRADE_COLUMNS:
        if col not in trades.columns:
            raise DataValidationError(
                f"`trades` is missing column {col!r}; it needs {', '.join(TRADE_COLUMNS)} "
                f"(the backtest's trades frame).{did_you_mean(col, trades.columns)}"
            )
    kinds = {"pnl": "is_numeric", "ret": "is_numeric", "entry_bar": "is_integer", "exit_bar": "is_integer"}
    for col, kind in kinds.items():
        if not getattr(trades.schema[col], kind)():
            want = "numeric" if kind == "is_numeric" else "an integer bar index"
            raise DataValidationError(
                f"`trades` column {col!r} must be {want}; got dtype {trades.schema[col]}. Cast it first."
            )
    if trades.schema["is_open"] != pl.Boolean:
        raise DataValidationError(
            f"`trades` column 'is_open' must be Boolean; got dtype {trades.schema['is_open']}. "
            "Cast it with pl.col('is_open').cast(pl.Boolean)."
        )


def closed_trades(trades: Any) -> ClosedTrades:
    """Validate a trades frame (polars, or pandas) and return its closed trades as arrays.

    Raises
    ------
    DataValidationError
        If a column is missing or mistyped, a closed trade has a null or non-finite ``pnl``
        or ``ret``, or exits before it enters.
    """
    if not isinstance(trades, pl.DataFrame):
        if not type(trades).__module__.startswith("pandas"):
            raise DataValidationError(
                f"`trades` must be a polars DataFrame; got {type(trades).__name__}. "
                "Pass the backtest's trades frame."
            )
        from workbench._extras import require

        require("pandas", "pyarrow")
        trades = pl.from_pandas(trades)
    _check_columns(trades)
    col = trades.get_column
    return closed_trades_of(
        col("pnl").cast(pl.Float64).to_numpy(), col("ret").cast(pl.Float64).to_numpy(),
        col("entry_bar").cast(pl.Int64).to_numpy(), col("exit_bar").cast(pl.Int64).to_numpy(),
        col("is_open").fill_null(False).to_numpy(),
    )


def closed_trades_of(pnl: np.ndarray, ret: np.ndarray, entry_bar: np.ndarray, exit_bar: np.ndarray,
                     is_open: np.ndarray) -> ClosedTrades:
    """:func:`closed_trades` from the columns as arrays (one value per trade, open ones
    included): the closed trades in closing order, validated the same way.

    >>> t = closed_trades_of(np.array([5.0, -2.0, 1.0]), np.array([0.05, -0.02, 0.01]),
    ...                      np.array([4, 0, 6]), np.array([9, 3, 9]), np.array([False, False, True]))
    >>> t.pnl.tolist(), t.duration.tolist(), t.n_open
    ([-2.0, 5.0], [3, 5], 1)
    """
    closed = ~np.asarray(is_open, dtype=bool)
    entry, exit_ = np.asarray(entry_bar, dtype=np.int64)[closed], np.asarray(exit_bar, dtype=np.int64)[closed]
    order = np.lexsort((entry, exit_))  # by exit bar, then entry bar; ties keep their order
    pnl = np.asarray(pnl, dtype=np.float64)[closed][order]
    ret = np.asarray(ret, dtype=np.float64)[closed][order]
    for name, arr in (("pnl", pnl), ("ret", ret)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataValidationError(
                f"`trades` column {name!r} must be finite for closed trades; got {float(arr[i])!r} in "
                f"closed trade {i}. Mark unfinished trades with is_open=True."
            )
    duration = exit_[order] - entry[order]
    if duration.size and duration.min() < 0:
        i = int(np.argmin(duration))
        raise DataValidationError(
            f"`trades` closed trade {i} exits before it enters (exit_bar - entry_bar = "
            f"{duration[i]}). Fix the bar indices."
        )
    return ClosedTrades(pnl, ret, duration, int(closed.size - closed.sum()))


# --------------------------------------------------------------------------- private cores

def _win_rate(t: ClosedTrades) -> float:
    return safe_ratio(float((t.pnl > 0.0).sum()), float(t.pnl.size))


def _mean_or_nan(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else _NAN


def _payoff_ratio(t: ClosedTrades) -> float:
    wins, losses = t.ret[t.pnl > 0.0], t.ret[t.pnl < 0.0]
    if wins.size == 0:
        return 0.0
    if losses.size == 0:
        return _NAN
    return safe_ratio(float(wins.mean()), abs(float(losses.mean())))


def _profit_factor(t: ClosedTrades) -> float:
    return safe_ratio(float(t.pnl[t.pnl > 0.0].sum()), float(-t.pnl[t.pnl < 0.0].sum()))


def _sqn(t: ClosedTrades) -> float:
    n = t.pnl.size
    mean = float(t.pnl.mean()) if n else 0.0
    std = float(np.std(t.pnl, ddof=1)) if n >= 2 and t.pnl.max() != t.pnl.min() else 0.0
    return math.sqrt(n) * safe_ratio(mean, std)


def _kelly(t: ClosedTrades) -> float:
    n = t.pnl.size
    if n == 0:
        return 0.0
    p = float((t.pnl > 0.0).sum()) / n
    n_losses = int((t.pnl < 0.0).sum())
    if n_losses == 0:
        return p
    b = _payoff_ratio(t)
    return _NAN if b == 0.0 else p - (1.0 - p) / b


def _max_streak(mask: np.ndarray) -> int:
    starts, ends = runs(mask)
    return int((ends - starts).max()) if starts.size else 0


_CORES: dict[str, Callable[[ClosedTrades], Any]] = {
    "n_trades": lambda t: int(t.pnl.size),
    "win_rate": _win_rate,
    "best_trade": lambda t: float(t.ret.max()) if t.ret.size else _NAN,
    "worst_trade": lambda t: float(t.ret.min()) if t.ret.size else _NAN,
    "avg_trade": lambda t: _mean_or_nan(t.ret),
    "avg_win": lambda t: _mean_or_nan(t.ret[t.pnl > 0.0]),
    "avg_loss": lambda t: _mean_or_nan(t.ret[t.pnl < 0.0]),
    "payoff_ratio": _payoff_ratio,
    "profit_factor": _profit_factor,
    "expectancy": lambda t: _mean_or_nan(t.pnl),
    "sqn": _sqn,
    "kelly_criterion": _kelly,
    "max_consecutive_wins": lambda t: _max_streak(t.pnl > 0.0),
    "max_consecutive_losses": lambda t: _max_streak(t.pnl < 0.0),
    "avg_trade_duration": lambda t: _mean_or_nan(t.duration.astype(np.float64)),
    "max_trade_duration": lambda t: int(t.duration.max()) if t.duration.size else 0,
}


def trade_figures(t: ClosedTrades) -> dict[str, Any]:
    """Every trade statistic of the closed trades ``t``, by the name of its public function."""
    return {name: core(t) for name, core in _CORES.items()}


# --------------------------------------------------------------------------- public API

def n_trades(trades: Any) -> int:
    """Number of closed trades (open trades are not counted).

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0, 5.0], "ret": [0.05, -0.02, 0.03, 0.01],
    ...     "entry_bar": [0, 5, 9, 14], "exit_bar": [3, 8, 12, 15], "is_open": [False, False, False, True]})
    >>> n_trades(trades)
    3
    """
    return _CORES["n_trades"](closed_trades(trades))


def win_rate(trades: Any) -> float:
    """Fraction of closed trades with a positive ``pnl``; 0.0 without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> round(win_rate(trades), 4)
    0.6667
    """
    return _CORES["win_rate"](closed_trades(trades))


def best_trade(trades: Any) -> float:
    """Highest ``ret`` among closed trades; NaN without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0], "ret": [0.05, -0.02],
    ...     "entry_bar": [0, 5], "exit_bar": [3, 8], "is_open": [False, False]})
    >>> best_trade(trades)
    0.05
    """
    return _CORES["best_trade"](closed_trades(trades))


def worst_trade(trades: Any) -> float:
    """Lowest ``ret`` among closed trades; NaN without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0], "ret": [0.05, -0.02],
    ...     "entry_bar": [0, 5], "exit_bar": [3, 8], "is_open": [False, False]})
    >>> worst_trade(trades)
    -0.02
    """
    return _CORES["worst_trade"](closed_trades(trades))


def avg_trade(trades: Any) -> float:
    """Arithmetic mean ``ret`` of closed trades; NaN without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0], "ret": [0.05, -0.01],
    ...     "entry_bar": [0, 5], "exit_bar": [3, 8], "is_open": [False, False]})
    >>> round(avg_trade(trades), 12)
    0.02
    """
    return _CORES["avg_trade"](closed_trades(trades))


def avg_win(trades: Any) -> float:
    """Mean ``ret`` of the winning closed trades (``pnl > 0``); NaN when none won.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> round(avg_win(trades), 12)
    0.04
    """
    return _CORES["avg_win"](closed_trades(trades))


def avg_loss(trades: Any) -> float:
    """Mean ``ret`` of the losing closed trades (``pnl < 0``), a negative number; NaN when none lost.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> avg_loss(trades)
    -0.02
    """
    return _CORES["avg_loss"](closed_trades(trades))


def payoff_ratio(trades: Any) -> float:
    """Payoff ratio: :func:`avg_win` over the absolute :func:`avg_loss` (in ``ret`` terms).

    Conventions: no winning trade (including no trade at all) gives 0.0; wins without any
    loss give NaN (an infinite payoff).

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> round(payoff_ratio(trades), 12)
    2.0
    """
    return _CORES["payoff_ratio"](closed_trades(trades))


def profit_factor(trades: Any) -> float:
    """Profit factor: gross profit over gross loss, in cash (``pnl``).

    Conventions: no losing trade gives 0.0 when nothing was won either (no trades, or only
    break-even trades), NaN otherwise (an infinite profit factor).

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> profit_factor(trades)
    4.0
    """
    return _CORES["profit_factor"](closed_trades(trades))


def expectancy(trades: Any) -> float:
    """Expectancy: the mean ``pnl`` per closed trade, in cash; NaN without trades.

    Equal to ``win_rate * mean_win_pnl + loss_rate * mean_loss_pnl``.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> expectancy(trades)
    20.0
    """
    return _CORES["expectancy"](closed_trades(trades))


def sqn(trades: Any) -> float:
    """Van Tharp's system quality number ``sqrt(n) * mean(pnl) / std(pnl, ddof=1)``.

    Over the ``n`` closed trades (backtesting.py's definition). Zero spread (fewer than two
    trades, or identical ``pnl``): 0.0 when the mean ``pnl`` is 0 or there are no trades, NaN
    otherwise.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> round(sqn(trades), 6)
    0.960769
    """
    return _CORES["sqn"](closed_trades(trades))


def kelly_criterion(trades: Any) -> float:
    """Kelly fraction ``p - (1 - p) / b``: ``p`` the :func:`win_rate`, ``b`` the :func:`payoff_ratio`.

    Conventions: 0.0 without trades; ``p`` when no trade lost (``b`` infinite); NaN when trades
    lost but none won (the fraction tends to -inf). quantstats computes the same formula on
    per-bar returns; backtesting.py computes ``b`` from ``pnl`` instead of ``ret``.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0, 30.0], "ret": [0.05, -0.02, 0.03],
    ...     "entry_bar": [0, 5, 9], "exit_bar": [3, 8, 12], "is_open": [False, False, False]})
    >>> round(kelly_criterion(trades), 12)
    0.5
    """
    return _CORES["kelly_criterion"](closed_trades(trades))


def max_consecutive_wins(trades: Any) -> int:
    """Longest run of consecutive winning closed trades, in closing order; 0 without trades.

    A break-even trade ends a run.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [5.0, 2.0, -1.0, 3.0], "ret": [0.05, 0.02, -0.01, 0.03],
    ...     "entry_bar": [0, 2, 4, 6], "exit_bar": [1, 3, 5, 7], "is_open": [False] * 4})
    >>> max_consecutive_wins(trades)
    2
    """
    return _CORES["max_consecutive_wins"](closed_trades(trades))


def max_consecutive_losses(trades: Any) -> int:
    """Longest run of consecutive losing closed trades, in closing order; 0 without trades.

    A break-even trade ends a run.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [5.0, 2.0, -1.0, 3.0], "ret": [0.05, 0.02, -0.01, 0.03],
    ...     "entry_bar": [0, 2, 4, 6], "exit_bar": [1, 3, 5, 7], "is_open": [False] * 4})
    >>> max_consecutive_losses(trades)
    1
    """
    return _CORES["max_consecutive_losses"](closed_trades(trades))


def avg_trade_duration(trades: Any) -> float:
    """Mean ``exit_bar - entry_bar`` of closed trades, in bars; NaN without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0], "ret": [0.05, -0.02],
    ...     "entry_bar": [0, 5], "exit_bar": [3, 10], "is_open": [False, False]})
    >>> avg_trade_duration(trades)
    4.0
    """
    return _CORES["avg_trade_duration"](closed_trades(trades))


def max_trade_duration(trades: Any) -> int:
    """Longest ``exit_bar - entry_bar`` of closed trades, in bars; 0 without trades.

    Examples
    --------
    >>> import polars as pl
    >>> trades = pl.DataFrame({"pnl": [50.0, -20.0], "ret": [0.05, -0.02],
    ...     "entry_bar": [0, 5], "exit_bar": [3, 10], "is_open": [False, False]})
    >>> max_trade_duration(trades)
    5
    """
    return _CORES["max_trade_duration"](closed_trades(trades))
