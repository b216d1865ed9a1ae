"""The runs page on its own — serve with:  panel serve dashboards/runs.py  (or all pages: workbench dashboard)."""

from workbench.ui.pages import runs_page
from workbench.ui.server import offline_panel

offline_panel("tabulator")
runs_page().servable(title="Quant Workbench — runs")
