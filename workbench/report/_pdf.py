"""The report as a PDF, rendered by WeasyPrint (the ``[reports]`` extra), imported only here."""

from __future__ import annotations

__all__ = ["write_pdf"]


def write_pdf(page: str, path: str) -> None:
    """Render the HTML ``page`` (self-contained: nothing is fetched) to the PDF file ``path``:
    A4, charts as vector graphics, none split across pages."""
    from workbench._extras import require

    require("reports", "weasyprint")
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    def _no_fetch(url: str, *args: object, **kwargs: object) -> dict:
        raise ValueError(f"a report fetches nothing; {url!r} was asked for")

    HTML(string=page, url_fetcher=_no_fetch).write_pdf(path)
