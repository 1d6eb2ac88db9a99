"""Real third-party clients against a real `vetgraph serve` process: SPARQLWrapper in every return format,
request method and query form; a browser's Accept header on /sparql; content negotiation by profile seen
by httpx, pyld and Raptor's `rapper`."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import urllib.error
from collections.abc import Iterator
from types import TracebackType
from xml.dom.minidom import Document

import pytest
from rdflib import Graph, Literal, URIRef

from tests.helpers.servers import start_serve, stop_process
from tests.helpers.shared import require_program

VET = "https://w3id.org/vetgraph/def#"
INSIGHT_7 = URIRef("https://w3id.org/vetgraph/id/insight/7")
QUERIES = {
    "SELECT": f"PREFIX vet: <{VET}> SELECT ?i ?n WHERE {{ ?i a vet:Insight ; vet:number ?n }} ORDER BY ?n",
    "ASK": f'ASK {{ ?r <{VET}doi> "10.2767/25307" }}',
    "CONSTRUCT": f"CONSTRUCT WHERE {{ <{INSIGHT_7}> ?p ?o }}",
    "DESCRIBE": f"DESCRIBE <{INSIGHT_7}>",
}
#: What a SPARQLWrapper return format gives for each kind of result; None: the combination is meaningless
#: (CSV for a graph, Turtle for a table), which the endpoint answers with 406 naming the formats that fit.
TABULAR = {"JSON": "json", "XML": "xml", "CSV": "csv", "TSV": "tsv"}
GRAPH = {"JSON": "json-ld", "XML": "xml", "JSONLD": "json-ld", "N3": "turtle", "TURTLE": "turtle",
         "RDFXML": "xml"}
#: Debian Chromium's Accept header for a page (it ranks application/xml at 0.9, */* at 0.8).
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
                   "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    process, url = start_serve(["--workers", "1", "--dist", "/nonexistent"])
    try:
        yield url
    finally:
        stop_process(process)


def _check_tabular(form: str, fmt: str, result: object) -> None:
    if fmt == "json":
        data = result  # SPARQLWrapper parsed SPARQL JSON
        assert isinstance(data, dict)
        if form == "ASK":
            assert data["boolean"] is True
        else:
            assert [int(b["n"]["value"]) for b in data["results"]["bindings"]] == list(range(1, 9))
    elif fmt == "xml":
        assert isinstance(result, Document)  # a DOM document
        text = result.toxml()
        assert ("<boolean>true</boolean>" in text) if form == "ASK" else text.count("<result>") == 8
    else:
        text = result.decode() if isinstance(result, bytes) else str(result)
        sep = "," if fmt == "csv" else "\t"
        lines = text.strip().splitlines()
        if form == "ASK":
            assert lines[-1].strip().lower() == "true"
        else:
            assert len(lines) == 9 and sep in lines[0]


def _check_graph(fmt: str, result: object) -> None:
    if isinstance(result, Graph):  # SPARQLWrapper parsed RDF/XML and JSON-LD itself
        graph = result
    else:
        assert isinstance(result, (bytes, str)), type(result)
        graph = Graph().parse(data=result.decode() if isinstance(result, bytes) else result, format=fmt)
    assert (INSIGHT_7, URIRef(VET + "number"), Literal(7)) in graph


@pytest.mark.parametrize("method", ["GET", "URLENCODED", "POSTDIRECTLY"])
@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("return_format", ["JSON", "XML", "CSV", "TSV", "JSONLD", "N3", "TURTLE", "RDFXML"])
def test_sparqlwrapper_every_return_format_method_and_form(server, method, form, return_format) -> None:
    import SPARQLWrapper as sw

    client = sw.SPARQLWrapper(server + "sparql")
    client.setQuery(QUERIES[form])
    client.setReturnFormat(getattr(sw, return_format))
    if method == "GET":
        client.setMethod(sw.GET)
    else:
        client.setMethod(sw.POST)
        client.setRequestMethod(getattr(sw, method))
    expected = (TABULAR if form in ("SELECT", "ASK") else GRAPH).get(return_format)
    with pytest.warns() if expected is None or (form in ("CONSTRUCT", "DESCRIBE") and return_format == "JSON") \
            else _no_warning():
        if expected is None:
            with pytest.raises(urllib.error.HTTPError) as refused:
                client.query()
            assert refused.value.code == 406
            message = refused.value.read().decode()
            assert ("text/turtle" in message) if form in ("CONSTRUCT", "DESCRIBE") else (
                "application/sparql-results+json" in message)
            return
        result = client.query().convert()
    if form in ("SELECT", "ASK"):
        _check_tabular(form, expected, result)
    else:
        _check_graph(expected, result)


class _no_warning:
    def __enter__(self) -> None:
        import warnings

        self.catcher = warnings.catch_warnings()
        self.catcher.__enter__()
        warnings.simplefilter("error", RuntimeWarning)  # SPARQLWrapper warns when the answer is not what it asked

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.catcher.__exit__(exc_type, exc, traceback)


# -- a browser at /sparql?query=... ---------------------------------------------------------------------


@pytest.mark.parametrize("accept", [CHROMIUM_ACCEPT,
                                    # older WebKit: application/xml first, tied with application/xhtml+xml
                                    "application/xml,application/xhtml+xml,text/html;q=0.9,*/*;q=0.5"])
def test_a_browser_gets_an_html_results_table(server, accept) -> None:
    import httpx

    response = httpx.get(server + "sparql", params={"query": QUERIES["SELECT"]}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    body = response.text.split('<tbody>')[1].split('</tbody>')[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    assert len(rows) == 8
    link = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', rows[0])
    assert link, rows[0]
    href, label = link.groups()
    assert href == "/id/insight/1" and not label.startswith("https://")  # a local link, shown by its label
    downloads = dict(re.findall(r'<a href="([^"]+)" type="[^"]+">(\w+)</a>',
                                response.text.split('class="alternates"')[1])[:4])
    by_name = {name: html.unescape(url) for url, name in downloads.items()}
    assert set(by_name) == {"json", "xml", "csv", "tsv"}
    csv = httpx.get(server + by_name["csv"].lstrip("/"), headers={"Accept": accept})
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.strip().splitlines()) == 9


def test_a_browser_gets_a_graph_result_and_an_answer_as_pages(server) -> None:
    import httpx

    graph = httpx.get(server + "sparql", params={"query": QUERIES["DESCRIBE"]}, headers={"Accept": CHROMIUM_ACCEPT})
    assert "<th>subject</th><th>predicate</th><th>object</th>" in graph.text
    links = re.findall(r'type="[^"]+">(\w+)</a>', graph.text.split('class="alternates"')[1])
    assert links[:4] == ["ttl", "nt", "jsonld", "rdf"]
    ask = httpx.get(server + "sparql", params={"query": QUERIES["ASK"]}, headers={"Accept": CHROMIUM_ACCEPT})
    assert "Answer: <b>yes</b>" in ask.text


@pytest.mark.parametrize("accept, media_type", [
    ("*/*", "application/sparql-results+json"),  # curl: no preference, data
    ("application/sparql-results+json,*/*;q=0.9", "application/sparql-results+json"),  # YASGUI
    ("application/xml,text/html;q=0.5", "application/sparql-results+xml"),  # XML preferred over HTML
    ("text/*", "text/csv"),  # text/html only through a wildcard: not a browser
])
def test_clients_that_do_not_prefer_html_get_data(server, accept, media_type) -> None:
    import httpx

    response = httpx.get(server + "sparql", params={"query": QUERIES["SELECT"]}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == media_type


@pytest.mark.browser
def test_chromium_shows_the_results_table(server) -> None:
    from urllib.parse import urlencode

    chromium = require_program("/usr/bin/chromium", "chromium", "apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_program(None, "playwright", "pip install playwright")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(server + "sparql?" + urlencode({"query": QUERIES["SELECT"]}))
            assert page.locator("table.results-table tbody tr").count() == 8
            page.locator("table.results-table tbody tr").first.locator("a").first.click()
            page.wait_for_url("**/id/insight/1")
            assert page.locator("h1").count() == 1
        finally:
            browser.close()


# -- content negotiation by profile ---------------------------------------------------------------------

ALTR = "http://www.w3.org/ns/dx/conneg/altr"
PROFILE = "https://w3id.org/vetgraph/profile/"
INSIGHT_1 = "https://w3id.org/vetgraph/id/insight/1"


@pytest.fixture(scope="module")
def release_server(project_release) -> Iterator[str]:
    """The server with the real release under /download/ (so context.jsonld is there)."""
    process, url = start_serve(["--workers", "1", "--dist", str(project_release)])
    try:
        yield url
    finally:
        stop_process(process)


def _rapper(url: str, accept_profile: str | None = None) -> Graph:
    """The RDF at `url` as Raptor's `rapper` reads it (it sends an Accept header of every syntax it reads and
    picks its parser by the Content-Type)."""
    program = require_program(shutil.which("rapper"), "rapper", "apt-get install raptor2-utils")
    command = [program, "-q", "-i", "guess", "-o", "ntriples", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return Graph().parse(data=done.stdout, format="nt")


def _curl() -> str:
    return require_program(shutil.which("curl"), "curl", "apt-get install curl")


def test_mediatype_parameter_picks_the_format(server) -> None:
    import httpx

    for value, media_type in [("application/n-triples", "application/n-triples"),
                              ("text/turtle", "text/turtle"), ("application/ld+json", "application/ld+json")]:
        response = httpx.get(server + "id/insight/1", params={"_mediatype": value}, headers={"Accept": "text/html"})
        assert response.headers["content-type"].split(";")[0] == media_type
    by_rapper = _rapper(server + "id/insight/1?_mediatype=application/rdf%2Bxml")
    assert (URIRef(INSIGHT_1), URIRef(VET + "number"), Literal(1)) in by_rapper


def test_cbd_names_the_representation_served_and_links_carry_profiles(server) -> None:
    import httpx

    response = httpx.get(server + "id/insight/1", params={"_profile": "cbd"}, headers={"Accept": "text/turtle"})
    assert response.headers["content-location"] == "/id/insight/1.ttl?_profile=cbd"
    assert response.headers["content-profile"] == f"<{PROFILE}cbd>"
    # The URL in Content-Location gives exactly this representation back.
    again = httpx.get(server + response.headers["content-location"].lstrip("/"))
    assert again.content == response.content and again.headers["content-profile"] == f"<{PROFILE}cbd>"
    links = response.headers["link"].split(", ")
    alternates = [link for link in links if 'rel="alternate"' in link]
    assert all('profile="' in link for link in alternates)
    # every profile in every media type, but not the one served
    assert len(alternates) == 3 * 5 - 1
    assert f'<{PROFILE}cbd>; rel="profile"' in links
    assert '</id/insight/1.jsonld?_profile=cbd>; rel="alternate"; type="application/ld+json"; ' \
           f'profile="{PROFILE}cbd"' in links
    curl = subprocess.run([_curl(), "-sI", "-H", "Accept-Profile: <" + PROFILE + "cbd>",
                           server + "id/insight/1.nt"], capture_output=True, text=True, timeout=60)
    assert "content-location: /id/insight/1.nt?_profile=cbd" in curl.stdout.lower()


@pytest.mark.parametrize("how", ["query", "header"])
def test_alternates_view_lists_every_profile_and_media_type(server, how) -> None:
    import httpx

    url = server + ("id/insight/1.ttl?_profile=alt" if how == "query" else "id/insight/1.ttl")
    headers = {} if how == "query" else {"Accept-Profile": f"<{ALTR}>"}
    response = httpx.get(url, headers=headers)
    assert response.status_code == 200 and response.headers["content-profile"] == f"<{ALTR}>"
    graph = Graph().parse(data=response.text, format="turtle")
    altr = "http://www.w3.org/ns/dx/conneg/altr#"
    representations = set(graph.objects(URIRef(INSIGHT_1), URIRef(altr + "hasRepresentation")))
    dct = "http://purl.org/dc/terms/"
    pairs = {(str(graph.value(r, URIRef(dct + "conformsTo"))), str(graph.value(r, URIRef(dct + "format"))))
             for r in representations}
    assert pairs == {(profile, media_type) for profile in (PROFILE + "description", PROFILE + "cbd", ALTR)
                     for media_type in ("text/turtle", "text/html", "application/n-triples",
                                        "application/ld+json", "application/rdf+xml")}
    # each listed URL answers with what the list says
    for representation in sorted(representations, key=str)[:15]:
        answer = httpx.get(str(representation))
        assert answer.status_code == 200
        assert answer.headers["content-type"].split(";")[0] == str(graph.value(representation, URIRef(dct + "format")))
        assert answer.headers["content-profile"] == f"<{graph.value(representation, URIRef(dct + 'conformsTo'))}>"
    assert graph.value(URIRef(INSIGHT_1), URIRef(altr + "hasDefaultRepresentation")) is not None


def test_alternates_view_as_a_page(server) -> None:
    import httpx

    page = httpx.get(server + "id/insight/1", params={"_profile": "alt"}, headers={"Accept": CHROMIUM_ACCEPT})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count('type="application/ld+json"') == 3  # one per profile
    assert '<a href="/profile/cbd"' in page.text and "/id/insight/1.rdf?_profile=cbd" in page.text
    resource_page = httpx.get(server + "id/insight/1", headers={"Accept": CHROMIUM_ACCEPT})
    assert 'href="/id/insight/1.html?_profile=alt"' in resource_page.text  # people reach the view from the page


@pytest.mark.parametrize("token", ["cbd", "description"])
def test_profile_iris_dereference(server, token) -> None:
    import httpx

    graph = _rapper(server + f"profile/{token}")
    profile = URIRef(PROFILE + token)
    dct = "http://purl.org/dc/terms/"
    assert (profile, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            URIRef("http://www.w3.org/ns/dx/prof/Profile")) in graph
    assert graph.value(profile, URIRef(dct + "title")) and graph.value(profile, URIRef(dct + "description"))
    assert str(graph.value(profile, URIRef("http://www.w3.org/ns/dx/prof/hasToken"))) == token
    page = httpx.get(server + f"profile/{token}", headers={"Accept": CHROMIUM_ACCEPT})
    assert page.status_code == 200 and str(graph.value(profile, URIRef(dct + "title"))) in page.text
    assert httpx.get(server + "profile/nope").status_code == 404


def test_compacted_json_ld_with_the_release_context(release_server, project_release) -> None:
    import httpx
    from pyld import jsonld

    def load(url: str, options: dict | None = None) -> dict:  # pyld's loader, over httpx (no `requests` here)
        answer = httpx.get(url, headers={"Accept": "application/ld+json"})
        answer.raise_for_status()
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": str(answer.url),
                "document": answer.json()}

    compacted = httpx.get(release_server + "id/insight/1", headers={
        "Accept": 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'})
    assert compacted.headers["content-type"].startswith(
        'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"')
    context_url = release_server + "download/context.jsonld"
    assert compacted.json()["@context"] == context_url
    assert f'<{context_url}>; rel="http://www.w3.org/ns/json-ld#context"' in compacted.headers["link"]
    plain = httpx.get(release_server + "id/insight/1", headers={"Accept": "application/ld+json"})
    assert "compacted" not in plain.headers["content-type"]
    # pyld reads both to the same statements (it fetches the context from the server)
    options = {"documentLoader": load, "format": "application/n-quads", "algorithm": "URDNA2015"}
    assert jsonld.normalize(compacted.json(), options) == jsonld.normalize(plain.json(), options)
    # and compacting with the release's own context file gives back the served document's shape
    release_context = json.loads((project_release / "context.jsonld").read_text(encoding="utf-8"))
    again = jsonld.compact(plain.json(), release_context, {"documentLoader": load})
    assert {node["@id"] for node in again["@graph"]} == {node["@id"] for node in compacted.json()["@graph"]}
    insight = next(node for node in compacted.json()["@graph"] if node["@id"] in (INSIGHT_1, "insight:1"))
    assert insight["@type"] == "vet:Insight"


def test_redirect_303_sends_the_iri_to_its_document() -> None:
    import httpx

    process, url = start_serve(["--workers", "1", "--dist", "/nonexistent", "--redirect", "303"])
    try:
        for accept, target in [("text/html", "/id/insight/1.html"), ("text/turtle", "/id/insight/1.ttl"),
                               ("application/ld+json", "/id/insight/1.jsonld")]:
            response = httpx.get(url + "id/insight/1", headers={"Accept": accept})
            assert response.status_code == 303 and response.headers["location"] == target
            assert "Accept" in response.headers["vary"]
        cbd = httpx.get(url + "id/insight/1", headers={"Accept": "text/turtle", "Accept-Profile": f"<{PROFILE}cbd>"})
        assert cbd.headers["location"] == "/id/insight/1.ttl?_profile=cbd"
        followed = httpx.get(url + "id/insight/1", headers={"Accept": "text/turtle"}, follow_redirects=True)
        assert followed.status_code == 200 and followed.headers["content-type"].startswith("text/turtle")
        assert httpx.get(url + "id/insight/1.ttl").status_code == 200  # documents answer directly
        assert httpx.get(url + "id/nothing/here").status_code == 404  # no redirect for what does not exist
        curl = subprocess.run([_curl(), "-sL", "-H", "Accept: application/n-triples", url + "id/insight/1"],
                              capture_output=True, text=True, timeout=60)
        assert f"<{INSIGHT_1}> <{VET}number>" in curl.stdout
    finally:
        stop_process(process)
    process, url = start_serve(["--workers", "1", "--dist", "/nonexistent"])
    try:  # the default is unchanged: 200 at the IRI
        assert httpx.get(url + "id/insight/1", headers={"Accept": "text/turtle"}).status_code == 200
    finally:
        stop_process(process)
