"""The one example a newcomer meets first: backtesting.py's ``SmaCross`` on GOOG.

The README's five lines, ``workbench demo`` and the backtest explorer's defaults all run exactly
this, so the first hour shows one headline number three times. It is also backtesting.py's own
quick-start example (10/20 moving averages, long and short, 10,000 cash, 0.2% commission, whole
shares), and the oracle tests hold our result equal to that library's.

Examples
--------
>>> result = run()
>>> result.strategy
SmaCross(fast=10, slow=20, direction='both')
>>> f"{result.stats.total_return:.2%}", result.stats.n_trades
('462.64%', 93)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.backtesting.result import BacktestResult
    from workbench.strategies import SmaCross

__all__ = ["DATASET", "PARAMS", "SETTINGS", "strategy", "run"]

DATASET = "GOOG"
"""The sample dataset: GOOG daily bars, 2004–2013."""

PARAMS: dict[str, Any] = {"fast": 10, "slow": 20, "direction": "both"}
"""``SmaCross``'s parameters: long after the 10-bar SMA crosses above the 20-bar one, short after
it crosses below."""

SETTINGS: dict[str, Any] = {"cash": 10_000, "fees": 0.002, "lot_size": 1}
"""The engine's settings: 10,000 cash, 0.2% commission, whole shares."""


def strategy() -> SmaCross:
    """``SmaCross(**PARAMS)``."""
    from workbench.strategies import SmaCross

    return SmaCross(**PARAMS)


def run() -> BacktestResult:
    """Backtest :func:`strategy` on the :data:`DATASET` sample with :data:`SETTINGS`."""
    import workbench as wb

    return wb.backtest(wb.data.sample(DATASET), strategy(), **SETTINGS)
