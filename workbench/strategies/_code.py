"""What a strategy's code is: a self-contained source bundle and its normalised hash.

A run id must change when the code that decides the trades changes. :func:`code_of` collects the
strategy class (and its user-defined base classes), every function or class of the same module it
refers to (helpers, Numba callbacks: ``@njit`` functions are read through ``py_func``), the
imports it relies on and the plain constants it reads, into one source text that runs on its
own. The hash is taken over the syntax tree of that text, so reformatting and comments do not
change it, while any change of a statement, name or constant does.

Names that refer to anything else (a DataFrame built in a notebook, an open connection) cannot be
written down: the bundle records them in ``missing`` and :func:`load_strategy` refuses to run it,
naming them. Stored source is executed only by :func:`load_strategy`, on an explicit re-run.
"""

from __future__ import annotations

import ast
import builtins
import functools
import hashlib
import importlib
import inspect
import linecache
import symtable
import sys
import textwrap
import types
import weakref
from dataclasses import dataclass
from typing import Any

from workbench.errors import StrategyError

__all__ = ["StrategyCode", "code_of", "code_hash", "load_strategy", "origin_of"]

_BUILTINS = frozenset(dir(builtins))
_CONSTANTS = (int, float, str, bool, bytes, type(None))


@dataclass(frozen=True)
class StrategyCode:
    """The source bundle of a strategy class.

    Attributes
    ----------
    qualname, module : str
        Where the class was defined (``module`` is ``"__main__"`` for a notebook or script).
    source : str
        Imports, constants, helpers and the class, in an order that runs top to bottom.
    hash : str
        32 hex digits over the normalised syntax tree of ``source``.
    missing : tuple of str
        Names the code reads that could not be written down (``name: reason``); non-empty means
        the run cannot be re-run from its source.
    """

    qualname: str
    module: str
    source: str
    hash: str
    missing: tuple[str, ...] = ()

    def to_frame(self) -> Any:
        """One row (``qualname, module, source, hash, missing``): the ``strategy`` artifact of a run."""
        import polars as pl

        return pl.DataFrame({"qualname": [self.qualname], "module": [self.module], "source": [self.source],
                             "hash": [self.hash], "missing": [list(self.missing)]},
                            schema_overrides={"missing": pl.List(pl.String)})


def _normalised(source: str) -> str:
    return ast.dump(ast.parse(source), annotate_fields=False, include_attributes=False)


def code_hash(source: str) -> str:
    """A 32-hex-digit hash of ``source`` that ignores layout and comments.

    Examples
    --------
    >>> code_hash("x = 1  # one") == code_hash("x=1")
    True
    >>> code_hash("x = 1") == code_hash("x = 2")
    False
    """
    return hashlib.blake2b(_normalised(source).encode(), digest_size=16).hexdigest()


def _functions_of(cls: type) -> list[Any]:
    out = []
    for value in vars(cls).values():
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        fn = getattr(fn, "py_func", fn)  # a Numba dispatcher
        if isinstance(fn, property):
            fn = fn.fget
        if isinstance(fn, types.FunctionType):
            out.append(fn)
    return out


def _class_source(cls: type) -> str:
    """The source of ``cls``, found in the file of one of its methods (a module, a notebook cell,
    an exec'd string kept in ``linecache``: the class that was really run, even when its module
    was edited or redefined since), else through ``inspect``."""
    named: list[tuple[list[str], ast.ClassDef]] = []
    for fn in _functions_of(cls):
        lines = linecache.getlines(fn.__code__.co_filename)
        try:
            tree = ast.parse("".join(lines)) if lines else None
        except SyntaxError:
            tree = None
        line = fn.__code__.co_firstlineno
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                if node.lineno <= line <= (node.end_lineno or line):
                    return _segment(lines, node)
                named.append((lines, node))
    if named:  # its methods are defined outside it (an on_bar_nb = staticmethod(f)): the last class of its name
        return _segment(*named[-1])
    try:
        return textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        pass
    raise StrategyError(
        f"the source of {cls.__qualname__} (module {cls.__module__}) cannot be found, so its runs could not be "
        "identified by their code. Define the class in a file or a notebook cell (not through exec of a string "
        "that is not kept)."
    )


def _segment(lines: list[str], node: ast.ClassDef) -> str:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return textwrap.dedent("".join(lines[first - 1: node.end_lineno]))


def _function_source(fn: Any) -> str:
    fn = getattr(fn, "py_func", fn)
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        raise StrategyError(f"the source of {fn.__qualname__} cannot be found.") from None


def _global_names(source: str) -> list[str]:
    """Names read as globals anywhere in ``source`` (every scope), in first-use order."""
    out: dict[str, None] = {}

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if sym.is_referenced() and (sym.is_global() or (table.get_type() == "module" and not sym.is_assigned())):
                out.setdefault(sym.get_name())
            if table.get_type() == "class" and sym.is_referenced() and not sym.is_assigned() \
                    and not sym.is_parameter() and not sym.is_free():
                out.setdefault(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(source, "<strategy>", "exec"))
    return list(out)


def _importable(value: Any) -> str | None:
    """``module`` or ``module:qualname`` when ``value`` is what that import gives, else None."""
    if isinstance(value, types.ModuleType):
        return value.__name__
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<locals>" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if obj is value else None


class _Bundle:
    def __init__(self, module: str, namespace: dict[str, Any]) -> None:
        self.module = module
        self.namespace = namespace
        self.imports: dict[str, str] = {}
        self.constants: dict[str, str] = {}
        self.blocks: list[str] = []
        self.seen: set[str] = set()
        self.missing: list[str] = []

    def add(self, name: str, source: str) -> None:
        self.seen.add(name)
        for ref in _global_names(source):
            self.resolve(ref)
        self.blocks.append(source)

    def resolve(self, name: str) -> None:
        if name in self.seen or name in _BUILTINS and name not in self.namespace:
            return
        self.seen.add(name)
        if name not in self.namespace:
            self.missing.append(f"{name}: not defined in module {self.module}")
            return
        value = self.namespace[name]
        defined_here = getattr(value, "__module__", None) == self.module and not isinstance(value, types.ModuleType)
        where = _importable(value)
        if isinstance(value, type) and defined_here:
            self.add(name, _class_source(value))
        elif defined_here and isinstance(getattr(value, "py_func", value), types.FunctionType):
            self.add(name, _function_source(value))
        elif where is not None:
            self.imports[name] = _import_line(name, where)
        elif _is_constant(value):
            self.constants[name] = f"{name} = {value!r}"
        elif (statement := self.assignment(name)) is not None:
            self.add(name, statement)
        else:
            self.missing.append(f"{name}: a {type(value).__name__} held by the session (not code)")

    def assignment(self, name: str) -> str | None:
        """The module-level statement ``name = ...`` of the module's source, if there is one."""
        module = sys.modules.get(self.module)
        try:
            text = inspect.getsource(module) if module is not None else ""
        except (OSError, TypeError):
            return None
        for node in ast.parse(text).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name:
                return ast.get_source_segment(text, node)
        return None

    def text(self) -> str:
        head = sorted(self.imports.values()) + [self.constants[k] for k in sorted(self.constants)]
        return "\n".join(head) + ("\n\n\n" if head else "") + "\n\n\n".join(self.blocks) + "\n"


def _import_line(name: str, where: str) -> str:
    mod, _, qual = where.partition(":")
    if not qual:
        return f"import {mod}" if mod == name else f"import {mod} as {name}"
    head = qual.split(".")[0]
    return f"from {mod} import {head}" + (f" as {name}" if head != name else "") if "." not in qual else \
        f"from {mod} import {head} as _{head}\n{name} = _{head}.{qual.split('.', 1)[1]}"


def _is_constant(value: Any) -> bool:
    if isinstance(value, _CONSTANTS):
        return not isinstance(value, float) or value == value  # NaN has no repr that evaluates
    if isinstance(value, (tuple, frozenset)):
        return all(_is_constant(v) for v in value)
    return False


_LOADED: weakref.WeakKeyDictionary[type, StrategyCode] = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=512)
def code_of(cls: type) -> StrategyCode:
    """The source bundle and code hash of strategy class ``cls`` (cached per class object: a class
    redefined in a notebook is a new object).

    Examples
    --------
    >>> from workbench.strategies import SmaCross
    >>> code = code_of(SmaCross)
    >>> code.module, len(code.hash), code.missing
    ('workbench.strategies.builtin', 32, ())
    """
    from workbench.strategies.base import Strategy

    if cls in _LOADED:
        return _LOADED[cls]
    try:
        return _bundle_of(cls, Strategy)
    except StrategyError as exc:  # no source: the bytecode still identifies the code
        digest = hashlib.blake2b(digest_size=16)
        for fn in _functions_of(cls):
            digest.update(repr((fn.__code__.co_code, fn.__code__.co_consts, fn.__code__.co_names)).encode())
        return StrategyCode(cls.__qualname__, cls.__module__, "", digest.hexdigest(), (f"source: {exc}",))


def _bundle_of(cls: type, base: type) -> StrategyCode:
    Strategy = base
    functions = _functions_of(cls)
    namespace = functions[0].__globals__ if functions else vars(sys.modules.get(cls.__module__, types.ModuleType("_")))
    bundle = _Bundle(cls.__module__, namespace)
    chain = [k for k in reversed(cls.__mro__) if issubclass(k, Strategy) and k is not Strategy and k is not cls]
    for klass in chain:  # user-defined bases first, unless importable
        if klass.__module__ == cls.__module__ and klass.__name__ not in bundle.seen:
            bundle.add(klass.__name__, _class_source(klass))
    bundle.add(cls.__name__, _class_source(cls))
    nb = vars(cls).get("on_bar_nb")
    target = getattr(nb, "__func__", nb)
    if target is not None and getattr(target, "__name__", None) not in bundle.seen and \
            getattr(target, "__module__", None) == cls.__module__:
        bundle.add(target.__name__, _function_source(target))
    source = bundle.text()
    return StrategyCode(cls.__qualname__, cls.__module__, source, code_hash(source), tuple(bundle.missing))


def origin_of(cls: type) -> str:
    """The module a strategy class was defined in (for a class loaded from stored code, the
    module of the run it came from), as recorded in run specs."""
    return vars(cls).get("_origin_module", cls.__module__)


def load_strategy(qualname: str, module: str, source: str, expected_hash: str | None = None,
                  missing: tuple[str, ...] | list[str] = ()) -> type:
    """The strategy class ``qualname``: imported from ``module`` when that gives the same code,
    else defined by executing the stored ``source`` in a fresh module.

    Raises
    ------
    StrategyError
        The source reads names it could not record (a closure over notebook state), or does not
        define ``qualname``.
    """
    if module != "__main__":
        try:
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, type) and (expected_hash is None or code_of(obj).hash == expected_hash):
                return obj
        except (ImportError, AttributeError, StrategyError):
            pass
    if missing:
        raise StrategyError(
            f"the stored code of {qualname} reads values held by the session that saved it (a closure over "
            f"notebook state): {'; '.join(missing)}. Make them Params or constants of the code to re-run it."
        )
    if not source:
        raise StrategyError(f"no source of {qualname} is stored, and {module} does not give the same code.")
    if code_hash(source) != expected_hash and expected_hash is not None:
        raise StrategyError(
            f"the stored code of {qualname} does not match its recorded hash {expected_hash}; the store was edited."
        )
    name = f"workbench_rerun_{hashlib.blake2b(source.encode(), digest_size=6).hexdigest()}"
    mod = types.ModuleType(name)
    mod.__file__ = f"<{name}>"
    linecache.cache[mod.__file__] = (len(source), None, source.splitlines(True), mod.__file__)
    sys.modules[name] = mod
    try:
        exec(compile(source, mod.__file__, "exec"), mod.__dict__)  # noqa: S102 - an explicit re-run
    except NameError as exc:
        raise StrategyError(
            f"the stored code of {qualname} cannot run on its own: {exc}. It reads a value held by the session "
            "that saved it (a closure over notebook state); move that value into a Param or a constant."
        ) from None
    cls = mod.__dict__.get(qualname.split(".")[-1])
    if not isinstance(cls, type):
        raise StrategyError(f"the stored code does not define {qualname}.")
    cls._origin_module = module  # type: ignore[attr-defined]  # its runs keep the module they were saved from
    _LOADED[cls] = StrategyCode(qualname, module, source, code_hash(source))
    return cls
