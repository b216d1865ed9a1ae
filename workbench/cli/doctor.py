"""``workbench doctor``: what this installation has, and what each missing piece would enable."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from workbench.cli._output import stdout

__all__ = ["doctor"]

_TITLES = {"core": "Core", "extra": "Extras", "system": "System programs", "files": "Files"}


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as one JSON list.")] = False,
) -> None:
    """Show the installed extras and their versions, Chromium, PostgreSQL, the Numba cache and the
    store URL, and what each missing piece would enable (with the command that installs it)."""
    from workbench.doctor import diagnose

    findings = diagnose()
    out = stdout()
    if as_json:
        out.print(json.dumps([asdict(f) for f in findings]), markup=False, soft_wrap=True)
        return
    for section, title in _TITLES.items():
        table = Table(title=title, title_justify="left", box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column("", no_wrap=True)
        table.add_column("name", no_wrap=True)
        table.add_column("found", overflow="fold")
        table.add_column("enables", overflow="fold")
        for f in (f for f in findings if f.section == section):
            table.add_row("ok" if f.ok else "--", *(Text(t) for t in (f.name, f.detail, f.enables)))
        out.print(table)
    missing = [f.name for f in findings if f.section == "extra" and not f.ok]
    if missing:
        out.print(f"Missing extras: {', '.join(missing)}. Everything at once: "
                  "pip install 'quant-workbench[all]'", markup=False, soft_wrap=True)
