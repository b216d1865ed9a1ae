"""Storing a large sweep: save time and store growth against the same sweep unsaved.

A fused SmaCross grid on GOOG (fast 2..121 × slow 3..400, 40,620 sets after ``fast < slow``)
runs once without a store and once with ``store=`` (a fresh SQLite store: trials written in chunks,
one row each). Reported: both wall times, their ratio, the store's size (database + artifacts)
and bytes per set; and ``Store.verify`` of the stored sweep (seconds, all equal).

Prints one JSON line. Run: ``python benchmarks/bench_store_sweep.py`` (~1 minute on 2 idle cores).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))

import workbench as wb  # noqa: E402
from workbench.optimize import grid  # noqa: E402
from workbench.store import Store  # noqa: E402
from workbench.strategies import SmaCross  # noqa: E402


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    bars = wb.data.sample("GOOG")
    ranges = {"fast": range(2, 122), "slow": range(3, 401), "direction": "long"}
    grid(bars, SmaCross, fast=[5, 6], slow=[20, 21], direction="long", overfit=False)  # compile
    t0 = time.perf_counter()
    unsaved = grid(bars, SmaCross, overfit=False, **ranges)
    t_unsaved = time.perf_counter() - t0
    root = Path(tempfile.mkdtemp(prefix="wb-store-"))
    store = Store(f"sqlite:///{root / 'workbench.db'}", artifacts_dir=root / "artifacts")
    empty = _size(root)
    t0 = time.perf_counter()
    saved = grid(bars, SmaCross, overfit=False, store=store, **ranges)
    t_saved = time.perf_counter() - t0
    grown = _size(root) - empty
    t0 = time.perf_counter()
    report = store.verify(saved.run_id)
    t_verify = time.perf_counter() - t0
    store.close()
    print(json.dumps({
        "bench": "store_sweep", "sets": unsaved.frame.height, "unsaved_s": round(t_unsaved, 3),
        "saved_s": round(t_saved, 3), "save_overhead_ratio": round(t_saved / t_unsaved, 2),
        "store_bytes": grown, "bytes_per_set": round(grown / unsaved.frame.height, 1),
        "verify_s": round(t_verify, 3), "verify_equal": report.equal,
    }))


if __name__ == "__main__":
    main()
