"""Multi-strategy portfolios: several strategies (or stored runs) as sleeves of one account.

Each component is a strategy's equity curve, run on its own assets with its own parameters and
costs. The sleeves become the assets of one shared account (a sleeve's "price" is its equity
curve, normalised to 1 at the start) which :func:`~workbench.portfolio.rebalance` holds at target
weights — fixed, or re-estimated by any allocation method from the sleeves' trailing returns —
rebalancing at the close (``fill="same_close"``: a sleeve's value is known at its close). Moving
capital between sleeves costs ``fees`` (default 0: each strategy's own trading costs are already
in its curve).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench.backtesting.result import BacktestResult
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.portfolio.constraints import Constraints
from workbench.portfolio.result import PortfolioResult, contributions

__all__ = ["combine", "MultiStrategyResult", "component_equity"]

_US = pl.Datetime("us", "UTC")


@dataclass(frozen=True, eq=False)
class MultiStrategyResult(PortfolioResult):
    """A :class:`PortfolioResult` whose assets are strategy sleeves.

    Attributes
    ----------
    contributions : polars.DataFrame
        Per strategy: ``average_weight``, ``return_contribution`` (Σ weight × sleeve return) and
        ``risk_contribution`` (share of the portfolio variance; sums to 1).
    correlation : polars.DataFrame
        ``strategy`` and one column per strategy: the correlation matrix of the sleeves' returns.
    sleeve_returns : polars.DataFrame
        ``ts`` and each strategy's per-bar return.
    components : dict
        The inputs, by name.
    """

    components: Any = field(default=None, repr=False)

    @cached_property
    def sleeve_returns(self) -> pl.DataFrame:
        c = self.view.close
        r = np.zeros_like(c)
        r[1:] = c[1:] / c[:-1] - 1.0
        return pl.DataFrame({"ts": self._ts(np.arange(len(c))), **{s: r[:, j] for j, s in enumerate(self.view.symbols)}})

    @cached_property
    def contributions(self) -> pl.DataFrame:
        r = self.sleeve_returns.drop("ts").to_numpy()
        held = np.zeros_like(r)
        held[1:] = self.weight_values[:-1]
        return contributions(held, r, list(self.view.symbols)).rename({"name": "strategy"})

    @cached_property
    def correlation(self) -> pl.DataFrame:
        r = self.sleeve_returns.drop("ts").to_numpy()[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.corrcoef(r, rowvar=False).reshape(r.shape[1], r.shape[1])
        names = list(self.view.symbols)
        return pl.DataFrame({"strategy": names, **{s: corr[:, j] for j, s in enumerate(names)}}).fill_nan(None)


def component_equity(component: Any, *, store: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """A component's timestamps (int64 µs, UTC) and equity curve.

    A component is a :class:`BacktestResult`, a stored run id (``store`` or the default
    :class:`~workbench.store.Store`), a frame ``ts, equity``, or a tuple ``(strategy, bars)`` /
    ``(strategy, bars, settings)`` run with :func:`workbench.backtest`.
    """
    if isinstance(component, tuple):
        from workbench.backtesting.engine import backtest

        if len(component) not in (2, 3):
            raise InvalidParameterError(
                f"a component tuple is (strategy, bars) or (strategy, bars, settings); got {len(component)} items."
            )
        settings = dict(component[2]) if len(component) == 3 else {}
        component = backtest(component[1], component[0], **settings)
    if isinstance(component, str):
        from workbench.store import Store

        component = (store or Store()).load_artifact(component, "equity")
    if isinstance(component, BacktestResult):
        component = component.equity
    if not isinstance(component, pl.DataFrame) or not {"ts", "equity"} <= set(component.columns):
        raise InvalidParameterError(
            "a component must be a BacktestResult, a stored run id, a frame with `ts` and `equity`, or a "
            f"(strategy, bars) tuple; got {type(component).__name__}."
        )
    ts = component["ts"]
    if getattr(ts.dtype, "time_zone", None) is None:
        ts = ts.dt.replace_time_zone("UTC")
    us = ts.dt.convert_time_zone("UTC").dt.cast_time_unit("us").dt.epoch("us").to_numpy().astype(np.int64)
    return us, component["equity"].cast(pl.Float64).to_numpy()


def _names(components: Any) -> list[tuple[str, Any]]:
    if isinstance(components, Mapping):
        items = [(str(k), v) for k, v in components.items()]
    elif isinstance(components, Sequence) and not isinstance(components, str):
        items = [(c if isinstance(c, str) else repr(getattr(c, "strategy", c)) if isinstance(c, BacktestResult)
                  else f"strategy_{i}", c) for i, c in enumerate(components)]
    else:
        raise InvalidParameterError(f"`components` must be a dict by name or a list; got {type(components).__name__}.")
    if len(items) < 2:
        raise InvalidParameterError(f"combine() needs at least two components; got {len(items)}.")
    names = [k for k, _ in items]
    dup = next((k for k in names if names.count(k) > 1), None)
    if dup is not None:
        raise InvalidParameterError(f"component names must be unique; {dup!r} appears twice. Pass a dict by name.")
    return items


def _align(curves: dict[str, tuple[np.ndarray, np.ndarray]], how: str | None) -> tuple[np.ndarray, np.ndarray]:
    """One calendar for every curve; returns the timestamps and an (n_bars, k) equity matrix."""
    names = list(curves)
    first_ts = curves[names[0]][0]
    if how is None:
        for name in names[1:]:
            ts = curves[name][0]
            if not np.array_equal(ts, first_ts):
                raise DataValidationError(
                    f"misaligned calendars: component {name!r} has {len(ts)} bars from {_day(ts[0])} to {_day(ts[-1])}, "
                    f"{names[0]!r} has {len(first_ts)} from {_day(first_ts[0])} to {_day(first_ts[-1])}. "
                    "Fix: pass align='inner' (common bars only) or align='outer' (every bar, curves held flat)."
                )
        return first_ts, np.column_stack([curves[k][1] for k in names])
    if how not in ("inner", "outer"):
        raise InvalidParameterError(f"`align` must be None, 'inner' or 'outer'; got {how!r}.")
    sets = [curves[k][0] for k in names]
    cal = sets[0]
    for ts in sets[1:]:
        cal = np.intersect1d(cal, ts) if how == "inner" else np.union1d(cal, ts)
    if cal.size < 2:
        raise DataValidationError("the components share fewer than two timestamps; try align='outer'.")
    out = np.empty((cal.size, len(names)))
    for j, k in enumerate(names):
        ts, eq = curves[k]
        pos = np.clip(np.searchsorted(ts, cal, side="right") - 1, 0, None)  # last value at or before (first before the start)
        out[:, j] = eq[pos]
    return cal, out


def _day(us: int) -> str:
    return str(pl.Series([int(us)]).cast(_US)[0])


def _sleeve_bars(cal: np.ndarray, equity: np.ndarray, names: list[str]) -> pl.DataFrame:
    bad = np.argwhere(~(equity > 0))
    if bad.size:
        t, j = (int(x) for x in bad[0])
        raise DataValidationError(
            f"component {names[j]!r} has equity {equity[t, j]:g} at {_day(cal[t])}; a sleeve needs a positive "
            "equity curve (a strategy that lost everything cannot be rebalanced into)."
        )
    price = equity / equity[0]
    k = len(names)
    ts = pl.Series("ts", np.tile(cal, k)).cast(_US)
    p = price.T.ravel()
    return pl.DataFrame({"ts": ts, "symbol": np.repeat(names, cal.size), "open": p, "high": p, "low": p, "close": p,
                         "volume": np.zeros(p.size)})


def combine(
    components: Mapping[str, Any] | Sequence[Any],
    *,
    weights: Mapping[str, float] | Sequence[float] | pl.DataFrame | str | Callable[..., Any] | None = None,
    schedule: Any = "monthly",
    drift: float | None = None,
    lookback: int = 252,
    covariance: Any = "ledoit_wolf",
    constraints: Constraints | None = None,
    options: Mapping[str, Any] | None = None,
    align: Literal["inner", "outer"] | None = None,
    store: Any = None,
    **kwargs: Any,
) -> MultiStrategyResult:
    """Combine strategies into one account with rebalanced sleeve weights.

    Parameters
    ----------
    components
        By name (a dict) or a list: :class:`~workbench.backtesting.BacktestResult` objects,
        stored run ids, frames ``ts, equity``, or ``(strategy, bars[, settings])`` tuples.
    weights
        Sleeve weights: a dict by name or a vector (in name order, sorted), a frame over time, or an
        allocation method name or callable applied to the sleeves' trailing returns (with
        ``lookback``, ``covariance``, ``constraints`` — bounds, groups… — and ``options``).
        Default: equal weights.
    schedule, drift
        When to rebalance among the sleeves (see :func:`~workbench.portfolio.rebalance`).
    align
        ``None`` requires identical calendars; ``"inner"`` keeps the common bars, ``"outer"``
        every bar (a curve is held flat where it has no bar).
    store
        The :class:`~workbench.store.Store` holding run ids (default: the configured one).
    **kwargs
        Passed to :func:`~workbench.portfolio.rebalance` (``cash``, ``fees``, ``cash_buffer``,
        ``benchmark``, ``exposure``…); fills default to the close.

    Returns
    -------
    MultiStrategyResult

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross, RsiMeanReversion
    >>> goog = wb.data.sample("GOOG")
    >>> res = combine({"trend": wb.backtest(goog, SmaCross()), "reversion": wb.backtest(goog, RsiMeanReversion())},
    ...               weights={"trend": 0.6, "reversion": 0.4})
    >>> res.contributions["strategy"].to_list(), res.correlation.shape
    (['reversion', 'trend'], (2, 3))
    """
    from workbench.portfolio.rebalance import rebalance

    items = _names(components)
    curves = {name: component_equity(c, store=store) for name, c in items}
    cal, equity = _align(curves, align)
    names = [k for k, _ in items]
    bars = _sleeve_bars(cal, equity, names)
    if weights is None:
        weights = {k: 1.0 / len(names) for k in names}
    kwargs.setdefault("fill", "same_close")
    if constraints is not None:
        kwargs.setdefault("exposure", constraints.net_exposure)
    allocation = {"covariance": covariance, "constraints": constraints, "options": options}
    is_method = isinstance(weights, str) or (callable(weights) and not isinstance(weights, pl.DataFrame))
    res = rebalance(bars, weights, schedule=schedule, drift=drift, lookback=lookback,
                    allocation=allocation if is_method else None, **kwargs)
    return MultiStrategyResult(**{f.name: getattr(res, f.name) for f in fields(res)},
                               components=dict(items))
