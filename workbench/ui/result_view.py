"""A backtest result shown in Panel with Bokeh figures built once and data replaced on update.

Re-rendering a whole HoloViews layout on every widget change costs the browser most of a second;
:class:`ResultPanel` keeps the price, equity and drawdown figures and the trades table, and a new
result only replaces their data sources (downsampled by LTTB for display), the title and the
statistics table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from workbench.backtesting.plot import downsample
from workbench.ui.views import MAX_POINTS

__all__ = ["ResultPanel", "result_series"]


def result_series(result: Any, max_points: int = MAX_POINTS) -> dict[str, dict[str, np.ndarray]]:
    """The display data of a result: ``price``, ``equity``, ``drawdown`` (LTTB-downsampled) and
    the trade ``entries``/``exits`` markers of its first symbol."""
    ts = result.equity["ts"]
    price = downsample(pl.DataFrame({"ts": ts, "close": result.view.close[:, 0]}), max_points, y="close")
    eq = result.equity.select("ts", "equity")
    dd = eq.select("ts", (pl.col("equity") / pl.col("equity").cum_max() - 1).alias("drawdown"))
    eq, dd = downsample(eq, max_points, y="equity"), downsample(dd, max_points, y="drawdown")
    trades = result.trades.filter(pl.col("symbol") == result.view.symbols[0])
    exits = trades.filter(~pl.col("is_open"))
    return {
        "price": {"ts": price["ts"].to_numpy(), "close": price["close"].to_numpy()},
        "equity": {"ts": eq["ts"].to_numpy(), "equity": eq["equity"].to_numpy()},
        "drawdown": {"ts": dd["ts"].to_numpy(), "drawdown": dd["drawdown"].to_numpy()},
        "entries": {"ts": trades["entry_ts"].to_numpy(), "price": trades["entry_price"].to_numpy(),
                    "color": np.where(trades["direction"].to_numpy() == "long", "#2ca02c", "#d62728")},
        "exits": {"ts": exits["exit_ts"].to_numpy(), "price": exits["exit_price"].to_numpy()},
    }


class ResultPanel:
    """Panel layout of a backtest result whose figures persist across :meth:`update` calls."""

    def __init__(self) -> None:
        import panel as pn
        from bokeh.models import ColumnDataSource
        from bokeh.plotting import figure

        empty = {"ts": np.array([], dtype="datetime64[us]")}
        self.sources = {
            "price": ColumnDataSource({**empty, "close": []}), "equity": ColumnDataSource({**empty, "equity": []}),
            "drawdown": ColumnDataSource({**empty, "drawdown": []}),
            "entries": ColumnDataSource({**empty, "price": [], "color": []}),
            "exits": ColumnDataSource({**empty, "price": []}),
        }
        tools = "pan,wheel_zoom,box_zoom,reset,save"
        price = figure(title="Price and trades", height=300, x_axis_type="datetime", sizing_mode="stretch_width",
                       tools=tools)
        price.line("ts", "close", source=self.sources["price"], line_width=1.2)
        price.scatter("ts", "price", source=self.sources["entries"], marker="triangle", size=9, color="color",
                      legend_label="entry")
        price.scatter("ts", "price", source=self.sources["exits"], marker="x", size=9, color="black",
                      legend_label="exit")
        price.legend.location = "top_left"
        equity = figure(title="Equity", height=220, x_axis_type="datetime", x_range=price.x_range,
                        sizing_mode="stretch_width", tools=tools)
        equity.line("ts", "equity", source=self.sources["equity"], line_width=1.5)
        drawdown = figure(title="Drawdown", height=160, x_axis_type="datetime", x_range=price.x_range,
                          sizing_mode="stretch_width", tools=tools)
        drawdown.varea(x="ts", y1="drawdown", y2=0.0, source=self.sources["drawdown"], color="firebrick", alpha=0.7)
        self.title = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.stats = pn.pane.HTML("", width=320)
        # the trades table takes the plots' width and scrolls sideways, clear of the statistics
        self.trades = pn.widgets.Tabulator(None, height=250, disabled=True, show_index=False,
                                           sizing_mode="stretch_width", pagination="remote", page_size=100)
        self.layout = pn.Row(
            pn.Column(self.title, pn.pane.Bokeh(price, sizing_mode="stretch_width"),
                      pn.pane.Bokeh(equity, sizing_mode="stretch_width"),
                      pn.pane.Bokeh(drawdown, sizing_mode="stretch_width"), self.trades, sizing_mode="stretch_width"),
            self.stats, sizing_mode="stretch_width")

    def update(self, result: Any) -> None:
        """Show ``result``: replace the figures' data, the title, statistics and trades."""
        for name, data in result_series(result).items():
            self.sources[name].data = data
        self.title.object = f"### {result.strategy!r}"
        self.stats.object = result.stats._repr_html_()
        self.trades.value = result.trades.to_pandas()
