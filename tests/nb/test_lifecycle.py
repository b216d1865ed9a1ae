"""Running kernels does not import scipy.linalg (Numba's linear algebra still works when used), and
the interpreter's exit skips the full cycle collections unless WORKBENCH_EXIT_GC=1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CODE = """
import json, sys
{first}
import numpy as np
import numba
import workbench as wb
result = wb.backtest(wb.data.sample("GOOG"), wb.strategies.SmaCross(fast=10, slow=20))
after_backtest = "scipy.linalg" in sys.modules

@numba.njit
def linear_algebra(a, b):
    return np.dot(a, b), np.linalg.solve(np.diag(a), b), np.correlate(a, b)

a, b = np.array([1.0, 2.0, 4.0]), np.array([3.0, -1.0, 0.5])
dot, solved, corr = linear_algebra(a, b)
print(json.dumps({{"after_backtest": after_backtest, "trades": result.stats.n_trades,
                  "dot": dot, "solved": solved.tolist(), "corr": corr.tolist(),
                  "expected": [float(np.dot(a, b)), np.linalg.solve(np.diag(a), b).tolist(),
                               np.correlate(a, b).tolist()]}}))
"""


@pytest.mark.parametrize(("first", "imports_linalg"), [("", False), ("import numba.np.arraymath", True)],
                         ids=["workbench_first", "numba_arraymath_first"])
def test_kernels_leave_scipy_linalg_until_a_kernel_needs_it(first: str, imports_linalg: bool):
    out = subprocess.run([sys.executable, "-c", CODE.format(first=first)], capture_output=True, text=True,
                         check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["after_backtest"] is imports_linalg
    assert got["trades"] > 0
    expected_dot, expected_solved, expected_corr = got["expected"]
    assert got["dot"] == pytest.approx(expected_dot)
    assert got["solved"] == pytest.approx(expected_solved)
    assert got["corr"] == pytest.approx(expected_corr)


EXIT = """
import atexit, gc, os
atexit.register(lambda: os.write(1, b"frozen=%d" % gc.get_freeze_count()))  # runs after workbench's
import workbench as wb
wb.indicators.sma(wb.data.sample("GOOG")["close"].to_numpy(), 10)
"""


@pytest.mark.parametrize(("setting", "frozen"), [(None, True), ("1", False)], ids=["default", "WORKBENCH_EXIT_GC=1"])
def test_exit_freezes_the_collector_unless_asked_not_to(setting: str | None, frozen: bool):
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_EXIT_GC"}
    if setting is not None:
        env["WORKBENCH_EXIT_GC"] = setting
    out = subprocess.run([sys.executable, "-c", EXIT], env=env, capture_output=True, text=True, check=True)
    count = int(out.stdout.strip().rsplit("frozen=", 1)[1])
    assert (count > 50_000) is frozen, count
