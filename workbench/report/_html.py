"""The tearsheet as one self-contained HTML page: CSS and the table pager inline, charts as inline
SVG, no font, script or image fetched from anywhere."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from workbench._version import __version__
from workbench.metrics import drawdown_series
from workbench.metrics import periods as _periods
from workbench.metrics.tearsheet import format_figure
from workbench.report import _svg
from workbench.report._data import ReportData, Track, figures_of

__all__ = ["render_html", "table_html", "TRADE_ROWS_MAX"]

#: Rows of a table written into the page (the export holds them all); the page shows 25 at a time.
TRADE_ROWS_MAX = 5_000
PAGE_ROWS = 25

_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 12px; color: #222;
       margin: 0 auto; max-width: 920px; padding: 12px; }
h1 { font-size: 20px; margin: 4px 0 8px; } h2 { font-size: 15px; margin: 18px 0 6px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 6px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f6f8; }
tr.group th { background: #e8edf2; text-align: left; }
table.header td { text-align: left; white-space: normal; } table.header td:first-child { width: 160px; color: #555; }
figure.chart { margin: 6px 0 12px; break-inside: avoid; page-break-inside: avoid; }
figure.chart figcaption { font-weight: bold; margin-bottom: 2px; }
.pager { margin: 4px 0 12px; } .pager button { margin-right: 6px; }
.note { color: #666; font-size: 11px; }
section { break-inside: auto; }
.keep { break-inside: avoid; page-break-inside: avoid; }
@media print { body { font-size: 9px; max-width: none; padding: 0; } th, td { padding: 1px 3px; }
               table[data-page-rows] td, table[data-page-rows] th { font-size: 7.5px; } }
"""

_PAGER_JS = """
(function () {
  document.querySelectorAll("table[data-page-rows]").forEach(function (table) {
    var size = parseInt(table.getAttribute("data-page-rows"), 10);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var pages = Math.max(1, Math.ceil(rows.length / size)), page = 0;
    var bar = document.createElement("div"); bar.className = "pager";
    var prev = document.createElement("button"), next = document.createElement("button");
    var label = document.createElement("span");
    prev.textContent = "\\u2190 previous"; next.textContent = "next \\u2192";
    function show() {
      rows.forEach(function (row, i) { row.style.display = (Math.floor(i / size) === page) ? "" : "none"; });
      label.textContent = "page " + (page + 1) + " of " + pages + " (" + rows.length + " rows)";
      prev.disabled = page === 0; next.disabled = page === pages - 1;
    }
    prev.addEventListener("click", function () { if (page > 0) { page--; show(); } });
    next.addEventListener("click", function () { if (page < pages - 1) { page++; show(); } });
    bar.appendChild(prev); bar.appendChild(next); bar.appendChild(label);
    table.parentNode.insertBefore(bar, table.nextSibling);
    show();
  });
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    return str(value)


def table_html(frame: pl.DataFrame, *, formats: dict[str, str] | None = None, paged: bool = False,
               max_rows: int | None = None, css: str = "") -> str:
    """A frame as an HTML table (``formats`` maps columns to ``pct``/``num``/``cash``/``int``)."""
    formats = formats or {}
    shown = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for row in shown.iter_rows():
        cells = []
        for col, v in zip(frame.columns, row, strict=False):
            fmt = formats.get(col)
            text = format_figure(v, fmt) if fmt is not None and v is not None else _cell(v)
            cells.append(f"<td>{_e(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    attrs = f' data-page-rows="{PAGE_ROWS}"' if paged and shown.height > PAGE_ROWS else ""
    note = ""
    if shown.height < frame.height:
        note = f'<p class="note">The first {shown.height:,} of {frame.height:,} rows; the export holds them all.</p>'
    return f'<table class="{css}"{attrs}><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{note}'


def _figure_cell(key: str, value: Any, fmt: str, role: str) -> str:
    text = format_figure(value, fmt)
    return f'<td class="fig" data-key="{_e(key)}" data-role="{role}" data-fmt="{fmt}" data-value="{_e(repr(value))}">{_e(text)}</td>'


def metrics_html(t: Track) -> str:
    """The key-metrics table: every figure of the result's stats and the tearsheet's, strategy
    against benchmark. Each value cell carries the exact value (``data-value``) it shows."""
    has_bench = t.benchmark_stats is not None
    head = f"<tr><th>Figure</th><th>Strategy</th>{'<th>' + _e(t.benchmark_name.capitalize()) + '</th>' if has_bench else ''}</tr>"
    rows, group = [], None
    for f in figures_of(t):
        if f.group != group:
            group = f.group
            rows.append(f'<tr class="group"><th colspan="{3 if has_bench else 2}">{_e(group)}</th></tr>')
        cells = _figure_cell(f.key, f.value, f.fmt, "strategy")
        if has_bench:
            cells += _figure_cell(f.key, f.benchmark, f.fmt, "benchmark") if f.benchmark is not None else "<td></td>"
        rows.append(f"<tr><td>{_e(f.label)}</td>{cells}</tr>")
    return f'<table class="metrics"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _growth(r: np.ndarray) -> np.ndarray:
    return np.cumprod(1.0 + r)


def charts_html(t: Track) -> str:
    """Every chart of one track record, against its benchmark when it has one."""
    x, r, b = t.seconds, t.returns, t.benchmark
    ppy = t.periods_per_year
    worst = _periods.drawdown_periods(t.equity, t.ts, init_cash=t.init_cash, top=5)
    spans = []
    for s, e in zip(worst["start"].to_list(), worst["end"].to_list(), strict=False):
        end = e if e is not None else t.ts[-1]
        spans.append((s.timestamp(), end.timestamp()))
    cum = [("Strategy", _growth(r) - 1.0)] + ([(t.benchmark_name.capitalize(), _growth(b) - 1.0)] if b is not None else [])
    parts = [_svg.line_chart("Cumulative returns (worst five drawdowns shaded)", x, cum, yfmt="pct", spans=spans)]
    parts.append(_svg.line_chart("Cumulative returns, log scale (growth of 1)", x,
                                 [(n, y + 1.0) for n, y in cum], yfmt="num", log=True))
    if b is not None:
        sd_r, sd_b = float(np.std(r, ddof=1)) if r.size > 1 else 0.0, float(np.std(b, ddof=1)) if b.size > 1 else 0.0
        scale = sd_b / sd_r if sd_r > 0 else 1.0
        parts.append(_svg.line_chart(f"Volatility-matched cumulative returns (strategy × {scale:.3g})", x,
                                     [("Strategy, vol-matched", _growth(r * scale) - 1.0), cum[1]], yfmt="pct"))
    dd = drawdown_series(t.equity, init_cash=t.init_cash)
    parts.append(_svg.line_chart("Underwater (drawdown)", x, [("Drawdown", dd)], yfmt="pct", fill=True, zero=True))
    parts.append(_monthly_heatmap(t))
    years = _periods.period_returns(r, t.ts, every="1y")
    ys = [("Strategy", years["return"].to_numpy())]
    if b is not None:
        ys.append((t.benchmark_name.capitalize(), _periods.period_returns(b, t.ts, every="1y")["return"].to_numpy()))
    parts.append(_svg.bar_chart("Yearly returns", [str(p.year) for p in years["period"].to_list()], ys))
    window = max(2, int(round(ppy / 2)))
    if r.size > window:
        kw = {"window": window, "periods_per_year": ppy, "risk_free": t.risk_free}
        label = f"{window} bars"
        parts.append(_svg.line_chart(f"Rolling Sharpe ratio ({label})", x, [("Strategy", _periods.rolling_sharpe(r, **kw))]
                                     + ([("Benchmark", _periods.rolling_sharpe(b, **kw))] if b is not None else [])))
        parts.append(_svg.line_chart(f"Rolling Sortino ratio ({label})", x, [("Strategy", _periods.rolling_sortino(r, **kw))]
                                     + ([("Benchmark", _periods.rolling_sortino(b, **kw))] if b is not None else [])))
        vk = {"window": window, "periods_per_year": ppy}
        parts.append(_svg.line_chart(f"Rolling volatility ({label})", x, [("Strategy", _periods.rolling_volatility(r, **vk))]
                                     + ([("Benchmark", _periods.rolling_volatility(b, **vk))] if b is not None else []),
                                     yfmt="pct"))
        if b is not None:
            parts.append(_svg.line_chart(f"Rolling beta to the benchmark ({label})", x,
                                         [("Beta", _periods.rolling_beta(r, b, window=window))]))
    parts.append(_svg.histogram("Distribution of per-bar returns", r))
    return "".join(parts)


def _monthly_heatmap(t: Track) -> str:
    m = _periods.monthly_returns(t.returns, t.ts)
    cols = [str(i) for i in range(1, 13)]
    vals = m.select(cols).to_numpy().astype(np.float64) if m.height else np.zeros((0, 12))
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return _svg.heatmap("Monthly returns", [str(y) for y in m["year"].to_list()], names, vals)


def tables_html(t: Track) -> str:
    """Worst drawdowns, yearly returns, and the trades (paged)."""
    worst = _periods.drawdown_periods(t.equity, t.ts, init_cash=t.init_cash, top=5)
    parts = ['<div class="keep"><h2>Worst drawdowns</h2>',
             table_html(worst, formats={"depth": "pct"}), "</div>"]
    years = _periods.period_returns(t.returns, t.ts, every="1y").rename({"return": "strategy"})
    if t.benchmark is not None:
        years = years.with_columns(
            _periods.period_returns(t.benchmark, t.ts, every="1y")["return"].alias("benchmark"))
    years = years.with_columns(pl.col("period").dt.year().alias("year")).select(pl.exclude("period")).select("year", pl.exclude("year"))
    parts += ['<div class="keep"><h2>Yearly returns</h2>', table_html(years, formats={"strategy": "pct", "benchmark": "pct"}), "</div>"]
    trailing = _periods.trailing_returns(t.returns, t.ts, periods_per_year=t.periods_per_year).rename({"return": "strategy"})
    if t.benchmark is not None:
        bench = _periods.trailing_returns(t.benchmark, t.ts, periods_per_year=t.periods_per_year)
        trailing = trailing.with_columns(bench["return"].alias("benchmark"))
    parts += ['<div class="keep"><h2>Trailing returns</h2>',
              table_html(trailing, formats={"strategy": "pct", "benchmark": "pct"}), "</div>"]
    if t.trades is not None:
        parts += ["<h2>Trades</h2>", trades_html(t.trades)]
    return "".join(parts)


_TRADE_COLUMNS = ("id", "symbol", "direction", "size", "entry_ts", "entry_price", "exit_ts", "exit_price", "pnl",
                  "ret", "duration_bars", "exit_reason", "is_open")


def trades_html(trades: pl.DataFrame) -> str:
    """The trades table: entry, exit, side, size, PnL, return, duration, exit reason."""
    if trades.height == 0:
        return '<p class="note">No trades.</p>'
    cols = [c for c in _TRADE_COLUMNS if c in trades.columns]
    return table_html(trades.select(cols), formats={"ret": "pct", "pnl": "cash"}, paged=True, max_rows=TRADE_ROWS_MAX)


def header_html(data: ReportData) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in data.header)
    return f'<table class="header">{rows}</table>'


def render_html(data: ReportData, *, for_pdf: bool = False) -> str:
    """The whole page of ``data``."""
    body = [f"<h1>{_e(data.title)}</h1>", header_html(data)]
    if data.track is not None:
        body += ["<h2>Key metrics</h2>", metrics_html(data.track), "<h2>Charts</h2>", charts_html(data.track),
                 tables_html(data.track)]
    for s in data.sections:
        body.append(f"<section><h2>{_e(s.title)}</h2>{s.html}</section>")
    body.append(f'<p class="note">Quant Workbench {_e(__version__)} · every figure is the result\'s own '
                '(result.stats and workbench.metrics).</p>')
    script = "" if for_pdf else f"<script>{_PAGER_JS}</script>"
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"generator\" content=\"Quant Workbench {_e(__version__)}\">"
            f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>{''.join(body)}{script}</body></html>")


def frame_chart(title: str, frame: pl.DataFrame, x: str, ys: Sequence[str], *, yfmt: str = "num") -> str:
    """A line chart of frame columns ``ys`` over its datetime column ``x``."""
    secs = frame[x].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    return _svg.line_chart(title, secs, [(y, frame[y].cast(pl.Float64).to_numpy()) for y in ys], yfmt=yfmt)
