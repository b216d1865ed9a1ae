"""Scale benchmark: the figures that tests once asserted as time limits; prints one JSON line.

The tests assert what these runs produce (every combination of the PBO, every run of both
writers); how long they take is measured here, once, beside the limit they used to assert.

1. ``pbo_2000x1000_16``: probability of backtest overfitting over 2,000 periods × 1,000
   configurations in 16 blocks (12,870 combinations). Was: < 5 s.
2. ``store_two_writers_1000``: two processes each saving 1,000 runs into one SQLite store at
   the same time (the store's write lock and busy time-out at work). Was: < 90 s.

Run: ``python benchmarks/bench_scale.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

from workbench.optimize import probability_of_backtest_overfitting

WRITER = textwrap.dedent(
    """
    import sys
    from workbench.store import Store
    url, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Store(url) as store:
        for i in range(n):
            store.save_run(f"{tag}-{i:05d}", kind="backtest", spec={"writer": tag, "i": i}, metrics={"i": i})
    """
)


def case_pbo(runs: int = 3) -> dict[str, Any]:
    m = np.random.default_rng(0).normal(0.0, 0.01, (2000, 1000))
    probability_of_backtest_overfitting(m[:200, :50], n_splits=4)  # warm-up (compilation)
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        res = probability_of_backtest_overfitting(m, n_splits=16)
        best = min(best, time.perf_counter() - t0)
    return {"case": "pbo_2000x1000_16", "seconds": round(best, 3), "combinations": res.n_combinations,
            "was_limit_s": 5.0}


def case_two_writers(n: int = 1000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.db'}"
        env = {**os.environ, "WORKBENCH_HOME": tmp}
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, tag, str(n)], env=env) for tag in "ab"]
        codes = [p.wait() for p in procs]
        seconds = time.perf_counter() - t0
    if any(codes):
        raise SystemExit(f"a writer failed: exit codes {codes}")
    return {"case": "store_two_writers_1000", "seconds": round(seconds, 2), "runs": 2 * n, "was_limit_s": 90.0}


def main() -> None:
    t0 = time.perf_counter()
    results = [case_pbo(), case_two_writers()]
    print(json.dumps({"benchmark": "scale", "results": results, "cores": os.cpu_count(),
                      "load_avg": [round(x, 2) for x in os.getloadavg()],
                      "total_s": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
