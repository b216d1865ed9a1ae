"""The scalar metric kernels equal the numpy functions of the same name (1e-12 relative)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import workbench.metrics as wm
import workbench.nb.metrics_nb as mnb

EDGE_RETURNS = {
    "zeros": np.zeros(30),
    "constant_up": np.full(30, 0.001),
    "constant_down": np.full(30, -0.002),
    "single": np.array([0.015]),
    "wiped_out": np.array([0.1, -1.0, 0.5]),
    "below_minus_one": np.array([0.2, -1.5, 0.1]),
    "huge_growth": np.array([1.0]),
}


def same(kernel_value: float, numpy_value: float) -> None:
    np.testing.assert_allclose(kernel_value, numpy_value, rtol=1e-12, atol=0.0, equal_nan=True)


def check_return_kernels(r: np.ndarray, ppy: float) -> None:
    same(mnb.annual_return_1d_nb(r, ppy), wm.annual_return(r, periods_per_year=ppy))
    same(mnb.calmar_ratio_1d_nb(r, ppy), wm.calmar_ratio(r, periods_per_year=ppy))
    for rf in (0.0, 0.04):
        same(mnb.sharpe_ratio_1d_nb(r, ppy, rf), wm.sharpe_ratio(r, periods_per_year=ppy, risk_free=rf))
        same(mnb.sortino_ratio_1d_nb(r, ppy, rf), wm.sortino_ratio(r, periods_per_year=ppy, risk_free=rf))
    same(mnb.sharpe_ratio_1d_nb(r, ppy), wm.sharpe_ratio(r, periods_per_year=ppy))


def test_return_kernels_equal_numpy_functions(returns, ppy):
    check_return_kernels(returns, ppy)


@pytest.mark.parametrize("name", sorted(EDGE_RETURNS))
@pytest.mark.parametrize("ppy", [252.0, 1e8])
def test_return_kernels_keep_the_conventions_on_edge_cases(name, ppy):
    check_return_kernels(EDGE_RETURNS[name], ppy)


def equity_curves():
    rng = np.random.default_rng(11)
    yield 1_000.0 * np.cumprod(1.0 + rng.normal(0.0005, 0.02, 400))
    yield np.array([100.0, 100.0, 100.0])
    yield np.array([90.0, 120.0, 60.0, 0.0, -5.0, 10.0])
    yield np.array([-3.0, -1.0, 2.0, 1.0])
    yield np.array([250.0])


@pytest.mark.parametrize("equity", list(equity_curves()), ids=lambda e: f"n{e.size}_{e[0]:g}")
@pytest.mark.parametrize("init_cash", [None, 100.0, 1_000.0])
def test_equity_kernels_equal_numpy_functions(equity, init_cash):
    cash = 0.0 if init_cash is None else init_cash
    same(mnb.max_drawdown_1d_nb(equity, cash), wm.max_drawdown(equity, init_cash=init_cash))
    out = np.full(equity.size, np.nan)
    mnb.returns_1d_nb(equity, cash, out)
    np.testing.assert_allclose(out, wm.simple_returns(equity, init_cash=init_cash), rtol=1e-12, atol=0)
    if init_cash is not None:
        same(mnb.total_return_nb(equity, init_cash), wm.total_return(equity, init_cash=init_cash))
    else:
        same(mnb.max_drawdown_1d_nb(equity), wm.max_drawdown(equity))


def test_kernels_are_callable_from_another_kernel():
    @njit
    def objective(equity, init_cash, ppy):
        r = np.empty(equity.shape[0])
        mnb.returns_1d_nb(equity, init_cash, r)
        return (mnb.sharpe_ratio_1d_nb(r, ppy), mnb.sortino_ratio_1d_nb(r, ppy, 0.02),
                mnb.calmar_ratio_1d_nb(r, ppy), mnb.max_drawdown_1d_nb(equity, init_cash),
                mnb.total_return_nb(equity, init_cash))

    equity = 100.0 * np.cumprod(1.0 + np.random.default_rng(5).normal(0.001, 0.01, 300))
    r = wm.simple_returns(equity, init_cash=100.0)
    got = objective(equity, 100.0, 252.0)
    want = (wm.sharpe_ratio(r, periods_per_year=252), wm.sortino_ratio(r, periods_per_year=252, risk_free=0.02),
            wm.calmar_ratio(r, periods_per_year=252), wm.max_drawdown(equity, init_cash=100.0),
            wm.total_return(equity, init_cash=100.0))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_layers_kernel_module_imports_no_frames_and_metrics_import_no_numba():
    kernel_imports = _imported_modules(Path(mnb.__file__))
    assert not kernel_imports & {"polars", "pandas", "sqlmodel"}, kernel_imports
    for path in Path(wm.__file__).parent.glob("*.py"):
        assert "numba" not in _imported_modules(path), path.name
