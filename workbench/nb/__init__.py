"""Numba kernels: the only package of Quant Workbench that imports Numba.

Kernels take C-contiguous float64 arrays of shape ``(n_bars, n_assets)`` (or 1-D series,
``*_1d_nb``) and int64/float64 scalars, write into preallocated outputs, and never see
polars, pandas or SQL. Every kernel names, in its docstring, the plain implementation it is
tested against.
"""

from workbench.nb._lifecycle import defer_blas_probe, freeze_at_exit

defer_blas_probe()  # before the first kernel compiles or loads
freeze_at_exit()
