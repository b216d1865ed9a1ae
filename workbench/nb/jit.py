"""Decorators of the engine kernels: :func:`numba.njit` without the C-callable wrapper.

Numba compiles three functions per kernel: the kernel, its Python entry point and a C-callable
wrapper, which only a kernel passed as a first-class function value would use (none is). Each
wrapper is optimized, compiled to machine code and linked into every caller, so leaving it out
(``no_cfunc_wrapper=True``) cuts the first compilation. The Python entry point stays: calling a
kernel without one from Python crashes the interpreter.

:data:`njit_ieee` also divides as IEEE floats (``error_model="numpy"``): ``x / 0.0`` gives
±inf or NaN instead of raising ``ZeroDivisionError``, so no division carries a check and an
exception path. The engine kernels (:mod:`workbench.nb.simulate`, :mod:`workbench.nb.execution`)
use it: every division there has a nonzero divisor (guarded, or positive prices and sizes).
"""

from __future__ import annotations

from functools import partial

from numba import njit as _njit

__all__ = ["njit", "njit_ieee"]

njit = partial(_njit, no_cfunc_wrapper=True)
njit_ieee = partial(_njit, no_cfunc_wrapper=True, error_model="numpy")
