"""The Numba cache lives under WORKBENCH_HOME, whether or not Numba was imported first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CODE = """
{first}
import numpy as np
import workbench as wb
from numba.core import config
print(config.CACHE_DIR)
wb.indicators.sma(np.arange(30.0), 5)
"""


@pytest.mark.parametrize("first", ["", "import numba"], ids=["workbench_first", "numba_first"])
def test_kernels_are_cached_under_the_workbench_home(tmp_path: Path, first: str):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["WORKBENCH_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", CODE.format(first=first)], env=env, capture_output=True,
                         text=True, check=True)
    cache = tmp_path / "numba-cache"
    assert out.stdout.strip() == str(cache)
    assert any(cache.rglob("*.nbi")), "no kernel was cached under WORKBENCH_HOME"
