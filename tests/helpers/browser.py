"""Debian's chromium driven by Playwright (never `playwright install`): skip when either is absent, fail
under CI=true (where .ci/run installs chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # playwright is optional at run time (require_browser skips without it)
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_browser() -> None:
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is absent (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright Python package is absent"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(missing + " (required under CI=true)")
        pytest.skip(missing)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless chromium (Playwright Browser)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield instance
        finally:
            instance.close()


def watched_page(browser: Browser) -> tuple[Page, list[str], list[str]]:
    """A new 1280x900 page, the URLs it requests and its errors: uncaught JavaScript errors and whatever the
    Content-Security-Policy blocks (a blocked script or style shows up as a console error)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return page, requests, errors
