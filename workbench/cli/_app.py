"""The root of the ``workbench`` command: global options, error handling, and the small commands."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from workbench.cli._output import one_line, stdout
from workbench.errors import WorkbenchError

__all__ = ["app", "main", "WorkbenchGroup", "error_message"]

_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def error_message(exc: BaseException) -> str:
    """The one-line text shown for a user error.

    >>> from workbench.errors import InvalidParameterError
    >>> error_message(InvalidParameterError("`fees` must be a float in [0, 0.1); got -0.01."))
    '`fees` must be a float in [0, 0.1); got -0.01.'
    >>> error_message(FileNotFoundError(2, "No such file or directory", "bars.csv"))
    "file 'bars.csv' does not exist. Fix: check the path."
    """
    if isinstance(exc, FileNotFoundError) and exc.filename is not None:
        return f"file {str(exc.filename)!r} does not exist. Fix: check the path."
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or type(exc).__name__}: {str(exc.filename)!r}."
    return one_line(str(exc)) or type(exc).__name__


class WorkbenchGroup(TyperGroup):
    """The root command group: a :class:`~workbench.errors.WorkbenchError` or a missing file
    becomes ``error: <message>`` on one line of standard error and exit code 1; with ``--debug``
    the traceback is printed first. Usage errors keep Typer's exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (WorkbenchError, *_FILE_ERRORS) as exc:
            _fail(exc, debug=bool(ctx.params.get("debug")))
        except KeyboardInterrupt:
            typer.echo("error: interrupted.", err=True)
            raise typer.Exit(130) from None


def _fail(exc: BaseException, *, debug: bool) -> NoReturn:
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    typer.echo(f"error: {error_message(exc)}", err=True)
    raise typer.Exit(1)


app = typer.Typer(
    cls=WorkbenchGroup,
    name="workbench",
    help="Quant Workbench: data, strategies, backtests and a store of every run.\n\n"
         "Start with `workbench demo`; every command has --help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from workbench import __version__

        typer.echo(f"workbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", envvar="WORKBENCH_DEBUG",
                                        help="Show the full traceback of errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Quant Workbench: data, strategies, backtests and a store of every run."""


@app.command("demo")
def demo(
    batch: Annotated[bool, typer.Option("--batch/--no-batch",
                                        help="Also run the research batch (notebooks/03_strategy.ipynb over "
                                             "datasets and windows, as jobs on a local Dask cluster).")] = True,
) -> None:
    """Import and register the sample datasets, run a backtest, save it: the research loop, offline.

    Everything goes to the store under WORKBENCH_HOME (default ~/.workbench). Running it again
    updates the same datasets and run; the research batch runs again as a new batch.
    """
    from workbench.demo import run_demo

    out = stdout()
    run_demo(console=out)
    if batch:
        from workbench.jobs.demo import research_batch

        out.print("[bold]4. Research batch[/] — a strategy notebook over datasets and windows, via papermill on Dask")
        research_batch(out)


kernel_app = typer.Typer(help="The Jupyter kernel of this environment.", no_args_is_help=True)


@kernel_app.command("install")
def kernel_install(
    user: Annotated[bool, typer.Option("--user", help="Install for the current user (jupyter --data-dir).")] = False,
    prefix: Annotated[Path | None, typer.Option("--prefix", metavar="DIR",
                                                help="Install under DIR/share/jupyter/kernels "
                                                     "(default: this environment, sys.prefix).")] = None,
) -> None:
    """Install the `workbench` kernelspec, bound to this Python, for Jupyter and papermill. Idempotent."""
    from workbench.kernel import DISPLAY_NAME, KERNEL_NAME, install

    if user and prefix is not None:
        raise typer.BadParameter("give --user or --prefix, not both.", param_hint="'--user' / '--prefix'")
    where = install(user=user, prefix=prefix)
    from jupyter_client.kernelspec import KernelSpecManager

    out = stdout()
    out.print(f"Installed kernel {KERNEL_NAME!r} ({DISPLAY_NAME}) in {where}", markup=False, soft_wrap=True)
    out.print(f"  python  {sys.executable}", markup=False, soft_wrap=True)
    searched = {str(Path(d).resolve()) for d in KernelSpecManager().kernel_dirs}
    if str(where.parent.resolve()) not in searched:
        out.print(f"  note    Jupyter here does not search {where.parent}; set JUPYTER_PATH={where.parents[1]} "
                  "to use it.", markup=False, soft_wrap=True)


def _register_subcommands() -> None:
    from workbench.cli import backtest, batch, data, doctor, report, runs

    app.add_typer(data.app, name="data")
    app.add_typer(backtest.app, name="backtest")
    app.add_typer(runs.app, name="runs")
    report.register(runs.app)
    app.add_typer(runs.db_app, name="db")
    app.add_typer(kernel_app, name="kernel")
    app.add_typer(batch.app, name="batch")
    app.command("doctor")(doctor.doctor)
    from workbench.cli import models

    app.add_typer(models.app, name="models")
    from workbench.cli import dashboard

    app.command("dashboard")(dashboard.dashboard)
    app.command("voila")(dashboard.voila)


_register_subcommands()


def main(argv: list[str] | None = None) -> Any:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``), as the console script does."""
    return app(args=argv, prog_name="workbench")
