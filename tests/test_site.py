"""The static linked-data site (`vetgraph build --site-url`) served by a real Apache httpd, and the w3id.org
redirect rules on a second httpd standing in for w3id.org: what a client gets by following the redirects
with an Accept header equals what `vetgraph serve` answers for the same IRI.

Both httpd instances are our own (Debian's /usr/sbin/apache2 with a temporary configuration, free loopback
ports); the tests skip when apache2 is absent and fail under CI=true, where .ci/run installs it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers.apache import apache, apache_binary
from tests.helpers.build import snapshot
from tests.helpers.servers import app_client, free_port
from vetgraph.config import PROJECT_ROOT

#: The RDF representations, as clients ask for them, and how rdflib reads each.
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
             "application/rdf+xml": "xml"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def _build(out: Path, site_url: str, *extra: str, seed: str = "0") -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vetgraph", "build", "--out", str(out), "--site-url", site_url, "-q", *extra],
        cwd=PROJECT_ROOT, capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, str]:
    apache_binary()  # skip (or fail under CI) before building anything
    port = free_port()
    out = tmp_path_factory.mktemp("site") / "dist"
    site_url = f"http://127.0.0.1:{port}/"
    _build(out, site_url)
    return out, site_url


@pytest.fixture(scope="module")
def site(release, tmp_path_factory) -> Iterator[str]:
    out, site_url = release
    port = int(site_url.rsplit(":", 1)[1].strip("/"))
    with apache(out / "site", tmp_path_factory.mktemp("httpd-site"), port=port) as base:
        assert base == site_url
        yield base


@pytest.fixture(scope="module")
def w3id(release, site, tmp_path_factory) -> Iterator[str]:
    """http://127.0.0.1:PORT/vetgraph/ standing in for https://w3id.org/vetgraph/ (the rules under /vetgraph/,
    as in the w3id.org repository)."""
    out, _ = release
    root = tmp_path_factory.mktemp("w3id-root")
    (root / "vetgraph").mkdir()
    shutil.copy(out / "w3id" / ".htaccess", root / "vetgraph" / ".htaccess")
    with apache(root, tmp_path_factory.mktemp("httpd-w3id")) as base:
        yield base + "vetgraph/"


@pytest.fixture(scope="module")
def server(release, loaded) -> Iterator[httpx.Client]:
    """`vetgraph serve` on the same data, at the address the site was built for."""
    from vetgraph.queries import load_catalogue

    out, site_url = release
    prefixes = {prefix: str(ns) for prefix, ns in loaded.dataset.namespaces() if prefix}
    with app_client(loaded.store(), base_url=site_url, ontology=loaded.ontology, prefixes=prefixes,
                    catalogue=load_catalogue(), dist_dir=out, workers=1) as client:
        yield client


@pytest.fixture(scope="module")
def sample(release) -> list[str]:
    """Every seventh resource of the site (from its search index), the named graph and the ontology."""
    out, _ = release
    entries = json.loads((out / "site" / "search.json").read_text(encoding="utf-8"))
    paths = sorted(e["path"] for e in entries)
    assert len(paths) > 50
    return [*paths[::7], "/id/insight/3", "/graph/unconfirmed", "/def"]


def _graph(body: bytes, fmt: str) -> Graph:
    return Graph().parse(data=body, format=fmt)


def test_every_rdf_type_through_w3id_equals_the_server(w3id, server, sample) -> None:
    with httpx.Client(follow_redirects=True, timeout=10) as client:
        for path in sample:
            for media_type, fmt in RDF_TYPES.items():
                static = client.get(w3id + path.lstrip("/"), headers={"Accept": media_type})
                assert static.status_code == 200, (path, media_type)
                assert static.headers["content-type"].split(";")[0] == media_type
                assert "accept" in static.headers["vary"].lower()
                live = server.get(path, headers={"Accept": media_type})
                assert live.status_code == 200
                assert static.headers["content-type"] == live.headers["content-type"], (path, media_type)
                assert isomorphic(_graph(static.content, fmt), _graph(live.content, fmt)), (path, media_type)


def test_curl_follows_the_303_and_gets_turtle(w3id, site) -> None:
    result = subprocess.run(["curl", "-sSL", "-H", "Accept: text/turtle", "-w", "\n%{http_code} %{url_effective}",
                             w3id + "id/insight/3"], capture_output=True, text=True, check=True)
    body, _, status = result.stdout.rpartition("\n")
    assert status == f"200 {site}id/insight/3"
    assert (None, None, None) in _graph(body.encode(), "turtle")


def test_a_browser_gets_the_page_and_no_accept_gets_what_the_server_gives(site, server) -> None:
    page = httpx.get(site + "id/insight/3", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<!doctype html>" in page.text
    bare = httpx.get(site + "id/insight/3", headers={"Accept": "*/*"})
    assert bare.headers["content-type"] == server.get("/id/insight/3", headers={"Accept": "*/*"}).headers[
        "content-type"]


def test_extension_forms_are_the_files(site, release) -> None:
    out, _ = release
    for extension, media_type in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("html", "text/html"),
                                  ("nt", "application/n-triples"), ("rdf", "application/rdf+xml")):
        answer = httpx.get(f"{site}id/insight/3.{extension}", headers={"Accept": "text/html"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].split(";")[0] == media_type
        assert answer.content == (out / "site" / "id" / "insight" / f"3.{extension}").read_bytes()


def test_unknown_iris_folders_and_type_maps_are_not_found(site, w3id) -> None:
    for url in (w3id + "id/insight/999", site + "id/insight/999", site + "id/insight", site + "id/insight/",
                site + "id/insight/3.var", site + "nothing.html"):
        answer = httpx.get(url, headers={"Accept": "text/html"}, follow_redirects=True)
        assert answer.status_code == 404, url
        assert "Not found" in answer.text
    refused = httpx.get(site + "id/insight/3", headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_w3id_redirects_as_designed(w3id, site) -> None:
    expected = {
        "id/insight/3": (303, site + "id/insight/3"),
        "id/report/innovation-digitalisation-2020": (303, site + "id/report/innovation-digitalisation-2020"),
        "def": (302, site + "def"),
        "def.ttl": (302, site + "def.ttl"),
        "graph/unconfirmed": (302, site + "graph/unconfirmed"),
        "dataset": (302, site + "download/catalog.ttl"),
        "download/vetgraph.ttl": (302, site + "download/vetgraph.ttl"),
        ".well-known/void": (302, site + "download/void.ttl"),
        "": (302, site),
    }
    for path, (status, location) in expected.items():
        answer = httpx.get(w3id + path, headers={"Accept": "text/turtle"})
        assert (answer.status_code, answer.headers["location"]) == (status, location), path
    assert "accept" in httpx.get(w3id + "id/insight/3").headers["vary"].lower()
    dataset = httpx.get(w3id + "dataset", follow_redirects=True)
    assert dataset.status_code == 200 and "dcat:Catalog" in dataset.text


def _comparable(html: str) -> str:
    """A page without what differs by design between the server and the static site: the links to the live
    server's SPARQL endpoint and search box, OpenAPI and health, the switch to the other profile (a server choice), the
    language switch of linked concepts' labels (a server choice: ?lang=, Accept-Language) and the static site's
    link to its search page."""
    html = re.sub(r'\s*<a href="/sparql">SPARQL</a>', "", html)
    html = re.sub(r'\s*<a href="/search">Search</a>', "", html)  # the static site's own search page
    html = re.sub(r'\s*<form class="search".*?</form>', "", html, flags=re.S)  # the server's search box (live query)
    html = re.sub(r'\s*· <a href="/openapi.json">OpenAPI</a> · <a href="/health">health</a>', "", html)
    html = re.sub(r"\s*· profile: .*?</p>", "</p>", html, flags=re.S)
    html = re.sub(r'\s*<form class="lang".*?</form>', "", html, flags=re.S)
    # Around tags, where the templates' conditionals leave or take line breaks, spaces do not count.
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", html)


def test_static_pages_equal_the_servers(release, server, sample) -> None:
    out, _ = release
    root = out / "site"
    for path in [*sample, "/"]:
        file = root / ("index.html" if path == "/" else path.lstrip("/") + ".html")
        live = server.get(path, headers={"Accept": "text/html"})
        assert _comparable(file.read_text(encoding="utf-8")) == _comparable(live.text), path
    downloads = server.get("/download/", headers={"Accept": "text/html"}).text
    static = (root / "download" / "index.html").read_text(encoding="utf-8")
    # The static listing is written before SHA256SUMS, which is the one file it cannot list.
    assert _comparable(static) == _comparable(re.sub(r"\s*<tr><td><a href=\"/download/SHA256SUMS\">.*?</tr>", "",
                                                     downloads, flags=re.S))


def test_static_pages_link_no_endpoint_unless_given(release, tmp_path) -> None:
    out, _ = release
    page = (out / "site" / "id" / "insight" / "3.html").read_text(encoding="utf-8")
    assert "sparql" not in page.lower()
    other = tmp_path / "dist"
    _build(other, "https://data.example.org/vetgraph/", "--endpoint", "https://sparql.example.org/query")
    page = (other / "site" / "id" / "insight" / "3.html").read_text(encoding="utf-8")
    assert '<a href="https://sparql.example.org/query">SPARQL</a>' in page
    assert 'href="/vetgraph/id/report/' in page  # the site's path is kept in its links
    assert "ErrorDocument 404 /vetgraph/404.html" in (other / "site" / ".htaccess").read_text()
    assert "https://data.example.org/vetgraph/id/$1 [R=303" in (other / "w3id" / ".htaccess").read_text()


def test_endpoint_without_site_url_is_refused(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "vetgraph", "build", "--out", str(tmp_path / "dist"),
                             "--endpoint", "https://sparql.example.org/query"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vetgraph build: --endpoint is for the static site: give --site-url too"]
    assert not (tmp_path / "dist").exists()


def test_the_site_is_deterministic_and_checksummed(release, tmp_path) -> None:
    out, site_url = release
    again = tmp_path / "dist"
    _build(again, site_url, seed="1")
    first, second = snapshot(out / "site"), snapshot(again / "site")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert any(line.endswith("  site/id/insight/3.ttl") for line in sums)
    assert any(line.endswith("  w3id/.htaccess") for line in sums)
    assert any(line.endswith("  site/.htaccess") for line in sums)


@pytest.mark.browser
def test_static_site_in_a_browser(site) -> None:
    """Home page -> a resource page -> the search page: the script finds a label in search.json and its result
    leads to the resource; nothing is fetched from another host and the Content-Security-Policy blocks
    nothing. Without the script the search page is the full listing."""
    from tests.helpers.browser import ARTIFACTS, chromium, watched_page

    with chromium() as browser:
        page, requests, errors = watched_page(browser)
        # A file the site lacks (the browser's own favicon.ico request aside) fails a response.
        page.on("response", lambda answer: errors.append(f"{answer.status} {answer.url}")
                if answer.status >= 400 and not answer.url.endswith("/favicon.ico") else None)

        page.goto(site)
        assert "Innovation & Digitalisation" in page.locator("h1").inner_text()
        page.locator('ol.insights a[href="/id/insight/3"]').click()
        page.wait_for_url(site + "id/insight/3")
        assert page.locator("h1").inner_text() == "Insight 3"
        page.screenshot(path=str(ARTIFACTS / "static-insight.png"), full_page=True)

        page.locator("header nav a", has_text="Search").click()
        page.wait_for_url(site + "search")
        page.locator("#search-input").fill("smart way")
        results = page.locator("#search-results li a")
        results.first.wait_for(state="visible")
        assert not page.locator("#listing").is_visible()
        page.locator("#search-results a", has_text="Insight 3").click()
        page.wait_for_url(site + "id/insight/3")
        page.screenshot(path=str(ARTIFACTS / "static-search.png"), full_page=True)

        scriptless = browser.new_page(java_script_enabled=False)
        scriptless.goto(site + "search")
        assert not scriptless.locator("#search-form").is_visible()
        assert scriptless.locator('#listing a[href="/id/insight/3"]').is_visible()

        foreign = [url for url in requests if not url.startswith(site) and not url.startswith("data:")]
        assert foreign == [], f"the pages fetched from other hosts: {foreign}"
        assert errors == [], f"JavaScript or Content-Security-Policy errors: {errors}"
