"""Backtest explorer — serve with:  panel serve dashboards/backtest_explorer.py  (or: workbench dashboard)

Pick a sample dataset and a built-in strategy; the parameter widgets come from the strategy's
own declarations, and every change re-runs the backtest.
"""

from workbench.ui.pages import explorer_page
from workbench.ui.server import offline_panel

offline_panel("tabulator")
explorer_page().servable(title="Quant Workbench — backtest explorer")
