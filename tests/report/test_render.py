"""The tearsheet rendered for real: in headless Chromium (no console error, no request but the
page itself; a screenshot is saved) and as a PDF by WeasyPrint (A4, vector, pages as PNG with
pdftoppm, none blank, no chart split across pages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from workbench.report import render_html, report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOPPM = shutil.which("pdftoppm")
pytestmark = pytest.mark.xdist_group("browser")


def _need(tool: str | None, what: str, package: str) -> None:
    if tool is None:
        if os.environ.get("WORKBENCH_SKIP_BROWSER") == "1":
            pytest.skip(f"WORKBENCH_SKIP_BROWSER=1 and no {what}")
        pytest.fail(f"{what} is needed: install Debian's `{package}` package (.ci/run does).")


def test_html_loads_offline_in_chromium(backtest_result, tmp_path):
    _need(CHROMIUM, "headless Chromium", "chromium")
    from playwright.sync_api import sync_playwright

    path = report(backtest_result, tmp_path / "report.html")
    url = path.as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            page.get_by_text("Key metrics").wait_for()
            assert page.locator("figure.chart svg").count() >= 10
            rows = page.locator("table[data-page-rows] tbody tr")
            assert rows.nth(0).is_visible() and not rows.nth(25).is_visible()
            page.get_by_role("button", name="next →").first.click()
            assert rows.nth(25).is_visible() and not rows.nth(0).is_visible()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [url]
    assert errors == []
    assert (tmp_path / "report.png").stat().st_size > 50_000


def _pages(pdf: Path, tmp_path: Path) -> list[Path]:
    subprocess.run([PDFTOPPM, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    return sorted(tmp_path.glob("page-*.png"))


def _ink(png: Path) -> float:
    """Fraction of pixels that are not white."""
    from PIL import Image

    a = np.asarray(Image.open(png).convert("L"))
    return float((a < 245).mean())


def test_pdf_is_a4_vector_and_has_no_blank_page(backtest_result, tmp_path):
    _need(PDFTOPPM, "pdftoppm", "poppler-utils")
    pdf = report(backtest_result, tmp_path / "report.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    n_pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # header and key metrics (2 pages), 11 charts (3), tables and 33 trades (1), in DejaVu fonts
    assert n_pages == 6
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only: charts are vector paths
    pngs = _pages(pdf, tmp_path)
    assert len(pngs) == n_pages
    for png in pngs:
        assert _ink(png) > 0.01, f"{png.name} is blank"


def test_no_chart_is_split_across_pages(backtest_result):
    """Each chart's box lies on one page of WeasyPrint's layout (the figure count over all pages
    equals the figures in the page: a split figure would be counted on two)."""
    from weasyprint import HTML

    from workbench.report._html import render_html as page_of
    from workbench.report._kinds import report_data

    page = page_of(report_data(backtest_result), for_pdf=True)
    doc = HTML(string=page).render()

    def figures(box) -> int:
        own = 1 if getattr(box, "element_tag", None) == "figure" else 0
        return own + sum(figures(c) for c in getattr(box, "children", ()) if getattr(box, "element_tag", None) != "figure")

    per_page = [figures(p._page_box) for p in doc.pages]
    assert sum(per_page) == page.count('<figure class="chart">')
    assert render_html(backtest_result).count('<figure class="chart">') == page.count('<figure class="chart">')
