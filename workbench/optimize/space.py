"""Search spaces built from a strategy's parameter declaration.

A strategy declares each parameter once (:class:`~workbench.strategies.Param`); a search narrows
some of them with ranges (``fast=range(2, 101)``, ``(2, 100, 1)``, ``[5, 10, 20]``), fixes others
(``direction="long"``), and keeps the rest at their declared bounds and step. Every range must lie
inside the declaration. Constraints (the strategy's own, e.g. ``"fast < slow"``, plus any given to
the search) are compiled once into a polars expression and evaluated over a whole grid at once.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from workbench.errors import InvalidParameterError, OptimizationError, did_you_mean
from workbench.strategies.base import Strategy
from workbench.strategies.params import Param

__all__ = ["Dimension", "SearchSpace", "search_space", "constraint_expr", "rows_satisfying", "check_rows"]

_MAX_GRID = 50_000_000


@dataclass(frozen=True)
class Dimension:
    """One searched parameter: its name, declaration and the values a grid takes.

    ``values`` is ``None`` for a continuous float range (no step), which only random search and
    Optuna can sample; ``low``/``high`` are then its bounds.
    """

    name: str
    param: Param
    values: tuple[Any, ...] | None
    low: float | None = None
    high: float | None = None

    @property
    def fixed(self) -> bool:
        return self.values is not None and len(self.values) == 1

    @property
    def dtype(self) -> pl.DataType:
        return {"int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(), "str": pl.String()}[self.param.type]


@dataclass(frozen=True)
class SearchSpace:
    """The parameter space of one search over ``strategy``.

    Examples
    --------
    >>> from workbench.strategies import SmaCross
    >>> space = search_space(SmaCross, fast=range(2, 5), slow=(3, 5), direction="long")
    >>> space.size, space.names
    (9, ('fast', 'slow', 'direction'))
    >>> space.grid().rows()
    [(2, 3, 'long'), (2, 4, 'long'), (2, 5, 'long'), (3, 4, 'long'), (3, 5, 'long'), (4, 5, 'long')]
    """

    strategy: type[Strategy]
    dims: tuple[Dimension, ...]
    constraints: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dims)

    @property
    def size(self) -> int:
        """Number of points of the full grid before constraints (inf when a dimension is continuous)."""
        total = 1
        for d in self.dims:
            if d.values is None:
                return math.inf  # type: ignore[return-value]
            total *= len(d.values)
        return total

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (part of an optimization's spec)."""
        return {
            "strategy": f"{_origin(self.strategy)}.{self.strategy.__qualname__}",
            "version": self.strategy.version,
            "code": _code_hash(self.strategy),
            "dims": {d.name: (list(d.values) if d.values is not None else {"low": d.low, "high": d.high})
                     for d in self.dims},
            "constraints": list(self.constraints),
        }

    def schema(self) -> dict[str, pl.DataType]:
        return {d.name: d.dtype for d in self.dims}

    def filter(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The rows of ``frame`` that satisfy every constraint."""
        if not self.constraints:
            return frame
        mask = np.ones(frame.height, dtype=bool)
        for values in check_rows(self.constraints, frame, self.names):
            mask &= np.asarray(values, dtype=bool)
        return frame.filter(pl.Series(mask))

    def grid(self) -> pl.DataFrame:
        """Every point of the grid that satisfies the constraints, one row per parameter set.

        Raises
        ------
        OptimizationError
            A continuous dimension, a grid too large to list, or no point satisfying the
            constraints.
        """
        continuous = [d.name for d in self.dims if d.values is None]
        if continuous:
            raise OptimizationError(
                f"`{continuous[0]}` is a continuous range (a float parameter without a step); a grid "
                "needs values. Give it a step, e.g. (low, high, step), or use random() / study()."
            )
        if self.size > _MAX_GRID:
            raise OptimizationError(
                f"the grid has {self.size:,} points (more than {_MAX_GRID:,}); narrow the ranges, or "
                "use random(..., n_sets=...) or study()."
            )
        frame = pl.DataFrame(schema=self.schema())
        for i, d in enumerate(self.dims):
            col = pl.DataFrame({d.name: pl.Series(d.name, list(d.values), dtype=d.dtype)})  # type: ignore[arg-type]
            frame = col if i == 0 else frame.join(col, how="cross")
        out = self.filter(frame)
        self._check_nonempty(out)
        return out

    def sample(self, n: int, *, seed: int | None = None) -> pl.DataFrame:
        """``n`` distinct random parameter sets satisfying the constraints (fewer only when the
        whole constrained grid is smaller than ``n``).

        Discrete dimensions draw uniformly from their values, continuous ones uniformly (or
        log-uniformly when declared ``log``) between their bounds.
        """
        rng = np.random.default_rng(seed)
        if self.size <= 4 * n:
            full = self.grid()
            if full.height <= n:
                return full
            pick = np.sort(rng.choice(full.height, size=n, replace=False))
            return full[pick]
        got = pl.DataFrame(schema=self.schema())
        for _ in range(50):
            draw = max(64, 2 * (n - got.height))
            cols = {d.name: pl.Series(d.name, self._draw(d, rng, draw), dtype=d.dtype) for d in self.dims}
            got = pl.concat([got, self.filter(pl.DataFrame(cols))]).unique(maintain_order=True)
            if got.height >= n:
                return got.head(n)
        self._check_nonempty(got)
        return got

    @staticmethod
    def _draw(d: Dimension, rng: np.random.Generator, size: int) -> list[Any]:
        if d.values is not None:
            idx = rng.integers(0, len(d.values), size=size)
            return [d.values[i] for i in idx]
        lo, hi = float(d.low), float(d.high)  # type: ignore[arg-type]
        if d.param.log and lo > 0:
            return np.exp(rng.uniform(math.log(lo), math.log(hi), size=size)).tolist()
        return rng.uniform(lo, hi, size=size).tolist()

    def _check_nonempty(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            shown = "; ".join(f"{d.name}: {_show(d)}" for d in self.dims)
            raise OptimizationError(
                f"no parameter set satisfies the constraints {list(self.constraints)} of "
                f"{self.strategy.__name__} over {shown}. Widen the ranges or relax the constraint."
            )


def _code_hash(cls: type[Strategy]) -> str:
    from workbench.strategies._code import code_of

    return code_of(cls).hash


def _origin(cls: type[Strategy]) -> str:
    from workbench.strategies._code import origin_of

    return origin_of(cls)


def _show(d: Dimension) -> str:
    if d.values is None:
        return f"[{d.low:g}, {d.high:g}]"
    vals = list(d.values)
    return repr(vals) if len(vals) <= 6 else f"{vals[0]!r}..{vals[-1]!r} ({len(vals)} values)"


def search_space(
    strategy: type[Strategy] | Strategy,
    *,
    constraint: str | Sequence[str] | None = None,
    **ranges: Any,
) -> SearchSpace:
    """The search space of ``strategy``: its declared parameters, narrowed by ``ranges``.

    Parameters
    ----------
    strategy
        A Strategy class (every declared parameter is searched unless fixed), or an instance
        (its values fix every parameter not given a range).
    constraint
        Extra boolean expressions over parameter names (``"slow >= 2 * fast"``), added to the
        strategy's own ``constraints``.
    **ranges
        Per parameter: a ``range``, a list/tuple of values, a ``(low, high)`` or
        ``(low, high, step)`` triple written as a tuple of 2 or 3 numbers, or a single value to
        fix it. Numeric values must lie inside the declared bounds.

    Raises
    ------
    InvalidParameterError
        An unknown parameter (with a "did you mean"), a range outside the declared bounds, or a
        malformed range.
    OptimizationError
        An empty range, or nothing left to search.
    """
    cls, preset = _strategy_class(strategy)
    declared = cls.param_space()
    for name in ranges:
        if name not in declared:
            raise InvalidParameterError(
                f"{cls.__name__} has no parameter {name!r}.{did_you_mean(name, declared)} "
                f"Parameters: {', '.join(declared) or '(none)'}."
            )
    if not declared:
        raise OptimizationError(f"{cls.__name__} declares no parameters: there is nothing to search.")
    dims = []
    for name, param in declared.items():
        if name in ranges:
            dims.append(_dimension(cls, name, param, ranges[name]))
        elif preset is not None:
            dims.append(Dimension(name, param, (preset[name],)))
        else:
            dims.append(_declared_dimension(cls, name, param))
    extra = (constraint,) if isinstance(constraint, str) else tuple(constraint or ())
    for expr in extra:
        if not isinstance(expr, str) or not expr.strip():
            raise InvalidParameterError(f"`constraint` must be a boolean expression string such as 'fast < slow'; got {expr!r}.")
    constraints = tuple(dict.fromkeys((*cls.constraints, *extra)))
    for expr in constraints:
        constraint_expr((expr,), [d.name for d in dims])  # fail early on unknown names / syntax
    return SearchSpace(cls, tuple(dims), constraints)


def _strategy_class(strategy: Any) -> tuple[type[Strategy], dict[str, Any] | None]:
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy, None
    if isinstance(strategy, Strategy):
        return type(strategy), strategy.get_params()
    raise InvalidParameterError(
        f"`strategy` must be a Strategy class such as SmaCross (or an instance); got {strategy!r}."
    )


def _declared_dimension(cls: type[Strategy], name: str, param: Param) -> Dimension:
    if param.choices is not None or param.type == "bool":
        return Dimension(name, param, tuple(param.grid()))
    if param.type == "str":
        return Dimension(name, param, (param.default,))
    if param.low is None or param.high is None:
        raise OptimizationError(
            f"{cls.__name__}.{name} declares no bounds (low={param.low}, high={param.high}); pass a "
            f"range for it, e.g. {name}=(low, high, step), or fix it with {name}=value."
        )
    if param.type == "float" and param.step is None:
        return Dimension(name, param, None, float(param.low), float(param.high))
    return Dimension(name, param, tuple(param.grid()))


def _dimension(cls: type[Strategy], name: str, param: Param, spec: Any) -> Dimension:
    where = f"{cls.__name__}.{name}"
    if isinstance(spec, range):
        values: list[Any] = list(spec)
    elif isinstance(spec, tuple) and len(spec) in (2, 3) and param.choices is None and param.type in ("int", "float") \
            and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in spec):
        return _interval(where, name, param, spec)
    elif isinstance(spec, (list, tuple, np.ndarray, pl.Series)):
        values = list(spec)
    elif isinstance(spec, (str, bytes)) or not isinstance(spec, Iterable):
        values = [spec]
    else:
        values = list(spec)
    if not values:
        raise OptimizationError(f"the range given for `{name}` is empty; give at least one value.")
    checked = []
    for v in values:
        try:
            checked.append(param.validate(name, v))
        except InvalidParameterError as exc:
            raise InvalidParameterError(
                f"{exc} The range given for `{name}` must lie inside the declaration of {where} "
                f"({_declared(param)})."
            ) from None
    return Dimension(name, param, tuple(dict.fromkeys(checked)))


def _interval(where: str, name: str, param: Param, spec: tuple) -> Dimension:
    lo, hi = float(spec[0]), float(spec[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise InvalidParameterError(f"`{name}` range must be (low, high[, step]) with low <= high; got {spec!r}.")
    out_lo = param.low is not None and lo < param.low
    out_hi = param.high is not None and hi > param.high
    if out_lo or out_hi:
        raise InvalidParameterError(
            f"`{name}` range [{lo:g}, {hi:g}] lies outside the declared bounds of {where} "
            f"({_declared(param)}). Narrow it to fit."
        )
    step = spec[2] if len(spec) == 3 else param.step
    if step is not None and (not isinstance(step, (int, float, np.integer, np.floating)) or step <= 0):
        raise InvalidParameterError(f"`{name}` step must be a positive number; got {step!r}.")
    if param.type == "int" and step is not None and not float(step).is_integer():
        raise InvalidParameterError(f"`{name}` is an integer parameter; its step must be an integer; got {step!r}.")
    if step is None:
        return Dimension(name, param, None, lo, hi)
    values = param.grid(lo, hi, step)
    return Dimension(name, param, tuple(param.validate(name, v) for v in values))


def _declared(param: Param) -> str:
    if param.choices is not None:
        return "choices " + ", ".join(repr(c) for c in param.choices)
    lo = "-inf" if param.low is None else f"{param.low:g}"
    hi = "inf" if param.high is None else f"{param.high:g}"
    return f"{param.type} in [{lo}, {hi}]"


# --------------------------------------------------------------------------- constraints
_CMP: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
}
_BIN: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}


def constraint_expr(constraints: Sequence[str], names: Iterable[str]) -> pl.Expr:
    """Compile boolean constraint expressions over parameter ``names`` into one polars
    expression (their conjunction), with Python's meaning: chained comparisons, ``and``,
    ``or``, ``not``, arithmetic, ``abs``/``min``/``max``.

    Examples
    --------
    >>> df = pl.DataFrame({"fast": [5, 20, 10], "slow": [10, 10, 40]})
    >>> df.filter(constraint_expr(["fast < slow", "slow <= 4 * fast"], ["fast", "slow"])).rows()
    [(5, 10), (10, 40)]
    >>> constraint_expr(["fats < slow"], ["fast", "slow"])
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: constraint 'fats < slow' uses 'fats', which is not a parameter. Did you mean 'fast'? Parameters: fast, slow.
    """
    known = list(names)
    out = pl.lit(True)
    for text in constraints:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise InvalidParameterError(f"constraint {text!r} is not a valid expression ({exc.msg}).") from None
        out = out & _compile(tree.body, text, known)
    return out


def _compile(node: ast.AST, text: str, names: list[str]) -> Any:
    def go(n: ast.AST) -> Any:
        return _compile(n, text, names)

    if isinstance(node, ast.Name):
        if node.id not in names:
            raise InvalidParameterError(
                f"constraint {text!r} uses {node.id!r}, which is not a parameter.{did_you_mean(node.id, names)} "
                f"Parameters: {', '.join(names)}."
            )
        return pl.col(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return pl.lit(node.value)
    if isinstance(node, ast.BoolOp):
        parts = [go(v) for v in node.values]
        acc = parts[0]
        for p in parts[1:]:
            acc = (acc & p) if isinstance(node.op, ast.And) else (acc | p)
        return acc
    if isinstance(node, ast.UnaryOp):
        inner = go(node.operand)
        if isinstance(node.op, ast.Not):
            return ~inner
        if isinstance(node.op, ast.USub):
            return -inner
        if isinstance(node.op, ast.UAdd):
            return inner
    if isinstance(node, ast.Compare) and all(type(op) in _CMP for op in node.ops):
        left, acc = go(node.left), None
        for op, comp in zip(node.ops, node.comparators, strict=False):
            right = go(comp)
            term = _CMP[type(op)](left, right)
            acc = term if acc is None else acc & term
            left = right
        return acc
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        for side in (node.left, node.right):
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                raise InvalidParameterError(
                    f"constraint {text!r} does arithmetic on the text {side.value!r}; text may only be compared "
                    "(direction == 'long')."
                )
        return _BIN[type(node.op)](go(node.left), go(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        args = [go(a) for a in node.args]
        if node.func.id == "abs" and len(args) == 1:
            return args[0].abs()
        if node.func.id in ("min", "max") and len(args) >= 2:
            return pl.min_horizontal(args) if node.func.id == "min" else pl.max_horizontal(args)
    raise InvalidParameterError(
        f"constraint {text!r} uses a construct a search cannot evaluate over a grid "
        f"({type(node).__name__}); use comparisons, and/or/not, arithmetic, abs, min and max."
    )


def check_rows(constraints: Sequence[str], frame: pl.DataFrame, names: Sequence[str]) -> list[list[bool]]:
    """Each constraint's truth on each row of ``frame`` (one list per constraint); an expression
    that cannot be evaluated on the values is an :class:`InvalidParameterError` naming it."""
    out = []
    for text in constraints:
        expr = constraint_expr([text], names)
        try:
            out.append(frame.select(expr.alias("ok"))["ok"].fill_null(False).to_list())
        except pl.exceptions.PolarsError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidParameterError(
                f"constraint {text!r} cannot be evaluated on the parameter values ({first}); use comparisons "
                "and arithmetic over numeric parameters."
            ) from None
    return out


def rows_satisfying(space: SearchSpace, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Whether each parameter set (a mapping) satisfies the space's constraints."""
    frame = pl.DataFrame([dict(r) for r in rows], schema=space.schema())
    mask = frame.select(constraint_expr(space.constraints, space.names).alias("ok"))["ok"]
    return mask.to_list()
