"""Real servers and real headless Chromium for the dashboard tests.

:func:`serve` starts a server process on a free localhost port and stops it at the end;
:func:`open_page` opens a page in Chromium with every request to another host blocked and
recorded, and console errors collected: a test fails on either.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "_artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("WORKBENCH_SKIP_BROWSER") == "1":
            pytest.skip("WORKBENCH_SKIP_BROWSER=1 and no Chromium installed")
        pytest.fail("headless Chromium is needed: install Debian's `chromium` package (.ci/run does).")
    return CHROMIUM


@contextmanager
def serve(cmd: list[str], url: str, env: dict[str, str], *, timeout: float = 180) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` until ``url`` answers 200; terminate it (and wait) on exit."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"{cmd[:4]} exited with {proc.returncode}:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"{cmd[:4]} did not answer at {url}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    exe = need_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


class Page:
    """A Playwright page that blocks and records requests to other hosts and console errors."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(LOCAL):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def goto(self, url: str) -> Any:
        self.page.goto(url, wait_until="networkidle", timeout=180_000)
        return self.page

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def assert_clean(self) -> None:
        assert self.external == [], f"requests to other hosts: {self.external}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture()
def open_page(browser: Any) -> Iterator[Any]:
    pages: list[Page] = []

    def make() -> Page:
        pages.append(Page(browser))
        return pages[-1]

    yield make
    for p in pages:
        p.page.close()
