"""Performance, risk and trade statistics of backtest results.

One function per figure (numpy in, float out), each naming its definition and how it relates
to empyrical and quantstats, and :func:`compute_stats`, which fills the typed :class:`Stats`
summary of a backtest. Inputs are an equity curve (account value at each bar's close, with
the starting cash ``init_cash`` before bar 0), its per-bar simple returns, and the trades
frame of the engine; every annualized figure takes ``periods_per_year``.

Conventions: ``0 / 0`` gives 0.0; an infinite ratio gives NaN; an average over an empty set
(the mean win when nothing won) gives NaN; counts are integers; nothing is ever ±inf.

>>> import workbench.metrics as wm
>>> equity = [100.0, 104.0, 101.0, 107.0]
>>> wm.max_drawdown(equity, init_cash=100.0)
-0.028846...
>>> r = wm.simple_returns(equity, init_cash=100.0)
>>> round(wm.sharpe_ratio(r, periods_per_year=252), 4)
7.0623
"""

from __future__ import annotations

from workbench.metrics.distribution import (
    conditional_value_at_risk,
    kurtosis,
    skew,
    tail_ratio,
    value_at_risk,
)
from workbench.metrics.drawdown import (
    average_drawdown,
    drawdown_series,
    max_drawdown,
    max_drawdown_duration,
    ulcer_index,
)
from workbench.metrics.returns import (
    alpha_beta,
    annual_return,
    annual_volatility,
    buy_and_hold_returns,
    cagr,
    calmar_ratio,
    exposure,
    omega_ratio,
    sharpe_ratio,
    simple_returns,
    sortino_ratio,
    total_return,
)
from workbench.metrics.stats import Stats, compute_stats
from workbench.metrics.trades import (
    avg_loss,
    avg_trade,
    avg_trade_duration,
    avg_win,
    best_trade,
    expectancy,
    kelly_criterion,
    max_consecutive_losses,
    max_consecutive_wins,
    max_trade_duration,
    n_trades,
    payoff_ratio,
    profit_factor,
    sqn,
    win_rate,
    worst_trade,
)

__all__ = [
    "Stats",
    "compute_stats",
    # returns and ratios
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
    # drawdowns
    "drawdown_series",
    "max_drawdown",
    "max_drawdown_duration",
    "average_drawdown",
    "ulcer_index",
    # distribution
    "value_at_risk",
    "conditional_value_at_risk",
    "skew",
    "kurtosis",
    "tail_ratio",
    # trades (closed trades only)
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
