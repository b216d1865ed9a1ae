"""The result of a portfolio simulation: a :class:`~workbench.backtesting.BacktestResult` with
target weights, rebalancing records, weights over time, risk contributions and a benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl

from workbench.backtesting.result import BacktestResult
from workbench.nb.enums import OrderKind, OrderStatus
from workbench.nb.rebalance import TRIGGER_DRIFT, TRIGGER_SCHEDULE

__all__ = ["PortfolioResult", "contributions"]

_TRIGGERS = {TRIGGER_SCHEDULE: "schedule", TRIGGER_DRIFT: "drift"}


def contributions(weights: np.ndarray, returns: np.ndarray, names: list[str]) -> pl.DataFrame:
    """Each component's share of the portfolio's return and risk.

    ``weights[t]`` are the weights held over period ``t`` (decided by the close of ``t − 1``) and
    ``returns[t]`` the components' returns over it; component ``j`` contributes
    ``c[t, j] = weights[t, j] · returns[t, j]``. Its return contribution is ``Σₜ c[t, j]`` and its
    risk contribution ``cov(c[:, j], r) / var(r)`` with ``r = Σⱼ c[:, j]`` (the Euler split of the
    variance; the risk contributions sum to 1).

    >>> w = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    >>> r = np.array([[0.02, 0.0], [-0.02, 0.0], [0.04, 0.0]])
    >>> contributions(w, r, ["A", "B"])["risk_contribution"].to_list()
    [1.0, 0.0]
    """
    c = np.where(np.isfinite(returns), weights * returns, 0.0)
    total = c.sum(axis=1)
    var = float(np.var(total))
    cov = ((c - c.mean(axis=0)) * (total - total.mean())[:, None]).mean(axis=0)
    risk = cov / var if var > 0 else np.full(c.shape[1], np.nan)
    return pl.DataFrame({
        "name": names, "average_weight": weights.mean(axis=0), "return_contribution": c.sum(axis=0),
        "risk_contribution": risk,
    }).with_columns(pl.col("risk_contribution").fill_nan(None))


@dataclass(frozen=True, eq=False)
class PortfolioResult(BacktestResult):
    """A backtest of one shared account over several assets (or strategy sleeves).

    Everything of :class:`BacktestResult` (``equity``, ``returns``, ``orders``, ``trades``,
    ``positions``, ``stats``, ``save()``), plus:

    Attributes
    ----------
    weights : polars.DataFrame
        ``ts``, one column per symbol and ``cash``: each holding's fraction of equity at every close.
    targets : polars.DataFrame
        ``ts`` (the decision bar) and the target weight of each symbol, as traded (after the cash
        buffer and exposure limits).
    rebalances : polars.DataFrame
        One row per rebalance: ``ts`` (decision), ``fill_ts``, ``trigger`` (schedule/drift),
        ``n_orders``, ``n_rejected``, ``traded_value``, ``turnover`` (traded value over equity),
        ``fees``, ``slippage``, ``cost`` and the target ``gross`` and ``net`` exposure.
    turnover : float
        Sum of the rebalances' turnover.
    risk_contributions : polars.DataFrame
        Per asset: average weight, contribution to return, share of the variance (see
        :func:`contributions`).
    drawdown : polars.DataFrame
        ``ts, drawdown`` (equity over its running peak, minus one).
    account : polars.DataFrame
        ``ts, equity, available, reserved``: free cash and the cash committed to open positions
        (their cost at entry).
    benchmark : polars.DataFrame
        ``ts, return, equity`` of the benchmark the stats compare against.
    """

    target_weights: Any = field(default=None, repr=False)   # (n_rows, n_assets) or None
    target_bars: Any = field(default=None, repr=False)      # (n_rows,) decision bars
    trigger: Any = field(default=None, repr=False)          # (n_bars,) TRIGGER_* codes
    trade_equity: Any = field(default=None, repr=False)     # (n_bars,) equity before rebalancing fills
    benchmark_values: Any = field(default=None, repr=False)  # (n_bars,) benchmark returns
    benchmark_name: str = "equal_weight"

    def __repr__(self) -> str:
        n_reb = 0 if self.trigger is None else int((np.asarray(self.trigger) > 0).sum())
        return (f"PortfolioResult({self.strategy!r}, bars={self.view.n_bars}, assets={self.view.n_assets}, "
                f"final_equity={self.final_equity:,.2f}, rebalances={n_reb})")

    @cached_property
    def spec(self) -> dict[str, Any]:
        """As a backtest's, of kind ``"portfolio"`` (its weights and sizing are not a strategy a
        plain backtest can run again)."""
        return {**super().spec, "kind": "portfolio"}

    # -- weights ------------------------------------------------------------------------------
    @cached_property
    def weight_values(self) -> np.ndarray:
        """``(n_bars, n_assets)`` fraction of equity in each asset at each close."""
        eq = self.equity_values.sum(axis=1)[:, None]
        value = np.where(self.units_values != 0.0, self.units_values * self.view.close, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(eq != 0.0, value / eq, 0.0)

    @cached_property
    def weights(self) -> pl.DataFrame:
        eq = self.equity_values.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cash = np.where(eq != 0.0, self.cash_values.sum(axis=1) / eq, 0.0)
        cols: dict[str, Any] = {"ts": self._ts(np.arange(len(eq)))}
        cols.update({s: self.weight_values[:, j] for j, s in enumerate(self.view.symbols)})
        return pl.DataFrame({**cols, "cash": cash})

    @cached_property
    def targets(self) -> pl.DataFrame:
        if self.target_weights is None:
            return pl.DataFrame({"ts": pl.Series([], dtype=pl.Datetime("us", "UTC"))})
        w = np.asarray(self.target_weights)
        cols: dict[str, Any] = {"ts": self._ts(np.asarray(self.target_bars))}
        cols.update({s: w[:, j] for j, s in enumerate(self.view.symbols)})
        return pl.DataFrame(cols)

    # -- rebalancing records ------------------------------------------------------------------
    @cached_property
    def rebalances(self) -> pl.DataFrame:
        n = self.view.n_bars
        trig = np.zeros(n, dtype=np.int64) if self.trigger is None else np.asarray(self.trigger)
        bars = np.flatnonzero(trig > 0)
        k = len(bars)
        fill = bars if self.config.fill == "same_close" else bars + 1
        fill = np.where(fill < n, fill, -1)
        slot = np.full(n, -1)
        slot[bars] = np.arange(k)
        o = self.order_records
        o = o[o["kind"] == int(OrderKind.MARKET)]
        idx = slot[o["signal_bar"]]
        ok = o["status"] == int(OrderStatus.FILLED)

        def total(values: np.ndarray, where: np.ndarray) -> np.ndarray:
            sel = where & (idx >= 0)
            return np.bincount(idx[sel], weights=values[sel], minlength=k)[:k]

        traded = total(o["size"] * np.nan_to_num(o["price"]), ok)
        fees, slip = total(o["fees"], ok), total(o["slippage"], ok)
        eq = np.asarray(self.trade_equity) if self.trade_equity is not None else np.full(n, np.nan)
        before = np.where(fill >= 0, eq[np.maximum(fill, 0)], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            turnover = np.where(before > 0, traded / before, np.nan)
        gross, net = self._target_exposures(bars)
        return pl.DataFrame({
            "ts": self._ts(bars), "fill_ts": self._ts(fill),
            "trigger": pl.Series([_TRIGGERS.get(int(c), "none") for c in trig[bars]], dtype=pl.String),
            "n_orders": total(np.ones(len(o)), np.ones(len(o), dtype=bool)).astype(np.int64),
            "n_rejected": total(np.ones(len(o)), ~ok).astype(np.int64),
            "traded_value": traded, "turnover": turnover, "fees": fees, "slippage": slip,
            "cost": fees + slip, "gross": gross, "net": net,
        }).with_columns(pl.col("turnover").fill_nan(None))

    def _target_exposures(self, bars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.target_weights is None or len(bars) == 0:
            return np.full(len(bars), np.nan), np.full(len(bars), np.nan)
        w = np.asarray(self.target_weights)
        rows = np.searchsorted(np.asarray(self.target_bars), bars, side="right") - 1
        return np.abs(w[rows]).sum(axis=1), w[rows].sum(axis=1)

    @property
    def turnover(self) -> float:
        """Total turnover: the sum over rebalances of traded value over equity."""
        return float(self.rebalances["turnover"].fill_null(0.0).sum())

    # -- evaluation ---------------------------------------------------------------------------
    @cached_property
    def risk_contributions(self) -> pl.DataFrame:
        c = self.view.close
        r = np.zeros_like(c)
        r[1:] = c[1:] / c[:-1] - 1.0
        held = np.zeros_like(c)
        held[1:] = self.weight_values[:-1]
        return contributions(held, r, list(self.view.symbols)).rename({"name": "symbol"})

    @cached_property
    def drawdown(self) -> pl.DataFrame:
        from workbench.metrics import drawdown_series

        eq = self.equity_values.sum(axis=1)
        return pl.DataFrame({"ts": self._ts(np.arange(len(eq))),
                             "drawdown": drawdown_series(eq, init_cash=self.init_cash)})

    @cached_property
    def account(self) -> pl.DataFrame:
        n = self.view.n_bars
        t = self.trade_records
        start = t["entry_bar"]
        stop = np.where(t["is_open"], n, t["exit_bar"])
        delta = np.zeros(n + 1)
        np.add.at(delta, start, t["size"] * t["entry_price"])
        np.add.at(delta, stop, -t["size"] * t["entry_price"])
        reserved = np.cumsum(delta)[:n]
        reserved[np.abs(reserved) < 1e-9 * self.init_cash] = 0.0
        return pl.DataFrame({"ts": self._ts(np.arange(n)), "equity": self.equity_values.sum(axis=1),
                             "available": self.cash_values.sum(axis=1), "reserved": reserved})

    def _benchmark(self) -> np.ndarray:
        if self.benchmark_values is None:
            return super()._benchmark()
        return np.asarray(self.benchmark_values, dtype=np.float64)

    @cached_property
    def benchmark(self) -> pl.DataFrame:
        r = self.benchmark_returns
        return pl.DataFrame({"ts": self._ts(np.arange(len(r))), "return": r,
                             "equity": self.init_cash * np.cumprod(1.0 + r)})

    # -- plots --------------------------------------------------------------------------------
    def plot(self, *, max_points: int = 5_000) -> Any:
        """Equity against the benchmark, stacked weights and drawdown (hvplot)."""
        from workbench.portfolio.plots import plot_portfolio

        return plot_portfolio(self, max_points=max_points)

    def plot_weights(self, *, max_points: int = 5_000) -> Any:
        """Stacked area of the weights over time (cash on top)."""
        from workbench.portfolio.plots import plot_weights

        return plot_weights(self, max_points=max_points)

    def plot_risk_contributions(self) -> Any:
        """Bars of each asset's share of return and of risk."""
        from workbench.portfolio.plots import plot_risk_contributions

        return plot_risk_contributions(self)
