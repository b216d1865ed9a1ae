"""``report()`` and ``export()``, shared by every result class (the report service is imported
only when they are called)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

__all__ = ["Reportable"]


class Reportable:
    """Gives a result :meth:`report` and :meth:`export` (see :mod:`workbench.report`)."""

    __slots__ = ()

    def report(self, path: Any, *, format: Literal["html", "pdf"] | None = None) -> Path:
        """Write this result's tearsheet to ``path``: self-contained HTML, or PDF (the ``[reports]``
        extra); the format follows the suffix unless given. Returns the file written."""
        from workbench.report import report

        return report(self, path, format=format)

    def export(self, directory: Any, *, formats: Sequence[str] = ("csv", "parquet", "json")) -> Path:
        """Write this result's frames (equity, returns, orders, trades, positions, weights... as it
        holds them) and figures into ``directory``; :func:`workbench.report.read_export` reads them
        back into equal frames. Returns the directory."""
        from workbench.report import export

        return export(self, directory, formats=formats)
