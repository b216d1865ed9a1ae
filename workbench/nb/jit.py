"""Decorators of the kernels: :func:`numba.njit` without the wrappers a kernel does not use.

Numba compiles up to three functions per kernel: the kernel, its Python entry point (the
"CPython wrapper", which unboxes Python arguments) and a C-callable wrapper, which only a kernel
passed as a first-class function value would use (none is). Each wrapper is lowered, optimized
and compiled to machine code, so leaving them out cuts the first compilation:

- every kernel here is compiled without the C-callable wrapper (``no_cfunc_wrapper=True``);
- a kernel called only from other kernels (``entry=False``) is also compiled without the
  Python entry point (``no_cpython_wrapper=True``). Numba would crash the interpreter if such a
  kernel were then called from Python, so it is a :class:`CompiledOnly` dispatcher, whose
  Python call raises a ``TypeError`` instead (its plain Python function stays available as
  ``.py_func``). Kernels called from Python keep the default ``entry=True``.

:data:`njit_ieee` also divides as IEEE floats (``error_model="numpy"``): ``x / 0.0`` gives
±inf or NaN instead of raising ``ZeroDivisionError``, so no division carries a check and an
exception path. The engine kernels (:mod:`workbench.nb.simulate`, :mod:`workbench.nb.execution`)
use it: every division there has a nonzero divisor (guarded, or positive prices and sizes).

>>> import numpy as np
>>> @njit(cache=False, entry=False)
... def twice_nb(x):
...     return 2.0 * x
>>> @njit(cache=False)
... def four_times_nb(x):
...     return 2.0 * twice_nb(x)
>>> four_times_nb(1.5)
6.0
>>> twice_nb(1.5)
Traceback (most recent call last):
...
TypeError: twice_nb is a kernel called from compiled kernels only (it has no Python entry point); call a kernel that uses it, or its plain Python version `twice_nb.py_func`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit as _njit
from numba.core.registry import CPUDispatcher

__all__ = ["CompiledOnly", "njit", "njit_ieee"]


class CompiledOnly(CPUDispatcher):
    """A Numba dispatcher compiled without a Python entry point: only kernels call it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = self.py_func.__name__
        raise TypeError(
            f"{name} is a kernel called from compiled kernels only (it has no Python entry point); "
            f"call a kernel that uses it, or its plain Python version `{name}.py_func`."
        )


def _decorator(**base: Any) -> Callable[..., Any]:
    def decorate(fn: Callable[..., Any] | None = None, /, *, entry: bool = True, **options: Any) -> Any:
        options = {**base, **options}
        if not entry:
            options["no_cpython_wrapper"] = True

        def wrap(func: Callable[..., Any]) -> Any:
            dispatcher = _njit(**options)(func)
            if not entry:
                dispatcher.__class__ = CompiledOnly  # same layout: a subclass adding one method
            return dispatcher

        return wrap if fn is None else wrap(fn)

    return decorate


njit = _decorator(no_cfunc_wrapper=True)
njit_ieee = _decorator(no_cfunc_wrapper=True, error_model="numpy")
