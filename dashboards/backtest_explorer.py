"""Backtest explorer — serve with:  panel serve dashboards/backtest_explorer.py

Pick a sample dataset and a built-in strategy; the parameter widgets come from the strategy's
own declarations, and every change re-runs the backtest.
"""

import panel as pn

from workbench.ui.explorer import BacktestExplorer

pn.extension("tabulator")
BacktestExplorer().view().servable(title="Quant Workbench — backtest explorer")
