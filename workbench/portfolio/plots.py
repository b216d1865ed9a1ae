"""Plots of a portfolio result (hvplot/HoloViews): equity against its benchmark, stacked weights,
risk contributions, drawdown. Long series are downsampled for display, never the data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from workbench.backtesting.plot import downsample

if TYPE_CHECKING:
    from workbench.portfolio.result import PortfolioResult

__all__ = ["plot_portfolio", "plot_weights", "plot_risk_contributions", "plot_equity"]


def _hv() -> Any:
    from workbench._extras import require

    require("dashboards", "hvplot")
    import holoviews as hv
    import hvplot.polars  # noqa: F401  (registers .hvplot on polars frames)

    return hv


def _plot(frame: pl.DataFrame) -> Any:
    """The ``.hvplot`` accessor hvplot registers on polars frames."""
    return frame.hvplot  # type: ignore[attr-defined]


def plot_equity(result: PortfolioResult, *, max_points: int = 5_000) -> Any:
    """The portfolio's equity and the benchmark's, from the same starting cash."""
    _hv()
    frame = pl.DataFrame({
        "ts": result.equity["ts"], "portfolio": result.equity["equity"],
        f"benchmark ({result.benchmark_name})": result.benchmark["equity"],
    })
    long = downsample(frame, max_points).unpivot(index="ts", variable_name="series", value_name="equity")
    return _plot(long).line(x="ts", y="equity", by="series", title="Equity vs benchmark", height=280,
                            responsive=True)


def plot_weights(result: PortfolioResult, *, max_points: int = 5_000) -> Any:
    """Stacked area of each holding's weight (and cash) at every close."""
    _hv()
    w = downsample(result.weights, max_points)
    cols = [c for c in w.columns if c != "ts"]
    return _plot(w).area(x="ts", y=cols, stacked=True, title="Weights", ylabel="weight of equity", height=260,
                         responsive=True, legend="right")


def plot_risk_contributions(result: PortfolioResult) -> Any:
    """Side-by-side bars of each asset's share of return and of risk."""
    _hv()
    rc = result.risk_contributions.select("symbol", "return_contribution", "risk_contribution")
    long = rc.unpivot(index="symbol", variable_name="measure", value_name="share").fill_null(0.0)
    return _plot(long).bar(x="symbol", y="share", by="measure", title="Contributions to return and risk",
                           height=260, responsive=True, rot=45)


def plot_portfolio(result: PortfolioResult, *, max_points: int = 5_000) -> Any:
    """Equity vs benchmark, stacked weights and drawdown in one column."""
    hv = _hv()
    dd = _plot(downsample(result.drawdown, max_points)).area(
        x="ts", y="drawdown", title="Drawdown", height=160, responsive=True, color="firebrick")
    return hv.Layout([plot_equity(result, max_points=max_points), plot_weights(result, max_points=max_points),
                      dd]).cols(1)
