"""``workbench runs`` (list and show stored runs) and ``workbench db`` (the store's schema)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from workbench.cli._output import format_value, metrics_table, spinner, stdout

__all__ = ["app", "db_app"]

app = typer.Typer(help="Runs recorded in the store.", no_args_is_help=True)
db_app = typer.Typer(help="The store's database.", no_args_is_help=True)

_HEADLINE = (("total_return", "return", "pct"), ("sharpe_ratio", "sharpe", "num"),
             ("max_drawdown", "max dd", "pct"), ("n_trades", "trades", "int"))


@app.command("list")
def list_runs(
    kind: Annotated[str | None, typer.Option("--kind", help="Only runs of this kind (backtest, optimization...).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many, newest first.")] = 50,
) -> None:
    """List stored runs, newest first, with their headline figures."""
    from workbench.store import Store

    with Store() as store:
        frame = store.runs(kind=kind, limit=limit)
        where = store.url
        registered = store.datasets()
    names = dict(zip(registered["content_hash"].to_list(), registered["name"].to_list(), strict=True))
    out = stdout()
    if frame.height == 0:
        what = f" of kind {kind!r}" if kind else ""
        out.print(f"No runs{escape(what)} in {escape(where)}. Create one with `workbench demo` or "
                  "`workbench backtest SmaCross --data GOOG --save`.")
        return
    table = Table(title=f"{frame.height} run(s) in {escape(where)}", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    with_status = set(frame["status"].to_list()) != {"succeeded"}
    for col in ("id", "kind", *(["status"] if with_status else []), "created", "dataset"):
        table.add_column(col, no_wrap=True)
    shown = [(key, label, fmt) for key, label, fmt in _HEADLINE if key in frame.columns or f"best.{key}" in frame.columns]
    for _, label, _ in shown:
        table.add_column(label, justify="right", no_wrap=True)
    table.add_column("name", ratio=1)
    for row in frame.iter_rows(named=True):
        created = row["created_at"].strftime("%Y-%m-%d %H:%M") if row["created_at"] else ""
        figures = [format_value(_figure(row, key), fmt) for key, _, fmt in shown]
        digest = row["dataset_hash"] or ""
        table.add_row(row["id"], row["kind"], *([row["status"]] if with_status else []), created,
                      escape(names.get(digest, digest[:10])), *figures, escape(_label(row)))
    out.print(table)
    for row in frame.filter(frame["status"] == "interrupted").iter_rows(named=True):
        out.print(f"{row['id']} was interrupted (no heartbeat since {_when(row)}); resume: {row['resume']}",
                  markup=False, soft_wrap=True)
    out.print("Details: workbench runs show ID (a unique prefix of the id is enough)", markup=False, soft_wrap=True)


def _compact(value: object) -> object:
    """A spec with long lists of grid values written as ranges (``"2..100 step 1 (99 values)"``).

    >>> _compact({"dims": {"fast": list(range(2, 101)), "direction": ["long"]}})
    {'dims': {'fast': '2..100 step 1 (99 values)', 'direction': ['long']}}
    """
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list) and len(value) > 6 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                          for v in value):
        steps = {round(b - a, 12) for a, b in zip(value, value[1:], strict=False)}
        if len(steps) == 1:
            return f"{value[0]:g}..{value[-1]:g} step {steps.pop():g} ({len(value)} values)"
        return f"{len(value)} values from {min(value):g} to {max(value):g}"
    return value


def _figure(row: dict, key: str) -> object:
    """A run's figure: its own metric, or for an optimization that of its best set."""
    value = row.get(key)
    return value if value is not None else row.get(f"best.{key}")


def _label(row: dict) -> str:
    """The run's name, and for an optimization its best parameter set."""
    name = row["name"] or ""
    best = {k.removeprefix("best_params."): v for k, v in row.items() if k.startswith("best_params.") and v is not None}
    return f"{name} best {', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in best.items())}" \
        if best else name


def _when(row: dict) -> str:
    seen = row.get("heartbeat_at") or row.get("started_at") or row.get("created_at")
    return seen.strftime("%Y-%m-%d %H:%M:%S UTC") if seen else "its start"


@app.command("resume")
def resume(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="Run id, or a unique prefix of it.")],
) -> None:
    """Continue an interrupted grid or random search where it stopped."""
    from workbench.store import Store

    with Store() as store:
        with spinner(f"resuming {run_id}"):
            result = store.resume(run_id)
        rec = store.run(result.run_id)
    stdout().print(f"{rec.id} {rec.status}: {result.frame.height} sets; best {result.metric} = "
                   f"{format_value(result.best[result.metric])} at {result.best_params}", markup=False, soft_wrap=True)


@app.command("show")
def show(
    run_id: Annotated[str, typer.Argument(metavar="ID", help="Run id, or a unique prefix of it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Show one run: its spec, metrics and artifacts."""
    from workbench.store import Store

    with Store() as store:
        rec = store.run(run_id)
        artifacts_dir = store.artifacts_dir
    out = stdout()
    if as_json:
        typer.echo(rec.model_dump_json(indent=2))
        return
    info = Table(show_header=False, box=box.SIMPLE, pad_edge=False, title=f"run {rec.id}", title_justify="left")
    info.add_column("field", style="bold")
    info.add_column("value")
    for key in ("kind", "name", "status", "resume", "dataset_hash", "workbench_version", "created_at", "started_at",
                "finished_at", "heartbeat_at", "duration_s", "parent_id", "error"):
        value = getattr(rec, key)
        if value is not None:
            info.add_row(key, escape(str(value)))
    out.print(info)
    out.print("[bold]spec")
    out.print(json.dumps(_compact(rec.spec), indent=2, sort_keys=True), markup=False, soft_wrap=True)
    if rec.metrics:
        from workbench.store._frames import flatten_metrics

        out.print(metrics_table(flatten_metrics(rec.metrics), title="metrics"))
    if rec.artifacts:
        table = Table(title="artifacts", title_justify="left", show_header=False, box=box.SIMPLE, pad_edge=False)
        table.add_column("name", style="bold")
        table.add_column("path")
        for name, rel in sorted(rec.artifacts.items()):
            table.add_row(escape(name), escape(str(artifacts_dir / rel)))
        out.print(table)


@app.command("verify")
def verify(
    run_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Run id, or a unique prefix of it.")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Verify every run that can be re-run.")] = False,
) -> None:
    """Re-run stored runs from their spec and compare every metric and artifact bit for bit.

    Exit code 0 when every run reproduces, 1 when one differs or cannot be re-run, 2 for bad usage.
    """
    from workbench.errors import WorkbenchError
    from workbench.store import Store

    if (run_id is None) == (not all_runs):
        typer.echo("error: give a run ID or --all (not both).", err=True)
        raise typer.Exit(2)
    out = stdout()
    failed = 0
    with Store() as store:
        if run_id:
            ids = [store.run(run_id).id]
        else:
            frame = store.runs()
            ids = frame.filter(frame["parent_id"].is_null() & frame["status"].is_in(["succeeded"]))["id"].to_list()
        for rid in ids:
            try:
                with spinner(f"re-running {rid}"):
                    report = store.verify(rid)
            except WorkbenchError as exc:
                failed += 1
                out.print(f"{rid}  cannot re-run: {exc}", markup=False, soft_wrap=True)
                continue
            if report.equal:
                out.print(f"{rid}  {report.kind}  equal ({len(report.checks)} checks)", markup=False)
            else:
                failed += 1
                out.print(f"{rid}  {report.kind}  DIFFERS: " + "; ".join(
                    f"{c.what} {c.name}: {c.detail}" for c in report.differences[:10]), markup=False, soft_wrap=True)
    out.print(f"{len(ids) - failed} of {len(ids)} run(s) reproduce bit for bit.", markup=False)
    if failed:
        raise typer.Exit(1)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply pending schema migrations to the store (WORKBENCH_DB_URL, or SQLite under WORKBENCH_HOME)."""
    from workbench.store import Store

    with Store() as store:
        revision = store.upgrade()
        where = store.url
    stdout().print(f"Store {where} is at schema revision {revision}.", markup=False, soft_wrap=True)
