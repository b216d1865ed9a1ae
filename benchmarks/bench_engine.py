"""Backtest engine benchmark, side by side with backtesting.py and vectorbt; prints one JSON line.

Every case runs ours and the peer interleaved in this one process (alternating, after a warm-up
call that excludes compilation) and keeps the best of several rounds, so other load on the
machine inflates both sides alike; as :mod:`timeit` does, a round times a batch of back-to-back
calls (~50 ms worth, at least one) with the garbage collector off. Each case checks that both sides computed the same
thing before it reports a time.

1. ``goog``: backtesting.py's canonical ``SmaCross(10, 20)`` on its GOOG data (2,148 daily bars,
   cash 10,000, commission 0.2%, exclusive orders, whole shares, all equity per entry), end to
   end: signals from the bars, simulation, the trade list, the equity curve and the summary
   statistics. Ours: ``backtest(GOOG, SmaCross(fast=10, slow=20, direction="both"), cash=10_000,
   fees=0.002, lot_size=1)`` and reading ``result.stats`` (every figure). backtesting.py:
   ``Backtest(...).run()`` (its statistics included). vectorbt: the same signals from its
   ``MA`` indicator, ``Portfolio.from_signals`` configured equivalently (fills at the next open
   are ``price=open`` with the signals shifted one bar; all cash in whole units is
   ``size=inf, size_type="amount", size_granularity=1``; reversal on an opposite entry) and
   ``total_return()``. Checked: identical equity at every bar (backtesting.py) and the same final
   value (vectorbt). Also reported: ours without the statistics.
2. ``bars_1m``: 1,000,000 one-minute synthetic bars, an SMA(50)/SMA(200) crossover computed once
   (long: enter on the cross up, exit on the cross down), fees 0.05%, all cash in fractional
   units, fills at the next open. Ours: ``backtest(to_arrays(bars), <the given signals>,
   cash=10_000, fees=0.0005)`` and its final equity (from the frame too, as in case 3); vectorbt: ``from_signals(close, entries, exits,
   price=open)`` (signals shifted one bar, ``size=inf``) and ``final_value()``. Checked: the same
   final value and number of fills.
3. ``bars_10k_x_1000``: 10,000 bars × 1,000 symbols, the same crossover per symbol, one account
   per symbol (vectorbt's default). vectorbt from wide pandas frames; ours from the same wide
   arrays (``backtest(to_arrays(bars), ...)``: checks, signals, simulation, result), and also
   from the long-format polars frame (``ours_from_long_frame_s``: its conversion to arrays
   included) and the simulation alone (``ours_engine_s``). Checked: the same final value of
   every symbol.
4. ``cold_start``: a fresh Python process that imports workbench and runs the GOOG backtest with
   its statistics, with an empty Numba cache directory (cold: compilation included) and again
   with the cache it left (warm: once the second compiling process it started, if any, is done),
   against a fresh process importing vectorbt.

Run: ``python benchmarks/bench_engine.py`` (``--quick`` for smaller sizes and fewer repetitions).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

import workbench as wb
import workbench.data as wd
from workbench import indicators as ind
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import prepare_bars, run_signals
from workbench.backtesting.result import BacktestResult
from workbench.strategies import Signals, SmaCross, Strategy, crossed_above, crossed_below

QUICK = "--quick" in sys.argv
warnings.filterwarnings("ignore")  # the peers' deprecation chatter
os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bar in backtesting.py's timing (set before importing it)
import backtesting  # noqa: E402
import vectorbt as vbt  # noqa: E402
from backtesting.lib import crossover  # noqa: E402
from backtesting.test import GOOG, SMA  # noqa: E402


def autorange(fn: Callable[[], Any], seconds: float = 0.05) -> int:
    """The number of back-to-back calls of ``fn`` lasting at least ``seconds`` (1, 2, 5, 10,
    20, ... as :meth:`timeit.Timer.autorange` counts them)."""
    n = 1
    while True:
        for k in (1, 2, 5):
            t0 = time.perf_counter()
            for _ in range(n * k):
                fn()
            if time.perf_counter() - t0 >= seconds:
                return n * k
        n *= 10


def best_of(runs: int, **fns: Callable[[], Any]) -> dict[str, float]:
    """Best time per call of each function, the way :mod:`timeit` measures: after one warm-up
    call each and the batch size (:func:`autorange`), ``runs`` rounds in which every function in turn runs a batch of back-to-back calls
    (enough to last ~50 ms, at least one) with the garbage collector off (collected before each
    batch); a batch's time per call is its time divided by its calls."""
    batch = {}
    for name, fn in fns.items():
        fn()  # warm-up: a first call may load or compile a kernel
        batch[name] = autorange(fn)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(runs):
        for name, fn in fns.items():
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(batch[name]):
                    fn()
                best[name] = min(best[name], (time.perf_counter() - t0) / batch[name])
            finally:
                gc.enable()
    return best


def row(case: str, ours: float, peer: float, peer_name: str, target: str, ok: bool, **extra: Any) -> dict[str, Any]:
    return {"case": case, "peer": peer_name, "ours_s": round(ours, 6), "peer_s": round(peer, 6),
            "ratio": round(ours / peer, 4), "speedup": round(peer / ours, 2), "target": target, "met": bool(ok),
            **extra}


class Given(Strategy):
    """A vectorized strategy returning signals computed beforehand (no parameters)."""

    def __init__(self, signals: Signals) -> None:
        object.__setattr__(self, "_signals", signals)
        super().__init__()

    def signals(self, bars: Any) -> Signals:
        return self._signals


def shifted(a: np.ndarray) -> np.ndarray:
    """Signals one bar later: a decision at bar t's close is vectorbt's order at bar t+1's open."""
    out = np.zeros_like(a)
    out[1:] = a[:-1]
    return out


# -- 1. GOOG, end to end ------------------------------------------------------------------------

class BtSmaCross(backtesting.Strategy):
    def init(self) -> None:
        self.fast = self.I(SMA, self.data.Close, 10)
        self.slow = self.I(SMA, self.data.Close, 20)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.buy()
        elif crossover(self.slow, self.fast):
            self.sell()


def case_goog(runs: int) -> list[dict[str, Any]]:
    bars, strategy = wd.sample("GOOG"), SmaCross(fast=10, slow=20, direction="both")
    settings = dict(cash=10_000, fees=0.002, lot_size=1)
    df = GOOG
    close, open_ = df["Close"], df["Open"]

    def ours_stats() -> Any:
        res = wb.backtest(bars, strategy, **settings)
        res.stats  # noqa: B018  (every figure computed)
        return res

    def ours_plain() -> Any:
        return wb.backtest(bars, strategy, **settings)

    def bt() -> Any:
        return backtesting.Backtest(df, BtSmaCross, cash=10_000, commission=0.002, exclusive_orders=True).run()

    def vb() -> Any:
        fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 20)
        up, down = fast.ma_crossed_above(slow).to_numpy(), fast.ma_crossed_below(slow).to_numpy()
        s = lambda a: pd.Series(shifted(a), index=df.index)  # noqa: E731
        no = pd.Series(False, index=df.index)
        pf = vbt.Portfolio.from_signals(
            close, entries=s(up), exits=no, short_entries=s(down), short_exits=no, price=open_,
            size=np.inf, size_type="amount", size_granularity=1, fees=0.002, upon_opposite_entry="reverse",
            init_cash=10_000, freq="1D",
        )
        return pf, pf.total_return()

    res, stats_bt, (pf, _) = ours_stats(), bt(), vb()
    same_equity = np.allclose(res.equity["equity"].to_numpy(), stats_bt._equity_curve["Equity"].to_numpy(), rtol=0, atol=1e-6)
    same_final = abs(res.final_equity - float(pf.final_value())) < 1e-6
    assert same_equity and same_final, (res.final_equity, stats_bt["Equity Final [$]"], float(pf.final_value()))
    t = best_of(runs, ours_stats=ours_stats, ours_plain=ours_plain, bt=bt, vb=vb)
    extra = {"ours_without_stats_s": round(t["ours_plain"], 6), "final_equity": round(res.final_equity, 2),
             "n_trades": res.stats.n_trades}
    return [
        row("goog", t["ours_stats"], t["bt"], "backtesting.py 0.6 Backtest.run()", ">= 100x faster",
            t["bt"] / t["ours_stats"] >= 100, **extra),
        row("goog", t["ours_stats"], t["vb"], "vectorbt MA + from_signals + total_return()", "faster",
            t["vb"] > t["ours_stats"], **extra),
    ]


# -- 2 and 3. synthetic bars from given signals --------------------------------------------------

def cross_signals(close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fast, slow = ind.sma(close, 50), ind.sma(close, 200)
    return crossed_above(fast, slow), crossed_below(fast, slow)


def vbt_run(close: np.ndarray, open_: np.ndarray, up: np.ndarray, down: np.ndarray) -> Any:
    frame = lambda a: pd.DataFrame(a)  # noqa: E731
    pf = vbt.Portfolio.from_signals(frame(close), frame(shifted(up)), frame(shifted(down)), price=frame(open_),
                                    size=np.inf, size_type="amount", fees=0.0005, init_cash=10_000.0)
    return pf, np.asarray(pf.final_value(), dtype=float).reshape(-1)


def case_synthetic(case: str, n_bars: int, n_symbols: int, runs: int, target: float) -> dict[str, Any]:
    bars = wd.synthetic(n_bars, n_symbols, seed=7, every="1m", periods_per_year=252 * 390)
    frame, view = prepare_bars(bars)
    up, down = cross_signals(view.close)
    strategy, settings = Given(Signals(entries=up, exits=down)), dict(cash=10_000.0, fees=0.0005)
    cfg = BacktestConfig(**settings)

    arrays = wd.to_arrays(bars)

    def ours() -> Any:  # from the wide arrays, like vectorbt
        res = wb.backtest(arrays, strategy, **settings)
        return res, res.equity_values[-1]

    def ours_frame() -> Any:  # from the long-format frame (its conversion to arrays included)
        res = wb.backtest(bars, strategy, **settings)
        return res, res.equity_values[-1]

    def engine() -> Any:  # the simulation and the result alone, from the checked view
        out, stop_mode = run_signals(cfg, view, strategy.signals(view))
        res = BacktestResult._from_kernel(cfg, strategy, frame, view, out, stop_mode=stop_mode)
        return res, res.equity_values[-1]

    def vb() -> Any:
        return vbt_run(view.close, view.open, up, down)

    (res, final), (pf, vfinal) = ours(), vb()
    filled = int((res.order_records["status"] == 0).sum())
    assert np.allclose(final, vfinal, rtol=1e-9, atol=1e-6), (final[:5], vfinal[:5])
    assert np.array_equal(ours_frame()[1], final)
    assert filled == len(pf.orders.values), (filled, len(pf.orders.values))
    t = best_of(runs, ours=ours, ours_frame=ours_frame, engine=engine, vb=vb)
    return row(case, t["ours"], t["vb"], "vectorbt Portfolio.from_signals + final_value()",
               f"<= 1/{target:g} of vectorbt", t["ours"] <= t["vb"] / target,
               ours_from_long_frame_s=round(t["ours_frame"], 6),
               ratio_from_long_frame=round(t["ours_frame"] / t["vb"], 4),
               ours_engine_s=round(t["engine"], 6), n_bars=n_bars, n_symbols=n_symbols, n_fills=filled,
               final_value=round(float(final.sum()), 4))


# -- 4. a fresh process --------------------------------------------------------------------------

ONE_RUN = (
    "import workbench as wb\n"
    "from workbench.strategies import SmaCross\n"
    "r = wb.backtest(wb.data.sample('GOOG'), SmaCross(fast=10, slow=20, direction='both'), cash=10_000,"
    " fees=0.002, lot_size=1)\n"
    "assert round(r.final_equity, 2) == 56263.52 and r.stats.n_trades == 93\n"
)


def fresh_process(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def settled(cache: str, timeout: float = 120.0) -> None:
    """Wait until no second compiling process works on ``cache`` (workbench.nb.warm holds
    ``warm.lock`` there), so that the warm runs find the cache filled."""
    deadline = time.monotonic() + timeout
    from workbench.nb.warm import LOCK

    while os.path.exists(os.path.join(cache, LOCK)) and time.monotonic() < deadline:
        time.sleep(0.2)


def case_cold_start(runs: int) -> list[dict[str, Any]]:
    times = {}
    for name, code in (("ours", ONE_RUN), ("vbt", "import vectorbt")):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "WORKBENCH_HOME": home, "NUMBA_CACHE_DIR": os.path.join(home, "numba-cache")}
            times[name, "cold"] = fresh_process(code, env)
            settled(os.path.join(home, "numba-cache"))
            times[name, "warm"] = min(fresh_process(code, env) for _ in range(runs))
    what = "a fresh process: import workbench, GOOG backtest and its stats"
    return [
        row("cold_start", times["ours", "cold"], times["vbt", "cold"], "a fresh process importing vectorbt (empty cache)",
            "<= 10 s", times["ours", "cold"] <= 10.0, what=f"{what}, empty Numba cache (compilation included)"),
        row("warm_start", times["ours", "warm"], times["vbt", "warm"], "a fresh process importing vectorbt (cache filled)",
            "<= 1 s", times["ours", "warm"] <= 1.0, what=f"{what}, Numba cache filled"),
    ]


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?") \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    import numba

    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu,
            "cores": os.cpu_count(), "load_avg": [round(x, 2) for x in os.getloadavg()],
            "versions": {"workbench": wb.__version__, "numpy": np.__version__, "numba": numba.__version__,
                         "polars": pl.__version__, "pandas": pd.__version__, "vectorbt": vbt.__version__,
                         "backtesting": backtesting.__version__}}


def main() -> None:
    t0 = time.perf_counter()
    runs = 3 if QUICK else 7
    results = case_goog(runs * 3)
    results.append(case_synthetic("bars_1m", 100_000 if QUICK else 1_000_000, 1, runs, 3))
    results.append(case_synthetic("bars_10k_x_1000", 2_000 if QUICK else 10_000, 200 if QUICK else 1_000,
                                  2 if QUICK else 3, 5))
    results += case_cold_start(2 if QUICK else 3)
    print(json.dumps({"benchmark": "engine", "quick": QUICK, "machine": machine(), "results": results,
                      "total_s": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
