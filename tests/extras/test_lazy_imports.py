"""`import workbench` and the core paths (a backtest, the store, a sweep, an allocation), and
importing the CLI and the faces' packages, load no optional package: checked in a fresh interpreter where every extra IS installed, so a stray import
would show up in ``sys.modules``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from workbench._extras import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
# every extra's import names, and what they drag in (a stray import often comes in through these)
OPTIONAL = sorted({p.module for _, pkgs in EXTRAS.values() for p in pkgs}
                  | {"param", "bokeh", "holoviews", "jupyter_client", "jupyter_server", "nbformat",
                     "nbclient", "IPython", "matplotlib", "torch", "sklearn", "skfolio", "vectorbt",
                     "backtesting", "quantstats", "empyrical"})

SCRIPT = """
import json, sys
import numpy as np
import workbench as wb
from workbench import optimize, portfolio
from workbench.strategies import SmaCross

after_import = sorted(sys.modules)
bars = wb.data.sample("GOOG")
result = wb.backtest(bars, SmaCross(fast=10, slow=20), cash=10_000, fees=0.002)
result.stats, result.trades
result.save()
sweep = optimize.grid(bars, SmaCross, fast=[5, 10], slow=[20, 30])
import workbench.cli, workbench.jobs, workbench.ml, workbench.report  # the faces import lazily too
rng = np.random.default_rng(0)
weights = portfolio.allocate(rng.normal(0, 0.01, (200, 4)), method="min_variance")
json.dump({"import": after_import, "all": sorted(sys.modules)}, sys.stdout)
"""


def _top(names: list[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


def test_import_and_a_backtest_load_no_optional_package(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_HOME": str(tmp_path)}
    env.pop("WORKBENCH_DB_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                          timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert not _top(loaded["import"]) & set(OPTIONAL)
    assert not _top(loaded["all"]) & set(OPTIONAL)
    assert "numba" in _top(loaded["all"])  # the check sees what was really loaded
