"""The second compiling process on an empty kernel cache: its kernels and signatures are the ones
a backtest needs, it starts once and only when the cache is cold, and switching it off works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.nb import warm

BACKTEST = """
import json, sys
import workbench as wb
from workbench.nb import warm
r = wb.backtest(wb.data.sample("GOOG"), wb.strategies.SmaCross(fast=10, slow=20, direction="both"),
                cash=10_000, fees=0.002, lot_size=1)
stats = r.stats
compiled = {name: [str(s) for s in warm._kernel(module, name).signatures] for module, name in (*warm.TASKS, warm.STATS)}
expected = {name: str(sig) for name, sig in warm.signatures().items()}
print(json.dumps({"final": round(r.final_equity, 2), "trades": stats.n_trades, "compiled": compiled,
                  "expected": expected}))
"""


def _fresh(tmp_path: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("NUMBA_CACHE_DIR", "WORKBENCH_PARALLEL_COMPILE", "WORKBENCH_STATS_KERNEL")}
    environ.update(WORKBENCH_HOME=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", BACKTEST], env=environ, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _indexes(tmp_path: Path) -> dict[str, bool]:
    found = {p.name for p in (tmp_path / "numba-cache").rglob("*.nbi")}
    return {name: any(f".{name}-" in f for f in found) for _, name in (*warm.TASKS, warm.STATS)}


@pytest.fixture(scope="module")
def oracle(backtesting_py_goog) -> tuple[float, int]:
    """Final equity and closed trades of the same backtest run by backtesting.py."""
    stats, _ = backtesting_py_goog
    return round(float(stats["Equity Final [$]"]), 2), int(stats["# Trades"])


@pytest.mark.xdist_group("cold_cache")
def test_the_warm_kernels_and_signatures_are_the_ones_a_backtest_compiles(tmp_path: Path, oracle):
    # everything compiled in the one process, the statistics kernel too
    got = _fresh(tmp_path, WORKBENCH_PARALLEL_COMPILE="0", WORKBENCH_STATS_KERNEL="always")
    assert (got["final"], got["trades"]) == oracle
    for name, expected in got["expected"].items():
        assert got["compiled"][name] == [expected], name
    assert all(_indexes(tmp_path).values())


@pytest.mark.xdist_group("cold_cache")
def test_a_cold_cache_starts_the_second_process_and_it_fills_the_cache(tmp_path: Path, oracle):
    got = _fresh(tmp_path)
    assert (got["final"], got["trades"]) == oracle
    deadline = time.monotonic() + 120
    while not all(_indexes(tmp_path).values()) and time.monotonic() < deadline:
        time.sleep(0.5)  # the second process may still be writing its last kernel
    assert all(_indexes(tmp_path).values()), _indexes(tmp_path)


class _Kernel:
    def __init__(self, index: Path) -> None:
        self._cache = type("C", (), {"_cache_file": type("F", (), {"_index_path": str(index)})()})()


def test_start_runs_once_per_process_and_only_on_a_cold_cache(tmp_path: Path, monkeypatch):
    calls = []
    cold, cached = _Kernel(tmp_path / "missing.nbi"), _Kernel(tmp_path / "there.nbi")
    (tmp_path / "there.nbi").write_text("")
    monkeypatch.delenv("WORKBENCH_PARALLEL_COMPILE", raising=False)
    monkeypatch.setattr(warm, "_checked", set())
    monkeypatch.setattr(warm, "_started", set())
    assert warm.start(cold, popen=lambda args, **kw: calls.append(args)) is True
    assert calls == [[sys.executable, "-m", "workbench.nb.warm", *(name for _, name in (*warm.TASKS, warm.STATS))]]
    assert warm.start(cold, popen=lambda args, **kw: calls.append(args)) is False  # once per process
    monkeypatch.setattr(warm, "_checked", set())
    assert warm.start(cached, popen=lambda args, **kw: calls.append(args)) is False  # cached: nothing to do
    monkeypatch.setattr(warm, "_checked", set())
    monkeypatch.setenv("WORKBENCH_PARALLEL_COMPILE", "0")
    assert warm.start(cold, popen=lambda args, **kw: calls.append(args)) is False  # switched off
    assert len(calls) == 1
    monkeypatch.delenv("WORKBENCH_PARALLEL_COMPILE")
    monkeypatch.setattr(warm, "_checked", set())
    assert warm.start(cold, (warm.STATS,), popen=lambda args, **kw: calls.append(args)) is False  # started already
    assert warm.is_cold(object()) is False  # no cache to look at: do not guess


def test_one_second_process_per_cache(tmp_path: Path, monkeypatch):
    """While a second process holds the cache's lock, no other starts or compiles; a lock left by
    a process that died (untouched for STALE_S) is taken over."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    lock = tmp_path / warm.LOCK
    assert warm._take() and lock.exists()
    assert not warm._take()  # held
    calls = []
    monkeypatch.delenv("WORKBENCH_PARALLEL_COMPILE", raising=False)
    monkeypatch.setattr(warm, "_checked", set())
    monkeypatch.setattr(warm, "_started", set())
    assert warm.start(_Kernel(tmp_path / "missing.nbi"), popen=lambda args, **kw: calls.append(args)) is False
    assert calls == []
    compiled = []
    monkeypatch.setattr(warm, "_kernel", lambda module, name: compiled.append(name))
    warm.main(["stats_nb"])
    assert compiled == [] and lock.exists()  # another process is at work: nothing done, its lock kept
    old = time.time() - warm.STALE_S - 1
    os.utime(lock, (old, old))
    assert warm._take()  # left over: taken over
