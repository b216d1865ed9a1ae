"""Reports of any run: a self-contained HTML tearsheet, the same as a PDF, and exports of its frames
and figures (CSV, Parquet, JSON) that read back into equal frames.

A report is a template over the result: it shows ``result.stats`` as they are and the figures of
:mod:`workbench.metrics.tearsheet` (one definition each), charts drawn as inline SVG (long series
downsampled for display with LTTB; the data are not) and the result's own tables. Nothing is
fetched: no CDN, font, script or image from the network.

>>> import tempfile, pathlib, workbench as wb
>>> from workbench.strategies import SmaCross
>>> res = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=30))
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> report(res, out / "goog.html").name
'goog.html'
>>> sorted(read_export(export(res, out / "x", formats=("parquet",))))[:3]
['benchmark', 'equity', 'orders']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from workbench.errors import InvalidParameterError, did_you_mean
from workbench.report._export import EXPORT_VERSION, FORMATS, read_export

if TYPE_CHECKING:
    from workbench.store import Store

__all__ = ["report", "report_run", "export", "export_run", "read_export", "render_html", "FORMATS",
           "EXPORT_VERSION", "REPORT_FORMATS"]

REPORT_FORMATS = ("html", "pdf")
Format = Literal["html", "pdf"]


def _format(path: Path, format: str | None) -> str:
    fmt = format if format is not None else (path.suffix.lstrip(".").lower() or "html")
    if fmt not in REPORT_FORMATS:
        raise InvalidParameterError(
            f"`format` must be 'html' or 'pdf'; got {fmt!r}.{did_you_mean(str(fmt), REPORT_FORMATS)} "
            "Fix: pass format='html' or format='pdf' (or a path ending in .html or .pdf).")
    return fmt


def render_html(result: Any) -> str:
    """The HTML tearsheet of ``result`` as text."""
    from workbench.report._html import render_html as _render
    from workbench.report._kinds import report_data

    return _render(report_data(result))


def _write(data: Any, path: Any, format: str | None) -> Path:
    from workbench.report._atomic import atomic_write, writable_target
    from workbench.report._html import render_html as _render

    target = writable_target(path)
    fmt = _format(target, format)
    if fmt == "pdf":
        from workbench.report._pdf import write_pdf

        page = _render(data, for_pdf=True)
        return atomic_write(target, lambda tmp: write_pdf(page, tmp))
    page = _render(data)
    return atomic_write(target, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def report(result: Any, path: Any, *, format: Format | None = None) -> Path:
    """Write the tearsheet of ``result`` to ``path`` as HTML or PDF.

    Parameters
    ----------
    result
        A backtest, portfolio, sweep/study or walk-forward result.
    path : str or Path
        The file to write (replaced whole; nothing is left behind on failure).
    format : {"html", "pdf"}, optional
        Default: from the path's suffix, else HTML. A PDF needs the ``[reports]`` extra.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InvalidParameterError
        An unknown format, or a path that cannot be written.
    """
    from workbench.report._kinds import report_data

    target = Path(path) if isinstance(path, (str, Path)) else path
    if isinstance(target, Path):
        _format(target, format)  # a bad format fails before any work
    return _write(report_data(result), path, format)


def report_run(run_id: str, path: Any, *, format: Format | None = None, store: Store | None = None) -> Path:
    """Write the tearsheet of the stored run ``run_id`` (a unique prefix is enough)."""
    from workbench.report._kinds import stored_report_data

    if isinstance(path, (str, Path)):
        _format(Path(path), format)
    return _write(stored_report_data(run_id, store), path, format)


def export(result: Any, directory: Any, *, formats: Any = FORMATS) -> Path:
    """Write the frames (equity, returns, orders, trades, positions, weights... as the result holds
    them) and ``stats`` of ``result`` into ``directory``; see :mod:`workbench.report._export` for the
    versioned layout and :func:`read_export` to read it back."""
    from workbench.report._export import check_formats, export_frames
    from workbench.report._kinds import report_data

    fmts = check_formats(formats)
    data = report_data(result)
    return export_frames(data.frames, data.stats, directory, formats=fmts, kind=data.kind, run_id=data.run_id)


def export_run(run_id: str, directory: Any, *, formats: Any = FORMATS, store: Store | None = None) -> Path:
    """:func:`export` of the stored run ``run_id``: its artifacts and stored metrics."""
    from workbench.report._export import check_formats, export_frames
    from workbench.report._kinds import stored_report_data

    fmts = check_formats(formats)
    data = stored_report_data(run_id, store)
    return export_frames(data.frames, data.stats, directory, formats=fmts, kind=data.kind, run_id=data.run_id)
