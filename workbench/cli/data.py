"""``workbench data``: list, show, validate and import datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import polars as pl
import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from workbench.cli._output import spinner, stdout

if TYPE_CHECKING:  # pragma: no cover
    from workbench.store import DatasetRecord

__all__ = ["app"]

app = typer.Typer(help="Datasets: the built-in samples, your files, and the store's registry.",
                  no_args_is_help=True)

_Symbol = Annotated[str | None, typer.Option("--symbol", help="Symbol of single-asset bars that have no "
                                                              "symbol column.")]
_Tz = Annotated[str, typer.Option("--tz", help="IANA timezone of timestamps that carry none.")]


@app.command("list")
def list_datasets() -> None:
    """List the sample datasets and the datasets registered in the store."""
    import workbench.data as wd
    from workbench.demo import dataset_table
    from workbench.store import Store

    out = stdout()
    cat = wd.samples()
    samples = Table(title="Sample datasets (built in; use the name with --data)", title_justify="left",
                    box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("name", "description", "frequency"):
        samples.add_column(col)
    for row in cat.iter_rows(named=True):
        samples.add_row(row["name"], escape(row["description"]), row["frequency"])
    out.print(samples)
    with Store() as store:
        records = _records(store)
        where = store.url
    if records:
        out.print(dataset_table(records, title=f"Registered in {escape(where)}"))
    else:
        out.print(f"No dataset registered in {escape(where)} yet: run `workbench demo` or "
                  "`workbench data import FILE --name NAME`.")


def _records(store: object) -> list[DatasetRecord]:
    names = store.datasets()["name"].to_list()  # type: ignore[attr-defined]
    return [store.dataset(n) for n in names]  # type: ignore[attr-defined]


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(metavar="NAME_OR_FILE", help="A registered dataset, a sample "
                                                                    "name or a CSV/Parquet file.")],
    rows: Annotated[int, typer.Option("--rows", "-n", min=0, help="Bars to show at each end.")] = 5,
) -> None:
    """Describe a dataset and show its first and last bars."""
    import workbench.data as wd
    from workbench.cli import _datasets
    from workbench.store import Store

    with Store() as store, spinner(f"Loading {name}"):
        found = _datasets.resolve(name, store=store)
    bars = found.bars
    freq = wd.infer_frequency(bars)
    out = stdout()
    info = Table(show_header=False, box=box.SIMPLE, pad_edge=False, title=escape(found.name), title_justify="left")
    info.add_column("field", style="bold")
    info.add_column("value")
    symbols = bars["symbol"].unique(maintain_order=True).to_list() if "symbol" in bars.columns else []
    for key, value in (
        ("source", found.source),
        ("registered", "yes" if found.record is not None else "no"),
        ("symbols", ", ".join(symbols) if symbols else "(one instrument, no symbol column)"),
        ("rows", f"{bars.height:,}"),
        ("start", str(bars["ts"].min())),
        ("end", str(bars["ts"].max())),
        ("frequency", f"{freq.label} ({freq.periods_per_year:g} bars/year)"),
        ("content hash", wd.content_hash(bars)),
    ):
        info.add_row(key, escape(value))
    out.print(info)
    if rows:
        with pl.Config(tbl_rows=2 * rows, tbl_cols=-1, tbl_width_chars=120):
            out.print(str(bars), markup=False, soft_wrap=True)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of bars.")],
    symbol: _Symbol = None,
    tz: _Tz = "UTC",
) -> None:
    """Check that FILE holds valid bars (columns, types, prices, order); explain what is wrong if not."""
    import workbench.data as wd

    with spinner(f"Validating {file}"):
        bars = wd.load(file, symbol=symbol, tz=tz)
        freq = wd.infer_frequency(bars)
        digest = wd.content_hash(bars)
    n_sym = bars["symbol"].n_unique() if "symbol" in bars.columns else 1
    start, end = bars["ts"].dt.min(), bars["ts"].dt.max()
    stdout().print(
        f"ok: {file} holds {bars.height:,} valid bars of {n_sym} symbol(s), {start} to {end}, frequency {freq.label} ({freq.periods_per_year:g} bars/year), hash {digest[:12]}",
        markup=False, soft_wrap=True,
    )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of bars.")],
    name: Annotated[str, typer.Option("--name", help="Name to register the dataset under "
                                                     "(letters, digits, '_', '.', '-').")],
    symbol: _Symbol = None,
    tz: _Tz = "UTC",
) -> None:
    """Validate FILE, keep a copy under WORKBENCH_HOME/datasets and register it in the store as NAME."""
    from workbench.cli import _datasets
    from workbench.demo import dataset_table
    from workbench.store import Store

    _datasets.check_name(name)
    with Store() as store:
        with spinner(f"Importing {file}"):
            record, copy = _datasets.import_file(store, file, name=name, symbol=symbol, tz=tz)
        where = store.url
    out = stdout()
    out.print(dataset_table([record], title=f"Registered {escape(record.name)} in {escape(where)}"))
    out.print(f"copy: {copy}", markup=False, soft_wrap=True)
    out.print(f"Backtest it with: workbench backtest SmaCross --data {record.name}", markup=False, soft_wrap=True)
