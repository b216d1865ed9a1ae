"""The pages of ``workbench dashboard``: each a function building one page from its state class.

A failure to build a page (a store that cannot be opened, an unknown study in the URL) becomes a
message in the page. URL parameters are read as plain names (``?run=ID``, ``?study=NAME``),
never evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workbench.errors import WorkbenchError

__all__ = ["PAGES", "runs_page", "monitor_page", "explorer_page", "portfolio_page", "batches_page", "url_arg"]


def url_arg(name: str) -> str | None:
    """The URL query parameter ``name`` of the current session, as text (or None)."""
    import panel as pn

    args = getattr(pn.state, "session_args", None) or {}
    values = args.get(name)
    if not values:
        return None
    raw = values[0]
    return (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).strip() or None


def _guard(build: Callable[[], Any]) -> Any:
    import panel as pn

    from workbench.ui.views import error_pane

    try:
        return build()
    except WorkbenchError as exc:
        return pn.Column("## Quant Workbench", error_pane(str(exc)))


def runs_page() -> Any:
    """Every run in the store; ``?run=ID`` opens one run's detail."""
    from workbench.ui.runs import RunDetail, RunsBrowser, open_store, runs_view

    def build() -> Any:
        store = open_store()
        return runs_view(RunsBrowser(store=store), RunDetail(store=store, run_id=url_arg("run") or ""))

    return _guard(build)


def monitor_page() -> Any:
    """A study or stored sweep watched live; ``?study=NAME`` or ``?run=ID`` picks it."""
    from workbench.ui.monitor import StudyMonitor
    from workbench.ui.monitor_view import monitor_view

    return _guard(lambda: monitor_view(StudyMonitor(source=url_arg("study") or url_arg("run") or "")))


def explorer_page() -> Any:
    """The backtest explorer over the samples and the store's datasets; ``?dataset=NAME`` picks one."""
    from workbench.ui.explorer import BacktestExplorer
    from workbench.ui.runs import open_store

    def build() -> Any:
        app = BacktestExplorer(store=open_store())
        wanted = url_arg("dataset")
        if wanted in app.param.dataset.objects:
            app.dataset = wanted
        elif wanted:
            app.error = f"No dataset named {wanted!r}; choose one of {', '.join(app.param.dataset.objects)}."
        return app.view()

    return _guard(build)


def portfolio_page() -> Any:
    """A rebalanced portfolio: weights, risk contributions, turnover, equity vs benchmark."""
    from workbench.ui.portfolio import PortfolioExplorer, portfolio_view

    return _guard(lambda: portfolio_view(PortfolioExplorer()))


def batches_page() -> Any:
    """A batch's jobs with live states; ``?batch=ID`` picks it."""
    from workbench.ui.batches import BatchMonitor, batches_view

    return _guard(lambda: batches_view(BatchMonitor(batch=url_arg("batch") or "")))


PAGES: dict[str, Callable[[], Any]] = {
    "runs": runs_page, "monitor": monitor_page, "batches": batches_page, "explorer": explorer_page,
    "portfolio": portfolio_page,
}
"""Page name (its URL path) → function building it."""
