"""Dashboard latencies measured in a real browser (headless Chromium) against `workbench dashboard`.

1. Optimization monitor: a second process tells trials to an Optuna study in the store's storage;
   the time from ``study.tell()`` returning to the trial being in the page's history chart
   (its Bokeh data source), over 200 trials: median and p95 (target p95 <= 1 s).
2. Backtest explorer: a strategy parameter changed (slider key press) -> the equity chart's data
   replaced in the page, on GOOG (2,148 bars; target <= 250 ms) and on a registered
   1,000,000-bar series (target <= 1 s): median over repeats.
3. Runs page with 10,000 runs in the store: navigation to the table and its count painted
   (target <= 2 s).

Prints one JSON line. Run: ``python benchmarks/bench_dashboards.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="wb-bench-dash-"))
os.environ["WORKBENCH_HOME"] = str(HOME)

import numpy as np  # noqa: E402
import optuna  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.demo import register_bars  # noqa: E402
from workbench.optimize.study import store_storage_url  # noqa: E402
from workbench.store import Store  # noqa: E402

SERIES_JS = """([name, n]) => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data; if (d === undefined || d === null) continue;
    const col = d instanceof Map ? d.get(name) : d[name];
    if (col !== undefined && col.length >= n) return true;
  }
  return false;
}"""
EQUITY_SUM_JS = """() => {
  let s = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data; if (d === undefined || d === null) continue;
    const col = d instanceof Map ? d.get("equity") : d["equity"];
    if (col !== undefined) for (const v of col) s += v;
  }
  return s;
}"""
TELLER = """
import sys, time, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.load_study(study_name="bench", storage=sys.argv[1])
d = {"fast": optuna.distributions.IntDistribution(2, 50), "slow": optuna.distributions.IntDistribution(10, 200)}
for line in sys.stdin:
    t = s.ask(d)
    s.tell(t, float(t.params["slow"] - t.params["fast"]))
    print(time.time(), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(store: Store, n_runs: int) -> str:
    rng = np.random.default_rng(0)
    for i in range(n_runs):
        store.save_run(f"run{i:05d}", kind="backtest", spec={"strategy": {"name": "SmaCross", "params": {"fast": i}}},
                       metrics={"sharpe_ratio": float(rng.normal()), "total_return": float(rng.normal())})
    big = wb.data.synthetic(1_000_000, seed=1, every="1m", periods_per_year=252 * 390)
    path = HOME / "big.parquet"
    big.write_parquet(path)
    register_bars(store, "SYN1M", big, source=str(path))
    url = store_storage_url(store)
    optuna.create_study(storage=url, study_name="bench", direction="maximize")
    return url


def _serve(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "dashboard", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/runs", timeout=5):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("workbench dashboard did not start")


def _offline(page) -> None:
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1"))
               else r.abort())


def _monitor(browser, base: str, url: str, n: int = 200) -> list[float]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _offline(page)
    page.goto(f"{base}/monitor?study=bench", wait_until="networkidle", timeout=180_000)
    page.get_by_text("Optimization monitor").first.wait_for(timeout=60_000)
    teller = subprocess.Popen([sys.executable, "-c", TELLER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    lat = []
    try:
        for i in range(n):
            teller.stdin.write("\n")
            teller.stdin.flush()
            told = float(teller.stdout.readline())
            page.wait_for_function(SERIES_JS, arg=["seq", i + 1], polling="raf", timeout=30_000)
            lat.append(time.time() - told)
    finally:
        teller.stdin.close()
        teller.wait(timeout=30)
    page.close()
    return lat


def _widget(browser, base: str, dataset: str, repeats: int) -> list[float]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _offline(page)
    page.goto(f"{base}/explorer?dataset={dataset}", wait_until="networkidle", timeout=300_000)
    page.get_by_text("SmaCross(fast=10").first.wait_for(timeout=300_000)
    handle = page.locator(".noUi-handle").first
    out = []
    for k in range(repeats):
        before = page.evaluate(EQUITY_SUM_JS)
        handle.focus()
        t0 = time.perf_counter()
        handle.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
        page.wait_for_function(f"() => ({EQUITY_SUM_JS})() !== {before!r}", polling="raf", timeout=60_000)
        out.append(time.perf_counter() - t0)
    page.close()
    return out


def _runs_paint(browser, base: str) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _offline(page)
    t0 = time.perf_counter()
    page.goto(f"{base}/runs", wait_until="commit", timeout=60_000)
    page.get_by_text("of 10,000 runs").first.wait_for(timeout=60_000)
    page.locator(".tabulator-row").first.wait_for(timeout=60_000)
    took = time.perf_counter() - t0
    page.close()
    return took


def main() -> None:
    from playwright.sync_api import sync_playwright

    with Store() as store:
        url = _seed(store, 10_000)
    port = _free_port()
    proc = _serve(port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                      "--disable-component-update"])
            _runs_paint(browser, base)  # the server's first session loads the page code
            paints = [_runs_paint(browser, base) for _ in range(3)]
            goog = _widget(browser, base, "GOOG", 9)
            big = _widget(browser, base, "SYN1M", 5)
            lat = _monitor(browser, base, url)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(HOME, ignore_errors=True)
    print(json.dumps({
        "bench": "dashboards", "machine": platform.machine(), "cpus": os.cpu_count(),
        "monitor_tell_to_chart_s": {"n": len(lat), "median": round(float(np.median(lat)), 3),
                                    "p95": round(float(np.percentile(lat, 95)), 3), "target_p95": 1.0},
        "widget_to_chart_goog_s": {"median": round(float(np.median(goog)), 3), "max": round(max(goog), 3),
                                   "target": 0.25},
        "widget_to_chart_1m_bars_s": {"median": round(float(np.median(big)), 3), "max": round(max(big), 3),
                                      "target": 1.0},
        "runs_page_10k_first_paint_s": {"median": round(float(np.median(paints)), 3), "target": 2.0},
    }))


if __name__ == "__main__":
    main()
