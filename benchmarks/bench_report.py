"""Reports: the HTML tearsheet and PDF of a 10-year daily backtest, a 1,000,000-bar run's HTML,
and quantstats' ``reports.html`` on the same 10-year returns, timed beside it.

1. 10 years of daily bars (2,520), SmaCross: ``result.report(path)`` (HTML, target ≤ 1 s) and
   ``result.report(path, format="pdf")`` (WeasyPrint, target ≤ 10 s); the result's frames and
   stats are built first, as a user holding a result has them. Best of 3 runs (1 for the PDF)
   after a warm-up run.
2. 1,000,000 one-minute bars: the HTML's size (target ≤ 5 MB: charts downsampled with LTTB, the
   data are not) and time.
3. ``quantstats.reports.html(returns, benchmark)`` on the 10-year returns: its time, and ours as a
   ratio of it.

Prints one JSON line. Run: ``python benchmarks/bench_report.py`` (~1-2 minutes on 2 idle cores).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))

import workbench as wb  # noqa: E402
from workbench.strategies import SmaCross  # noqa: E402


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _ready(result) -> None:
    for name in ("equity", "returns", "orders", "trades", "positions", "stats"):
        getattr(result, name)


def _quantstats(result, out: Path) -> float:
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import pandas as pd
    import quantstats as qs

    idx = pd.DatetimeIndex(result.returns["ts"].dt.replace_time_zone(None).to_numpy())
    r = pd.Series(result.returns["return"].to_numpy(), index=idx, name="Strategy")
    b = pd.Series(result.benchmark_returns, index=idx, name="Benchmark")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        qs.reports.html(r, benchmark=b, output=str(out), title="SmaCross")
        return time.perf_counter() - t


def main() -> dict:
    folder = Path(tempfile.mkdtemp(prefix="wb-bench-report-"))
    ten = wb.backtest(wb.data.synthetic(2520, seed=7), SmaCross(fast=10, slow=30))
    _ready(ten)
    ten.report(folder / "warm.html")
    html_s = _best(lambda: ten.report(folder / "ten.html"), 3)
    ten.report(folder / "warm.pdf")
    pdf_s = _best(lambda: ten.report(folder / "ten.pdf"), 1)
    qs_s = _quantstats(ten, folder / "qs.html")

    big = wb.backtest(wb.data.synthetic(1_000_000, seed=7, every="1m", periods_per_year=98_280.0),
                      SmaCross(fast=50, slow=200))
    _ready(big)
    big_s = _best(lambda: big.report(folder / "big.html"), 1)
    big_bytes = (folder / "big.html").stat().st_size
    return {
        "bench": "report", "python": platform.python_version(), "cpus": os.cpu_count(),
        "html_10y_s": round(html_s, 3), "html_10y_target_s": 1.0, "html_10y_bytes": (folder / "ten.html").stat().st_size,
        "pdf_10y_s": round(pdf_s, 3), "pdf_10y_target_s": 10.0,
        "quantstats_html_10y_s": round(qs_s, 3), "html_vs_quantstats": round(html_s / qs_s, 3),
        "html_1m_bars_s": round(big_s, 3), "html_1m_bars_bytes": big_bytes, "html_1m_bars_target_bytes": 5_000_000,
        "html_1m_bars_trades": big.trades.height,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
    sys.stdout.flush()
