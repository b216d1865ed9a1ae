"""A backtest explorer: pick a dataset and a strategy, tune its parameters with widgets generated
from its declaration, and see stats, equity and trades update. State lives in
:class:`BacktestExplorer` (a ``param.Parameterized``); :meth:`BacktestExplorer.view` is a thin
Panel layout over it. ``dashboards/backtest_explorer.py`` serves it."""

from __future__ import annotations

from typing import Any

from workbench import examples
from workbench._extras import require
from workbench.errors import WorkbenchError
from workbench.strategies import BUILTIN

require("dashboards", "panel", "pyarrow")
import param  # noqa: E402  (Panel's own dependency: the [dashboards] extra)

__all__ = ["BacktestExplorer"]


class BacktestExplorer(param.Parameterized):
    """State of the explorer; every change of a setting or strategy parameter re-runs the backtest.

    Examples
    --------
    It opens on :mod:`workbench.examples` — the README's and the demo's backtest, same figures:

    >>> app = BacktestExplorer()
    >>> app.result.strategy, f"{app.result.stats.total_return:.2%}"
    (SmaCross(fast=10, slow=20, direction='both'), '462.64%')
    >>> app.strategy_widgets["fast"].value = 5
    >>> app.result.strategy
    SmaCross(fast=5, slow=20, direction='both')
    """

    dataset = param.Selector(default=examples.DATASET, objects=["GOOG", "EURUSD", "BTCUSD", "SP500", "NASDAQ"])
    strategy = param.Selector(default=type(examples.strategy()).__name__, objects=list(BUILTIN))
    cash = param.Number(default=float(examples.SETTINGS["cash"]), bounds=(1.0, None))
    fees = param.Number(default=examples.SETTINGS["fees"], bounds=(0.0, 0.1))
    lot_size = param.Number(default=float(examples.SETTINGS["lot_size"]), bounds=(0.0, None),
                            doc="units are traded in multiples of this (1: whole shares; 0: fractional)")
    fill = param.Selector(default="next_open", objects=["next_open", "same_close"])
    result = param.Parameter(default=None, doc="the latest BacktestResult")
    error = param.String(default="", doc="the latest error message (a bad setting), or empty")

    def __init__(self, *, store: Any = None, **params: Any) -> None:
        self._store = store
        dataset = params.pop("dataset", None)
        super().__init__(**params)
        self._registered = self._registered_names()
        samples = list(type(self).param.dataset.objects)
        self.param.dataset.objects = [*samples, *(n for n in self._registered if n not in samples)]
        if dataset is not None:
            self.dataset = dataset
        self.strategy_widgets: dict[str, Any] = {}
        self._bind_strategy()
        self.param.watch(lambda _e: self._bind_strategy(), ["strategy"])
        self.param.watch(lambda _e: self.run(), ["dataset", "cash", "fees", "lot_size", "fill"])

    def _bind_strategy(self) -> None:
        from workbench.ui.widgets import param_widgets

        canonical = examples.strategy()
        self.strategy_widgets = param_widgets(canonical if type(canonical).__name__ == self.strategy
                                              else BUILTIN[self.strategy])
        for w in self.strategy_widgets.values():
            w.param.watch(lambda _e: self.run(), "value")
        self.run()

    def _registered_names(self) -> list[str]:
        """Datasets registered in the store (none when no store is given or it cannot be read)."""
        if self._store is None:
            return []
        try:
            return self._store.datasets()["name"].to_list()
        except WorkbenchError:
            return []

    def _bars(self) -> Any:
        import workbench as wb

        if self.dataset in self._registered:
            from workbench.store.datasets import load_registered

            return load_registered(self._store.dataset(self.dataset))
        return wb.data.sample(self.dataset)

    def run(self) -> None:
        """Run the backtest for the current state (errors become ``self.error``, not exceptions)."""
        import workbench as wb
        from workbench.ui.widgets import widget_values

        try:
            strategy = BUILTIN[self.strategy](**widget_values(self.strategy_widgets))
            self.result = wb.backtest(self._bars(), strategy, cash=self.cash, fees=self.fees,
                                      lot_size=self.lot_size, fill=self.fill)
            self.error = ""
        except WorkbenchError as exc:
            self.error = str(exc)

    def view(self) -> Any:
        """The Panel layout: settings and generated parameter widgets on the left, results right."""
        import panel as pn

        settings = pn.Param(self.param, parameters=["dataset", "strategy", "cash", "fees", "lot_size", "fill"],
                            show_name=False, widgets={"cash": pn.widgets.FloatInput, "fees": pn.widgets.FloatInput,
                                                      "lot_size": pn.widgets.FloatInput})

        @pn.depends(self.param.strategy)
        def strategy_panel(_name: str) -> Any:
            return pn.Column(*self.strategy_widgets.values())

        from workbench.ui.result_view import ResultPanel

        panel = ResultPanel()
        error = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")

        def show(_event: Any = None) -> None:
            error.object, error.visible = self.error, bool(self.error)
            if self.result is not None:
                panel.update(self.result)

        self.param.watch(show, ["result", "error"])
        show()
        results = pn.Column(error, panel.layout, sizing_mode="stretch_width")

        return pn.Row(pn.Column("## Backtest explorer", settings, strategy_panel, width=320), results,
                      sizing_mode="stretch_width")
