"""Real third-party clients against a real `vetgraph serve` process: SPARQLWrapper in every return format,
request method and query form; a browser's Accept header on /sparql; content negotiation by profile seen
by httpx, pyld and Raptor's `rapper`."""

from __future__ import annotations

import html
import re
import urllib.error
from collections.abc import Iterator

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
        text = result.toxml()  # a DOM document
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

    def __exit__(self, *exc: object) -> None:
        self.catcher.__exit__(*exc)


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
    href, label = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', rows[0]).groups()
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
