"""The portfolio page: pick assets of a multi-asset dataset, an allocation method and a schedule;
see weights over time, risk contributions, turnover, and equity against the benchmark.

State in :class:`PortfolioExplorer` (``param.Parameterized``, calls
:func:`workbench.portfolio.rebalance`); :func:`portfolio_view` is a thin layout over it.
"""

from __future__ import annotations

from typing import Any

import param
import polars as pl

from workbench.errors import InvalidParameterError, WorkbenchError

__all__ = ["PortfolioExplorer", "portfolio_view", "METHODS"]

METHODS = ("equal_weight", "inverse_volatility", "min_variance", "risk_parity", "hrp")


class PortfolioExplorer(param.Parameterized):
    """A rebalanced portfolio over the chosen assets, re-simulated on every change.

    Examples
    --------
    >>> app = PortfolioExplorer(assets=["AAPL", "XOM"], method="equal_weight", schedule="quarterly")
    >>> app.error, sorted(app.result.view.symbols)
    ('', ['AAPL', 'XOM'])
    >>> app.assets = ["AAPL"]
    >>> app.error
    '`assets` must hold at least two symbols of STOCKS20; got 1.'
    """

    dataset = param.Selector(default="STOCKS20", objects=["STOCKS20"])
    assets = param.ListSelector(default=["AAPL", "JPM", "XOM", "KO"], objects=[])
    method = param.Selector(default="risk_parity", objects=list(METHODS))
    schedule = param.Selector(default="monthly", objects=["weekly", "monthly", "quarterly", "yearly"])
    lookback = param.Integer(default=252, bounds=(20, 2520))
    fees = param.Number(default=0.001, bounds=(0.0, 0.1))
    result = param.Parameter(default=None, precedence=-1)
    error = param.String(default="")

    def __init__(self, **params: Any) -> None:
        import workbench as wb

        self._bars = wb.data.sample("STOCKS20")
        self.param.assets.objects = sorted(self._bars["symbol"].unique().to_list())
        super().__init__(**params)
        self.param.watch(lambda _e: self.run(), ["assets", "method", "schedule", "lookback", "fees"])
        self.run()

    def run(self) -> None:
        """Simulate the portfolio for the current settings (errors become :attr:`error`)."""
        from workbench.portfolio import rebalance

        try:
            if len(self.assets) < 2:
                raise InvalidParameterError(
                    f"`assets` must hold at least two symbols of {self.dataset}; got {len(self.assets)}.")
            bars = self._bars.filter(pl.col("symbol").is_in(list(self.assets)))
            weights = "equal_weight" if self.method == "equal_weight" else self.method
            self.result = rebalance(bars, weights, schedule=self.schedule, lookback=self.lookback, fees=self.fees)
            self.error = ""
        except WorkbenchError as exc:
            self.error = str(exc)


def portfolio_view(app: PortfolioExplorer) -> Any:
    """Settings on the left; equity vs benchmark, weights, contributions and turnover on the right."""
    import panel as pn

    from workbench.ui.views import error_pane, series_plot

    settings = pn.Param(app.param, parameters=["assets", "method", "schedule", "lookback", "fees"], show_name=False,
                        widgets={"assets": {"type": pn.widgets.MultiChoice}, "fees": pn.widgets.FloatInput}, width=300)

    @pn.depends(app.param.result, app.param.error)
    def body(result: Any, error: str) -> Any:
        if error:
            return error_pane(error)
        if result is None:
            return pn.pane.Markdown("No result yet.")
        from workbench.portfolio.plots import plot_risk_contributions

        equity = pl.DataFrame({"ts": result.equity["ts"], "portfolio": result.equity["equity"],
                               f"benchmark ({result.benchmark_name})": result.benchmark["equity"]})
        weights = result.weights
        reb = result.rebalances.select("ts", "turnover")
        stats = result.stats
        head = (f"### {', '.join(result.view.symbols)} · {app.method} · {app.schedule}\n\n"
                f"Total return **{stats.total_return:.2%}**, Sharpe **{stats.sharpe_ratio:.2f}**, "
                f"max drawdown **{stats.max_drawdown:.2%}**, turnover **{result.turnover:.2f}** "
                f"over {reb.height} rebalances")
        return pn.Column(
            pn.pane.Markdown(head),
            series_plot(equity, "ts", [c for c in equity.columns if c != "ts"], title="Equity vs benchmark"),
            series_plot(weights, "ts", [c for c in weights.columns if c != "ts"], title="Weights over time"),
            pn.Row(pn.pane.HoloViews(plot_risk_contributions(result), sizing_mode="stretch_width"),
                   series_plot(reb, "ts", "turnover", title="Turnover per rebalance", height=260),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    return pn.Row(pn.Column("## Portfolio", settings, width=320), body, sizing_mode="stretch_width")
