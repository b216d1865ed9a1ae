"""``workbench dashboard`` (the Panel app) and ``workbench voila`` (the notebook apps)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from workbench.errors import InvalidParameterError

__all__ = ["dashboard", "voila", "voila_command", "notebooks_dir"]

_ADDRESS = typer.Option("--address", help="Interface to bind; anything but the loopback needs a password/token.")


def dashboard(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free one).")] = 5006,
    address: Annotated[str, _ADDRESS] = "127.0.0.1",
    password: Annotated[str | None, typer.Option("--password", envvar="WORKBENCH_DASHBOARD_PASSWORD",
                                                 help="Basic-auth password (required off the loopback).")] = None,
    show: Annotated[bool, typer.Option("--show", help="Open the browser.")] = False,
) -> None:
    """Serve the dashboards: runs, optimization monitor, backtest explorer, portfolio.

    JavaScript and CSS come from the server itself (it works offline). Binds 127.0.0.1 unless
    --address says otherwise; then --password (or WORKBENCH_DASHBOARD_PASSWORD) is required.
    """
    from workbench._extras import require
    from workbench.ui.server import check_bind, check_port, serve_panel

    require("dashboards")
    from workbench.ui.pages import PAGES

    check_bind(address, password, flag="--password", env="WORKBENCH_DASHBOARD_PASSWORD")
    port = check_port(address, port)
    typer.echo(f"Serving {', '.join(PAGES)} at http://{address}:{port}/ (Ctrl+C stops)", err=True)
    serve_panel(PAGES, port=port, address=address, password=password, show=show)


def notebooks_dir() -> Path:
    """The directory of the Voila notebook apps (``dashboards/`` of the checkout)."""
    return Path(__file__).resolve().parents[2] / "dashboards"


def voila_command(notebook: Path, *, port: int, address: str, token: str | None) -> list[str]:
    """The ``voila`` command line serving ``notebook`` offline and bound as asked."""
    from workbench.ui.server import websocket_origins

    origins = "|".join(o.replace(".", r"\.") for o in websocket_origins(address, port))
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={address}",
            f"--ServerApp.token={token or ''}", f"--ServerApp.allow_origin_pat=https?://({origins})",
            "--VoilaConfiguration.file_allowlist=['.*\\.(png|jpg|gif|svg|js|css)']",
            "--VoilaConfiguration.extension_denylist=['@pyviz/jupyterlab_pyviz', '@bokeh/jupyter_bokeh']"]


def voila(
    notebook: Annotated[str, typer.Argument(help="A notebook of dashboards/ (backtest_explorer, strategy_comparison) or a path.")] = "backtest_explorer",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free one).")] = 8866,
    address: Annotated[str, _ADDRESS] = "127.0.0.1",
    token: Annotated[str | None, typer.Option("--token", envvar="WORKBENCH_VOILA_TOKEN",
                                              help="Access token (required off the loopback).")] = None,
) -> None:
    """Serve a notebook as an app with Voila (offline: plots carry their own JavaScript)."""
    from workbench._extras import require
    from workbench.ui.server import check_bind, check_port

    require("dashboards")
    check_bind(address, token, flag="--token", env="WORKBENCH_VOILA_TOKEN")
    path = Path(notebook)
    if not path.suffix:
        path = notebooks_dir() / f"{notebook}.ipynb"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))) or "none"
        raise InvalidParameterError(f"`notebook` {notebook!r} is not a notebook file or one of {known}.")
    port = check_port(address, port)
    typer.echo(f"Serving {path.name} at http://{address}:{port}/ (Ctrl+C stops)", err=True)
    raise typer.Exit(subprocess.call(voila_command(path, port=port, address=address, token=token), env=os.environ))
