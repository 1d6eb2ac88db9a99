"""/graph/unconfirmed, the IRI of the named graph of unconfirmed statements, dereferences like /id/: a page
listing the statements with their sources, the graph itself in every RDF syntax, ETag/304 and Vary; and the
/download/ listing says what every file of a release holds."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from starlette.testclient import TestClient

from tests.helpers.rdf import SERVED_FORMATS as FORMATS
from tests.helpers.servers import app_client
from vetgraph.config import BASE_IRI, UNCONFIRMED_GRAPH
from vetgraph.contents import describe

DCT_SOURCE = URIRef("http://purl.org/dc/terms/source")
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded) -> Iterator[TestClient]:
    with app_client(oxigraph_store, ontology=loaded.ontology, workers=1) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def unconfirmed(loaded) -> Graph:
    graph = loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH))
    assert len(graph) > 0
    return graph


def test_the_graph_iri_maps_onto_the_server() -> None:
    assert UNCONFIRMED_GRAPH == BASE_IRI + "graph/unconfirmed"


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_every_rdf_syntax_holds_exactly_the_unconfirmed_graph(client, unconfirmed, media_type) -> None:
    extension, parser = FORMATS[media_type]
    answers = [client.get("/graph/unconfirmed", headers={"Accept": media_type}),
               client.get(f"/graph/unconfirmed.{extension}"),
               client.get("/graph/unconfirmed", params={"format": extension})]
    for response in answers:
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
        assert "Accept" in response.headers["vary"]
        assert response.headers["content-location"] == f"/graph/unconfirmed.{extension}"
        assert isomorphic(Graph().parse(data=response.content, format=parser), unconfirmed)
    link = answers[0].headers["link"]
    for other, (other_extension, _) in FORMATS.items():
        if other != media_type:
            assert f'</graph/unconfirmed.{other_extension}>; rel="alternate"; type="{other}"' in link


def test_page_lists_each_unconfirmed_statement_with_the_sources_of_its_subject(client, unconfirmed, loaded) -> None:
    response = client.get("/graph/unconfirmed", headers=HTML)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-location"] == "/graph/unconfirmed.html"
    page = html.unescape(response.text)
    assert "Unconfirmed statements" in page and "they are not facts" in page
    assert f"{len(unconfirmed)} statements" in page
    for s, _, o in unconfirmed:
        href = "/" + s.removeprefix(BASE_IRI) if s.startswith(BASE_IRI) else str(s)  # ours map onto the server
        assert f'href="{href}"' in page, s
        if isinstance(o, Literal):
            assert str(o) in page, o
        for source in loaded.dataset.objects(s, DCT_SOURCE):
            assert f'href="{source}"' in page, (s, source)
    for media_type, (extension, _) in FORMATS.items():
        assert f'<link rel="alternate" type="{media_type}" href="/graph/unconfirmed.{extension}">' in page


def test_no_preference_gets_turtle_unknown_graphs_404_unacceptable_406(client) -> None:
    assert client.get("/graph/unconfirmed", headers={"Accept": "*/*"}).headers["content-type"].startswith(
        "text/turtle")
    assert client.get("/graph/unconfirmed", headers={"Accept": "image/png"}).status_code == 406
    missing = client.get("/graph/confirmed", headers=HTML)
    assert missing.status_code == 404 and BASE_IRI + "graph/confirmed" in html.unescape(missing.text)
    assert client.get("/graph/").status_code == 404
    assert client.get("/graph/unconfirmed%20x").status_code == 404


def test_etag_and_last_modified_revalidate_to_304(client) -> None:
    first = client.get("/graph/unconfirmed.nt")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/graph/unconfirmed.nt", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/graph/unconfirmed.nt", headers={"If-Modified-Since": modified}).status_code == 304
    again = client.get("/graph/unconfirmed.nt", headers={"If-None-Match": '"stale"'})
    assert again.status_code == 200 and again.headers["etag"] == etag and again.content == first.content
    assert client.get("/graph/unconfirmed.html").headers["etag"] != etag


def test_resource_pages_link_to_the_graph(client) -> None:
    page = client.get("/id/report/innovation-digitalisation-2020", headers=HTML).text
    assert 'href="/graph/unconfirmed"' in page


@pytest.fixture(scope="module")
def release_client(oxigraph_store, fixture_release: Path) -> Iterator[TestClient]:
    with app_client(oxigraph_store, dist_dir=fixture_release, workers=1) as test_client:
        yield test_client


def test_download_listing_says_what_each_file_holds(release_client, fixture_release: Path) -> None:
    page = html.unescape(release_client.get("/download/", headers=HTML).text)
    names = sorted(p.relative_to(fixture_release).as_posix() for p in fixture_release.rglob("*")
                   if p.is_file() and not p.name.startswith("."))  # hidden files (the build's marker) are no downloads
    assert "vetgraph-unconfirmed.ttl" in names
    for name in names:
        sentence = describe(name)
        assert sentence, name
        assert f'href="/download/{name}">{name}</a></td><td>{sentence}</td>' in page, name


def test_openapi_describes_the_graph_path(client) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/graph/{name}"]["get"]
    assert {"text/turtle", "text/html"} <= set(operation["responses"]["200"]["content"])
    assert client.get("/graph/" + operation["parameters"][0]["description"].rsplit(": ", 1)[1]).status_code == 200
