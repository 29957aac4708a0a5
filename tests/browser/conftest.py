"""Fixtures of the browser tests: the real server (demo data, its own SQLite file) and headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from live_server import PHONE, Server, running_server
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("FOREVER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """`forever demo`, then `forever serve` on a free port, with its own data directory."""
    with running_server() as running:
        yield running


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _context(browser: Browser, server: Server, **options: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server.url, locale="en-GB", timezone_id="Europe/Paris", **options)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def phone(browser: Browser, server: Server) -> Iterator[Page]:
    """A page on a phone-sized screen (375 x 812), touch enabled."""
    for context in _context(browser, server, viewport=PHONE, has_touch=True, is_mobile=True,
                            device_scale_factor=2):
        yield context.new_page()


@pytest.fixture
def desktop(browser: Browser, server: Server) -> Iterator[Page]:
    for context in _context(browser, server, viewport={"width": 1280, "height": 900}):
        yield context.new_page()


@pytest.fixture(scope="session")
def camera_browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with a fake camera (a test pattern) that pages may use without asking."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    yield chromium
    chromium.close()


@pytest.fixture
def camera_desktop(camera_browser: Browser, server: Server) -> Iterator[Page]:
    """A desktop page whose browser has a camera, allowed for this site (the grading station's PC)."""
    for context in _context(camera_browser, server, viewport={"width": 1280, "height": 900},
                            permissions=["camera"]):
        yield context.new_page()


@pytest.fixture
def no_script(browser: Browser, server: Server) -> Iterator[Page]:
    """A phone-sized page with JavaScript turned off: every page must still work."""
    for context in _context(browser, server, viewport=PHONE, java_script_enabled=False):
        yield context.new_page()
