"""The optimization monitor's Panel view: thin over :class:`~workbench.ui.monitor.StudyMonitor`.

A periodic callback polls the monitor; the new trials are *streamed* into the history chart's
data source (Bokeh sends only the appended rows), the importance bars and the heatmap are
replaced by their few summary rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.ui.monitor import StudyMonitor

__all__ = ["monitor_view", "POLL_MS"]

POLL_MS = 200
"""How often the page reads new trials (milliseconds)."""


def _codes(values: list[Any]) -> tuple[np.ndarray, list[str] | None]:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.float64), None
    labels = sorted({str(v) for v in values})
    return np.asarray([labels.index(str(v)) for v in values], dtype=np.float64), labels


def _figures() -> dict[str, Any]:
    from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper
    from bokeh.palettes import Viridis256
    from bokeh.plotting import figure

    hist = ColumnDataSource({"seq": [], "value": [], "best": [], "number": []}, name="history")
    f_hist = figure(title="Objective by trial (finishing order) and best so far", height=300,
                    sizing_mode="stretch_width", tools="pan,wheel_zoom,box_zoom,reset,save,hover",
                    tooltips=[("trial", "@number"), ("value", "@value")], name="history_plot")
    f_hist.scatter("seq", "value", source=hist, size=5, alpha=0.6, legend_label="trial")
    f_hist.step("seq", "best", source=hist, color="firebrick", line_width=2, legend_label="best so far", mode="after")
    f_hist.legend.location = "bottom_right"
    imp = ColumnDataSource({"param": [], "share": []})
    f_imp = figure(title="Parameter importance (share of variance explained)", height=240, width=420,
                   y_range=[], tools="save", name="importance_plot")
    f_imp.hbar(y="param", right="share", height=0.7, source=imp)
    heat = ColumnDataSource({"x": [], "y": [], "value": [], "trials": []})
    mapper = LinearColorMapper(palette=Viridis256)
    f_heat = figure(title="Best objective per cell", height=320, width=460, tools="hover,save",
                    tooltips=[("x", "@x"), ("y", "@y"), ("best", "@value"), ("trials", "@trials")], name="heatmap_plot")
    f_heat.scatter("x", "y", source=heat, marker="square", size=16, fill_color={"field": "value", "transform": mapper},
                   line_color=None)
    f_heat.add_layout(ColorBar(color_mapper=mapper), "right")
    return {"hist": hist, "f_hist": f_hist, "imp": imp, "f_imp": f_imp, "heat": heat, "f_heat": f_heat,
            "mapper": mapper}


def _summary(mon: StudyMonitor) -> str:
    if not mon.source:
        return "Pick a study or a stored sweep."
    lines = [f"**{mon.n_trials}** finished trials · goal: {mon.goal}"]
    if mon.best:
        params = ", ".join(f"{k}={v}" for k, v in mon.best["params"].items())
        lines.append(f"**Best** trial {mon.best['number']}: **{mon.best['value']:.6g}** ({params})")
    if mon.overfit:
        of = mon.overfit
        parts = [f"{k} {of[k]:.3f}" for k in ("sharpe", "psr", "dsr", "expected_max_sharpe") if isinstance(of.get(k), (int, float))]
        lines.append(f"**Overfitting** ({of.get('source', '')}): " + ", ".join(parts))
    return "\n\n".join(lines)


def monitor_view(mon: StudyMonitor, *, period_ms: int = POLL_MS) -> Any:
    """The monitor page; starts a periodic callback when served."""
    import panel as pn

    from workbench.ui.views import error_pane

    figs = _figures()
    summary = pn.pane.Markdown(_summary(mon), sizing_mode="stretch_width", name="summary")

    def redraw_static() -> None:
        names = list(mon.importances)[::-1]
        figs["f_imp"].y_range.factors = names
        figs["imp"].data = {"param": names, "share": [mon.importances[n] for n in names]}
        cells = mon.heatmap()
        if cells.height:
            xs, xl = _codes(cells[mon.x_param].to_list())
            ys, yl = _codes(cells[mon.y_param].to_list())
            figs["heat"].data = {"x": xs, "y": ys, "value": cells["value"].to_numpy(), "trials": cells["trials"].to_numpy()}
            figs["mapper"].low, figs["mapper"].high = float(cells["value"].min()), float(cells["value"].max())
            figs["f_heat"].xaxis.axis_label, figs["f_heat"].yaxis.axis_label = mon.x_param, mon.y_param
        summary.object = _summary(mon)

    def tick() -> None:
        new = mon.poll()
        if not new:
            return
        figs["hist"].stream({"seq": [r["seq"] for r in new],
                             "value": [np.nan if r["value"] is None else r["value"] for r in new],
                             "best": [np.nan if r["best"] is None else r["best"] for r in new],
                             "number": [r["number"] for r in new]})
        redraw_static()

    def reset(_event: Any = None) -> None:
        figs["hist"].data = {"seq": [], "value": [], "best": [], "number": []}
        figs["heat"].data = {"x": [], "y": [], "value": [], "trials": []}
        tick()
        redraw_static()

    mon.param.watch(reset, "source")
    mon.param.watch(lambda _e: redraw_static(), ["x_param", "y_param"])
    tick()
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.add_periodic_callback(tick, period=period_ms)
    controls = pn.Param(mon.param, parameters=["source", "x_param", "y_param"], show_name=False, width=300)

    @pn.depends(mon.param.error)
    def errors(error: str) -> Any:
        return error_pane(error) if error else pn.pane.Markdown("")

    return pn.Row(
        pn.Column("## Optimization monitor", controls, width=320),
        pn.Column(errors, summary, pn.pane.Bokeh(figs["f_hist"], sizing_mode="stretch_width"),
                  pn.Row(pn.pane.Bokeh(figs["f_imp"]), pn.pane.Bokeh(figs["f_heat"])), sizing_mode="stretch_width"),
        sizing_mode="stretch_width",
    )
