"""Printing for the command line: consoles, one-line errors, spinners and tables of figures."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["stdout", "stderr", "one_line", "spinner", "format_value", "stats_table", "metrics_table"]


def stdout() -> Console:
    """A console on standard output (looked up when printing, so redirection is honoured).

    Output that goes to a file or a pipe is laid out 120 columns wide unless ``COLUMNS`` says
    otherwise; a terminal uses its own width.
    """
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=120)
    return console


def stderr() -> Console:
    """A console on standard error, for progress and notes that must not mix with results."""
    return Console(stderr=True, highlight=False)


def one_line(message: str) -> str:
    """``message`` on one line: lines are stripped and joined (after a colon by a space, else "; ").

    >>> one_line("`high` is below `low` in 1 row(s):\\n  row 0: high=0.2\\nFix: swap them.")
    '`high` is below `low` in 1 row(s): row 0: high=0.2; Fix: swap them.'
    """
    out = ""
    for line in (part.strip() for part in str(message).splitlines()):
        if not line:
            continue
        out = line if not out else out + (" " if out.endswith(":") else "; ") + line
    return out


@contextmanager
def spinner(text: str) -> Iterator[None]:
    """Show ``text`` with a spinner on standard error while the block runs (terminals only)."""
    console = stderr()
    if console.is_terminal:
        with console.status(text):
            yield
    else:
        yield


def format_value(value: Any, fmt: str = "num") -> str:
    """Display text of a figure: ``fmt`` is ``pct``, ``num``, ``int``, ``cash`` or ``bars``.

    >>> format_value(0.1234, "pct"), format_value(1234.5, "cash"), format_value(None), format_value(float("nan"))
    ('12.34%', '1,234.50', 'n/a', 'n/a')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if fmt == "pct":
        return f"{value:.2%}"
    if fmt == "cash":
        return f"{value:,.2f}"
    if fmt == "int":
        return f"{int(value):d}"
    if fmt == "bars":
        return f"{value:d} bars" if isinstance(value, int) else f"{value:.1f} bars"
    if isinstance(value, int):
        return f"{value:d}"
    return f"{value:.3f}" if abs(value) < 1e6 else f"{value:.4g}"


def _stats_layout() -> list[tuple[str, str, str, str]]:
    """``(name, group, label, fmt)`` of every :class:`workbench.metrics.Stats` field, in order."""
    from workbench.metrics import Stats

    return [(f.name, f.metadata.get("group", ""), f.metadata.get("label", f.name), f.metadata.get("fmt", "num"))
            for f in fields(Stats)]


def metrics_table(metrics: Mapping[str, Any], *, title: str | None = None) -> Table:
    """A table of metric values: the figures of ``Stats`` grouped and labelled, others after them."""
    table = Table(title=title, title_justify="left", show_header=False, box=box.SIMPLE, pad_edge=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    known: set[str] = set()
    group = None
    for name, grp, label, fmt in _stats_layout():
        if name not in metrics:
            continue
        known.add(name)
        if grp != group:
            table.add_row(f"[bold]{grp}[/]", "")
            group = grp
        table.add_row(f"  {label}", format_value(metrics[name], fmt))
    others = [k for k in metrics if k not in known]
    if others:
        table.add_row("[bold]Other[/]", "")
        for key in others:
            table.add_row(f"  {key}", format_value(metrics[key]))
    return table


def stats_table(stats: Any, *, title: str | None = None) -> Table:
    """A table of a :class:`workbench.metrics.Stats`, grouped and labelled like its ``repr``."""
    return metrics_table(stats.to_dict(), title=title)
