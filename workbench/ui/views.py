"""Small Panel building blocks shared by the pages: an error message, a downsampled line chart."""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["error_pane", "series_plot", "mapping_table", "MAX_POINTS"]

MAX_POINTS = 4_000
"""Points a line chart shows at most (chosen by LTTB; the data are not changed)."""


def error_pane(message: str) -> Any:
    """The message of a failed action, shown in the page (never a traceback)."""
    import panel as pn

    return pn.pane.Alert(message, alert_type="danger", sizing_mode="stretch_width")


def series_plot(frame: pl.DataFrame, x: str, y: str | list[str], *, title: str = "", height: int = 260,
                max_points: int = MAX_POINTS) -> Any:
    """A Bokeh line chart of ``y`` over ``x`` (datetime or numeric), downsampled by LTTB."""
    import panel as pn
    from bokeh.models import ColumnDataSource
    from bokeh.palettes import Category10_10
    from bokeh.plotting import figure

    from workbench.backtesting.plot import downsample

    ys = [y] if isinstance(y, str) else list(y)
    shown = downsample(frame.select(x, *ys), max_points, y=ys)
    is_time = shown.schema[x].is_temporal()
    fig = figure(title=title, height=height, sizing_mode="stretch_width", x_axis_type="datetime" if is_time else "linear",
                 tools="pan,wheel_zoom,box_zoom,reset,save", name=title or None)
    source = ColumnDataSource({x: shown[x].to_numpy()} | {c: shown[c].to_numpy() for c in ys})
    for i, c in enumerate(ys):
        fig.line(x=x, y=c, source=source, legend_label=c, color=Category10_10[i % 10], line_width=1.5)
    fig.legend.location = "top_left"
    if len(ys) == 1:
        fig.legend.visible = False
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def mapping_table(title: str, values: dict[str, Any], *, width: int = 320) -> Any:
    """A titled two-column table of ``values`` (names and values, escaped; floats to 6 digits)."""
    import html

    import panel as pn

    def fmt(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td style='text-align:right'>{html.escape(fmt(v))}</td></tr>"
                   for k, v in values.items())
    return pn.pane.HTML(f"<b>{html.escape(title)}</b><table class='workbench-mapping'>{rows}</table>", width=width)
