"""``workbench dashboard`` served for real and driven in headless Chromium, offline.

Every page must load with no console error and no request to another host; screenshots go to
tests/_artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys

import optuna
import pytest

import workbench as wb
from tests.dashboards.conftest import free_port, serve
from workbench.jobs import _table
from workbench.optimize import grid
from workbench.optimize.study import store_storage_url
from workbench.store import Store
from workbench.strategies import SmaCross

pytestmark = pytest.mark.xdist_group("browser")
optuna.logging.set_verbosity(optuna.logging.WARNING)

# the values of a column of every Bokeh data source of the page holding it
COLUMN_JS = """(name) => {
  const out = [];
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data; if (d === undefined || d === null) continue;
    const col = d instanceof Map ? d.get(name) : d[name];
    if (col !== undefined) out.push(Array.from(col));
  }
  return out;
}"""
DISTS = {"fast": optuna.distributions.IntDistribution(2, 50), "slow": optuna.distributions.IntDistribution(10, 200)}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("dash-home")
    with Store(f"sqlite:///{home / 'workbench.db'}", artifacts_dir=home / "artifacts") as store:
        goog = wb.data.sample("GOOG")
        for fast in (5, 10, 15):
            wb.backtest(goog, SmaCross(fast=fast, slow=30), fees=0.001).save(store)
        grid(goog, SmaCross, fast=[5, 10, 20], slow=[30, 60], direction="long", store=store)
        study = optuna.create_study(storage=store_storage_url(store), study_name="live", direction="maximize")
        for i in range(3):
            t = study.ask(DISTS)
            study.tell(t, float(i))
        url = store_storage_url(store)
        _table.insert_batch(store.engine, {"id": "b1", "name": "sweep", "notebook": "nb.ipynb", "kernel_name": "python3",
                                           "output_dir": str(home / "out"), "options": {}}, [{"fast": 5}, {"fast": 10}])
    return home, url


@pytest.fixture(scope="module")
def server(home):
    port = free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home[0])}
    env.pop("WORKBENCH_DB_URL", None)
    cmd = [sys.executable, "-m", "workbench", "dashboard", "--port", str(port)]
    with serve(cmd, f"http://127.0.0.1:{port}/runs", env):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(("page_name", "shows"), [
    ("runs", "of 4 runs"), ("monitor", "Pick a study or a stored sweep"), ("explorer", "Sharpe ratio"),
    ("portfolio", "over 384 rebalances"), ("batches", "queued: 2"),
])
def test_every_page_loads_offline_without_errors(server, open_page, page_name, shows):
    p = open_page()
    page = p.goto(f"{server}/{page_name}")
    page.get_by_text(shows).first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    p.screenshot(f"dashboard_{page_name}")
    p.assert_clean()


def test_runs_page_lists_runs_and_opens_a_run(server, open_page):
    p = open_page()
    page = p.goto(f"{server}/runs")
    page.get_by_text("of 4 runs").first.wait_for(timeout=60_000)
    page.locator(".tabulator-row", has_text="fast=10").first.click()
    page.get_by_text("SmaCross(fast=10, slow=30, direction='long')").nth(1).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    p.screenshot("dashboard_runs_detail")
    assert max(len(c) for c in page.evaluate(COLUMN_JS, "equity")) > 100
    p.screenshot("dashboard_runs_detail")
    p.assert_clean()


def test_runs_page_names_an_unknown_run(server, open_page):
    p = open_page()
    page = p.goto(f"{server}/runs?run=nosuchrun")
    page.get_by_text("No run with id or id prefix 'nosuchrun'").first.wait_for(timeout=60_000)
    p.screenshot("dashboard_runs_unknown")
    p.assert_clean()


def test_a_parameter_change_redraws_equity_and_stats(server, open_page):
    p = open_page()
    page = p.goto(f"{server}/explorer")
    page.get_by_text("SmaCross(fast=10, slow=20,").first.wait_for(timeout=60_000)
    before_eq = page.evaluate(COLUMN_JS, "equity")
    before_stats = page.locator("table.workbench-stats").first.inner_text()
    handle = page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    page.get_by_text("SmaCross(fast=13, slow=20,").first.wait_for(timeout=60_000)
    assert page.evaluate(COLUMN_JS, "equity") != before_eq
    assert page.locator("table.workbench-stats").first.inner_text() != before_stats
    p.screenshot("dashboard_explorer_changed")
    p.assert_clean()


def test_a_trial_told_by_another_process_appears_within_a_second(server, home, open_page):
    p = open_page()
    page = p.goto(f"{server}/monitor?study=live")
    page.get_by_text("3 finished trials").first.wait_for(timeout=60_000)
    code = ("import optuna, sys\n"
            "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
            "s = optuna.load_study(study_name='live', storage=sys.argv[1])\n"
            "t = s.ask({'fast': optuna.distributions.IntDistribution(2, 50)})\n"
            "s.tell(t, 42.0)\n")
    subprocess.run([sys.executable, "-c", code, home[1]], check=True, timeout=120)
    page.get_by_text("4 finished trials").first.wait_for(timeout=1_000)
    assert 42.0 in page.evaluate(COLUMN_JS, "best")[0]
    p.screenshot("dashboard_monitor_live")
    p.assert_clean()


def test_monitor_names_an_unknown_study(server, open_page):
    p = open_page()
    page = p.goto(f"{server}/monitor?study=nosuch")
    page.get_by_text("No study or stored sweep named 'nosuch'").first.wait_for(timeout=60_000)
    p.assert_clean()


def test_a_public_bind_without_auth_is_refused(home):
    env = {**os.environ, "WORKBENCH_HOME": str(home[0])}
    env.pop("WORKBENCH_DASHBOARD_PASSWORD", None)
    out = subprocess.run([sys.executable, "-m", "workbench", "dashboard", "--address", "0.0.0.0", "--port", "0"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "needs authentication" in out.stderr and "WORKBENCH_DASHBOARD_PASSWORD" in out.stderr


def test_a_job_finishing_changes_its_state_on_the_batches_page(server, home, open_page):
    p = open_page()
    page = p.goto(f"{server}/batches?batch=b1")
    page.get_by_text("queued: 2").first.wait_for(timeout=60_000)
    with Store(f"sqlite:///{home[0] / 'workbench.db'}", artifacts_dir=home[0] / "artifacts") as store:
        job = _table.claim(store.engine, "b1", 1)[0]
        _table.start(store.engine, job["id"], job["claim"], worker="w1", workdir=str(home[0]))
        page.get_by_text("running: 1").first.wait_for(timeout=5_000)
        _table.finish(store.engine, job["id"], job["claim"], "failed", error="ZeroDivisionError: division by zero",
                      failed_cell="1 / 0")
    page.get_by_text("failed: 1").first.wait_for(timeout=5_000)
    page.locator(".tabulator-row", has_text="failed").first.click()
    page.get_by_text("Failing cell", exact=True).first.wait_for(timeout=10_000)
    page.get_by_text("1 / 0", exact=True).first.wait_for(timeout=10_000)
    p.screenshot("dashboard_batches_failed")
    p.assert_clean()
