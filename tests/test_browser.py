"""The server in a real headless browser: Debian's chromium driven by Playwright (never `playwright install`).

Home page -> an insight -> the query UI (YASGUI) -> run a stored query -> result rows visible; the stored
query page renders its table too. A YASGUI share link loads its query and runs it, edits survive a reload,
result IRIs lead to local pages; the header search box, the listing pages and their breadcrumbs; no page is
wider than a 390 px phone screen (screenshots at 390 and 1280 px). Every request the browser makes goes to the
server itself (the pages work offline). Screenshots land in tests/artifacts/ (gitignored). Skips when
/usr/bin/chromium is absent, fails under CI=true (where .ci/run installs it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.helpers.browser import ARTIFACTS, chromium, require_browser, watched_page
from vetgraph.queries import load_catalogue
from vetgraph.server.app import create_app
from vetgraph.stores import OxigraphStore

if TYPE_CHECKING:  # playwright is optional at run time (require_browser skips without it)
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(loaded, project_release) -> Iterator[str]:
    require_browser()
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    app = create_app(OxigraphStore.from_dataset(loaded.dataset), base_url=url, ontology=loaded.ontology,
                     catalogue=load_catalogue(), workers=1, dist_dir=project_release)
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
def browser(base_url) -> Iterator[Browser]:
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


def _page(browser, base_url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page, errors


SHARED = "PREFIX vet: <https://w3id.org/vetgraph/def#>\n# shared-link-marker\n" \
         "SELECT ?insight ?number WHERE { ?insight a vet:Insight ; vet:number ?number } ORDER BY ?number"


def _editor(page) -> str:
    return page.evaluate("window.vetgraphYasgui.getTab().getYasqe().getValue()")


def _query_ui(browser, url: str, width: int = 1280):
    """A new page (a fresh browser context: nothing stored) on the query UI at `url`, its editor ready."""
    page, errors = _page(browser, url, width)
    page.goto(url)
    page.wait_for_selector(".yasqe .CodeMirror")
    return page, errors


def _run(page):
    page.locator(".yasqe_queryButton").first.click()
    rows = page.locator(".yasr table tbody tr")
    rows.first.wait_for(state="visible", timeout=20_000)
    return rows


def _close(page, errors: list[str]) -> None:
    """No script error, nothing wider than the window, then close."""
    assert errors == [], errors
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.close()


def test_a_share_link_loads_its_query_which_runs_with_local_links(base_url, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, _ = _query_ui(browser, base_url + "sparql")
    page.evaluate("q => window.vetgraphYasgui.getTab().getYasqe().setValue(q)", SHARED)
    # The link YASGUI's own share button makes.
    page.locator(".yasqe_share").first.click()
    link = page.locator(".yasqe_sharePopup input").first.input_value()
    assert link.startswith(base_url + "sparql") and "query=" in link
    page.close()

    fresh, errors = _query_ui(browser, link)  # nothing stored in this context: only the link
    assert "shared-link-marker" in _editor(fresh)
    assert _run(fresh).count() == 8
    results = fresh.locator(".yasr").inner_text()
    assert "xsd:integer" in results and "XMLSchema#integer" not in results  # datatypes by the graph's prefixes
    hrefs = fresh.locator(".yasr table tbody a.iri").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "/id/insight/1" in hrefs and not any(h.startswith("https://w3id.org/vetgraph/") for h in hrefs)
    fresh.locator(".yasr table tbody a.iri").first.click()
    fresh.wait_for_url(base_url + "id/insight/1")
    assert fresh.locator("h1").inner_text().startswith("Insight")
    _close(fresh, errors)


def test_edits_in_the_query_ui_survive_a_reload(base_url, browser) -> None:
    page, errors = _query_ui(browser, base_url + "sparql")
    page.locator(".yasqe .CodeMirror").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n# my edit")
    page.locator("h1").click()  # leaving the editor, as a user does
    page.wait_for_timeout(300)
    page.reload()
    page.wait_for_selector(".yasqe .CodeMirror")
    assert "# my edit" in _editor(page)
    tabs = page.locator(".tabsList .tab").all_inner_texts()
    assert len(tabs) == len(set(tabs)), tabs  # the stored queries are not added a second time
    _close(page, errors)


def test_wide_results_scroll_inside_their_pane_on_a_phone(base_url, browser) -> None:
    page, errors = _query_ui(browser, base_url + "sparql", 390)
    page.evaluate("window.vetgraphYasgui.getTab().getYasqe().setValue("
                  "'SELECT ?s ?p ?o ?s2 ?p2 WHERE { ?s ?p ?o . BIND(?s AS ?s2) BIND(?p AS ?p2) } LIMIT 20')")
    _run(page)
    page.screenshot(path=str(ARTIFACTS / "browser-390-query-ui-results.png"), full_page=True)
    _close(page, errors)


def test_header_search_and_listing_pages_with_breadcrumbs(base_url, browser) -> None:
    page, errors = _page(browser, base_url, 1280)
    page.goto(base_url + "id/insight/3")
    page.locator("header form.search input[name=text]").fill("selfie")
    page.locator("header form.search button").click()
    page.wait_for_url(base_url + "queries/search?text=selfie")
    results = page.locator("table.results-table tbody tr")
    assert results.count() >= 1 and "selfie" in page.locator("table.results-table").inner_text().lower()

    page.goto(base_url + "id/")
    page.locator("ul.listing-entries a", has_text="insight/").click()
    page.wait_for_url(base_url + "id/insight/")
    page.locator("ul.listing-entries a").first.click()
    page.wait_for_url(base_url + "id/insight/1")
    page.locator("nav.breadcrumbs a", has_text="insight").click()
    page.wait_for_url(base_url + "id/insight/")
    assert page.locator("nav.breadcrumbs [aria-current=page]").inner_text() == "insight"
    _close(page, errors)


PAGES = ["", "id/insight/1", "id/insight/", "id/", "queries", "queries/search?text=digital", "queries/insight?number=3",
         "download/", "sparql", "def", "graph/unconfirmed", "catalog"]


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_is_wider_than_the_screen(base_url, browser, width) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = _page(browser, base_url, width)
    wide = []
    for path in PAGES:
        response = page.goto(base_url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        if path == "sparql":
            page.wait_for_selector(".yasqe .CodeMirror")
        name = (path.split("?")[0].strip("/").replace("/", "-") or "home")
        page.screenshot(path=str(ARTIFACTS / f"browser-{width}-{name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide.append((path, overflow))
    icon = page.request.get(base_url + "favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert wide == [], f"pages wider than {width} px (path, extra px): {wide}"
    assert errors == [], errors
    page.close()
