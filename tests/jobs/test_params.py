"""Parameters of a notebook (its `parameters` cell) and the grid of a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import InvalidParameterError
from workbench.jobs import expand, notebook_params, prepare
from workbench.jobs.params import read_grid

from .conftest import write_notebook


def test_types_are_inferred_from_the_defaults(tmp_path: Path):
    nb = write_notebook(tmp_path / "n.ipynb", params="fast = 10  # fast window\nrate = 0.5\nname = 'GOOG'\n"
                        "flag = True\nsyms = ['A', 'B']\nextra = None\n")
    declared = notebook_params(nb)
    assert {k: p.type for k, p in declared.items()} == {
        "fast": "int", "rate": "float", "name": "str", "flag": "bool", "syms": "list", "extra": "any"}
    assert declared["fast"].help == "fast window"


def test_cli_text_is_parsed_as_the_declared_type_and_the_product_is_taken(notebook: Path):
    path, sets = prepare(notebook, params={"x": ["5", "10"], "label": ["a,b"], "fail": ["false"]})
    assert path == notebook.resolve()
    assert sets == [{"x": 5, "label": "a,b", "fail": False}, {"x": 10, "label": "a,b", "fail": False}]


def test_python_grid_and_yaml_grid_combine(notebook: Path, tmp_path: Path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("x: [1, 2, 3]\nsleep: 0.5\n")
    _, sets = prepare(notebook, {"label": ["p", "q"]}, grid_file=grid)
    assert len(sets) == 6
    assert sets[0] == {"x": 1, "sleep": 0.5, "label": "p"} and sets[-1] == {"x": 3, "sleep": 0.5, "label": "q"}
    assert expand([{"x": 1}, {"x": [2, 3]}]) == [{"x": 1}, {"x": 2}, {"x": 3}]


def test_floats_accept_integers(notebook: Path):
    _, sets = prepare(notebook, {"sleep": [0, 1]})
    assert sets == [{"sleep": 0.0}, {"sleep": 1.0}]
    assert all(isinstance(s["sleep"], float) for s in sets)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"grid": {"y": [1]}}, r"parameter `y` is not declared .* \(it declares: x, label"),
    ({"grid": {"lable": ["a"]}}, "Did you mean 'label'"),
    ({"grid": {"x": ["five"]}}, r"parameter `x` must be int \(its default is 1\); got 'five'"),
    ({"grid": {"x": [True]}}, "parameter `x` must be int"),
    ({"params": {"x": ["1.5"]}}, r"parameter `x` must be int .* got 1.5"),
    ({"grid": {"x": []}}, "empty list of values"),
])
def test_bad_parameters_are_named(notebook: Path, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        prepare(notebook, **kwargs)


def test_a_grid_file_that_does_not_parse_is_named(tmp_path: Path, notebook: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("x: [1, 2\nlabel: a\n")
    with pytest.raises(InvalidParameterError, match=r"grid file .*bad.yaml' is not valid YAML"):
        read_grid(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(InvalidParameterError, match="must hold a mapping"):
        prepare(notebook, grid_file=scalar)


def test_a_notebook_without_parameters_cell_or_missing_is_refused(tmp_path: Path):
    nb = write_notebook(tmp_path / "plain.ipynb", params=None)
    with pytest.raises(InvalidParameterError, match="has no cell tagged `parameters`"):
        notebook_params(nb)
    with pytest.raises(InvalidParameterError, match="does not exist"):
        notebook_params(tmp_path / "nope.ipynb")
