"""The server in a real headless browser: Debian's chromium driven by Playwright (never `playwright install`).

Home page -> an insight -> the query UI (YASGUI) -> run a stored query -> result rows visible; the stored
query page renders its table too. Every request the browser makes goes to the server itself (the pages
work offline). Screenshots land in tests/artifacts/ (gitignored). Skips when /usr/bin/chromium is absent,
fails under CI=true (where .ci/run installs it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.helpers.browser import ARTIFACTS, chromium, require_browser, watched_page
from vetgraph.queries import load_catalogue
from vetgraph.server.app import create_app
from vetgraph.store import OxigraphStore

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(loaded) -> Iterator[str]:
    require_browser()
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    app = create_app(OxigraphStore.from_dataset(loaded.dataset), base_url=url, ontology=loaded.ontology,
                     catalogue=load_catalogue(), workers=1)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="module")
def browser(base_url) -> Iterator[object]:
    with chromium() as instance:
        yield instance


def test_home_insight_query_ui_and_stored_query(base_url, browser) -> None:
    page, requests, errors = watched_page(browser)

    page.goto(base_url)
    assert "Innovation & Digitalisation" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-home.png"), full_page=True)

    page.locator('ol.insights a[href="/id/insight/1"]').click()
    page.wait_for_url(base_url + "id/insight/1")
    assert page.locator("h1").inner_text() == "Insight 1"
    assert page.get_by_text("as printed").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "browser-insight.png"), full_page=True)

    page.locator("header nav a", has_text="SPARQL").click()
    page.wait_for_url(base_url + "sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    active_tab = page.locator(".tabPanel.active, .tab.active").first
    assert "insights" in active_tab.inner_text() or page.locator(".tab.active", has_text="insights").count()
    page.locator(".yasqe_queryButton").first.click()
    rows = page.locator(".yasr table tbody tr")
    rows.first.wait_for(state="visible", timeout=20_000)
    assert rows.count() >= 8
    assert "Embracing the benefits" in page.locator(".yasr").inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-query-ui.png"), full_page=True)

    page.goto(base_url + "queries/insight?number=3")
    table_rows = page.locator("table.results-table tbody tr")
    assert table_rows.count() >= 3 and table_rows.first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "browser-stored-query.png"), full_page=True)

    foreign = [url for url in requests if not url.startswith(base_url) and not url.startswith("data:")]
    assert foreign == [], f"the pages fetched from other hosts: {foreign}"
    assert errors == [], f"JavaScript errors: {errors}"
