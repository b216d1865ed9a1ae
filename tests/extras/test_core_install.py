"""The core install, for real: a fresh virtualenv with this checkout's wheel and no extra.

In it the library works — a backtest, the store, an allocation with ``cvxpy-base`` and Clarabel
giving the very weights of the full cvxpy — and each face stops with the one error that names its
extra; an optional package below its floor is named with the version found and the one needed.
One virtualenv serves every check (pip's cache makes it quick, but it is still the slowest test
here: marked ``slow``, and run by the suite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from workbench._extras import EXTRAS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("core-venv")]


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtualenv holding this checkout's wheel without any extra (building
    the wheel checks the package's metadata: every extra that another names must exist)."""
    where = tmp_path_factory.mktemp("core-venv")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(where),
                            str(ROOT)], capture_output=True, text=True, timeout=600, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = where.glob("quant_workbench-*.whl")
    venv.EnvBuilder(with_pip=True).create(where / "venv")
    python = where / "venv" / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def _run(python: Path, code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the code under test is this checkout's, as the wheel holds it
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_HOME": str(tmp_path / "home"),
           "COLUMNS": "300"}
    env.pop("WORKBENCH_DB_URL", None)
    return subprocess.run([str(python), *(["-c", code] if code else []), *args], capture_output=True,
                          text=True, env=env, timeout=600, check=False, cwd=tmp_path)


ALLOCATIONS = """
import json, sys
import numpy as np
from workbench import portfolio
rng = np.random.default_rng(7)
r = rng.normal(0.0005, 0.01, size=(500, 6)) + rng.normal(0, 0.005, size=(500, 1))
wide = portfolio.Constraints(max_weight=0.3, min_weight=-0.1, long_only=False)
cases = [("min_variance", {}), ("risk_parity", {}),
         ("min_variance", {"constraints": portfolio.Constraints(max_weight=0.25)}),
         ("mean_variance", {"objective": "max_sharpe"}),
         ("mean_variance", {"objective": "max_sharpe", "constraints": wide}),
         ("mean_variance", {"objective": "target_return", "target_return": 0.0004}),
         ("mean_variance", {"objective": "target_volatility", "target_volatility": 0.008})]
json.dump([portfolio.allocate(r, method=m, **kw).to_numpy().tolist() for m, kw in cases], sys.stdout)
"""

FACES = """
import json, sys
import workbench as wb
from workbench._extras import MissingExtraError, require
from workbench.store import Store
from workbench.strategies import SmaCross

out = {}
def face(name, call):
    try:
        call()
        out[name] = "no error"
    except MissingExtraError as exc:
        out[name] = str(exc)

result = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=20), cash=10_000, fees=0.002)
out["run"] = result.save()
out["stats"] = result.stats.total_return
face("plot", result.plot)
face("explorer", lambda: __import__("workbench.ui.explorer"))
face("kernel", lambda: __import__("workbench.kernel").kernel.install(prefix="kernels"))
face("postgres", lambda: Store("postgresql+psycopg://user@127.0.0.1:1/db"))
face("pdf report", lambda: result.report("report.pdf"))
import workbench.jobs, workbench.ml, workbench.report  # the faces' packages import without their extras
from workbench.jobs._drive import connect
from workbench.ml.model import xgboost_module
face("batch", lambda: connect(None, 1))
face("xgboost", xgboost_module)
for extra in sys.argv[1:]:
    face("require " + extra, lambda: require(extra))
json.dump(out, sys.stdout)
"""


def _install_hint(extra: str) -> str:
    return f"Install it with: pip install 'quant-workbench[{extra}]'"


def test_the_core_venv_holds_no_optional_package(core: Path, tmp_path: Path):
    done = _run(core, "import json, sys; from workbench._extras import status; "
                      "json.dump([s.package.dist for s in status() if s.version], sys.stdout)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_allocations_with_cvxpy_base_equal_those_of_the_full_cvxpy(core: Path, tmp_path: Path):
    lean = _run(core, ALLOCATIONS, tmp_path)
    assert lean.returncode == 0, lean.stderr
    full = _run(Path(sys.executable), ALLOCATIONS, tmp_path)  # the dev environment: cvxpy and its solvers
    assert full.returncode == 0, full.stderr
    assert np.array_equal(np.array(json.loads(lean.stdout)), np.array(json.loads(full.stdout)))


def test_the_library_works_and_each_face_names_its_extra(core: Path, tmp_path: Path):
    done = _run(core, FACES, tmp_path, *EXTRAS)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["run"]) > 8 and out["stats"] > 0
    for face, extra in [("plot", "dashboards"), ("explorer", "dashboards"), ("kernel", "notebooks"),
                        ("postgres", "postgres"), ("pdf report", "reports"), ("batch", "batch"), ("xgboost", "ml"),
                        *((f"require {e}", e) for e in EXTRAS)]:
        assert out[face].endswith(_install_hint(extra)), (face, out[face])
        assert " is not installed: this needs the [" + extra + "] extra" in out[face]


def test_the_kernel_command_fails_with_the_extra_to_install(core: Path, tmp_path: Path):
    done = _run(core, "", tmp_path, "-m", "workbench", "kernel", "install", "--prefix", str(tmp_path / "k"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: ipykernel is not installed: this needs the [notebooks] extra")
    assert done.stderr.strip().endswith(_install_hint("notebooks"))
    assert "Traceback" not in done.stderr


def test_an_optional_package_below_its_floor_is_named_with_both_versions(core: Path, tmp_path: Path):
    venv_dir = tmp_path / "old"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(venv_dir)
    # a second environment that sees the core's packages and adds psycopg 3.0 (the floor is 3.1)
    site = subprocess.run([str(core), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    python = venv_dir / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "psycopg==3.0.18"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "core.pth").write_text(site + "\n")
    code = ("from workbench.store import Store\n"
            "try:\n    Store('postgresql+psycopg://user@127.0.0.1:1/db')\n"
            "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    got = _run(python, code, tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("MissingExtraError psycopg 3.0.18 is installed, 3.1 or newer is needed: "
                                 "this needs the [postgres] extra")
    assert _install_hint("postgres") in got.stdout


def test_doctor_names_each_missing_extra_with_what_it_would_enable(core: Path, tmp_path: Path):
    done = _run(core, "", tmp_path, "-m", "workbench", "doctor", "--json")
    assert done.returncode == 0, done.stderr
    findings = {f["name"]: f for f in json.loads(done.stdout)}
    assert findings["numba"]["ok"] and findings["cvxpy-base"]["ok"]
    for extra, (enables, _) in EXTRAS.items():
        assert findings[extra]["ok"] is False
        assert findings[extra]["enables"] == f"{enables} — pip install 'quant-workbench[{extra}]'"
        assert "is not installed" in findings[extra]["detail"]
    plain = _run(core, "", tmp_path, "-m", "workbench", "doctor")
    assert "Missing extras: " + ", ".join(EXTRAS) in plain.stdout
