"""Run ids that cover the strategy's code, and re-running / verifying runs from the store."""

from __future__ import annotations

import linecache
import subprocess
import sys
import types
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.errors import StoreError
from workbench.store import Store
from workbench.strategies import SmaCross

_TEMPLATE = '''
import numpy as np
from workbench.strategies import Strategy, Signals, Param
{helper}

class Probe(Strategy):
    """A probe."""
    window = Param(5, low=2, high=50)

    def signals(self, bars):
        c = bars.close
        mean = np.full_like(c, np.nan)
        for t in range(self.window, len(c)):
            mean[t] = c[t - self.window:t].mean()
        up = c {op} mean * {scale}
        return Signals(entries=up, exits=~up)
'''


def _module(source: str, name: str = "strategies_probe") -> types.ModuleType:
    """A module ``name`` defined from ``source``, its text kept by ``linecache`` (as a notebook
    cell's): every variant has the same module name, class name, version and parameters."""
    mod = types.ModuleType(name)
    filename = f"<probe-{uuid.uuid4().hex[:10]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), mod.__dict__)
    return mod


def _probe(op: str = ">", scale: str = "1.0", helper: str = "", layout: str = "") -> type:
    source = _TEMPLATE.format(op=op, scale=scale, helper=helper)
    if layout:  # reformatting only: blank lines, comments, spacing
        source = source.replace("c = bars.close", "c  =  bars.close   # the closes\n").replace("\n\n", "\n\n\n")
    return _module(source).Probe


def _run_id(cls: type) -> str:
    return wb.backtest(wb.data.sample("GOOG"), cls(window=5)).run_id


def test_two_strategies_with_one_name_get_two_ids_and_both_are_kept(tmp_path: Path) -> None:
    """Regression: the id ignored the code, so the second save overwrote the first."""
    a, b = _probe(">"), _probe("<")
    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    ra, rb = (wb.backtest(wb.data.sample("GOOG"), c(window=5)) for c in (a, b))
    assert ra.final_equity != rb.final_equity
    assert ra.save(store) != rb.save(store)
    assert store.run(ra.run_id).metrics["total_return"] == ra.stats.total_return
    assert store.runs().height == 2


def test_whitespace_and_comments_do_not_change_the_id() -> None:
    assert _run_id(_probe()) == _run_id(_probe(layout="reformatted"))


def test_a_helper_function_and_a_numba_callback_are_part_of_the_code() -> None:
    helper = "def scale_of(x):\n    return x * {k}\n"
    a = _module(_TEMPLATE.format(op=">", scale="scale_of(1.0)", helper=helper.format(k=1))).Probe
    b = _module(_TEMPLATE.format(op=">", scale="scale_of(1.0)", helper=helper.format(k=2))).Probe
    from workbench.strategies._code import code_of

    assert code_of(a).hash != code_of(b).hash
    assert "def scale_of" in code_of(a).source
    numba_src = '''
import numba
from workbench.nb.enums import I_ENTRY, I_EXIT, S_UNITS
from workbench.strategies import Strategy

@numba.njit
def decide(t, open, high, low, close, volume, state, cash, intent, extra):
    if t > 0 and close[t, 0] > close[t - 1, 0] * {k}:
        intent[0, I_ENTRY] = 1
    elif state[0, S_UNITS] > 0:
        intent[0, I_EXIT] = 2

class Bars1(Strategy):
    on_bar_nb = staticmethod(decide)
'''
    n1 = _module(numba_src.format(k="1.0")).Bars1
    n2 = _module(numba_src.format(k="1.01")).Bars1
    assert code_of(n1).hash != code_of(n2).hash
    assert "def decide" in code_of(n1).source


_OPS = st.sampled_from([">", "<", ">=", "<="])
_SCALES = st.sampled_from(["1.0", "1.001", "0.999", "1.01"])


@settings(max_examples=25, deadline=None)
@given(a=st.tuples(_OPS, _SCALES), b=st.tuples(_OPS, _SCALES))
def test_property_any_change_of_the_code_changes_the_run_id(a: tuple, b: tuple) -> None:
    from workbench.strategies._code import code_of

    ca, cb = _probe(*a), _probe(*b, layout="reformatted")
    same_code = a == b
    assert (code_of(ca).hash == code_of(cb).hash) is same_code
    ra, rb = (wb.backtest(wb.data.sample("GOOG"), c(window=5)).spec for c in (ca, cb))
    assert (ra == rb) is same_code


def test_rerun_and_verify_a_backtest(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    res = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=7, slow=25, direction="both"), fees=0.001)
    run_id = res.save(store)
    fresh = store.rerun(run_id)
    assert fresh.run_id == run_id and fresh.final_equity == res.final_equity
    report = store.verify(run_id)
    assert report.equal, report
    assert {c.name for c in report.checks if c.what == "artifact"} == {"equity", "trades", "orders", "benchmark"}
    assert any(c.name == "sharpe_ratio" for c in report.checks)


def test_verify_reports_a_tampered_artifact(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    run_id = wb.backtest(wb.data.sample("GOOG"), SmaCross()).save(store)
    path = store.artifacts_dir / store.run(run_id).artifacts["equity"]
    import polars as pl

    eq = pl.read_parquet(path)
    eq.with_columns(pl.when(pl.int_range(pl.len()) == 100).then(pl.col("equity") + 1e-9)
                    .otherwise(pl.col("equity")).alias("equity")).write_parquet(path)
    report = store.verify(run_id)
    assert not report.equal
    (diff,) = report.differences
    assert diff.name == "equity" and "row 100" in diff.detail


def test_bars_that_are_gone_are_named_by_their_hash(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db", artifacts_dir=tmp_path / "a")
    bars = wb.data.synthetic(300, seed=11)
    res = wb.backtest(bars, SmaCross())
    run_id = res.save(store, keep_data=False)
    with pytest.raises(StoreError, match=res.dataset_hash):
        store.rerun(run_id)
    kept = wb.backtest(bars, SmaCross(fast=12)).save(store)  # kept by default: small, not registered
    assert "bars" in store.run(kept).artifacts
    assert store.verify(kept).equal


_NOTEBOOK = '''
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
cells = [
    "import sys\\nimport numpy as np\\nimport workbench as wb\\nfrom workbench.strategies import Strategy, Signals, Param\\nfrom workbench.store import Store",
    "LEVEL = 1.002\\nclass Momentum(Strategy):\\n    lookback = Param(10, low=2, high=100)\\n\\n"
    "    def signals(self, bars):\\n        c = bars.close\\n        up = np.zeros_like(c, dtype=bool)\\n"
    "        up[self.lookback:] = c[self.lookback:] > c[:-self.lookback] * LEVEL\\n        return Signals(entries=up, exits=~up)",
    "prices = wb.data.sample('GOOG')\\nclass Closure(Strategy):\\n    def signals(self, bars):\\n"
    "        up = bars.close > prices['close'].mean()\\n        return Signals(entries=up, exits=~up)",
    "store = Store(sys.argv[1], artifacts_dir=sys.argv[2])\\n"
    "print(wb.backtest(prices, Momentum()).save(store))\\nprint(wb.backtest(prices, Closure()).save(store))",
]
for cell in cells:
    result = shell.run_cell(cell)
    result.raise_error()
'''


def test_a_notebook_strategy_is_rerun_in_another_process(tmp_path: Path) -> None:
    url, art = f"sqlite:///{tmp_path}/w.db", tmp_path / "a"
    proc = subprocess.run([sys.executable, "-c", _NOTEBOOK, url, str(art)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    good, closure = proc.stdout.split()[-2:]
    store = Store(url, artifacts_dir=art)
    assert store.run(good).spec["strategy"]["module"] == "__main__"
    report = store.verify(good)
    assert report.equal, report
    with pytest.raises(StoreError, match=r"cannot be re-run.*prices"):
        store.rerun(closure)


def test_runs_verify_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WORKBENCH_DB_URL", raising=False)
    with Store() as store:
        a = wb.backtest(wb.data.sample("GOOG"), SmaCross()).save(store)
        wb.optimize.grid(wb.data.sample("GOOG"), SmaCross, fast=[5, 10], slow=[20, 30], direction="long",
                         overfit=False, store=store)
    runner = CliRunner()
    one = runner.invoke(app, ["runs", "verify", a[:8]], env={"COLUMNS": "200"})
    assert one.exit_code == 0, one.output
    assert f"{a}  backtest  equal" in one.output
    every = runner.invoke(app, ["runs", "verify", "--all"], env={"COLUMNS": "200"})
    assert every.exit_code == 0, every.output
    assert "2 of 2 run(s) reproduce bit for bit" in every.output
    bad = runner.invoke(app, ["runs", "verify"])
    assert bad.exit_code == 2


def test_rerun_on_postgres(store: Store) -> None:
    bars = wb.data.sample("GOOG")
    run_id = wb.backtest(bars, SmaCross(fast=4, slow=40)).save(store)
    res = wb.optimize.grid(bars, SmaCross, fast=[4, 8], slow=[30, 60], direction="both", store=store)
    assert store.verify(run_id).equal
    assert store.verify(res.run_id).equal
    assert np.isfinite(store.rerun(res.run_id).best["sharpe_ratio"])
