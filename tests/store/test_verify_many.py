"""Fifty stored runs of every kind that can be re-run reproduce bit for bit in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np

import workbench as wb
from workbench.errors import StoreError
from workbench.nb.enums import I_ENTRY, I_EXIT, S_UNITS
from workbench.optimize import grid, random, study
from workbench.store import Store
from workbench.strategies import (
    DonchianBreakout,
    EmaCross,
    Param,
    RsiMeanReversion,
    SmaCross,
    Strategy,
    TrendPullback,
)


@numba.njit(cache=False)
def _up_days(t, open, high, low, close, volume, state, cash, intent, extra):
    if t >= 2 and close[t, 0] > close[t - 1, 0] > close[t - 2, 0]:
        intent[0, I_ENTRY] = 1
    elif t >= 1 and state[0, S_UNITS] > 0 and close[t, 0] < close[t - 1, 0]:
        intent[0, I_EXIT] = 2


class UpDays(Strategy):
    """A Numba per-bar strategy defined in this test module."""

    on_bar_nb = staticmethod(_up_days)


class Breakdown(Strategy):
    """A per-bar Python strategy."""

    window = Param(10, low=2, high=60)

    def on_bar(self, ctx):
        if len(ctx.close) > self.window:
            if ctx.close[-1, 0] > ctx.close[-self.window:-1, 0].max():
                ctx.buy()
            elif ctx.position() > 0 and ctx.close[-1, 0] < ctx.close[-self.window:-1, 0].min():
                ctx.exit()


_VERIFY = textwrap.dedent(
    """
    import json, sys
    from workbench.store import Store
    store = Store(sys.argv[1], artifacts_dir=sys.argv[2])
    out = {}
    for rid in json.loads(sys.argv[3]):
        report = store.verify(rid)
        out[rid] = [report.kind, report.equal, len(report.checks), repr(report)]
    print(json.dumps(out))
    """
)


def test_fifty_runs_of_every_kind_verify_in_a_fresh_process(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    goog, btc = wb.data.sample("GOOG"), wb.data.sample("BTCUSD")
    ids = []
    for fast, slow in [(5, 20), (10, 30), (15, 60), (20, 100), (8, 21)]:
        ids.append(wb.backtest(goog, SmaCross(fast=fast, slow=slow, direction="both"), fees=0.001).save(store))
        ids.append(wb.backtest(btc, EmaCross(fast=fast, slow=slow), slippage=0.0005).save(store))
    for lower, window in ((20.0, 10), (25.0, 20), (30.0, 30), (35.0, 40)):
        ids.append(wb.backtest(btc, RsiMeanReversion(lower=lower)).save(store))
        ids.append(wb.backtest(goog, DonchianBreakout(entry_window=window), fees=0.002, lot_size=1).save(store))
    for stop in (1.5, 2.0, 3.0):
        ids.append(wb.backtest(goog, TrendPullback(stop_atr=stop), sizing="risk", size=0.01).save(store))
    for window in (5, 10, 20, 40):
        ids.append(wb.backtest(goog, Breakdown(window=window)).save(store))
    ids.append(wb.backtest(goog, UpDays()).save(store))
    ids.append(wb.backtest(btc, UpDays(), fees=0.001).save(store))
    bars = wb.data.synthetic(400, seed=4)
    for fast in range(3, 17):
        ids.append(wb.backtest(bars, SmaCross(fast=fast, slow=30)).save(store))
    for fees in (0.0, 0.001, 0.002):
        ids.append(grid(goog, SmaCross, fast=range(5, 12), slow=[20, 40, 60], direction="both", fees=fees,
                        store=store).run_id)
    ids.append(grid(btc, RsiMeanReversion, window=[7, 14], lower=[25.0, 30.0], upper=[70.0], overfit=False,
                    store=store).run_id)
    for seed in (1, 2, 3):
        ids.append(random(goog, EmaCross, n_sets=12, seed=seed, direction="long", store=store).run_id)
    for seed in (1, 2, 3):
        study(goog, SmaCross, direction="long", fast=(2, 30), slow=(31, 120), n_trials=12, seed=seed,
              batch_size=4, store=store)
    ids.extend(store.runs(kind="optimization").filter(
        __import__("polars").col("spec").str.contains('"method":"study"'))["id"].to_list())
    assert len(set(ids)) == len(ids) >= 50
    proc = subprocess.run([sys.executable, "-c", _VERIFY, f"sqlite:///{tmp_path}/w.db", str(tmp_path / "a"),
                           json.dumps(ids)], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    reports = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {k for k, *_ in reports.values()} == {"backtest", "optimization"}
    unequal = {rid: r[3] for rid, r in reports.items() if not r[1]}
    assert not unequal
    assert all(r[2] > 1 for r in reports.values())


def test_a_portfolio_run_says_why_it_cannot_be_rerun(tmp_path: Path) -> None:
    import pytest

    from workbench.portfolio import rebalance

    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    bars = wb.data.synthetic(300, 3, seed=1)
    run_id = rebalance(bars, np.full(3, 1 / 3)).save(store)
    assert store.run(run_id).kind == "portfolio"
    with pytest.raises(StoreError, match="portfolio run.*cannot be re-run from the store"):
        store.rerun(run_id)
