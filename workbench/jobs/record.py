"""``workbench.record(name, value)``: a notebook hands a result back to the batch that runs it.

Inside a batch job the runner sets ``WORKBENCH_JOB_RECORD`` in the kernel's environment to a file
in the job's working directory; each call appends one JSON line there, and the runner stores the
values with the job when the notebook finishes. Outside a batch (JupyterLab, a plain papermill
run) ``record`` only returns ``value``, so a notebook runs the same everywhere.

What can be recorded:

- numbers, strings, booleans, ``None``, and JSON data (dicts and lists of those; numpy scalars and
  arrays are converted);
- a small polars or pandas frame: written as ``recorded/<name>.parquet`` in the job's directory;
- a figure (anything with ``savefig``, such as matplotlib, or ``write_html``, such as plotly, or
  an HTML representation, such as hvplot/bokeh): written as ``recorded/<name>.png|.html``.

Frames and figures are recorded as ``{"kind": "frame"|"figure", "path": ...}``.

>>> import workbench as wb
>>> wb.record("sharpe", 1.25)
1.25
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from workbench.errors import InvalidParameterError

__all__ = ["record", "RECORD_ENV", "MAX_FRAME_ROWS", "read_records"]

RECORD_ENV = "WORKBENCH_JOB_RECORD"
"""The environment variable holding the file that :func:`record` appends to inside a job."""

MAX_FRAME_ROWS = 100_000
"""The most rows a recorded frame may have (record summaries; save big tables as runs)."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
_RESERVED = {"number", "state", "attempts", "duration_s", "worker", "error", "output_path", "html_path"}


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            f"`name` must be an identifier-like string (letters, digits, '_', '.', '-'; at most 100 "
            f"characters); got {name!r}. Use e.g. record('sharpe', value)."
        )
    if name in _RESERVED:
        raise InvalidParameterError(
            f"`name` {name!r} is a column of every batch's results; record it under another name, "
            f"e.g. {name + '_value'!r}."
        )
    return name


def _frame_entry(name: str, value: Any, folder: Path) -> dict[str, Any] | None:
    import polars as pl

    if type(value).__module__.startswith("pandas") and hasattr(value, "to_parquet"):
        value = pl.from_pandas(value.reset_index() if value.index.name else value)
    if not isinstance(value, pl.DataFrame):
        return None
    if value.height > MAX_FRAME_ROWS:
        raise InvalidParameterError(
            f"recorded frame `{name}` has {value.height} rows; at most {MAX_FRAME_ROWS} can be "
            f"recorded. Record a summary, or save the full result with result.save()."
        )
    path = folder / f"{name}.parquet"
    value.write_parquet(path)
    return {"kind": "frame", "path": str(path), "rows": value.height, "columns": value.columns}


def _figure_entry(name: str, value: Any, folder: Path) -> dict[str, Any] | None:
    if hasattr(value, "savefig"):
        path = folder / f"{name}.png"
        value.savefig(path)
    elif hasattr(value, "write_html"):
        path = folder / f"{name}.html"
        value.write_html(str(path), include_plotlyjs=True)
    elif hasattr(value, "_repr_html_") and not isinstance(value, (dict, list, str)):
        path = folder / f"{name}.html"
        path.write_text(str(value._repr_html_()), encoding="utf-8")
    else:
        return None
    return {"kind": "figure", "path": str(path)}


def _entry(name: str, value: Any, folder: Path) -> Any:
    from workbench.store._codec import to_json_value

    try:
        return to_json_value(value, name=name)
    except InvalidParameterError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    entry = _frame_entry(name, value, folder) or _figure_entry(name, value, folder)
    if entry is None:
        raise InvalidParameterError(
            f"`value` of {name!r} cannot be recorded: got {type(value).__name__}. Record a number, "
            f"a string, JSON data, a polars/pandas frame or a figure."
        )
    return entry


def record(name: str, value: Any) -> Any:
    """Record ``value`` under ``name`` with the batch job running this notebook; return ``value``.

    Outside a batch job this does nothing but check ``name`` and return ``value``.

    Parameters
    ----------
    name : str
        The column the value gets in the batch's results (letters, digits, ``_``, ``.``, ``-``).
    value : Any
        A number, string, bool, ``None``, JSON data, a small frame, or a figure. Recording the
        same name twice keeps the last value.

    Returns
    -------
    Any
        ``value`` itself, so ``sharpe = wb.record("sharpe", result.stats.sharpe_ratio)`` reads well.

    Raises
    ------
    InvalidParameterError
        ``name`` is not identifier-like, or (inside a job) ``value`` cannot be recorded.

    Examples
    --------
    >>> record("trades", 12)
    12
    >>> record("bad name", 1)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `name` must be an identifier-like string ...
    """
    _check_name(name)
    target = os.environ.get(RECORD_ENV)
    if not target:
        return value
    path = Path(target)
    line = json.dumps({"name": name, "value": _entry(name, value, path.parent / "recorded")},
                      allow_nan=False, ensure_ascii=False)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return value


def read_records(path: Path | str) -> dict[str, Any]:
    """The values :func:`record` wrote to ``path`` (the last one per name); ``{}`` if none.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "record.jsonl"
    >>> _ = p.write_text('{"name": "a", "value": 1}\\n{"name": "a", "value": 2}\\n')
    >>> read_records(p)
    {'a': 2}
    """
    path = Path(path)
    if not path.is_file():
        return {}
    values: dict[str, Any] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            values[item["name"]] = item["value"]
    return values
