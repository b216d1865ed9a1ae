"""Plots of a backtest result (hvplot/HoloViews): price with trade markers, equity, drawdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from workbench.backtesting.result import BacktestResult

__all__ = ["plot_result", "downsample", "lttb_indices"]


def lttb_indices(y: np.ndarray, n_out: int, x: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the ``n_out`` points Largest-Triangle-Three-Buckets keeps of ``(x, y)``.

    The first and last points are always kept; the others are split into ``n_out - 2`` equal
    buckets and each bucket keeps the point that forms the largest triangle with the point kept
    before it and the average of the next bucket (Steinarsson 2013). Peaks and troughs survive,
    unlike taking every k-th row. NaN values count as 0 for the choice only.

    Examples
    --------
    >>> y = np.array([0.0, 1.0, 0.0, 0.0, 9.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    >>> lttb_indices(y, 4).tolist()  # the peak at 4 survives
    [0, 4, 5, 9]
    """
    n = len(y)
    if n_out >= n or n_out < 3:
        return np.arange(n) if n_out >= n else np.unique(np.r_[0, n - 1])
    xs = np.arange(n, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    ys = np.nan_to_num(np.asarray(y, dtype=np.float64))
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)  # n_out - 2 buckets over [1, n - 1)
    out = np.empty(n_out, dtype=np.int64)
    out[0], out[-1] = 0, n - 1
    prev = 0
    for b in range(n_out - 2):
        lo, hi = edges[b], max(edges[b + 1], edges[b] + 1)
        nlo, nhi = hi, (edges[b + 2] if b + 2 < len(edges) else n)
        ax, ay = (xs[nlo:nhi].mean(), ys[nlo:nhi].mean()) if nhi > nlo else (xs[-1], ys[-1])
        px, py = xs[prev], ys[prev]
        area = np.abs((px - ax) * (ys[lo:hi] - py) - (px - xs[lo:hi]) * (ay - py))
        prev = lo + int(np.argmax(area))
        out[b + 1] = prev
    return out


def downsample(frame: pl.DataFrame, max_points: int, *, y: str | list[str] | None = None) -> pl.DataFrame:
    """Keep at most about ``max_points`` rows for display, chosen by LTTB (:func:`lttb_indices`)
    on the column ``y`` (default: every numeric column, each given an equal share of the points,
    the union of their choices kept). The first and last rows are always kept; the data
    themselves are never changed.

    Examples
    --------
    >>> f = pl.DataFrame({"i": range(1000), "v": [float(i % 97 == 0) * i for i in range(1000)]})
    >>> small = downsample(f, 100, y="v")
    >>> small.height <= 100, small["v"].max() == f["v"].max()
    (True, True)
    """
    n = frame.height
    if n <= max_points:
        return frame
    cols = [y] if isinstance(y, str) else list(y) if y is not None else [
        c for c, d in frame.schema.items() if d.is_numeric()]
    if not cols:
        step = int(np.ceil(n / max_points))
        return frame[np.unique(np.r_[np.arange(0, n, step), n - 1])]
    share = max(3, max_points // len(cols))
    idx = np.unique(np.concatenate([lttb_indices(frame[c].to_numpy(), share) for c in cols]))
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
    price_plot = downsample(price, max_points, y="close").hvplot.line(x="ts", y="close", title=title,
                                                           ylabel="price", height=300, responsive=True)
    entries = trades.select(pl.col("entry_ts").alias("ts"), pl.col("entry_price").alias("price"), "direction")
    exits = trades.filter(~pl.col("is_open")).select(pl.col("exit_ts").alias("ts"), pl.col("exit_price").alias("price"))
    marks = (entries.hvplot.scatter(x="ts", y="price", by="direction", marker="triangle", size=60,
                                    height=300, responsive=True)
             * exits.hvplot.scatter(x="ts", y="price", color="black", marker="x", size=60, label="exit",
                                    height=300, responsive=True))
    eq = downsample(result.equity.select("ts", "equity"), max_points, y="equity")
    peak = result.equity["equity"].cum_max()
    dd = downsample(result.equity.select("ts", ((pl.col("equity") / peak) - 1).alias("drawdown")), max_points, y="drawdown")
    equity_plot = eq.hvplot.line(x="ts", y="equity", title="Equity", height=220, responsive=True)
    dd_plot = dd.hvplot.area(x="ts", y="drawdown", title="Drawdown", height=160, responsive=True, color="firebrick")
    return hv.Layout([price_plot * marks, equity_plot, dd_plot]).cols(1)
