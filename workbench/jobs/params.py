"""A notebook's parameters and the grid of parameter sets a batch runs.

A notebook declares its parameters in the cell tagged ``parameters`` (papermill's convention):
one assignment per line, ``fast = 10``. Each parameter's type is inferred from its default
(``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``; ``None`` or an expression accept any
JSON value). Every value of every job is checked against that declaration before a batch starts.

>>> expand({"fast": [5, 10], "slow": 50})
[{'fast': 5, 'slow': 50}, {'fast': 10, 'slow': 50}]
>>> parse_cli_values("5,10,20")
['5', '10', '20']
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import InvalidParameterError, did_you_mean

__all__ = ["NotebookParam", "notebook_params", "expand", "read_grid", "parse_cli_values", "check_params",
           "MAX_JOBS"]

MAX_JOBS = 100_000
"""The most jobs one batch may hold."""

_TYPES = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}


@dataclass(frozen=True)
class NotebookParam:
    """One parameter of a notebook's ``parameters`` cell: name, type name, default (as written)."""

    name: str
    type: str
    default: str
    help: str = ""

    def check(self, value: Any, *, text: bool = False) -> Any:
        """``value`` as this parameter's type (``text=True``: parsed from command-line text)."""
        if text and isinstance(value, str):
            value = self._from_text(value)
        ok = {
            "bool": lambda v: isinstance(v, bool),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
            "list": lambda v: isinstance(v, (list, tuple)),
            "dict": lambda v: isinstance(v, dict),
        }.get(self.type, lambda v: True)
        if not ok(value):
            raise InvalidParameterError(
                f"parameter `{self.name}` must be {self.type} (its default is {self.default}); got {value!r}. "
                f"Fix: pass a value of that type."
            )
        return float(value) if self.type == "float" else (list(value) if self.type == "list" else value)

    def _from_text(self, text: str) -> Any:
        if self.type == "str":
            return text
        if self.type == "bool" and text.lower() in ("true", "false", "1", "0", "yes", "no"):
            return text.lower() in ("true", "1", "yes")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text if self.type == "any" else _Unparsed(text)
        return value


class _Unparsed(str):
    def __repr__(self) -> str:
        return repr(str(self))


def _infer_type(default: str) -> str:
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return "any"
    return _TYPES.get(type(value), "any")


def notebook_params(notebook: Any) -> dict[str, NotebookParam]:
    """The parameters declared by ``notebook`` (a path or an ``nbformat`` node), by name.

    Raises
    ------
    InvalidParameterError
        The path does not exist or is not a notebook, or no cell is tagged ``parameters``.
    """
    from workbench._extras import require

    require("batch")
    import nbformat
    from papermill.translators import PythonTranslator

    nb = notebook
    if not hasattr(notebook, "cells"):
        path = Path(notebook)
        if not path.is_file():
            raise InvalidParameterError(f"`notebook` {str(notebook)!r} does not exist. Fix: check the path.")
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # nbformat raises several unrelated types
            raise InvalidParameterError(f"`notebook` {str(notebook)!r} is not a readable .ipynb notebook: {exc}") from exc
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise InvalidParameterError(
            f"`notebook` {str(notebook)!r} has no cell tagged `parameters`. Fix: put the parameters "
            f"(`fast = 10`, one per line) in one code cell and give it the tag `parameters` "
            f"(JupyterLab: Property Inspector → Cell Tags)."
        )
    found = PythonTranslator.inspect(cells[0])
    return {p.name: NotebookParam(p.name, _infer_type(p.default), p.default, p.help) for p in found}


def check_params(declared: Mapping[str, NotebookParam], values: Mapping[str, Any], *, text: bool = False) -> dict[str, Any]:
    """``values`` checked against ``declared`` (names and types); the converted values."""
    out = {}
    for name, value in values.items():
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise InvalidParameterError(
                f"parameter `{name}` is not declared in the notebook's `parameters` cell (it declares: "
                f"{known}).{did_you_mean(str(name), declared)} Fix: add it to that cell or drop it."
            )
        out[name] = declared[name].check(value, text=text)
    return out


def parse_cli_values(text: str) -> list[str]:
    """The values of ``-p NAME VALUES``: comma-separated text, each value one job."""
    return [part.strip() for part in text.split(",")] if text.strip() else [text]


def expand(grid: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Parameter sets from a grid: a mapping of name → list of values (a scalar is one value)
    gives their cartesian product; a list of such mappings gives the union, in order.

    >>> expand([{"a": 1}, {"a": [2, 3], "b": "x"}])
    [{'a': 1}, {'a': 2, 'b': 'x'}, {'a': 3, 'b': 'x'}]
    >>> expand(None)
    [{}]
    """
    if grid is None:
        return [{}]
    if isinstance(grid, Mapping):
        names = list(grid)
        axes = [list(v) if isinstance(v, (list, tuple)) else [v] for v in grid.values()]
        for name, axis in zip(names, axes, strict=True):
            if not axis:
                raise InvalidParameterError(f"parameter `{name}` has an empty list of values; give at least one.")
        total = 1
        for axis in axes:
            total *= len(axis)
        if total > MAX_JOBS:
            raise InvalidParameterError(f"the grid expands to {total} jobs; at most {MAX_JOBS} per batch. Split it.")
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    if isinstance(grid, Sequence) and not isinstance(grid, str):
        sets: list[dict[str, Any]] = []
        for i, part in enumerate(grid):
            if not isinstance(part, Mapping):
                raise InvalidParameterError(f"`grid[{i}]` must be a mapping of parameter name to values; got {part!r}.")
            sets.extend(expand(part))
        return sets
    raise InvalidParameterError(f"`grid` must be a mapping of parameter name to values or a list of them; got {grid!r}.")


def read_grid(path: Path | str) -> Any:
    """The grid in a YAML file (a mapping name → values, or a list of such mappings)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"grid file {str(path)!r} does not exist. Fix: check the path.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidParameterError(f"grid file {str(path)!r} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, (dict, list)):
        raise InvalidParameterError(
            f"grid file {str(path)!r} must hold a mapping of parameter name to a list of values "
            f"(e.g. `fast: [5, 10, 20]`) or a list of such mappings; got {type(data).__name__}."
        )
    return data
