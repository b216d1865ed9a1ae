"""The installed ``workbench`` console script and ``python -m workbench`` run the same app."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import __version__


def _script() -> list[str]:
    beside = Path(sys.executable).with_name("workbench")
    found = str(beside) if beside.is_file() else shutil.which("workbench")
    if found is None:
        pytest.fail("the `workbench` console script is not installed; run `pip install -e .`")
    return [found]


def _run(cmd: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKBENCH_HOME": str(home), "COLUMNS": "200"}
    env.pop("WORKBENCH_DEBUG", None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_console_script_backtests_and_fails_cleanly(tmp_path: Path, bad_csv: Path) -> None:
    ok = _run([*_script(), "backtest", "SmaCross", "--data", "GOOG", "--fast", "5", "--slow", "30", "--json"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["strategy"]["params"] == {"fast": 5, "slow": 30, "direction": "long"}
    bad = _run([*_script(), "data", "validate", str(bad_csv)], tmp_path)
    assert bad.returncode == 1
    assert bad.stdout == "" and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: `high` is below `low`")


def test_python_dash_m(tmp_path: Path) -> None:
    for module in ("workbench", "workbench.cli"):
        result = _run([sys.executable, "-m", module, "--version"], tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"workbench {__version__}"
