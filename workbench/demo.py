"""The demo: the research loop end to end on the embedded sample data, offline.

:func:`run_demo` imports every sample dataset, validates it and registers it in the store, then
runs the research steps that exist — a moving-average crossover backtest on GOOG saved to the
store — and reports where everything is. ``workbench demo`` prints it; tests call the same
functions. Running it again updates the same rows: dataset names and run ids are stable.

>>> import tempfile
>>> from workbench.store import Store
>>> with Store("sqlite://", artifacts_dir=tempfile.mkdtemp()) as store:
...     rec = register_bars(store, "tiny", wd.synthetic(30, seed=1), source="synthetic(30, seed=1)")
...     rec.rows, rec.frequency
(30, '1d')
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import workbench.data as wd
from workbench import examples
from workbench._paths import workbench_home
from workbench.errors import InvalidParameterError

if TYPE_CHECKING:  # pragma: no cover
    from workbench.backtesting import BacktestResult
    from workbench.store import DatasetRecord, Store

__all__ = [
    "DemoReport", "Headline", "run_demo", "register_bars", "import_samples", "demo_backtest",
    "headline", "dataset_table", "headline_table", "DEMO_DATASET", "DEMO_SETTINGS",
]

DEMO_DATASET = examples.DATASET
"""The sample the demo backtests (the README's and the explorer's: :mod:`workbench.examples`)."""

DEMO_SETTINGS: dict[str, Any] = examples.SETTINGS
"""The demo's engine settings: 10,000 cash, 0.2% commission, whole shares."""


@dataclass(frozen=True)
class Headline:
    """The headline figures of one backtest run.

    Attributes
    ----------
    run_id, strategy, dataset : str
        The stored run's id, the strategy with its parameters, the dataset name.
    total_return, cagr, sharpe_ratio, max_drawdown : float
        As in :class:`workbench.metrics.Stats` (fractions, not percent).
    n_trades : int
        Closed trades.
    final_equity : float
        Equity at the last bar.
    """

    run_id: str
    strategy: str
    dataset: str
    total_return: float
    cagr: float
    sharpe_ratio: float
    max_drawdown: float
    n_trades: int
    final_equity: float


@dataclass(frozen=True)
class DemoReport:
    """What :func:`run_demo` did.

    Attributes
    ----------
    datasets : tuple of DatasetRecord
        The registered sample datasets, in catalog order.
    backtest : Headline
        The demo backtest, saved to the store.
    store_url : str
        The store's URL (password masked).
    artifacts_dir, home : Path
        Where run artifacts are written, and ``$WORKBENCH_HOME``.
    seconds : float
        Wall time of the whole demo.
    """

    datasets: tuple[DatasetRecord, ...]
    backtest: Headline
    store_url: str
    artifacts_dir: Path
    home: Path
    seconds: float

    @property
    def run_ids(self) -> tuple[str, ...]:
        """Ids of the runs the demo saved."""
        return (self.backtest.run_id,)


def register_bars(store: Store, name: str, bars: pl.DataFrame, *, source: str) -> DatasetRecord:
    """Validate ``bars`` and register them in ``store`` as dataset ``name`` (an upsert by name).

    Records the content hash, symbols, row count, first/last timestamp and the inferred frequency
    with its bars per year.

    Parameters
    ----------
    store : Store
        An open store.
    name : str
        The dataset's name.
    bars : polars.DataFrame
        Canonical bars (see :func:`workbench.data.load`).
    source : str
        Where the bars came from (a path, ``"sample:GOOG"``...).

    Returns
    -------
    DatasetRecord

    Raises
    ------
    DataValidationError
        When ``bars`` break the bar contract.
    """
    bars = wd.validate(bars)
    freq = wd.infer_frequency(bars)
    symbols = bars["symbol"].unique(maintain_order=True).to_list() if "symbol" in bars.columns else [name]
    return store.register_dataset(
        name, source=source, content_hash=wd.content_hash(bars), symbols=symbols, rows=bars.height,
        start=bars["ts"].min(), end=bars["ts"].max(), frequency=freq.label,  # type: ignore[arg-type]
        periods_per_year=freq.periods_per_year,
    )


def import_samples(store: Store, *, console: Console | None = None) -> tuple[DatasetRecord, ...]:
    """Load, validate and register every sample dataset (:func:`workbench.data.samples`).

    Each is registered under its sample name with source ``"sample:<NAME>"``. A progress bar is
    shown on ``console`` when it is a terminal.

    Returns
    -------
    tuple of DatasetRecord
        One per sample, in catalog order.
    """
    console = console or Console()
    names = wd.samples()["name"].to_list()
    records = []
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Importing sample datasets", total=len(names))
        for name in names:
            progress.update(task, description=f"Importing {name}")
            records.append(register_bars(store, name, wd.sample(name), source=f"sample:{name}"))
            progress.advance(task)
    return tuple(records)


def demo_backtest(store: Store, *, console: Console | None = None) -> BacktestResult:
    """Backtest the moving-average crossover on GOOG and save the run to ``store``.

    ``SmaCross(fast=10, slow=20, direction="both")`` with :data:`DEMO_SETTINGS`: long after the
    fast SMA crosses above the slow one, short after it crosses below, all equity per trade.

    Returns
    -------
    BacktestResult
        The result; its ``run_id`` is the stored run's id.
    """
    console = console or Console()
    with _status(console, f"Backtesting {examples.strategy()!r} on {DEMO_DATASET} "
                          "(the first run compiles the engine)"):
        result = examples.run()
        result.save(store)
    return result


def headline(result: BacktestResult, *, dataset: str) -> Headline:
    """The :class:`Headline` of ``result``."""
    s = result.stats
    return Headline(
        run_id=result.run_id, strategy=repr(result.strategy), dataset=dataset,
        total_return=s.total_return, cagr=s.cagr, sharpe_ratio=s.sharpe_ratio,
        max_drawdown=s.max_drawdown, n_trades=s.n_trades, final_equity=result.final_equity,
    )


def run_demo(store: Store | None = None, console: Console | None = None) -> DemoReport:
    """Run the demo and print its progress and results on ``console``.

    Parameters
    ----------
    store : Store, optional
        Where datasets and runs go. Default: ``Store()`` (SQLite under ``$WORKBENCH_HOME``,
        or ``$WORKBENCH_DB_URL``), opened and closed here.
    console : rich.console.Console, optional
        Where to print. Default: standard output. ``Console(quiet=True)`` prints nothing.

    Returns
    -------
    DemoReport
    """
    from workbench.store import Store

    if store is not None and not isinstance(store, Store):
        raise InvalidParameterError(f"`store` must be a workbench.store.Store or None; got {type(store).__name__}.")
    console = console or Console()
    start = time.perf_counter()
    own = store is None
    store = store if store is not None else Store()
    try:
        console.rule("[bold]Quant Workbench demo")
        console.print("[bold]1. Data[/] — import, validate and register the sample datasets")
        records = import_samples(store, console=console)
        console.print(dataset_table(records, title=f"{len(records)} datasets registered"))
        console.print("[bold]2. Backtest[/] — moving-average crossover on GOOG, saved to the store")
        result = demo_backtest(store, console=console)
        head = headline(result, dataset=DEMO_DATASET)
        console.print(f"{head.strategy} on {head.dataset}", highlight=False, markup=False, soft_wrap=True)
        console.print(headline_table(head))
        report = DemoReport(records, head, store.url, store.artifacts_dir, workbench_home(),
                            time.perf_counter() - start)
        _print_where(report, console)
        return report
    finally:
        if own:
            store.close()


def _print_where(report: DemoReport, console: Console) -> None:
    console.print("[bold]3. Where things are")
    console.print(f"  home       {escape(str(report.home))}")
    console.print(f"  store      {escape(report.store_url)}")
    console.print(f"  artifacts  {escape(str(report.artifacts_dir))}")
    console.print("  next       [cyan]source .venv/bin/activate[/]   (puts `workbench` on PATH; or type .venv/bin/workbench)")
    console.print("             [cyan]workbench runs list[/]")
    console.print(f"             [cyan]workbench runs show {report.backtest.run_id[:8]}[/]")
    console.print("             [cyan]workbench data list[/]")
    console.print("             [cyan]jupyter lab notebooks/01_quickstart.ipynb[/]   (kernel: Python (Quant Workbench))")
    console.print("             [cyan]workbench dashboard[/]   (the dashboards in dashboards/, at http://127.0.0.1:5006)")
    console.print(f"Done in {report.seconds:.1f} s.")


@contextmanager
def _status(console: Console, text: str) -> Iterator[None]:
    """A spinner while a step runs (shown only on a terminal)."""
    if console.is_terminal:
        with console.status(text):
            yield
    else:
        yield


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2%}"


def _num(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def dataset_table(records: tuple[DatasetRecord, ...] | list[DatasetRecord], *, title: str | None = None) -> Table:
    """A table of registered datasets: name, symbols, rows, start, end, frequency, bars/year, hash."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col, justify in (("name", "left"), ("symbols", "left"), ("rows", "right"), ("start", "left"),
                         ("end", "left"), ("freq", "left"), ("bars/yr", "right"), ("hash", "left")):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in records:
        symbols = r.symbols[0] if len(r.symbols) == 1 else f"{len(r.symbols)}"
        table.add_row(r.name, symbols, f"{r.rows:,}", f"{r.start:%Y-%m-%d}", f"{r.end:%Y-%m-%d}",
                      r.frequency, f"{r.periods_per_year:g}", r.content_hash[:8])
    return table


def headline_table(head: Headline) -> Table:
    """A two-column table of a run's headline figures."""
    table = Table(show_header=False, box=box.SIMPLE, pad_edge=False, caption=f"run {head.run_id}",
                  caption_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, text in (("Total return", _pct(head.total_return)), ("CAGR", _pct(head.cagr)),
                        ("Sharpe ratio", _num(head.sharpe_ratio)), ("Max drawdown", _pct(head.max_drawdown)),
                        ("Trades", f"{head.n_trades:d}"), ("Final equity", f"{head.final_equity:,.2f}")):
        table.add_row(label, text)
    return table
