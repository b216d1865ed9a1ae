"""The batches page on its own — serve with:  panel serve dashboards/batches.py  (or all pages: workbench dashboard)."""

from workbench.ui.pages import batches_page
from workbench.ui.server import offline_panel

offline_panel("tabulator")
batches_page().servable(title="Quant Workbench — batches")
