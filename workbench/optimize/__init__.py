"""Optimization: grid and random sweeps (a fused parallel kernel for the crossover built-ins),
Optuna studies, walk-forward and combinatorially purged cross-validation, and the statistics
that tell an edge from overfitting, shown next to every best.

>>> import workbench as wb
>>> from workbench.optimize import grid
>>> from workbench.strategies import SmaCross
>>> res = grid(wb.data.sample("GOOG"), SmaCross, fast=range(5, 30, 5), slow=range(20, 80, 10),
...            direction="long", fees=0.002)
>>> res.engine, res.frame.height, 0.0 <= res.overfit.dsr <= 1.0
('fused', 28, True)
"""

from workbench.optimize.cv import CVResult, cross_validate
from workbench.optimize.grid import grid, random
from workbench.optimize.overfit import (
    PBOResult,
    annualize_sharpe,
    deannualize_sharpe,
    deflated_sharpe_ratio,
    expected_maximum_sharpe,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from workbench.optimize.persist import trials
from workbench.optimize.result import OverfitReport, Stability, SweepResult
from workbench.optimize.space import SearchSpace, search_space
from workbench.optimize.splits import CombinatorialPurgedKFold, walk_forward_splits
from workbench.optimize.study import study
from workbench.optimize.walk_forward import WalkForwardResult, walk_forward

__all__ = [
    "grid", "random", "study", "walk_forward", "cross_validate", "search_space", "SearchSpace", "SweepResult", "OverfitReport", "Stability",
    "WalkForwardResult", "CVResult", "trials",
    "PBOResult", "annualize_sharpe", "deannualize_sharpe", "deflated_sharpe_ratio", "expected_maximum_sharpe",
    "minimum_track_record_length", "probabilistic_sharpe_ratio", "probability_of_backtest_overfitting",
    "CombinatorialPurgedKFold", "walk_forward_splits",
]
