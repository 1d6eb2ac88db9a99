"""HTML pages, the stored-query API, OpenAPI, downloads (with path traversal attempts) and the query UI."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph
from starlette.testclient import TestClient

from tests.helpers.servers import app_client
from vetgraph.queries import load_catalogue

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded, catalogue) -> Iterator[TestClient]:
    with app_client(oxigraph_store, ontology=loaded.ontology, catalogue=catalogue, workers=1) as test_client:
        yield test_client


def _text(html: str) -> str:
    """The visible text of a page, roughly: tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- escaping ---------------------------------------------------------------------------------------


def test_script_in_a_label_shows_as_text(fixture_client) -> None:
    for path in ("/id/fixture/insight-1", "/", "/id/fixture/report"):
        page = fixture_client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text, path
        assert "<b>one</b>" not in page.text
    page = fixture_client.get("/id/fixture/insight-1", headers=HTML).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Fixture insight &lt;b&gt;one&lt;/b&gt; &amp; &#34;friends&#34;" in page


# --- home page -----------------------------------------------------------------------------------------


def test_home_page_shows_the_report_and_its_completeness(client) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    text = _text(page.text)
    assert "10.2767/25307" in text
    assert "12 Lighthouse projects declared, 0 described" in text
    assert "8 insights declared, 8 described" in text
    assert "title not yet recorded for insights 7-8" in text
    for number in range(1, 9):
        assert f'href="/id/insight/{number}"' in page.text
    assert "Insight 7: title not yet recorded" in text
    assert "<svg" in page.text and "Evidence map" in page.text
    assert 'href="/id/viewpoint/1"' in page.text and 'href="/id/vision"' in page.text
    assert 'href="/id/topic/8"' in page.text and 'href="/id/agent/cedefop"' in page.text
    assert 'href="/id/instrument/selfie"' in page.text
    assert 'rel="http://www.w3.org/ns/sparql-service-description#endpoint"' in page.headers["link"]


def test_home_page_matrix_and_evidence_from_fixture(fixture_client) -> None:
    page = fixture_client.get("/", headers=HTML).text
    assert "Topic by insight matrix" in page  # the fixture links insight-1 to topic-1
    assert "3 insights declared, 3 described" in _text(page)
    assert "2 Lighthouse projects declared, 0 described" in _text(page)
    assert 'class="cell ev-AsPrinted"' in page and 'class="cell ev-NotRecorded"' in page


# --- resource pages ------------------------------------------------------------------------------------


def test_resource_page_labels_links_sources_and_alternates(client) -> None:
    page = client.get("/id/insight/1", headers=HTML)
    text = _text(page.text)
    assert "Embracing the benefits of innovation and digitalisation" in text
    assert "title evidence" in text and "as printed" in text
    assert "related match" in text and "digital transformation" in text and "EuroVoc" in text
    assert 'href="http://eurovoc.europa.eu/c_658ff033"' in page.text
    assert "Sources" in text and "refernet.ibe.edu.pl" in text
    assert "Referenced by" in text and "has top concept" in text
    for extension in ("ttl", "jsonld", "nt", "rdf"):
        assert f'href="/id/insight/1.{extension}"' in page.text
    report = _text(client.get("/id/report/innovation-digitalisation-2020", headers=HTML).text)
    assert "Creative Commons Attribution 4.0 International" in report
    assert "unconfirmed" in report  # some statements about the report are in the unconfirmed graph


def test_unconfirmed_statements_are_marked(fixture_client) -> None:
    page = _text(fixture_client.get("/id/fixture/insight-2", headers=HTML).text)
    assert "Fixture insight two, unconfirmed title unconfirmed" in page


def test_hidden_labels_are_searchable_but_on_no_page(client, loaded) -> None:
    from rdflib import SKOS

    from vetgraph.config import ID_BASE

    person = client.get("/id/person/nicolas-schmit", headers=HTML)
    assert person.status_code == 200
    text = _text(person.text)
    assert "Nicolas Schmit" in text and "the correct spelling is Nicolas Schmit" in text  # the editorial note
    assert "Nicolas Schmitt" not in person.text and "hidden label" not in text
    # Still data: the RDF representation has it, and the search finds the person by it.
    assert "Nicolas Schmitt" in client.get("/id/person/nicolas-schmit.ttl").text
    found = client.get("/queries/search", params={"text": "Schmitt"}, headers={"Accept": "application/json"})
    assert {row["resource"]["value"] for row in found.json()["results"]["bindings"]} == {
        ID_BASE + "person/nicolas-schmit"}
    # No page shows any hidden label of the data: home (with the overview), ontology, listings, every resource.
    hidden = {str(label) for label in loaded.dataset.objects(None, SKOS.hiddenLabel)}
    resources = sorted({s for s in loaded.dataset.subjects() if str(s).startswith(ID_BASE)})
    assert "Nicolas Schmitt" in hidden and len(resources) > 50
    paths = ["/", "/def", "/queries", *(str(s)[len(ID_BASE) - len("/id/"):] for s in resources)]
    for path in paths:
        page = client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert not [label for label in hidden if label in page.text], path


# --- stored queries API --------------------------------------------------------------------------------


def test_queries_listing_in_html_and_json(client, catalogue) -> None:
    page = client.get("/queries", headers=HTML).text
    listing = client.get("/queries", headers={"Accept": "application/json"}).json()["queries"]
    assert client.get("/queries.json").json()["queries"] == listing
    assert [q["name"] for q in listing] == list(catalogue)
    for query in catalogue.values():
        assert f'href="/queries/{query.name}"' in page
    insight = next(q for q in listing if q["name"] == "insight")
    number = next(p for p in insight["params"] if p["name"] == "number")
    assert number["required"] is True and number["type"] == "integer"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_stored_query_results_equal_the_cli_binding(client, oxigraph_store, catalogue, fmt) -> None:
    query = catalogue["insight"]
    expected = oxigraph_store.native(query.text, fmt, query.bind({"number": "3"}))[1]
    response = client.get("/queries/insight", params={"number": "3", "format": fmt})
    assert response.status_code == 200
    assert response.content == expected
    by_accept = client.get("/queries/insight", params={"number": "3"},
                           headers={"Accept": response.headers["content-type"].split(";")[0]})
    assert by_accept.content == expected


def test_stored_query_csv_rows(client) -> None:
    response = client.get("/queries/insights.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["number"]) for r in rows] == list(range(1, 9))


def test_stored_construct_query_in_rdf_formats(client, oxigraph_store, catalogue) -> None:
    graph_queries = [q for q in catalogue.values() if q.kind in ("construct", "describe")]
    if not graph_queries:
        pytest.skip("the catalogue has no CONSTRUCT/DESCRIBE query")
    query = graph_queries[0]
    values = {p.name: p.default or "insight/1" for p in query.params if p.required}
    for fmt in ("ttl", "nt", "jsonld", "rdf"):
        response = client.get(f"/queries/{query.name}", params={**values, "format": fmt})
        assert response.status_code == 200, response.text
        parser = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}[fmt]
        expected = Graph().parse(data=oxigraph_store.native(query.text, fmt, query.bind(values))[1], format=parser)
        assert set(Graph().parse(data=response.content, format=parser)) == set(expected)
    assert client.get(f"/queries/{query.name}", params={**values, "format": "csv"}).status_code == 406


def test_parameter_errors_name_the_parameter(client) -> None:
    bad = client.get("/queries/insight", params={"number": "three"}, headers={"Accept": "text/csv"})
    assert bad.status_code == 400 and "number" in bad.text and "integer" in bad.text
    missing = client.get("/queries/insight", headers={"Accept": "text/csv"})
    assert missing.status_code == 400 and "number" in missing.text
    unknown = client.get("/queries/insights", params={"colour": "red"}, headers={"Accept": "text/csv"})
    assert unknown.status_code == 400 and "colour" in unknown.text
    assert client.get("/queries/no-such-query").status_code == 404
    injection = client.get("/queries/insight", params={"number": '1" } ; DROP ALL ; #'})
    assert injection.status_code == 400


def test_stored_query_html_page_with_form_and_result_table(client) -> None:
    page = client.get("/queries/insight", params={"number": "1"}, headers=HTML)
    assert page.status_code == 200
    assert '<form class="params"' in page.text and 'name="number"' in page.text
    assert "results-table" in page.text and "Embracing the benefits" in page.text
    form_only = client.get("/queries/insight", headers=HTML)
    assert form_only.status_code == 200 and "results-table" not in form_only.text
    wrong = client.get("/queries/insight", params={"number": "x"}, headers=HTML)
    assert wrong.status_code == 400 and "error-message" in wrong.text


@pytest.mark.parametrize("text", ["R&D", "C#", "a+b", "two words", "Ausbildung für Ärzte", "100%"])
def test_stored_query_page_download_links_keep_the_parameters(client, text) -> None:
    """Each download link of a result page carries the parameter exactly (URL-encoded, not only
    HTML-escaped) and its format: following it gives that format for that text."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    page = client.get("/queries/search", params={"text": text}, headers=HTML)
    assert page.status_code == 200
    section = page.text.split('class="alternates"')[1].split("</p>")[0]
    links = [unescape(href) for href in re.findall(r'href="([^"]*)"', section)]
    assert len(links) == 4
    for link in links:
        parts = urlsplit(link)
        assert parts.fragment == "" and parts.path == "/queries/search", link
        parameters = parse_qs(parts.query)
        assert parameters["text"] == [text], link
        name = parameters["format"][0]
        followed = client.get(link)
        assert followed.status_code == 200, (link, followed.text)
        media = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                 "csv": "text/csv", "tsv": "text/tab-separated-values"}[name]
        assert followed.headers["content-type"].split(";")[0] == media


def test_openapi_describes_every_stored_query(client, catalogue) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for query in catalogue.values():
        operation = document["paths"][f"/queries/{query.name}"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert {p.name for p in query.params} <= names
        assert operation["summary"] == query.summary
    number = next(p for p in document["paths"]["/queries/insight"]["get"]["parameters"] if p["name"] == "number")
    assert number["required"] is True and number["schema"]["type"] == "integer"
    assert "/sparql" in document["paths"]


def test_security_headers(client) -> None:
    page = client.get("/id/insight/1", headers=HTML)
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    plain = client.get("/queries/<script>", headers={"Accept": "text/plain"})
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in page.text.split("</header>")[1]  # pages carry no inline or external script


# --- query UI -----------------------------------------------------------------------------------------


def test_query_ui_is_served_from_the_package_with_the_stored_queries(client, catalogue) -> None:
    page = client.get("/ui").text
    assert '/static/yasgui/yasgui.min.js' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing loaded from elsewhere
    for query in catalogue.values():
        assert f'"name": "{query.name}"' in page
    script = client.get("/static/yasgui/yasgui.min.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(("text/javascript",
                                                                                     "application/javascript"))
    assert client.get("/static/yasgui/LICENSE").status_code == 200
    assert client.get("/static/style.css").status_code == 200


# --- downloads --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dist")
    (folder / "vetgraph.ttl").write_text("<urn:a> <urn:b> <urn:c> .\n")
    (folder / "vetgraph.nq").write_text("<urn:a> <urn:b> <urn:c> .\n")
    (folder / "vetgraph.nq.gz").write_bytes(b"\x1f\x8b fake")
    (folder / "void.ttl").write_text("<urn:void> a <http://rdfs.org/ns/void#Dataset> .\n")
    (folder / "catalog.ttl").write_text("<urn:cat> a <http://www.w3.org/ns/dcat#Catalog> .\n")
    (folder / "SHA256SUMS").write_text("abc123  vetgraph.ttl\n")
    (folder / "ontology").mkdir()
    (folder / "ontology" / "vet.ttl").write_text("<urn:o> a <urn:Ontology> .\n")
    (folder / ".hidden").write_text("secret\n")
    outside = folder.parent / "outside-secret.txt"
    outside.write_text("outside\n")
    (folder / "link.txt").symlink_to(outside)
    return folder


@pytest.fixture(scope="module")
def dist_client(oxigraph_store, dist) -> Iterator[TestClient]:
    with app_client(oxigraph_store, dist_dir=dist, workers=1) as test_client:
        yield test_client


@pytest.mark.parametrize("name, media_type", [
    ("vetgraph.ttl", "text/turtle"), ("vetgraph.nq", "application/n-quads"), ("vetgraph.nq.gz", "application/gzip"),
    ("SHA256SUMS", "text/plain"), ("ontology/vet.ttl", "text/turtle"), ("catalog.ttl", "text/turtle"),
])
def test_downloads_with_media_types(dist_client, name, media_type) -> None:
    response = dist_client.get(f"/download/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert dist_client.get(f"/download/{name}", headers={"If-None-Match": response.headers["etag"]}
                           ).status_code == 304


@pytest.mark.parametrize("path", [
    "/download/../pyproject.toml", "/download/%2e%2e/pyproject.toml", "/download/..%2fpyproject.toml",
    "/download/%2e%2e%2fpyproject.toml", "/download/ontology/../../pyproject.toml",
    "/download/ontology/%2e%2e/%2e%2e/pyproject.toml", "/download/..%5cpyproject.toml",
    "/download//etc/passwd", "/download/%2fetc%2fpasswd", "/download/.hidden", "/download/link.txt",
    "/download/ontology/", "/download/nothing.ttl",
])
def test_path_traversal_gets_404_or_400(dist_client, path) -> None:
    response = dist_client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert "outside" not in response.text and "[project]" not in response.text and "secret" not in response.text


@pytest.mark.parametrize("path, status", [
    ("/id/insight/1%", 400), ("/id/a%zzb", 400), ("/id/a%4", 400),
    ("/download/" + "a" * 300, 404), ("/download/" + "é" * 200 + ".ttl", 404), ("/download/ontology/" + "b" * 256, 404),
])
def test_malformed_iri_paths_and_overlong_names_are_client_errors(dist_client, path, status) -> None:
    """A '%' without two hex digits cannot be in an IRI; a name over 255 bytes names no file: the client's
    mistake (400/404 with the usual headers), never a server error."""
    response = dist_client.get(path, headers={"Accept": "text/plain"})
    assert response.status_code == status, (path, response.status_code)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Traceback" not in response.text


def test_download_listing_void_and_catalog(dist_client) -> None:
    listing = dist_client.get("/download/", headers=HTML)
    assert listing.status_code == 200
    assert 'href="/download/vetgraph.ttl"' in listing.text and "abc123" in listing.text
    assert ".hidden" not in listing.text
    void = dist_client.get("/.well-known/void")
    assert void.status_code == 200 and "void#Dataset" in void.text
    assert "text/turtle" in void.headers["content-type"]
    catalog = dist_client.get("/catalog")
    assert catalog.status_code == 200 and "dcat#Catalog" in catalog.text


def test_without_dist_downloads_answer_404_with_a_hint(client) -> None:
    for path in ("/download/", "/download/vetgraph.ttl", "/.well-known/void", "/catalog"):
        response = client.get(path)
        assert response.status_code == 404
        assert "vetgraph build" in response.text
