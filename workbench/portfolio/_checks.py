"""Input checks and clean-up shared by the allocation methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench.errors import (
    DataValidationError,
    InvalidParameterError,
    OptimizationError,
    did_you_mean,
)
from workbench.portfolio.constraints import Constraints, ResolvedConstraints
from workbench.portfolio.covariance import check_covariance

__all__ = [
    "cov_input",
    "heuristic_constraints",
    "positive_variances",
    "finalize",
    "asset_names",
    "risk_budget",
    "mu_input",
    "required",
]


def cov_input(cov: Any) -> np.ndarray:
    return check_covariance(cov)


def heuristic_constraints(method: str, constraints: Constraints | None) -> float:
    """The net exposure, after checking ``constraints`` holds nothing ``method`` cannot honour."""
    c = constraints if constraints is not None else Constraints()
    if not isinstance(c, Constraints):
        raise InvalidParameterError(
            f"`constraints` must be a workbench.portfolio.Constraints; got {type(c).__name__}."
        )
    unsupported = [a for a in c.active() if a != "leverage"]
    if unsupported:
        raise InvalidParameterError(
            f"method {method!r} cannot honour {', '.join(f'`{a}`' for a in unsupported)}; it only "
            "scales to `net_exposure`. Use method='min_variance' or 'mean_variance' for bounded, "
            "grouped or turnover-limited weights."
        )
    if c.net_exposure <= 0:
        raise InvalidParameterError(
            f"method {method!r} builds long portfolios; `net_exposure` must be > 0, got {c.net_exposure:g}."
        )
    return c.net_exposure


def positive_variances(method: str, cov: np.ndarray, assets: Sequence[str] | None) -> np.ndarray:
    var = np.diag(cov)
    zero = np.flatnonzero(var <= 0)
    if zero.size:
        name = assets[zero[0]] if assets is not None else f"#{zero[0]}"
        raise OptimizationError(
            f"{method}: asset {name!r} has zero variance in this window; drop it or use a "
            "longer window."
        )
    return var


def finalize(w: np.ndarray, rc: ResolvedConstraints, method: str) -> np.ndarray:
    """Clip solver round-off back inside the bounds and check the weights sum to ``net``."""
    if w is None or not np.isfinite(w).all():
        raise OptimizationError(f"{method}: the solver returned non-finite weights.")
    w = np.clip(w, rc.lb, rc.ub)
    gap = rc.net - float(w.sum())
    room = (rc.ub - w) if gap > 0 else (w - rc.lb)
    i = int(np.argmax(room))
    if room[i] >= abs(gap):
        w[i] += gap
    if abs(w.sum() - rc.net) > 1e-6:
        raise OptimizationError(f"{method}: the weights sum to {w.sum():.8g}, not {rc.net:g}.")
    return w


def asset_names(assets: Sequence[str] | None, n: int) -> list[str]:
    if assets is None:
        return [f"asset_{i}" for i in range(n)]
    names = [str(a) for a in assets]
    if len(names) != n:
        raise DataValidationError(f"`assets` has {len(names)} names but `cov` is {n}x{n}.")
    if len(set(names)) != n:
        dup = next(a for a in names if names.count(a) > 1)
        raise DataValidationError(f"`assets` must be unique; {dup!r} appears more than once.")
    return names


def risk_budget(budget: Any, names: list[str]) -> np.ndarray:
    n = len(names)
    if budget is None:
        return np.full(n, 1.0 / n)
    if isinstance(budget, Mapping):
        index = {a: i for i, a in enumerate(names)}
        b = np.zeros(n)
        for asset, value in budget.items():
            if asset not in index:
                raise InvalidParameterError(
                    f"`risk_budget` names asset {asset!r}, which is not among the assets.{did_you_mean(str(asset), names)}"
                )
            b[index[asset]] = float(value)
    else:
        b = np.asarray(budget, dtype=np.float64).reshape(-1)
        if b.shape[0] != n:
            raise InvalidParameterError(
                f"`risk_budget` has {b.shape[0]} values but there are {n} assets."
            )
    if not np.isfinite(b).all() or (b <= 0).any():
        raise InvalidParameterError(
            f"`risk_budget` must be finite and > 0 for every asset; got {b.tolist()}. "
            "Drop an asset rather than giving it a zero budget."
        )
    return b / b.sum()


def required(name: str, value: Any, objective: str) -> Any:
    if value is None:
        raise InvalidParameterError(
            f"objective={objective!r} needs `{name}`; pass {name}=<per-period value>."
        )
    return value


def mu_input(mu: Any, n: int) -> np.ndarray:
    m = np.asarray(mu, dtype=np.float64).reshape(-1)
    if m.shape[0] != n:
        raise DataValidationError(f"`mu` has {m.shape[0]} values but `cov` is {n}x{n}.")
    if not np.isfinite(m).all():
        raise DataValidationError("`mu` has NaN or infinite values.")
    return m
