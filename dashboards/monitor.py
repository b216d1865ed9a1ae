"""The monitor page on its own — serve with:  panel serve dashboards/monitor.py  (or all pages: workbench dashboard)."""

from workbench.ui.pages import monitor_page
from workbench.ui.server import offline_panel

offline_panel("tabulator")
monitor_page().servable(title="Quant Workbench — monitor")
