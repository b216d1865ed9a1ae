"""Convex allocation problems, solved by cvxpy with the Clarabel solver.

The covariance is rescaled to unit average variance and expected excess returns to unit largest
magnitude before solving (neither changes the optimal weights), so the solver's absolute
tolerances mean the same thing for daily and annual data.
"""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np

from workbench._warnings import warn
from workbench.errors import OptimizationError
from workbench.portfolio.constraints import ResolvedConstraints

__all__ = [
    "covariance_factor",
    "solve_min_variance",
    "solve_max_sharpe",
    "solve_target_return",
    "solve_target_volatility",
    "solve_risk_parity",
]

_OK = ("optimal", "optimal_inaccurate")


def covariance_factor(cov: np.ndarray, *, method: str) -> tuple[np.ndarray, float]:
    """A factor ``F`` with ``FᵀF = cov / s`` and the scale ``s`` (mean variance).

    Raises :class:`OptimizationError` when ``cov`` is singular, naming the shrinkage fix.
    """
    s = float(np.mean(np.diag(cov)))
    if not s > 0:
        raise OptimizationError(
            f"{method}: every asset has zero variance in this window; there is no risk to allocate."
        )
    lam, vec = np.linalg.eigh(cov / s)
    if lam[0] <= 1e-10 * lam[-1]:
        rank = int(np.sum(lam > 1e-10 * lam[-1]))
        raise OptimizationError(
            f"{method}: the covariance matrix is singular (rank {rank} of {len(lam)}, smallest "
            f"eigenvalue {lam[0] * s:.3g}), so the optimal weights are not unique. Use a shrinkage "
            "estimator (covariance='ledoit_wolf'), a longer window than the number of assets, "
            "or drop duplicated/constant assets."
        )
    return np.sqrt(lam)[:, None] * vec.T, s


def _constraints(w: cp.Variable, k: cp.Expression | float, rc: ResolvedConstraints) -> list:
    """The linear/convex constraints of ``rc`` on ``w``, homogenised by ``k`` (1 for plain problems)."""
    out = [cp.sum(w) == rc.net * k]
    fin_lb, fin_ub = np.isfinite(rc.lb), np.isfinite(rc.ub)
    if fin_lb.any():
        out.append(w[fin_lb] >= rc.lb[fin_lb] * k)
    if fin_ub.any():
        out.append(w[fin_ub] <= rc.ub[fin_ub] * k)
    for _, idx, lo, hi in rc.groups:
        if math.isfinite(lo):
            out.append(cp.sum(w[idx]) >= lo * k)
        if math.isfinite(hi):
            out.append(cp.sum(w[idx]) <= hi * k)
    if rc.leverage is not None:
        out.append(cp.norm1(w) <= rc.leverage * k)
    if rc.max_turnover is not None and rc.previous is not None:
        out.append(cp.norm1(w - rc.previous * k) <= rc.max_turnover * k)
    return out


def _solve(problem: cp.Problem, method: str) -> str:
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise OptimizationError(f"{method}: the Clarabel solver failed ({exc}).") from None
    status = str(problem.status)
    if status == "optimal_inaccurate":
        warn(f"{method}: the solver reached only reduced accuracy; check the weights.")
    return status


def _describe(rc: ResolvedConstraints) -> str:
    active = rc.source.active()
    return ", ".join(f"`{a}`" for a in active) if active else "the per-asset bounds"


def _infeasible(
    method: str, rc: ResolvedConstraints, status: str, extra: str = ""
) -> OptimizationError:
    if status.startswith("infeasible"):
        return OptimizationError(
            f"{method}: no portfolio satisfies the constraints together ({_describe(rc)}, "
            f"net_exposure={rc.net:g}).{extra} Relax one of them."
        )
    return OptimizationError(f"{method}: the solver ended with status {status!r}.{extra}")


def _feasible(rc: ResolvedConstraints, n: int) -> bool:
    w = cp.Variable(n)
    problem = cp.Problem(cp.Minimize(0), _constraints(w, 1.0, rc))
    return _solve(problem, "feasibility check") in _OK


def _extreme_return(mu: np.ndarray, rc: ResolvedConstraints) -> float | None:
    """The highest ``muᵀw`` attainable under ``rc`` (None if unbounded or infeasible)."""
    w = cp.Variable(len(mu))
    problem = cp.Problem(cp.Maximize(mu @ w), _constraints(w, 1.0, rc))
    status = _solve(problem, "attainable-return check")
    return float(problem.value) if status in _OK else None


def solve_min_variance(
    cov: np.ndarray, rc: ResolvedConstraints, *, method: str = "min_variance"
) -> tuple[np.ndarray, str]:
    """Minimise ``wᵀΣw`` subject to ``rc``."""
    factor, _ = covariance_factor(cov, method=method)
    w = cp.Variable(cov.shape[0])
    problem = cp.Problem(cp.Minimize(cp.sum_squares(factor @ w)), _constraints(w, 1.0, rc))
    status = _solve(problem, method)
    if status not in _OK:
        raise _infeasible(method, rc, status)
    return np.asarray(w.value, dtype=np.float64), status


def solve_max_sharpe(
    mu: np.ndarray, cov: np.ndarray, rc: ResolvedConstraints, risk_free_rate: float
) -> tuple[np.ndarray, str]:
    """Maximise ``(μ − r_f)ᵀw / √(wᵀΣw)`` via the homogenised QP of Cornuéjols and Tütüncü.

    With ``y = κw``: minimise ``yᵀΣy`` s.t. ``(μ − r_f)ᵀy = 1``, ``κ ≥ 0`` and every constraint
    of ``rc`` multiplied through by ``κ``; then ``w = y/κ``.
    """
    method = "mean_variance(objective='max_sharpe')"
    excess = mu - risk_free_rate
    if rc.net <= 0:
        raise OptimizationError(
            f"{method} needs `net_exposure` > 0; got {rc.net:g}. Use objective='target_return' "
            "or 'target_volatility' for dollar-neutral portfolios."
        )
    if bool((rc.lb >= 0).all()) and excess.max() <= 0:
        raise OptimizationError(
            f"{method}: no expected return exceeds `risk_free_rate` = {risk_free_rate:g} (the "
            f"highest is {mu.max():.6g}), so every long-only portfolio has a Sharpe ratio <= 0. "
            "Lower `risk_free_rate`, use a longer estimation window, or use method='min_variance'."
        )
    factor, _ = covariance_factor(cov, method=method)
    scale = float(np.abs(excess).max())
    y, kappa = cp.Variable(len(mu)), cp.Variable(nonneg=True)
    cons = [(excess / scale) @ y == 1, *_constraints(y, kappa, rc)]
    problem = cp.Problem(cp.Minimize(cp.sum_squares(factor @ y)), cons)
    status = _solve(problem, method)
    if status not in _OK:
        best = _extreme_return(mu, rc) if _feasible(rc, len(mu)) else None
        extra = (
            f" No portfolio under the constraints has an expected return above `risk_free_rate` "
            f"= {risk_free_rate:g} (the highest attainable is {best:.6g})."
            if best is not None
            else ""
        )
        raise _infeasible(method, rc, status, extra)
    k = float(kappa.value) if kappa.value is not None else 0.0
    if not k > 1e-12:
        raise OptimizationError(
            f"{method}: the problem is degenerate (scale κ = {k:.3g}); relax the constraints."
        )
    return np.asarray(y.value, dtype=np.float64) / k, status


def solve_target_return(
    mu: np.ndarray, cov: np.ndarray, rc: ResolvedConstraints, target: float
) -> tuple[np.ndarray, str]:
    """Minimise ``wᵀΣw`` s.t. ``μᵀw ≥ target`` and ``rc``."""
    method = "mean_variance(objective='target_return')"
    factor, _ = covariance_factor(cov, method=method)
    scale = max(float(np.abs(mu).max()), 1e-300)
    w = cp.Variable(len(mu))
    cons = [(mu / scale) @ w >= target / scale, *_constraints(w, 1.0, rc)]
    problem = cp.Problem(cp.Minimize(cp.sum_squares(factor @ w)), cons)
    status = _solve(problem, method)
    if status not in _OK:
        best = _extreme_return(mu, rc)
        extra = (
            f" `target_return` = {target:g} is above the highest attainable expected return "
            f"{best:.6g}; lower it."
            if best is not None
            else ""
        )
        if best is not None:
            raise OptimizationError(f"{method}:{extra}")
        raise _infeasible(method, rc, status)
    return np.asarray(w.value, dtype=np.float64), status


def solve_target_volatility(
    mu: np.ndarray, cov: np.ndarray, rc: ResolvedConstraints, target: float
) -> tuple[np.ndarray, str]:
    """Maximise ``μᵀw`` s.t. ``√(wᵀΣw) ≤ target`` and ``rc``."""
    method = "mean_variance(objective='target_volatility')"
    factor, s = covariance_factor(cov, method=method)
    scale = max(float(np.abs(mu).max()), 1e-300)
    w = cp.Variable(len(mu))
    cons = [cp.norm(factor @ w, 2) <= target / math.sqrt(s), *_constraints(w, 1.0, rc)]
    problem = cp.Problem(cp.Maximize((mu / scale) @ w), cons)
    status = _solve(problem, method)
    if status not in _OK:
        if _feasible(rc, len(mu)):
            w_min, _ = solve_min_variance(cov, rc, method=method)
            floor = math.sqrt(max(float(w_min @ cov @ w_min), 0.0))
            raise OptimizationError(
                f"{method}: `target_volatility` = {target:g} is below the lowest attainable "
                f"volatility {floor:.6g} (per period, like the returns); raise it."
            )
        raise _infeasible(method, rc, status)
    return np.asarray(w.value, dtype=np.float64), status


def solve_risk_parity(cov: np.ndarray, budget: np.ndarray) -> tuple[np.ndarray, str]:
    """Risk-budgeting weights: ``argmin ½yᵀΣy − Σ bᵢ log yᵢ`` (y > 0), normalised to sum to 1.

    At the optimum ``yᵢ(Σy)ᵢ = bᵢ``, so each asset's share of the risk is its budget. Clarabel
    solves the exponential-cone problem; a few Newton steps then polish the solution to machine
    precision.
    """
    method = "risk_parity"
    factor, s = covariance_factor(cov, method=method)
    y = cp.Variable(len(budget))
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(factor @ y) - budget @ cp.log(y)))
    status = _solve(problem, method)
    if status not in _OK or y.value is None:
        raise OptimizationError(f"{method}: the solver ended with status {status!r}.")
    x = _newton_polish(np.maximum(np.asarray(y.value, dtype=np.float64), 1e-12), cov / s, budget)
    return x / x.sum(), status


def _newton_polish(y: np.ndarray, cov: np.ndarray, b: np.ndarray, iters: int = 30) -> np.ndarray:
    def f(v: np.ndarray) -> float:
        return 0.5 * float(v @ cov @ v) - float(b @ np.log(v))

    for _ in range(iters):
        grad = cov @ y - b / y
        if np.abs(grad * y).max() < 1e-13 * b.max():
            break
        step = np.linalg.solve(cov + np.diag(b / y**2), -grad)
        t, f0, slope = 1.0, f(y), float(grad @ step)
        while True:
            cand = y + t * step
            if (cand > 0).all() and f(cand) <= f0 + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-10:
                return y
        y = cand
    return y
