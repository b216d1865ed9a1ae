"""The research batch of ``workbench demo``: ``notebooks/03_strategy.ipynb`` over several sample
datasets and fast windows, run by the batch runner, summarized from the store.

>>> sorted(DEMO_GRID)
['dataset', 'fast', 'slow']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["DEMO_GRID", "DEMO_NOTEBOOK", "research_batch", "summary_table"]

DEMO_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_strategy.ipynb"
"""The notebook the demo batch runs (in a source checkout)."""

DEMO_GRID: dict[str, Any] = {"dataset": ["GOOG", "BTCUSD"], "fast": [5, 10], "slow": 30}
"""Two datasets × two fast windows: four jobs."""

_FIGURES = (("sharpe", "sharpe", "{:.2f}"), ("total_return", "return", "{:.1%}"),
            ("max_drawdown", "max dd", "{:.1%}"), ("n_trades", "trades", "{}"), ("ema_sharpe", "EMA sharpe", "{:.2f}"))


def summary_table(results: Any) -> Table:
    """One row per job: parameters, state, duration and the recorded headline figures."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="recorded results, one row per job", title_justify="left")
    for col in ("dataset", "fast", "state", "seconds", *[label for _, label, _ in _FIGURES]):
        table.add_column(col, justify="left" if col in ("dataset", "state") else "right", no_wrap=True)
    for row in results.iter_rows(named=True):
        figures = [("" if row.get(key) is None else fmt.format(row[key])) for key, _, fmt in _FIGURES]
        seconds = "" if row["duration_s"] is None else f"{row['duration_s']:.1f}"
        table.add_row(row["dataset"], str(row["fast"]), row["state"], seconds, *figures)
    return table


def research_batch(console: Console, *, workers: int | None = None) -> Any | None:
    """Run the demo batch, print its summary and the executed notebooks' paths; the handle
    (``None`` when the notebook or the kernel is missing, with a note saying what to do)."""
    from jupyter_client.kernelspec import KernelSpecManager

    import workbench as wb

    if not DEMO_NOTEBOOK.is_file():
        console.print(f"  skipped: {escape(str(DEMO_NOTEBOOK))} is not here (run the demo from a source checkout).")
        return None
    if "workbench" not in KernelSpecManager().find_kernel_specs():
        console.print("  skipped: the `workbench` kernel is not installed. Fix: [cyan]workbench kernel install[/]")
        return None
    handle = wb.jobs.submit(DEMO_NOTEBOOK, DEMO_GRID, workers=workers, name="demo")
    console.print(f"  batch {handle.id}: {handle.status()['total']} jobs of {DEMO_NOTEBOOK.name}", markup=False)
    handle.wait(progress=console.is_terminal)
    results = handle.results()
    console.print(summary_table(results))
    for row in results.iter_rows(named=True):
        console.print(f"  {row['dataset']:<7} fast={row['fast']:<3} notebook {row['output_path']}", markup=False,
                      soft_wrap=True)
        console.print(f"  {'':<7} {'':<8} html     {row['html_path']}", markup=False, soft_wrap=True)
    console.print(f"  compare: [cyan]workbench batch results {handle.id}[/]")
    return handle
