"""Allocation methods: target weights from a window of asset returns.

Each method takes the estimated moments (``cov``, and ``mu`` for mean-variance) and returns a
weights vector; :func:`allocate` estimates the moments from returns, calls a method and wraps the
weights in a frozen :class:`AllocationResult`. Moments and targets are per period, in the units
of the returns.

| method                      | constraints honoured                                        |
|-----------------------------|-------------------------------------------------------------|
| ``equal_weight``            | ``net_exposure`` (and a ``leverage`` cap ≥ it)              |
| ``inverse_volatility``      | ``net_exposure`` (and a ``leverage`` cap ≥ it)              |
| ``risk_parity``             | ``net_exposure`` (and a ``leverage`` cap ≥ it)              |
| ``hierarchical_risk_parity``| ``net_exposure`` (and a ``leverage`` cap ≥ it)              |
| ``min_variance``            | all of :class:`Constraints`                                 |
| ``mean_variance``           | all of :class:`Constraints`                                 |

>>> import numpy as np
>>> cov = np.diag([0.04, 0.01])
>>> min_variance(cov).round(4).tolist()
[0.2, 0.8]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_int, check_number
from workbench.errors import (
    DataValidationError,
    InvalidParameterError,
    did_you_mean,
)
from workbench.portfolio import _checks, _convex
from workbench.portfolio._hrp import Linkage, hrp_weights
from workbench.portfolio.constraints import Constraints, ResolvedConstraints, resolve
from workbench.portfolio.covariance import (
    COVARIANCE_METHODS,
    CovarianceMethod,
    check_covariance,
    mean_returns,
    returns_matrix,
)
from workbench.portfolio.covariance import (
    covariance as estimate_covariance,
)

__all__ = [
    "AllocationMethod",
    "Objective",
    "AllocationResult",
    "equal_weight",
    "inverse_volatility",
    "risk_parity",
    "hierarchical_risk_parity",
    "min_variance",
    "mean_variance",
    "risk_contributions",
    "allocate",
]

AllocationMethod = Literal[
    "equal_weight",
    "inverse_volatility",
    "risk_parity",
    "hierarchical_risk_parity",
    "min_variance",
    "mean_variance",
]
Objective = Literal["max_sharpe", "target_return", "target_volatility"]
_METHODS: tuple[str, ...] = get_args(AllocationMethod)
_LINKAGES: tuple[str, ...] = get_args(Linkage)


@dataclass(frozen=True)
class AllocationResult:
    """Target weights and how they were obtained.

    Attributes
    ----------
    method
        The allocation method.
    weights
        polars frame with one row per asset: ``asset`` (str), ``weight`` and
        ``risk_contribution`` (each asset's fraction of the portfolio variance; sums to 1).
    covariance_method
        The covariance estimator (``"given"`` when a matrix was passed).
    solver_status
        cvxpy's status for optimised methods (``"optimal"``), ``None`` for closed forms.
    expected_return, volatility
        The portfolio's per-period expected return ``μᵀw`` and volatility ``√(wᵀΣw)``.
    turnover
        ``Σ|w − w_prev|`` when previous weights were given, else ``None``.
    constraints
        The constraints the weights satisfy.
    """

    method: str
    weights: pl.DataFrame
    covariance_method: str
    solver_status: str | None
    expected_return: float
    volatility: float
    turnover: float | None
    constraints: Constraints = field(repr=False)

    @property
    def assets(self) -> list[str]:
        """Asset names, in column order of the returns."""
        return self.weights["asset"].to_list()

    def to_numpy(self) -> np.ndarray:
        """The weights as a float64 vector in asset order."""
        return self.weights["weight"].to_numpy().astype(np.float64)

    def to_dict(self) -> dict[str, float]:
        """``{asset: weight}``."""
        return dict(zip(self.assets, self.to_numpy().tolist(), strict=True))


# --------------------------------------------------------------------------- methods


def equal_weight(n_assets: int, *, constraints: Constraints | None = None) -> np.ndarray:
    """``net_exposure / n`` in every asset.

    Examples
    --------
    >>> equal_weight(4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    n = check_int("n_assets", n_assets, 1)
    return np.full(n, _checks.heuristic_constraints("equal_weight", constraints) / n)


def inverse_volatility(
    cov: Any, *, constraints: Constraints | None = None, assets: Sequence[str] | None = None
) -> np.ndarray:
    """Weights proportional to ``1/σᵢ`` (``assets`` names the columns in error messages).

    Raises
    ------
    OptimizationError
        An asset with zero variance.

    Examples
    --------
    >>> import numpy as np
    >>> inverse_volatility(np.diag([0.04, 0.01])).round(4).tolist()
    [0.3333, 0.6667]
    """
    c = _checks.cov_input(cov)
    net = _checks.heuristic_constraints("inverse_volatility", constraints)
    inv = 1.0 / np.sqrt(_checks.positive_variances("inverse_volatility", c, assets))
    return net * inv / inv.sum()


def risk_parity(
    cov: Any,
    *,
    risk_budget: Sequence[float] | Mapping[str, float] | None = None,
    constraints: Constraints | None = None,
    assets: Sequence[str] | None = None,
) -> np.ndarray:
    """Equal-risk-contribution (or risk-budgeting) weights, long-only.

    Solves the strictly convex ``min ½yᵀΣy − Σ bᵢ log yᵢ`` over ``y > 0`` (Clarabel), whose
    optimum has ``yᵢ(Σy)ᵢ = bᵢ``, then normalises ``y`` to ``net_exposure``; each asset then
    carries the fraction ``bᵢ / Σb`` of the portfolio variance.

    Parameters
    ----------
    cov
        ``(n, n)`` positive definite covariance.
    risk_budget
        Positive risk shares (normalised to sum to 1), as a sequence or a dict by asset name;
        default equal.
    constraints
        Only ``net_exposure`` applies.
    assets
        Asset names, needed when ``risk_budget`` is a dict.

    Raises
    ------
    OptimizationError
        Singular covariance (use a shrinkage estimator) or a solver failure.

    Examples
    --------
    >>> import numpy as np
    >>> risk_parity(np.diag([0.04, 0.01])).round(4).tolist()
    [0.3333, 0.6667]
    """
    c = _checks.cov_input(cov)
    net = _checks.heuristic_constraints("risk_parity", constraints)
    budget = _checks.risk_budget(risk_budget, _checks.asset_names(assets, c.shape[0]))
    w, _ = _convex.solve_risk_parity(c, budget)
    return net * w


def hierarchical_risk_parity(
    cov: Any,
    *,
    linkage: Linkage = "single",
    constraints: Constraints | None = None,
    assets: Sequence[str] | None = None,
) -> np.ndarray:
    """Hierarchical Risk Parity (López de Prado, 2016), long-only.

    Correlation distance ``√(½(1 − ρ))``, hierarchical clustering (``linkage``, single by
    default) with ``scipy.cluster.hierarchy``, quasi-diagonalisation (dendrogram leaf order),
    recursive bisection of the ordered list into halves weighted by the inverse variance of each
    half's inverse-variance portfolio. The correlations are those of ``cov`` (skfolio's
    ``HierarchicalRiskParity`` takes them from the raw returns instead; the two agree for the
    sample covariance). ``assets`` names the columns in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> hierarchical_risk_parity(np.diag([0.04, 0.01])).round(4).tolist()
    [0.2, 0.8]
    """
    check_choice("linkage", linkage, _LINKAGES)
    c = _checks.cov_input(cov)
    net = _checks.heuristic_constraints("hierarchical_risk_parity", constraints)
    _checks.positive_variances("hierarchical_risk_parity", c, assets)
    return net * hrp_weights(c, linkage)


def min_variance(
    cov: Any,
    *,
    constraints: Constraints | None = None,
    assets: Sequence[str] | None = None,
    previous_weights: Any = None,
) -> np.ndarray:
    """The minimum-variance portfolio under ``constraints`` (long-only, summing to 1 by default).

    Parameters
    ----------
    cov
        ``(n, n)`` positive definite covariance.
    constraints
        Bounds, groups, leverage, net exposure, turnover (see :class:`Constraints`).
    assets
        Asset names, for constraints given by name (default ``asset_0, asset_1, ...``).
    previous_weights
        Current weights (sequence or dict by asset), required by ``max_turnover``.

    Raises
    ------
    OptimizationError
        Singular covariance, bounds that cannot sum to ``net_exposure``, infeasible constraints.

    Examples
    --------
    >>> import numpy as np
    >>> cov = np.array([[0.04, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 0.01]])
    >>> min_variance(cov, constraints=Constraints(max_weight=0.4)).round(4).tolist()
    [0.2, 0.4, 0.4]
    """
    c = _checks.cov_input(cov)
    rc = resolve(constraints, _checks.asset_names(assets, c.shape[0]), previous_weights)
    return _run_min_variance(c, rc)[0]


def _run_min_variance(c: np.ndarray, rc: ResolvedConstraints) -> tuple[np.ndarray, str]:
    w, status = _convex.solve_min_variance(c, rc)
    return _checks.finalize(w, rc, "min_variance"), status


def mean_variance(
    mu: Any,
    cov: Any,
    *,
    objective: Objective = "max_sharpe",
    risk_free_rate: float = 0.0,
    target_return: float | None = None,
    target_volatility: float | None = None,
    constraints: Constraints | None = None,
    assets: Sequence[str] | None = None,
    previous_weights: Any = None,
) -> np.ndarray:
    """Markowitz mean-variance weights under ``constraints``.

    Parameters
    ----------
    mu, cov
        Per-period expected returns ``(n,)`` and positive definite covariance ``(n, n)``.
    objective
        ``"max_sharpe"``: maximise ``(μ − r_f)ᵀw / √(wᵀΣw)`` (convex via the
        Cornuéjols-Tütüncü homogenisation); ``"target_return"``: minimise variance subject to
        ``μᵀw ≥ target_return``; ``"target_volatility"``: maximise ``μᵀw`` subject to
        ``√(wᵀΣw) ≤ target_volatility``.
    risk_free_rate
        Per-period risk-free rate for ``"max_sharpe"``.
    target_return, target_volatility
        Per-period targets, required by the matching objective.
    constraints, assets, previous_weights
        As in :func:`min_variance`.

    Raises
    ------
    OptimizationError
        No expected return above the risk-free rate (max-Sharpe, long-only), an unattainable
        target, singular covariance, infeasible constraints.

    Examples
    --------
    >>> import numpy as np
    >>> mu, cov = np.array([0.02, 0.01]), np.diag([0.04, 0.01])
    >>> mean_variance(mu, cov).round(4).tolist()
    [0.3333, 0.6667]
    >>> mean_variance(mu, cov, objective="target_return", target_return=0.015).round(4).tolist()
    [0.5, 0.5]
    """
    check_choice("objective", objective, get_args(Objective))
    c = _checks.cov_input(cov)
    m = _checks.mu_input(mu, c.shape[0])
    rc = resolve(constraints, _checks.asset_names(assets, c.shape[0]), previous_weights)
    return _run_mean_variance(
        m, c, rc, objective, risk_free_rate, target_return, target_volatility
    )[0]


def _run_mean_variance(
    m: np.ndarray,
    c: np.ndarray,
    rc: ResolvedConstraints,
    objective: str,
    risk_free_rate: float,
    target_return: float | None,
    target_volatility: float | None,
) -> tuple[np.ndarray, str]:
    check_choice("objective", objective, get_args(Objective))
    if objective == "max_sharpe":
        rf = check_number("risk_free_rate", risk_free_rate, -1.0, 1.0)
        w, status = _convex.solve_max_sharpe(m, c, rc, rf)
    elif objective == "target_return":
        target = check_number(
            "target_return", _checks.required("target_return", target_return, objective), -1.0, 1.0
        )
        w, status = _convex.solve_target_return(m, c, rc, target)
    else:
        target = _checks.required("target_volatility", target_volatility, objective)
        target = check_number("target_volatility", target, 0, None, lo_open=True)
        w, status = _convex.solve_target_volatility(m, c, rc, target)
    return _checks.finalize(w, rc, f"mean_variance(objective={objective!r})"), status


def risk_contributions(weights: Any, cov: Any) -> np.ndarray:
    """Each asset's fraction of the portfolio variance: ``wᵢ(Σw)ᵢ / wᵀΣw`` (sums to 1).

    Raises
    ------
    DataValidationError
        Lengths that do not match, non-finite weights, or a portfolio with zero variance.

    Examples
    --------
    >>> import numpy as np
    >>> risk_contributions([0.5, 0.5], np.diag([0.04, 0.01])).tolist()
    [0.8, 0.2]
    """
    c = check_covariance(cov)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != c.shape[0]:
        raise DataValidationError(
            f"`weights` has {w.shape[0]} values but `cov` is {c.shape[0]}x{c.shape[0]}."
        )
    if not np.isfinite(w).all():
        raise DataValidationError("`weights` has NaN or infinite values.")
    marginal = c @ w
    total = float(w @ marginal)
    if not total > 0:
        raise DataValidationError(
            "the portfolio has zero variance, so risk contributions are undefined."
        )
    return w * marginal / total


# --------------------------------------------------------------------------- entry point

_OPTIONS: dict[str, tuple[str, ...]] = {
    "equal_weight": (),
    "inverse_volatility": (),
    "risk_parity": ("risk_budget",),
    "hierarchical_risk_parity": ("linkage",),
    "min_variance": (),
    "mean_variance": ("objective", "risk_free_rate", "target_return", "target_volatility"),
}


def allocate(
    returns: Any,
    *,
    method: AllocationMethod = "min_variance",
    covariance: CovarianceMethod | Any = "ledoit_wolf",
    expected_returns: Literal["sample", "ewma"] | Any = "sample",
    halflife: float = 20.0,
    constraints: Constraints | None = None,
    previous_weights: Any = None,
    assets: Sequence[str] | None = None,
    **options: Any,
) -> AllocationResult:
    """Estimate moments from a window of returns and allocate with ``method``.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns: an array or a polars/pandas DataFrame of asset columns
        (temporal columns such as ``ts`` are ignored).
    method
        One of ``"equal_weight"``, ``"inverse_volatility"``, ``"risk_parity"``,
        ``"hierarchical_risk_parity"``, ``"min_variance"`` (default), ``"mean_variance"``.
    covariance
        Estimator name (``"ledoit_wolf"`` default, ``"sample"``, ``"ewma"``) or a precomputed
        ``(n_assets, n_assets)`` matrix.
    expected_returns
        ``"sample"`` (default) or ``"ewma"`` mean, or a precomputed ``(n_assets,)`` vector.
    halflife
        Half-life in observations of the ``"ewma"`` estimators.
    constraints
        A :class:`Constraints`; default long-only, fully invested.
    previous_weights
        Current weights (sequence or dict by asset); required by ``max_turnover``, and used for
        the reported turnover.
    assets
        Names for the columns of an array of returns.
    **options
        Options of the method: ``risk_budget`` (risk_parity), ``linkage``
        (hierarchical_risk_parity), ``objective``, ``risk_free_rate``, ``target_return``,
        ``target_volatility`` (mean_variance).

    Returns
    -------
    AllocationResult

    Raises
    ------
    DataValidationError
        Bad returns (NaN, fewer than 2 rows), a covariance of the wrong shape, bad previous weights.
    InvalidParameterError
        Unknown method, estimator or option; constraints naming unknown assets.
    OptimizationError
        Singular covariance, infeasible constraints or unattainable targets.

    Examples
    --------
    >>> import polars as pl
    >>> r = pl.DataFrame({"A": [0.01, -0.02, 0.015, 0.0], "B": [0.002, 0.001, -0.001, 0.0]})
    >>> res = allocate(r, method="inverse_volatility", covariance="sample")
    >>> res.weights.columns, round(res.to_dict()["B"], 4)
    (['asset', 'weight', 'risk_contribution'], 0.923)
    """
    check_choice("method", method, _METHODS)
    allowed = _OPTIONS[method]
    for key in options:
        if key not in allowed:
            every = sorted({o for opts in _OPTIONS.values() for o in opts})
            raise InvalidParameterError(
                f"method {method!r} takes no option `{key}`; its options are "
                f"{', '.join(allowed) or 'none'}.{did_you_mean(key, every)}"
            )
    x, names = returns_matrix(returns, assets=assets)
    cov, cov_name = _estimate_covariance(x, covariance, halflife)
    mu = _estimate_mean(x, expected_returns, halflife)
    c = constraints if constraints is not None else Constraints()
    if not isinstance(c, Constraints):
        raise InvalidParameterError(
            f"`constraints` must be a workbench.portfolio.Constraints; got {type(c).__name__}."
        )
    w, status = _dispatch(method, mu, cov, c, names, previous_weights, options)
    prev = resolve(
        Constraints(long_only=c.long_only, net_exposure=c.net_exposure), names, previous_weights
    ).previous
    return _wrap(method, w, mu, cov, cov_name, status, prev, c, names)


def _estimate_covariance(x: np.ndarray, covariance: Any, halflife: float) -> tuple[np.ndarray, str]:
    if isinstance(covariance, str):
        check_choice("covariance", covariance, COVARIANCE_METHODS)
        kw = {"halflife": halflife} if covariance == "ewma" else {}
        return estimate_covariance(x, method=cast(CovarianceMethod, covariance), **kw), covariance
    return check_covariance(covariance, n_assets=x.shape[1], name="covariance"), "given"


def _estimate_mean(x: np.ndarray, expected_returns: Any, halflife: float) -> np.ndarray:
    if isinstance(expected_returns, str):
        check_choice("expected_returns", expected_returns, ("sample", "ewma"))
        method = cast(Literal["sample", "ewma"], expected_returns)
        return mean_returns(x, method=method, halflife=halflife)
    m = np.asarray(expected_returns, dtype=np.float64).reshape(-1)
    if m.shape[0] != x.shape[1] or not np.isfinite(m).all():
        raise DataValidationError(
            f"`expected_returns` must hold {x.shape[1]} finite values (one per asset); got {m.tolist()}."
        )
    return m


def _dispatch(
    method: str,
    mu: np.ndarray,
    cov: np.ndarray,
    c: Constraints,
    names: list[str],
    prev: Any,
    options: dict,
) -> tuple[np.ndarray, str | None]:
    if method == "equal_weight":
        return equal_weight(len(names), constraints=c), None
    if method == "inverse_volatility":
        return inverse_volatility(cov, constraints=c, assets=names), None
    if method == "hierarchical_risk_parity":
        return hierarchical_risk_parity(
            cov, linkage=options.get("linkage", "single"), constraints=c, assets=names
        ), None
    if method == "risk_parity":
        net = _checks.heuristic_constraints(method, c)
        w, status = _convex.solve_risk_parity(
            cov, _checks.risk_budget(options.get("risk_budget"), names)
        )
        return net * w, status
    rc = resolve(c, names, prev)
    if method == "min_variance":
        return _run_min_variance(cov, rc)
    return _run_mean_variance(
        mu,
        cov,
        rc,
        options.get("objective", "max_sharpe"),
        options.get("risk_free_rate", 0.0),
        options.get("target_return"),
        options.get("target_volatility"),
    )


def _wrap(
    method: str,
    w: np.ndarray,
    mu: np.ndarray,
    cov: np.ndarray,
    cov_name: str,
    status: str | None,
    prev: np.ndarray | None,
    c: Constraints,
    names: list[str],
) -> AllocationResult:
    variance = float(w @ cov @ w)
    rc = w * (cov @ w) / variance if variance > 0 else np.full(len(w), np.nan)
    frame = pl.DataFrame(
        {"asset": names, "weight": w, "risk_contribution": rc},
        schema={"asset": pl.String, "weight": pl.Float64, "risk_contribution": pl.Float64},
    ).with_columns(pl.col("risk_contribution").fill_nan(None))
    return AllocationResult(
        method=method,
        weights=frame,
        covariance_method=cov_name,
        solver_status=status,
        expected_return=float(mu @ w),
        volatility=max(variance, 0.0) ** 0.5,
        turnover=None if prev is None else float(np.abs(w - prev).sum()),
        constraints=c,
    )
