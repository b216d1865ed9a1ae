"""``workbench batch``: run a parameterized notebook as a batch of jobs, watch it, resume it.

Exit codes: 0 every job succeeded, 1 a job failed (or was cancelled), 2 bad input (a notebook,
parameter, grid, kernel, scheduler or batch id), before any job starts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from workbench.cli._output import one_line, stderr, stdout
from workbench.errors import WorkbenchError

__all__ = ["app"]

app = typer.Typer(help="Batches of parameterized notebooks run as jobs on Dask (papermill).",
                  no_args_is_help=True)

_SCHEDULER = typer.Option("--scheduler", envvar="WORKBENCH_DASK_SCHEDULER", metavar="ADDRESS",
                          help="An existing Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster).")
_WORKERS = typer.Option("--workers", min=1, help="Worker processes of the local cluster (default: one per core).")


def _bad_input(exc: BaseException) -> typer.Exit:
    typer.echo(f"error: {one_line(str(exc))}", err=True)
    return typer.Exit(2)


def _watch(handle: Any, what: str) -> int:
    """A live progress bar until the batch is done; the exit code (0 all succeeded, else 1)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = handle.status()["total"]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=stderr(), transient=False) as progress:
        task = progress.add_task(what, total=total, detail="")
        thread = handle._thread
        while True:
            tally = handle.status()
            finished = tally["succeeded"] + tally["failed"] + tally["cancelled"]
            detail = f"running {tally['running']} · failed {tally['failed']}"
            progress.update(task, completed=finished, detail=detail)
            if tally["queued"] == 0 and tally["running"] == 0:
                break
            if thread is not None and not thread.is_alive():
                handle.wait(progress=False)  # raises the driver's error, or returns once done
            time.sleep(0.25)
    handle.wait(progress=False)
    tally = handle.status()
    return 0 if tally["succeeded"] == tally["total"] else 1


def _summary(handle: Any) -> None:
    tally = handle.status()
    out = stdout()
    out.print(f"batch {handle.id}: " + ", ".join(f"{k} {v}" for k, v in tally.items() if v and k != "total")
              + f" (of {tally['total']})", markup=False, soft_wrap=True)
    for row in handle.jobs():
        if row["state"] == "failed":
            out.print(f"  job {row['number']} {row['params']} failed: {row['error']}", markup=False, soft_wrap=True)
            if row["output_path"]:
                out.print(f"    notebook {row['output_path']}", markup=False, soft_wrap=True)
    out.print(f"Results: workbench batch results {handle.id}", markup=False, soft_wrap=True)


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    notebook: Annotated[Path, typer.Argument(help="A notebook with a cell tagged `parameters`.")],
    ctx: typer.Context,
    grid: Annotated[Path | None, typer.Option("--grid", metavar="FILE.yaml",
                                              help="A YAML grid: parameter → list of values.")] = None,
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHEDULER] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", metavar="S", help="Seconds a job may run.")] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Retries of infrastructure failures.")] = 2,
    name: Annotated[str | None, typer.Option("--name", help="A label for `workbench batch list`.")] = None,
    kernel: Annotated[str | None, typer.Option("--kernel", help="Jupyter kernel (default: the notebook's).")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Return at once; the batch runs in the background.")] = False,
) -> None:
    """Run NOTEBOOK once per parameter set, as jobs on Dask; print the batch id and a live progress bar.

    Parameters: -p NAME VALUES (repeatable), VALUES comma-separated, e.g. -p fast 5,10,20 -p slow 50,100:
    one job per combination (and per row of the --grid product).
    """
    from workbench import jobs

    params = _pairs(list(ctx.args))
    try:
        handle = jobs.submit(notebook, params=params, grid_file=grid, workers=workers, scheduler=scheduler,
                             timeout=timeout, retries=retries, name=name, kernel_name=kernel, detach=detach)
    except (WorkbenchError, OSError) as exc:
        raise _bad_input(exc) from None
    stdout().print(f"batch {handle.id}: {handle.status()['total']} job(s) of {handle.notebook}", markup=False,
                   soft_wrap=True)
    if detach:
        stdout().print(f"Running in the background. Watch it: workbench batch status {handle.id}", markup=False,
                       soft_wrap=True)
        return
    code = _watch(handle, f"batch {handle.id[:8]}")
    _summary(handle)
    raise typer.Exit(code)


def _pairs(args: list[str]) -> dict[str, list[str]]:
    """``-p NAME VALUES`` pairs from the command's extra arguments."""
    from workbench.jobs.params import parse_cli_values

    out: dict[str, list[str]] = {}
    i = 0
    while i < len(args):
        if args[i] not in ("-p", "--param"):
            raise _bad_input(ValueError(f"unexpected argument {args[i]!r}. Parameters are given as -p NAME VALUES, "
                                        f"e.g. -p fast 5,10,20."))
        if i + 2 >= len(args):
            raise _bad_input(ValueError(f"{args[i]} needs a name and values, e.g. -p fast 5,10,20."))
        out[args[i + 1]] = parse_cli_values(args[i + 2])
        i += 3
    return out


def _handle(batch_id: str) -> Any:
    from workbench import jobs

    try:
        return jobs.batch(batch_id)
    except WorkbenchError as exc:
        raise _bad_input(exc) from None


@app.command("status")
def status(batch_id: Annotated[str, typer.Argument(metavar="BATCH_ID")]) -> None:
    """Jobs per state; exit 1 if a job failed or was cancelled."""
    handle = _handle(batch_id)
    _summary(handle)
    tally = handle.status()
    raise typer.Exit(1 if tally["failed"] or tally["cancelled"] else 0)


@app.command("results")
def results(
    batch_id: Annotated[str, typer.Argument(metavar="BATCH_ID")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the results to a .csv or .parquet file.")] = None,
) -> None:
    """One row per job: its parameters, state, duration and every recorded value."""
    frame = _handle(batch_id).results()
    if output is not None:
        if output.suffix == ".parquet":
            frame.write_parquet(output)
        else:
            frame.write_csv(output)
        stdout().print(f"wrote {frame.height} row(s) to {output}", markup=False, soft_wrap=True)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=f"batch {batch_id}", title_justify="left")
    shown = [c for c in frame.columns if c not in ("output_path", "html_path", "worker")]
    for col in shown:
        table.add_column(col, no_wrap=True)
    for row in frame.select(shown).iter_rows():
        table.add_row(*[escape(_fmt(v)) for v in row])
    stdout().print(table)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


@app.command("resume")
def resume(
    batch_id: Annotated[str, typer.Argument(metavar="BATCH_ID")],
    workers: Annotated[int | None, _WORKERS] = None,
    scheduler: Annotated[str | None, _SCHEDULER] = None,
    stale_after: Annotated[float | None, typer.Option(
        "--stale-after", metavar="S", help="A running job whose heartbeat is older than S seconds is re-queued "
                                           "(default: the batch's setting, 30 s).")] = None,
) -> None:
    """Run what is left of a batch: queued jobs and orphans of a dead runner; never a succeeded job."""
    from workbench import jobs

    _handle(batch_id)
    try:
        handle = jobs.resume(batch_id, workers=workers, scheduler=scheduler, stale_after_s=stale_after)
    except WorkbenchError as exc:
        raise _bad_input(exc) from None
    code = _watch(handle, f"batch {batch_id[:8]}")
    _summary(handle)
    raise typer.Exit(code)


@app.command("cancel")
def cancel(batch_id: Annotated[str, typer.Argument(metavar="BATCH_ID")]) -> None:
    """Cancel every job not finished yet (running kernels stop within a heartbeat)."""
    n = _handle(batch_id).cancel()
    stdout().print(f"cancelled {n} job(s) of batch {batch_id}", markup=False, soft_wrap=True)


@app.command("list")
def list_batches(limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 50) -> None:
    """The newest batches with their jobs per state."""
    from workbench import jobs

    frame = jobs.batches(limit=limit)
    out = stdout()
    if frame.height == 0:
        out.print("No batches yet. Run one: workbench batch run NOTEBOOK -p NAME 1,2,3", markup=False)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "created", "total", "succeeded", "failed", "running", "queued", "cancelled", "name", "notebook"):
        table.add_column(col, no_wrap=col not in ("notebook",))
    for r in frame.iter_rows(named=True):
        table.add_row(r["id"], r["created_at"].strftime("%Y-%m-%d %H:%M"), *[str(r[k]) for k in (
            "total", "succeeded", "failed", "running", "queued", "cancelled")], escape(r["name"] or ""),
            escape(Path(r["notebook"]).name))
    out.print(table)
