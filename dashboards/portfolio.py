"""The portfolio page on its own — serve with:  panel serve dashboards/portfolio.py  (or all pages: workbench dashboard)."""

from workbench.ui.pages import portfolio_page
from workbench.ui.server import offline_panel

offline_panel("tabulator")
portfolio_page().servable(title="Quant Workbench — portfolio")
