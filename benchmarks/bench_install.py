"""Install benchmark: the core install's size and time beside vectorbt's and backtesting.py's; prints
one JSON line.

Each case creates an empty virtualenv and times ``pip install <target>`` into it, then measures the
environment's growth on disk (as ``du`` counts it, in MiB, bytecode compiled by pip included).
All cases run in this one process, one after the other, against the same package index and pip
cache, so they are comparable with each other (not with a first install over a slow network).

- ``workbench_core``: ``pip install quant-workbench`` — the wheel of this checkout, built once
  beforehand (not timed), as the index would serve it: data, strategies, engine, metrics,
  optimization, portfolio, store, CLI. Targets: ≤ 600 MiB and ≤ 30 s.
- ``vectorbt``: ``pip install vectorbt``.
- ``backtesting``: ``pip install backtesting``.
- ``workbench_all`` (with ``--all``): the same wheel with ``[all]``, the whole workbench.

Run: ``python benchmarks/bench_install.py`` (``--all`` adds the full workbench).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"size_mib": 600, "time_s": 30}


def disk_mib(path: Path) -> float:
    """Disk usage of ``path`` as ``du`` counts it (allocated blocks; hard links once), in MiB."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total / 2**20


def build_wheel(where: Path) -> Path:
    """This checkout's wheel (hatchling, in an isolated build environment)."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(where), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = where.glob("quant_workbench-*.whl")
    return wheel


def install(name: str, target: str, work: Path) -> dict[str, Any]:
    """Time ``pip install target`` into a new empty virtualenv; its growth on disk and its packages."""
    env_dir = work / name
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    empty = disk_mib(env_dir)
    t0 = time.perf_counter()
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", target],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"pip install {target} failed:\n{done.stderr[-3000:]}")
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True).stdout
    packages = len(json.loads(listed)) - 2  # pip and setuptools come with the empty environment
    return {"case": name, "size_mib": round(disk_mib(env_dir) - empty, 1), "time_s": round(seconds, 1),
            "packages": packages}


def main() -> None:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "wheel")
        cases = [("workbench_core", str(wheel)), ("vectorbt", "vectorbt"), ("backtesting", "backtesting")]
        if "--all" in sys.argv[1:]:
            cases.append(("workbench_all", f"quant-workbench[all] @ {wheel.as_uri()}"))
        results = [install(name, target, work) for name, target in cases]
    core = results[0]
    by = {r["case"]: r for r in results}
    ratios = {f"core_vs_{peer}": {"size": round(core["size_mib"] / by[peer]["size_mib"], 2),
                                  "time": round(core["time_s"] / by[peer]["time_s"], 2)}
              for peer in ("vectorbt", "backtesting")}
    print(json.dumps({
        "benchmark": "install", "results": results, "ratios": ratios, "targets": TARGETS,
        "core_within_targets": {"size": core["size_mib"] <= TARGETS["size_mib"],
                                "time": core["time_s"] <= TARGETS["time_s"]},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()]},
        "total_s": round(time.perf_counter() - t0, 1),
    }))


if __name__ == "__main__":
    main()
