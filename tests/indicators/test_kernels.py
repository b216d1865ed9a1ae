"""The kernels themselves: 2-D kernels equal column-wise 1-D results, outputs are written into
the caller's arrays, 1-D kernels are callable from other njit code, and the kernel module
stays free of polars / pandas / SQL."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from workbench import indicators as ind
from workbench.nb import indicators_nb as nb


def panel(ref, n=600, m=4, seed=20):
    """Bars of shape (n, m), with a late-starting column and a gap in another."""
    high, low, close = (a.copy() for a in ref.random_bars(n, seed, m=m))
    for a in (high, low, close):
        a[:50, 1] = np.nan  # asset 1 starts trading later
        a[300:310, 2] = np.nan  # asset 2 has a gap
    return high, low, close


CASES = {
    "sma": lambda h, lo, c: [ind.sma(c, 10)],
    "ema": lambda h, lo, c: [ind.ema(c, 10)],
    "wma": lambda h, lo, c: [ind.wma(c, 10)],
    "rolling_std": lambda h, lo, c: [ind.rolling_std(c, 10, ddof=1)],
    "zscore": lambda h, lo, c: [ind.zscore(c, 10)],
    "rsi": lambda h, lo, c: [ind.rsi(c, 14)],
    "atr": lambda h, lo, c: [ind.atr(h, lo, c, 14)],
    "bollinger": lambda h, lo, c: list(ind.bollinger(c, 20, k=2.5)),
    "macd": lambda h, lo, c: list(ind.macd(c, fast=5, slow=13, signal=4)),
    "donchian": lambda h, lo, c: list(ind.donchian(h, lo, 20)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_2d_equals_columnwise_1d(ref, name):
    high, low, close = panel(ref)
    got = CASES[name](high, low, close)
    for j in range(close.shape[1]):
        cols = CASES[name](high[:, j], low[:, j], close[:, j])
        for g, e in zip(got, cols, strict=True):
            assert g.shape == close.shape and g.dtype == np.float64
            np.testing.assert_array_equal(g[:, j], e)


@pytest.mark.parametrize("name", sorted(CASES))
def test_column_order_does_not_matter(ref, name):
    high, low, close = panel(ref)
    perm = [2, 0, 3, 1]
    got = CASES[name](high, low, close)
    permuted = CASES[name](high[:, perm], low[:, perm], close[:, perm])
    for g, p in zip(got, permuted, strict=True):
        np.testing.assert_array_equal(g[:, perm], p)


def test_kernels_write_into_the_given_outputs(ref):
    x = ref.random_walk(100, seed=21)
    out = np.full(100, -1.0)
    assert nb.sma_1d_nb(x, 5, out) is None
    np.testing.assert_allclose(out, ref.sma(x, 5), rtol=1e-12)
    mid, upper, lower = (np.full((100, 2), -1.0) for _ in range(3))
    x2 = np.ascontiguousarray(np.column_stack([x, x[::-1]]))
    nb.bollinger_nb(x2, 10, 2.0, 0, mid, upper, lower)
    np.testing.assert_allclose(upper[:, 1], ref.bollinger(x[::-1].copy(), 10, 2.0)[1], rtol=1e-10)


def test_1d_kernel_is_callable_from_another_njit_kernel(ref):
    import numba

    @numba.njit
    def last_sma_per_window(x, windows):  # the shape of a fused parameter sweep
        res = np.empty(windows.shape[0])
        buf = np.empty(x.shape[0])
        for p in range(windows.shape[0]):
            nb.sma_1d_nb(x, windows[p], buf)
            res[p] = buf[-1]
        return res

    x = ref.random_walk(300, seed=22)
    windows = np.array([1, 5, 50, 300], dtype=np.int64)
    expected = [x[-w:].mean() for w in windows]
    np.testing.assert_allclose(last_sma_per_window(x, windows), expected, rtol=1e-12)


def test_kernel_module_imports_no_dataframe_or_sql_library():
    tree = ast.parse(inspect.getsource(nb))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "numpy", "numba"}, imported


def test_every_kernel_names_its_reference():
    for name in nb.__all__:
        doc = getattr(nb, name).__doc__ or ""
        if name.endswith("_1d_nb"):
            assert "Reference:" in doc, name
        else:
            assert name.replace("_nb", "_1d_nb") in doc, name
