"""Backtesting: ``backtest(bars, strategy, **settings) -> BacktestResult``."""

from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import backtest
from workbench.backtesting.result import BacktestResult

__all__ = ["BacktestConfig", "BacktestResult", "backtest"]
