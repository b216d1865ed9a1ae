"""The ``workbench`` command line (Typer): ``demo``, ``data``, ``backtest``, ``runs``, ``db``, ``kernel``.

Every command calls the public API; a user error (any :class:`~workbench.errors.WorkbenchError`,
a missing file) prints ``error: <message>`` on one line of standard error and exits with code 1
(2 for usage errors); the global ``--debug`` option also prints the traceback.

>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["backtest", "SmaCross", "--data", "GOOG", "--param", "fast=1"])
>>> result.exit_code, result.stderr
(1, 'error: `fast` must be an integer in [2, 200]; got 1.\\n')
"""

from workbench.cli._app import app, main

__all__ = ["app", "main"]
