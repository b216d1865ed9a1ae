"""Portfolio construction: covariance estimators, allocation methods and their constraints.

>>> import numpy as np
>>> from workbench import portfolio
>>> r = np.array([[0.01, 0.002], [-0.02, 0.001], [0.015, -0.001], [0.0, 0.0]])
>>> res = portfolio.allocate(r, method="min_variance", assets=["A", "B"])
>>> res.weights.columns, round(float(res.to_numpy().sum()), 12)
(['asset', 'weight', 'risk_contribution'], 1.0)
"""

from __future__ import annotations

from workbench.portfolio.allocation import (
    AllocationMethod,
    AllocationResult,
    Objective,
    allocate,
    equal_weight,
    hierarchical_risk_parity,
    inverse_volatility,
    mean_variance,
    min_variance,
    risk_contributions,
    risk_parity,
)
from workbench.portfolio.constraints import Constraints
from workbench.portfolio.covariance import (
    CovarianceMethod,
    covariance,
    ewma_covariance,
    ledoit_wolf,
    ledoit_wolf_shrinkage,
    mean_returns,
    sample_covariance,
)

__all__ = [
    "AllocationMethod",
    "AllocationResult",
    "Constraints",
    "CovarianceMethod",
    "Objective",
    "allocate",
    "covariance",
    "equal_weight",
    "ewma_covariance",
    "hierarchical_risk_parity",
    "inverse_volatility",
    "ledoit_wolf",
    "ledoit_wolf_shrinkage",
    "mean_returns",
    "mean_variance",
    "min_variance",
    "risk_contributions",
    "risk_parity",
    "sample_covariance",
]

from workbench.portfolio.rebalance import TargetWeights, rebalance  # noqa: E402
from workbench.portfolio.result import PortfolioResult, contributions  # noqa: E402
from workbench.portfolio.rolling import rolling_allocation, rolling_weights  # noqa: E402

__all__ += [
    "PortfolioResult",
    "TargetWeights",
    "contributions",
    "rebalance",
    "rolling_allocation",
    "rolling_weights",
]

from workbench.portfolio.account import Account, InsufficientCashError, Position  # noqa: E402
from workbench.portfolio.multi import MultiStrategyResult, combine  # noqa: E402
from workbench.portfolio.sizing import (  # noqa: E402
    EntrySignal,
    PositionEstimate,
    PositionSizer,
    estimate_position,
    sized_backtest,
)

__all__ += [
    "Account",
    "EntrySignal",
    "InsufficientCashError",
    "MultiStrategyResult",
    "Position",
    "PositionEstimate",
    "PositionSizer",
    "combine",
    "estimate_position",
    "sized_backtest",
]
