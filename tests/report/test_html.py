"""The HTML tearsheet: every number it shows is the result's own, and it is self-contained."""

from __future__ import annotations

import math
import re
from dataclasses import fields
from html.parser import HTMLParser

import numpy as np
import pytest

from workbench.metrics import Stats, compute_stats
from workbench.metrics.tearsheet import TearsheetStats, format_figure, tearsheet_stats
from workbench.report import render_html, report


class _Figures(HTMLParser):
    """Collects the figure cells: (data-key, data-role, data-fmt, data-value, shown text)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[list[str]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "fig" in (a.get("class") or "").split() and "data-key" in a:
            self._open = [a["data-key"], a.get("data-role", ""), a.get("data-fmt", ""), a["data-value"], ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[4] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag in ("td", "span"):
            self.cells.append(self._open)
            self._open = None


def _cells(page: str) -> list[list[str]]:
    p = _Figures()
    p.feed(page)
    return p.cells


def _same(shown: str, value: float | int) -> bool:
    got = float(shown) if shown not in ("nan", "inf", "-inf") else float(shown)
    return (math.isnan(got) and math.isnan(value)) or got == value


def test_every_stats_figure_is_shown_with_its_exact_value(backtest_result):
    page = render_html(backtest_result)
    cells = {(k, role): (fmt, v, text) for k, role, fmt, v, text in _cells(page)}
    stats = backtest_result.stats.to_dict()
    for name, value in stats.items():
        fmt, shown, text = cells[(name, "strategy")]
        assert _same(shown, value), name
        assert text == format_figure(value, fmt), name
    assert {f.name for f in fields(Stats)} <= {k for k, _ in cells}


def test_tearsheet_and_benchmark_figures_are_the_metric_definitions(backtest_result):
    r = backtest_result
    page = render_html(r)
    cells = {(k, role): (v, text) for k, role, _, v, text in _cells(page)}
    ts = r.returns["ts"]
    eq = r.equity["equity"].to_numpy()
    kw = {"init_cash": r.init_cash, "periods_per_year": r.periods_per_year, "risk_free": r.config.risk_free}
    tear = tearsheet_stats(r.returns["return"].to_numpy(), ts, equity=eq, benchmark=r.benchmark_returns, **kw).to_dict()
    for name in (f.name for f in fields(TearsheetStats)):
        assert _same(cells[(name, "strategy")][0], tear[name]), name
    b = np.asarray(r.benchmark_returns)
    bench = compute_stats(r.init_cash * np.cumprod(1 + b), benchmark=b, **kw)
    for name in ("total_return", "sharpe_ratio", "max_drawdown", "annual_volatility", "sortino_ratio"):
        assert _same(cells[(name, "benchmark")][0], getattr(bench, name)), name
    # the benchmark's total return is the same figure the strategy's stats report for it
    assert _same(cells[("total_return", "benchmark")][0], r.stats.benchmark_return)


def test_the_page_fetches_nothing(backtest_result):
    page = render_html(backtest_result)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "<svg" in page and page.count('<figure class="chart">') >= 10


def test_long_trade_tables_are_paged(backtest_result):
    page = render_html(backtest_result)
    n = backtest_result.trades.height
    assert n > 25
    assert 'data-page-rows="25"' in page
    assert page.count("<tr><td>") >= n


def test_report_kinds_show_their_sections(sweep_result, study_result, walk_forward_result, portfolio_result):
    sweep = render_html(sweep_result)
    for title in ("Overfitting statistics", "Parameter heatmap", "Stability of", "Parameter sets"):
        assert title in sweep
    over = {k: v for k, _, _, v, _ in _cells(sweep) if k.startswith("overfit.")}
    assert _same(over["overfit.dsr"], sweep_result.overfit.dsr)
    assert _same(over["overfit.psr"], sweep_result.overfit.psr)
    st = render_html(study_result)
    assert "Optimization history" in st and "Parameter importance" in st
    wf = render_html(walk_forward_result)
    assert "Folds" in wf and "Stitched out-of-sample equity" in wf
    wf_cells = {(k, role): v for k, role, _, v, _ in _cells(wf)}
    assert _same(wf_cells[("sharpe_ratio", "strategy")], walk_forward_result.stats.sharpe_ratio)
    hold = compute_stats(walk_forward_result.stats.start_equity * np.cumprod(1.0 + walk_forward_result.benchmark_returns),
                         init_cash=walk_forward_result.stats.start_equity,
                         periods_per_year=walk_forward_result.stats.periods_per_year)
    assert _same(wf_cells[("total_return", "benchmark")], hold.total_return)
    pf = render_html(portfolio_result)
    assert "Weights" in pf and "Risk contributions" in pf and "Turnover and rebalances" in pf
    pf_cells = {(k, role): v for k, role, _, v, _ in _cells(pf)}
    assert _same(pf_cells[("turnover", "")], portfolio_result.turnover)


def test_report_writes_the_file_whole(backtest_result, tmp_path):
    out = report(backtest_result, tmp_path / "r.html")
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


@pytest.mark.parametrize("n_bars", [1_000_000])
def test_a_million_bars_give_a_small_page(n_bars, tmp_path):
    """Charts are downsampled (LTTB): the page stays under 5 MB; the data are not changed."""
    import polars as pl

    from workbench.report._data import ReportData, track
    from workbench.report._html import render_html as page_of

    rng = np.random.default_rng(3)
    r = rng.normal(0.00001, 0.001, n_bars)
    eq = 1e4 * np.cumprod(1 + r)
    minutes = np.arange(n_bars, dtype=np.int64) * 60_000_000 + 946_684_800_000_000  # from 2000-01-01, one a minute
    ts = pl.Series("ts", minutes).cast(pl.Datetime("us", "UTC"))
    stats = compute_stats(eq, init_cash=1e4, periods_per_year=98_280.0)
    t = track(ts, eq, stats=stats, init_cash=1e4, periods_per_year=98_280.0, benchmark=r * 0.5)
    page = page_of(ReportData("backtest", "a million bars", "x", [], t))
    assert len(page.encode()) <= 5_000_000
    assert np.array_equal(t.equity, eq)
