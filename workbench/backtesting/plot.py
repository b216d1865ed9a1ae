"""Plots of a backtest result (hvplot/HoloViews): price with trade markers, equity, drawdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from workbench.backtesting.result import BacktestResult

__all__ = ["plot_result", "downsample"]


def downsample(frame: pl.DataFrame, max_points: int) -> pl.DataFrame:
    """Keep at most about ``max_points`` rows for display: every k-th row plus the first and last
    (the data themselves are never changed)."""
    n = frame.height
    if n <= max_points:
        return frame
    step = int(np.ceil(n / max_points))
    idx = np.unique(np.r_[np.arange(0, n, step), n - 1])
    return frame[idx]


def plot_result(result: BacktestResult, *, max_points: int = 5_000) -> Any:
    from workbench._extras import require

    require("dashboards", "hvplot")
    import holoviews as hv
    import hvplot.polars  # noqa: F401  (registers .hvplot on polars frames)

    symbol = result.view.symbols[0]
    title = f"{symbol} and trades" if symbol != "asset" else "Price and trades"
    price = pl.DataFrame({"ts": result.equity["ts"], "close": result.view.close[:, 0]})
    trades = result.trades.filter(pl.col("symbol") == symbol)
    price_plot = downsample(price, max_points).hvplot.line(x="ts", y="close", title=title,
                                                           ylabel="price", height=300, responsive=True)
    entries = trades.select(pl.col("entry_ts").alias("ts"), pl.col("entry_price").alias("price"), "direction")
    exits = trades.filter(~pl.col("is_open")).select(pl.col("exit_ts").alias("ts"), pl.col("exit_price").alias("price"))
    marks = (entries.hvplot.scatter(x="ts", y="price", by="direction", marker="triangle", size=60,
                                    height=300, responsive=True)
             * exits.hvplot.scatter(x="ts", y="price", color="black", marker="x", size=60, label="exit",
                                    height=300, responsive=True))
    eq = downsample(result.equity.select("ts", "equity"), max_points)
    peak = result.equity["equity"].cum_max()
    dd = downsample(result.equity.select("ts", ((pl.col("equity") / peak) - 1).alias("drawdown")), max_points)
    equity_plot = eq.hvplot.line(x="ts", y="equity", title="Equity", height=220, responsive=True)
    dd_plot = dd.hvplot.area(x="ts", y="drawdown", title="Drawdown", height=160, responsive=True, color="firebrick")
    return hv.Layout([price_plot * marks, equity_plot, dd_plot]).cols(1)
