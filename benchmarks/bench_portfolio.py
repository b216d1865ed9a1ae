"""Rolling allocation backtests: workbench against skfolio's walk-forward, and cost vs universe size.

1. The 20-stock sample (daily, 1990-2022, ~8,300 bars): a monthly-rebalanced rolling
   minimum-variance and HRP backtest (252-day trailing window, sample covariance), timed next to
   skfolio's ``cross_val_predict(..., cv=WalkForward(train_size=252, test_size=21))`` doing the same
   re-estimation (``MeanRisk()`` — minimum variance, long-only, sample moments — and
   ``HierarchicalRiskParity()``). skfolio's HRP clusters with Ward linkage by default, so ours is
   run with ``linkage="ward"`` too. skfolio only re-estimates and predicts the test-window returns;
   workbench also simulates the account (orders, costs, cash) — its time includes that.
2. Synthetic universes of 2,500 daily bars and 50…500 assets: time of the rolling estimation
   (Ledoit-Wolf covariance) and of the simulation, per method, to show how cost grows with assets.

Prints one JSON line. Run: ``python benchmarks/bench_portfolio.py`` (several minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("WORKBENCH_HOME", tempfile.mkdtemp(prefix="wb-bench-"))


import workbench as wb  # noqa: E402
from workbench.portfolio import rebalance, rolling_weights  # noqa: E402

SIZES = (50, 100, 250, 500)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _ours(bars, method: str, options: dict, covariance: str) -> dict:
    weights, t_est = _timed(rolling_weights, bars, method=method, lookback=252, schedule="monthly",
                            covariance=covariance, options=options)
    res, t_sim = _timed(rebalance, bars, weights, schedule=None, fees=0.0005)
    return {"seconds": round(t_est + t_sim, 3), "estimation_s": round(t_est, 3), "simulation_s": round(t_sim, 4),
            "rebalances": res.rebalances.height, "final_equity": round(res.final_equity, 2)}


def _skfolio(estimator) -> dict:
    from skfolio.datasets import load_sp500_dataset
    from skfolio.model_selection import WalkForward, cross_val_predict
    from skfolio.preprocessing import prices_to_returns

    x = prices_to_returns(load_sp500_dataset())
    pred, seconds = _timed(cross_val_predict, estimator, x, cv=WalkForward(train_size=252, test_size=21))
    return {"seconds": round(seconds, 3), "rebalances": len(pred.portfolios)}


def stocks20() -> dict:
    from skfolio.optimization import HierarchicalRiskParity, MeanRisk

    bars = wb.data.sample("STOCKS20")
    rebalance(wb.data.synthetic(300, n_symbols=3, seed=0), [0.5, 0.3, 0.2])  # compile (or load) the kernel
    out = {"bars": int(bars["ts"].n_unique()), "assets": int(bars["symbol"].n_unique())}
    for name, method, options, sk in (("min_variance", "min_variance", {}, MeanRisk()),
                                      ("hrp", "hierarchical_risk_parity", {"linkage": "ward"}, HierarchicalRiskParity())):
        ours = _ours(bars, method, options, "sample")
        theirs = _skfolio(sk)
        out[name] = {"workbench": ours, "skfolio_walk_forward": theirs,
                     "speedup": round(theirs["seconds"] / ours["seconds"], 2)}
    return out


def scaling() -> dict:
    out: dict = {"bars": 2_500, "schedule": "monthly", "lookback": 252, "covariance": "ledoit_wolf"}
    for n in SIZES:
        bars = wb.data.synthetic(2_500, n_symbols=n, seed=n)
        row = {}
        for name, method in (("hrp", "hierarchical_risk_parity"), ("min_variance", "min_variance")):
            r = _ours(bars, method, {}, "ledoit_wolf")
            r["per_rebalance_s"] = round(r["estimation_s"] / r["rebalances"], 4)
            row[name] = r
        out[str(n)] = row
    return out


def main() -> None:
    report = {
        "benchmark": "portfolio_rolling_allocation",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "stocks20": stocks20(),
        "synthetic_2500_days": scaling(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
