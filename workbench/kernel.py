"""The Jupyter kernel of Quant Workbench: a kernelspec named ``workbench`` bound to this Python.

The kernelspec ships in the wheel as ``workbench/_kernelspec/kernel.json`` (the repository's
``kernels/workbench/``). :func:`install` copies it with ``argv[0]`` rewritten to the running
interpreter, so Jupyter, papermill and the notebooks in ``notebooks/`` run against the
environment that has ``workbench`` installed.

>>> spec = kernelspec()
>>> spec["display_name"], spec["argv"][0] == sys.executable
('Python (Quant Workbench)', True)
"""

from __future__ import annotations

import json
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import InvalidParameterError, WorkbenchError

__all__ = ["KERNEL_NAME", "DISPLAY_NAME", "kernelspec", "install", "source_dir"]

KERNEL_NAME = "workbench"
"""The kernel name notebooks and papermill refer to."""

DISPLAY_NAME = "Python (Quant Workbench)"
"""The name Jupyter shows in its kernel menu."""


def source_dir() -> Path:
    """The directory holding the packaged ``kernel.json``.

    The installed copy (``workbench/_kernelspec``) comes first, then the source checkout's
    ``kernels/workbench``.

    Raises
    ------
    WorkbenchError
        When neither holds a ``kernel.json``.
    """
    installed = resources.files("workbench") / "_kernelspec"
    if installed.is_dir() and (installed / "kernel.json").is_file():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parents[1] / "kernels" / KERNEL_NAME
    if (checkout / "kernel.json").is_file():
        return checkout
    raise WorkbenchError(
        f"the Jupyter kernelspec is missing: no kernel.json in {str(installed)!r} or {str(checkout)!r}. "
        "Fix: reinstall quant-workbench."
    )


def kernelspec() -> dict[str, Any]:
    """The kernelspec as a dict, with ``argv[0]`` set to the running interpreter.

    Returns
    -------
    dict
        ``argv``, ``display_name``, ``language`` and ``metadata``, as in ``kernel.json``.

    Examples
    --------
    >>> kernelspec()["argv"][1:]
    ['-m', 'ipykernel_launcher', '-f', '{connection_file}']
    """
    path = source_dir() / "kernel.json"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"cannot read the kernelspec {str(path)!r}: {exc}. Fix: reinstall quant-workbench.") from exc
    spec["argv"] = [sys.executable, *spec["argv"][1:]]
    spec.setdefault("display_name", DISPLAY_NAME)
    return spec


def install(*, user: bool = False, prefix: str | Path | None = None) -> Path:
    """Install the ``workbench`` kernelspec, bound to the running interpreter. Idempotent.

    Parameters
    ----------
    user : bool
        Install into the user's Jupyter directory (``jupyter --data-dir``/kernels).
    prefix : path, optional
        Install under ``PREFIX/share/jupyter/kernels/workbench``. Default (neither ``user`` nor
        ``prefix``): ``sys.prefix``, where the environment's own Jupyter and papermill look.

    Returns
    -------
    Path
        The directory the kernelspec was written to; it is replaced on each call.

    Raises
    ------
    InvalidParameterError
        When both ``user`` and ``prefix`` are given.
    WorkbenchError
        When the kernelspec cannot be read or written.

    Examples
    --------
    >>> import json, shutil, tempfile
    >>> prefix = tempfile.mkdtemp()
    >>> where = install(prefix=prefix)
    >>> json.loads((where / "kernel.json").read_text())["argv"][0] == sys.executable
    True
    >>> shutil.rmtree(prefix)
    """
    if user and prefix is not None:
        raise InvalidParameterError(
            f"give either `user=True` or `prefix`, not both; got user=True, prefix={str(prefix)!r}."
        )
    if prefix is not None and not isinstance(prefix, (str, Path)):
        raise InvalidParameterError(f"`prefix` must be a directory path or None; got {prefix!r}.")
    from workbench._extras import require

    require("notebooks", "ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager

    target_prefix = None if user else str(Path(prefix if prefix is not None else sys.prefix).expanduser())
    spec = kernelspec()
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / KERNEL_NAME
        staged.mkdir()
        for item in source_dir().iterdir():
            if item.is_file() and item.name != "kernel.json":
                (staged / item.name).write_bytes(item.read_bytes())
        (staged / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        try:
            where = KernelSpecManager().install_kernel_spec(
                str(staged), kernel_name=KERNEL_NAME, user=user, prefix=target_prefix
            )
        except OSError as exc:
            raise WorkbenchError(
                f"cannot install the kernelspec: {exc}. Fix: pass --user, or --prefix a writable directory."
            ) from exc
    return Path(where)
