"""Rolling allocation: weights re-estimated at each rebalance date from a trailing window only.

At a rebalancing bar *t* the window holds the ``lookback`` returns ending at *t*'s close
(``close[t−lookback..t]``); nothing after *t* enters, so perturbing later data changes no weight
decided at or before *t*. Dates without a full window are skipped (the account stays in cash
until the first estimate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, get_args

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_int
from workbench.errors import InvalidParameterError, OptimizationError, WorkbenchError
from workbench.portfolio._schedule import calendar, fixed_targets, schedule_mask, time_zone
from workbench.portfolio.allocation import AllocationMethod, AllocationResult, allocate
from workbench.portfolio.constraints import Constraints
from workbench.portfolio.result import PortfolioResult
from workbench.strategies.base import Bars

__all__ = ["ALIASES", "method_name", "estimate_targets", "rolling_weights", "rolling_allocation"]

ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "hrp": ("hierarchical_risk_parity", {}),
    "max_sharpe": ("mean_variance", {"objective": "max_sharpe"}),
    "erc": ("risk_parity", {}),
    "inverse_vol": ("inverse_volatility", {}),
}
_NAMES: tuple[str, ...] = (*get_args(AllocationMethod), *ALIASES)


def method_name(method: str | Callable[..., Any]) -> str:
    """The method's name as recorded in a run (a callable's ``__name__``)."""
    if isinstance(method, str):
        return method
    return str(getattr(method, "__name__", type(method).__name__))


def _resolve(method: Any) -> tuple[str, dict[str, Any]] | Callable[..., Any]:
    if isinstance(method, str):
        check_choice("method", method, _NAMES)
        return ALIASES.get(method, (method, {}))
    if callable(method):
        return method
    raise InvalidParameterError(
        f"`method` must be an allocation method name ({', '.join(map(repr, _NAMES))}) or a callable "
        f"taking a frame of window returns; got {method!r}."
    )


def _returns(close: np.ndarray) -> np.ndarray:
    """Simple returns of each bar over the previous close; row ``i`` is bar ``i + 1``."""
    return close[1:] / close[:-1] - 1.0


def estimate_targets(
    frame: pl.DataFrame,
    view: Bars,
    method: str | Callable[..., Any],
    *,
    lookback: int,
    bars_at: np.ndarray,
    covariance: Any = "ledoit_wolf",
    constraints: Constraints | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Target rows estimated at each bar of ``bars_at`` that has ``lookback`` returns before it,
    and those bars. Raises when the history is shorter than the window."""
    how = _resolve(method)
    lookback = check_int("lookback", lookback, 2)
    n_ret = view.n_bars - 1
    if lookback > n_ret:
        raise InvalidParameterError(
            f"`lookback` must be at most the history's length; got {lookback}, but the bars give only "
            f"{n_ret} returns ({view.n_bars} bars). Fix: shorten the window or load more history."
        )
    at = np.asarray(bars_at, dtype=np.int64)
    at = at[at >= lookback]
    if at.size == 0:
        raise InvalidParameterError(
            f"no rebalance date has {lookback} returns before it (`lookback`={lookback}); the first "
            f"full window ends at bar {lookback}. Fix: shorten the window or rebalance later."
        )
    r = _returns(view.close)
    ts = pl.Series("ts", view.ts[1:]).dt.replace_time_zone("UTC")
    targets = np.empty((at.size, view.n_assets))
    previous = None
    for k, t in enumerate(at.tolist()):
        window = r[t - lookback: t]
        try:
            w = _one(how, window, ts[t - lookback: t], view.symbols, covariance, constraints, options, previous)
        except WorkbenchError as exc:
            raise type(exc)(f"allocation at {ts[t - 1]}: {exc}") from exc
        targets[k] = w
        previous = w
    return targets, at


def _one(how: Any, window: np.ndarray, ts: pl.Series, symbols: tuple[str, ...], covariance: Any,
         constraints: Constraints | None, options: Mapping[str, Any] | None,
         previous: np.ndarray | None) -> np.ndarray:
    if callable(how):
        frame = pl.DataFrame({"ts": ts, **{s: window[:, j] for j, s in enumerate(symbols)}})
        out = how(frame)
        if isinstance(out, AllocationResult):
            out = out.to_dict()
        return fixed_targets(out, symbols)[0]
    name, preset = how
    prev = previous if (constraints is not None and constraints.max_turnover is not None) else None
    res = allocate(window, method=name, covariance=covariance, constraints=constraints, assets=list(symbols),
                   previous_weights=prev, **{**preset, **dict(options or {})})
    w = res.to_numpy()
    if not np.isfinite(w).all():
        raise OptimizationError(f"{name} returned non-finite weights.")
    return w


def rolling_weights(
    bars: pl.DataFrame | Any,
    *,
    method: str | Callable[..., Any] = "min_variance",
    lookback: int = 252,
    schedule: Any = "monthly",
    covariance: Any = "ledoit_wolf",
    constraints: Constraints | None = None,
    options: Mapping[str, Any] | None = None,
) -> pl.DataFrame:
    """Target weights re-estimated at each rebalance date from the trailing ``lookback`` returns.

    Parameters
    ----------
    bars
        Canonical bars of several symbols on one calendar.
    method
        An allocation method of :func:`~workbench.portfolio.allocate` (``"min_variance"``,
        ``"mean_variance"``, ``"risk_parity"``, ``"hierarchical_risk_parity"``,
        ``"inverse_volatility"``, ``"equal_weight"``) or an alias (``"hrp"``, ``"max_sharpe"``,
        ``"erc"``, ``"inverse_vol"``), or a callable taking the window's returns (a polars frame
        ``ts`` + one column per symbol) and returning weights (dict, vector or AllocationResult).
    lookback
        Returns per window; dates with fewer before them are skipped.
    schedule
        As in :func:`~workbench.portfolio.rebalance` (``"monthly"``, a list of dates…).
    covariance, constraints, options
        The estimator, :class:`Constraints` and method options (``risk_budget``, ``linkage``,
        ``objective``…) passed to :func:`~workbench.portfolio.allocate`.

    Returns
    -------
    polars.DataFrame
        ``ts`` (the decision bar) and one weight column per symbol; feed it to
        :func:`~workbench.portfolio.rebalance` with ``schedule=None``.

    Examples
    --------
    >>> import workbench as wb
    >>> w = rolling_weights(wb.data.synthetic(120, n_symbols=3, seed=2), method="inverse_vol",
    ...                     lookback=40, schedule="monthly")
    >>> w.columns, w.height, round(float(w.drop("ts").sum_horizontal()[0]), 12)
    (['ts', 'S0', 'S1', 'S2'], 2, 1.0)
    """
    from workbench.backtesting.engine import prepare_bars

    frame, view = prepare_bars(bars)
    cal = calendar(view.ts, time_zone(frame["ts"]))
    at = np.flatnonzero(schedule_mask(cal, schedule))
    targets, rows = estimate_targets(frame, view, method, lookback=lookback, bars_at=at, covariance=covariance,
                                     constraints=constraints, options=options)
    return pl.DataFrame({"ts": cal.gather(rows), **{s: targets[:, j] for j, s in enumerate(view.symbols)}})


def rolling_allocation(
    bars: pl.DataFrame | Any,
    *,
    method: str | Callable[..., Any] = "min_variance",
    lookback: int = 252,
    schedule: Any = "monthly",
    covariance: Any = "ledoit_wolf",
    constraints: Constraints | None = None,
    options: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> PortfolioResult:
    """Backtest a rolling allocation: :func:`rolling_weights`, then :func:`rebalance` to them.

    ``kwargs`` go to :func:`~workbench.portfolio.rebalance` (``drift``, ``cash_buffer``,
    ``benchmark``, ``max_gross``…) and the engine (``fees``, ``fill``, ``lot_size``…). The
    declared exposure is the constraints' ``net_exposure``.

    Examples
    --------
    >>> import workbench as wb
    >>> res = rolling_allocation(wb.data.synthetic(120, n_symbols=3, seed=2), method="hrp",
    ...                          lookback=40, covariance="sample")
    >>> res.rebalances.height, res.strategy.method
    (2, 'hrp')
    """
    from workbench.portfolio.rebalance import rebalance

    kwargs.setdefault("exposure", (constraints or Constraints()).net_exposure)
    allocation = {"covariance": covariance, "constraints": constraints, "options": options}
    return rebalance(bars, method, schedule=schedule, lookback=lookback, allocation=allocation, **kwargs)
