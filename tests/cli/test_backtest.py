"""``workbench backtest STRATEGY``: the CLI runs exactly what the library runs, and saves it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import workbench as wb
from workbench.store import Store
from workbench.strategies import DonchianBreakout, SmaCross


def _api_run(strategy, **settings):
    return wb.backtest(wb.data.sample("GOOG"), strategy, **settings)


def _same_stats(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, float) and math.isnan(value):
            assert got[key] is None, key
        else:
            assert got[key] == value, key


def test_params_print_the_stats(cli, home) -> None:
    result = cli("backtest", "SmaCross", "--data", "GOOG", "--param", "fast=5", "--param", "slow=30")
    assert result.exit_code == 0, result.output
    res = _api_run(SmaCross(fast=5, slow=30))
    s = res.stats
    out = result.stdout
    assert out.startswith("SmaCross(fast=5, slow=30, direction='long') on GOOG")
    for label, text in (("Total return", f"{s.total_return:.2%}"), ("CAGR", f"{s.cagr:.2%}"),
                        ("Sharpe ratio", f"{s.sharpe_ratio:.3f}"), ("Max drawdown", f"{s.max_drawdown:.2%}"),
                        ("Trades", f"{s.n_trades:d}")):
        line = next(ln for ln in out.splitlines() if ln.startswith(f"   {label}  "))
        assert line.split()[-1] == text, (label, line)
    assert f"Run {res.run_id} (not saved" in out
    with Store() as store:
        assert store.runs().height == 0


def test_json_equals_the_library_result(cli, home) -> None:
    result = cli("backtest", "SmaCross", "--data", "GOOG", "--fast", "5", "--slow", "30", "--direction", "both",
                 "--fees", "0.001", "--lot-size", "1", "--no-reverse", "--sl", "0.05", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    res = _api_run(SmaCross(fast=5, slow=30, direction="both"), fees=0.001, lot_size=1, reverse=False, sl=0.05)
    assert got["run_id"] == res.run_id
    assert got["strategy"] == res.strategy.spec()
    assert got["config"]["reverse"] is False and got["config"]["sl"] == 0.05 and got["config"]["lot_size"] == 1
    assert got["dataset"] == {"name": "GOOG", "source": "sample:GOOG", "content_hash": res.dataset_hash}
    _same_stats(got["stats"], res.stats.to_dict())
    assert got["saved_to"] is None


def test_flags_and_params_are_the_same_run(cli, home) -> None:
    by_flag = json.loads(cli("backtest", "SmaCross", "--data", "GOOG", "--fast", "5", "--slow", "30", "--json").stdout)
    by_param = json.loads(cli("backtest", "smacross", "-d", "goog", "-p", "fast=5", "-p", "slow=30", "--json").stdout)
    assert by_flag["run_id"] == by_param["run_id"] == _api_run(SmaCross(fast=5, slow=30)).run_id


def test_save_records_the_run_with_its_params(cli, home) -> None:
    result = cli("backtest", "DonchianBreakout", "--data", "GOOG", "--entry-window", "30", "--param",
                 "exit_window=15", "--save")
    assert result.exit_code == 0, result.output
    res = _api_run(DonchianBreakout(entry_window=30, exit_window=15))
    assert f"Saved run {res.run_id} to sqlite:///{home / 'workbench.db'}" in result.stdout
    with Store() as store:
        rec = store.run(res.run_id[:8])
        assert rec.spec["strategy"]["params"] == {"entry_window": 30, "exit_window": 15}
        assert rec.metrics["total_return"] == pytest.approx(res.stats.total_return, rel=1e-12)
        assert set(rec.artifacts) == {"equity", "trades", "orders", "strategy", "bars", "benchmark"}


def test_backtest_a_file(cli, home, tmp_path: Path) -> None:
    path = tmp_path / "goog.parquet"
    wb.data.sample("GOOG").write_parquet(path)
    got = json.loads(cli("backtest", "EmaCross", "--data", str(path), "--json").stdout)
    res = wb.backtest(wb.data.load(path), wb.strategies.EmaCross())
    assert got["run_id"] == res.run_id
    assert got["dataset"]["source"] == str(path.resolve())
