"""Search spaces from Param declarations: overrides, bounds, constraints, sampling.

Oracles: ``itertools.product`` filtered by ``Strategy.check_constraints`` (Python ``eval`` of each
constraint, the strategy's own rule) for grids, and Python ``eval`` row by row for compiled
constraint expressions.
"""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InvalidParameterError, OptimizationError
from workbench.optimize.space import constraint_expr, search_space
from workbench.strategies import (
    DonchianBreakout,
    EmaCross,
    Param,
    RsiMeanReversion,
    SmaCross,
    Strategy,
)


def _reference_grid(cls, values: dict[str, list]) -> list[tuple]:
    names = list(values)
    out = []
    for combo in itertools.product(*values.values()):
        row = dict(zip(names, combo, strict=False))
        try:
            cls.check_constraints(row)
        except InvalidParameterError:
            continue
        out.append(combo)
    return out


def test_grid_equals_product_filtered_by_the_strategy_constraints():
    space = search_space(SmaCross, fast=range(2, 30), slow=range(3, 40, 3), direction=["long", "both"])
    ref = _reference_grid(SmaCross, {"fast": list(range(2, 30)), "slow": list(range(3, 40, 3)),
                                     "direction": ["long", "both"]})
    assert space.grid().rows() == ref


def test_declared_bounds_and_step_are_the_default_range():
    space = search_space(RsiMeanReversion, window=14, direction="long")
    lower = dict(zip(space.names, space.dims, strict=False))["lower"].values
    assert lower == tuple(float(v) for v in range(1, 51))
    grid = space.grid()
    assert grid.height == len(_reference_grid(RsiMeanReversion, {
        "window": [14], "lower": list(lower), "upper": [float(v) for v in range(50, 100)], "direction": ["long"]}))
    assert (grid["lower"] < grid["upper"]).all()


def test_interval_tuple_and_explicit_step():
    space = search_space(SmaCross, fast=(5, 20, 5), slow=(30, 31), direction="long")
    assert space.grid().rows() == [(f, s, "long") for f in (5, 10, 15, 20) for s in (30, 31)]


def test_an_instance_fixes_the_parameters_not_given_a_range():
    space = search_space(EmaCross(fast=8, slow=40, direction="short"), slow=[30, 40, 50])
    assert space.grid().rows() == [(8, 30, "short"), (8, 40, "short"), (8, 50, "short")]


def test_extra_constraint_is_added_to_the_strategy_constraints():
    space = search_space(SmaCross, fast=range(2, 20), slow=range(3, 60), direction="long",
                         constraint="slow >= 3 * fast")
    g = space.grid()
    assert (g["slow"] >= 3 * g["fast"]).all() and (g["fast"] < g["slow"]).all()
    assert g.height == sum(1 for f in range(2, 20) for s in range(3, 60) if s >= 3 * f)


def test_range_outside_the_declared_bounds_is_refused():
    with pytest.raises(InvalidParameterError, match=r"range given for `fast` must lie inside the declaration of SmaCross.fast \(int in \[2, 200\]\)"):
        search_space(SmaCross, fast=range(1, 10))
    with pytest.raises(InvalidParameterError, match=r"`slow` range \[3, 500\] lies outside the declared bounds"):
        search_space(SmaCross, slow=(3, 500))
    with pytest.raises(InvalidParameterError, match=r"must be one of 'long', 'short', 'both'; got 'up'"):
        search_space(SmaCross, direction="up")


def test_unknown_parameter_gets_did_you_mean():
    with pytest.raises(InvalidParameterError, match=r"SmaCross has no parameter 'fsat'. Did you mean 'fast'\?"):
        search_space(SmaCross, fsat=range(2, 5))


def test_empty_range_and_unsatisfiable_constraint():
    with pytest.raises(OptimizationError, match="range given for `fast` is empty"):
        search_space(SmaCross, fast=[])
    space = search_space(SmaCross, fast=range(50, 60), slow=range(10, 20), direction="long")
    with pytest.raises(OptimizationError, match=r"no parameter set satisfies the constraints \['fast < slow'\]"):
        space.grid()
    with pytest.raises(OptimizationError, match="no parameter set satisfies"):
        space.sample(10, seed=1)


def test_constraint_with_unknown_name_or_syntax_is_refused():
    with pytest.raises(InvalidParameterError, match=r"uses 'slwo', which is not a parameter. Did you mean 'slow'\?"):
        search_space(SmaCross, constraint="fast * 2 < slwo")
    with pytest.raises(InvalidParameterError, match="is not a valid expression"):
        search_space(SmaCross, constraint="fast <")
    with pytest.raises(InvalidParameterError, match="construct a search cannot evaluate"):
        search_space(SmaCross, constraint="fast in [1, 2]")


def test_a_strategy_without_parameters_has_nothing_to_search():
    class Empty(Strategy):
        def signals(self, bars):  # pragma: no cover - never run
            raise AssertionError

    with pytest.raises(OptimizationError, match="declares no parameters"):
        search_space(Empty)


def test_continuous_dimension_samples_but_does_not_grid():
    class Band(Strategy):
        k = Param(2.0, low=0.5, high=4.0, type="float")
        window = Param(20, low=5, high=50)

        def signals(self, bars):  # pragma: no cover
            raise AssertionError

    space = search_space(Band)
    with pytest.raises(OptimizationError, match="`k` is a continuous range"):
        space.grid()
    sample = space.sample(200, seed=3)
    assert sample.height == 200 and sample.n_unique() == 200
    assert sample["k"].min() >= 0.5 and sample["k"].max() <= 4.0
    assert sample["window"].is_in(list(range(5, 51))).all()


def test_sample_is_distinct_feasible_and_deterministic():
    space = search_space(DonchianBreakout, entry_window=(2, 300), exit_window=(2, 300))
    a = space.sample(300, seed=11)
    b = space.sample(300, seed=11)
    assert a.equals(b) and a.n_unique() == 300
    assert (a["exit_window"] <= a["entry_window"]).all()
    assert not a.equals(space.sample(300, seed=12))


def test_sample_larger_than_the_grid_returns_the_grid():
    space = search_space(SmaCross, fast=[5, 10], slow=[20, 30], direction="long")
    assert space.sample(50, seed=0).sort("fast", "slow").equals(space.grid())


_EXPRESSIONS = [
    "a < b", "a <= b < c", "a < b and not c > 7", "a * 2 - 1 >= b or c == 3", "abs(a - b) > 2",
    "min(a, b) + max(b, c) < 12", "a % 3 != 0", "a / 2 <= b // 2", "-a < c - b",
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-10, 10), st.integers(-10, 10), st.integers(1, 10)), min_size=1, max_size=30))
def test_compiled_constraints_equal_python_eval(rows):
    frame = pl.DataFrame(rows, schema=["a", "b", "c"], orient="row")
    for expr in _EXPRESSIONS:
        got = frame.select(constraint_expr([expr], ["a", "b", "c"]).alias("ok"))["ok"].to_list()
        want = [bool(eval(expr, {"__builtins__": {}, "abs": abs, "min": min, "max": max},  # noqa: S307
                          dict(zip("abc", r, strict=False)))) for r in rows]
        assert got == want, expr


def test_describe_is_json_ready_and_names_the_strategy():
    import json

    d = search_space(SmaCross, fast=[5, 6], slow=(10, 12), direction="long").describe()
    assert d["strategy"] == "workbench.strategies.builtin.SmaCross"
    assert d["dims"] == {"fast": [5, 6], "slow": [10, 11, 12], "direction": ["long"]}
    json.dumps(d)
    assert search_space(SmaCross).size == 199 * 398 * 3
