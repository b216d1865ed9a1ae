"""The backtest explorer, served by Panel and driven in real headless Chromium.

Screenshots are saved in tests/_artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.dashboards.conftest import free_port, need_chromium, serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "_artifacts"
pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    need_chromium()
    port = free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path_factory.mktemp("home"))}
    cmd = [sys.executable, "-m", "panel", "serve", str(ROOT / "dashboards" / "backtest_explorer.py"),
           "--port", str(port), "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"]
    url = f"http://127.0.0.1:{port}/backtest_explorer"
    with serve(cmd, url, env, timeout=120):
        yield url


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=need_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(served, wait_until="networkidle", timeout=120_000)
        yield pg
        browser.close()


def test_page_shows_the_default_backtest(page):
    page.get_by_text("Backtest explorer").first.wait_for(timeout=60_000)
    page.get_by_text("SmaCross(fast=10, slow=20, direction='both')").first.wait_for(timeout=60_000)
    assert page.get_by_text("Sharpe ratio").count() >= 1
    assert page.get_by_text("462.64%").count() >= 1  # the README's and the demo's figure
    # the trades table (wider than its column) scrolls inside it, with a gap before the statistics
    table = page.locator(".tabulator").first.bounding_box()
    stats = page.locator("table.workbench-stats").first.bounding_box()
    assert table is not None and stats is not None
    assert table["x"] + table["width"] < stats["x"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "backtest_explorer.png"), full_page=True)


def test_choosing_another_strategy_regenerates_its_widgets_and_reruns(page):
    strategy_select = page.locator("select:has(option[value='RsiMeanReversion'])").first
    strategy_select.select_option("RsiMeanReversion")
    page.get_by_text("RsiMeanReversion(window=14").first.wait_for(timeout=60_000)
    assert page.get_by_text("oversold").count() + page.get_by_text("lower").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "backtest_explorer_rsi.png"), full_page=True)
