"""``workbench runs report`` and ``workbench runs export``: a stored run as a tearsheet (HTML or PDF)
or as files (CSV, Parquet, JSON)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli._output import spinner, stdout

__all__ = ["register"]


class ReportFormat(str, Enum):
    html = "html"
    pdf = "pdf"


class ExportFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


_ID = Annotated[str, typer.Argument(metavar="RUN_ID", help="Run id, or a unique prefix of it.")]


def report(
    run_id: _ID,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="PATH",
                                                help="File to write (default: report-<id>.<format> here).")] = None,
    format: Annotated[ReportFormat | None, typer.Option("--format", "-f", case_sensitive=False,
                                                        help="html or pdf (default: from the suffix of --output, else html).")] = None,
) -> None:
    """Write a stored run's tearsheet: one self-contained HTML file (opens offline) or a PDF."""
    from workbench.report import report_run
    from workbench.store import Store

    fmt = format.value if format is not None else None
    with Store() as store:
        rec = store.run(run_id)
        path = output or Path(f"report-{rec.id}.{fmt or 'html'}")
        with spinner(f"Writing the report of run {rec.id}..."):
            written = report_run(rec.id, path, format=fmt, store=store)
    stdout().print(f"Wrote {written} ({written.stat().st_size:,} bytes)", markup=False, soft_wrap=True)


def export(
    run_id: _ID,
    output: Annotated[Path | None, typer.Option("--output", "-o", metavar="DIR",
                                                help="Directory to write (default: export-<id> here).")] = None,
    formats: Annotated[list[ExportFormat] | None, typer.Option("--format", "-f", case_sensitive=False,
                                                               help="csv, parquet or json; repeat for several (default: all).")] = None,
) -> None:
    """Write a stored run's frames and figures as CSV, Parquet and JSON (read back with
    workbench.report.read_export)."""
    from workbench.report import FORMATS, export_run
    from workbench.store import Store

    fmts = tuple(f.value for f in formats) if formats else FORMATS
    with Store() as store:
        rec = store.run(run_id)
        directory = output or Path(f"export-{rec.id}")
        with spinner(f"Exporting run {rec.id}..."):
            written = export_run(rec.id, directory, formats=fmts, store=store)
    n = len(list(written.iterdir()))
    stdout().print(f"Wrote {n} files to {written}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``export`` to the ``runs`` command group."""
    app.command("report")(report)
    app.command("export")(export)
