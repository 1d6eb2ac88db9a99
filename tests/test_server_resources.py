"""Dereferencing (Cool URIs): /id/... and /def by content negotiation, with Vary, Link alternates,
ETag/Last-Modified and 304, 404 pages, profiles; each RDF format round-trips to the same triples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDFS
from starlette.testclient import TestClient

from tests.helpers.rdf import SERVED_FORMATS as FORMATS
from tests.helpers.servers import app_client
from vetgraph.server.describe import describe
from vetgraph.server.vocabulary import Vocabulary

ID = "https://w3id.org/vetgraph/id/"


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded) -> Iterator[TestClient]:
    with app_client(oxigraph_store, ontology=loaded.ontology, workers=1) as test_client:
        yield test_client


def _triples(graph: Graph) -> set:
    return {t for t in graph if not any(isinstance(x, BNode) for x in t)}


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_every_format_round_trips_to_the_same_triples(client, oxigraph_store, loaded, media_type) -> None:
    extension, parser = FORMATS[media_type]
    by_accept = client.get("/id/insight/1", headers={"Accept": media_type})
    by_extension = client.get(f"/id/insight/1.{extension}")
    by_param = client.get("/id/insight/1", params={"format": extension})
    for response in (by_accept, by_extension, by_param):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media_type
    graphs = [Graph().parse(data=r.content, format=parser) for r in (by_accept, by_extension, by_param)]
    assert _triples(graphs[0]) == _triples(graphs[1]) == _triples(graphs[2])
    expected = describe(oxigraph_store, URIRef(ID + "insight/1"), Vocabulary.from_ontology(loaded.ontology)).graph()
    assert _triples(graphs[0]) == _triples(expected)


def test_description_has_own_statements_incoming_links_and_labels(client) -> None:
    graph = Graph().parse(data=client.get("/id/insight/1.ttl").text, format="turtle")
    insight = URIRef(ID + "insight/1")
    assert (insight, RDFS.label, Literal("Insight 1", lang="en")) in graph
    assert (URIRef(ID + "scheme/insights"), URIRef("http://www.w3.org/2004/02/skos/core#hasTopConcept"),
            insight) in graph  # incoming link
    report = URIRef(ID + "report/innovation-digitalisation-2020")
    assert (report, RDFS.label, None) in graph  # label of a mentioned IRI
    evidence = URIRef("https://w3id.org/vetgraph/def#AsPrinted")
    assert (evidence, RDFS.label, Literal("as printed", lang="en")) in graph  # from the ontology


def test_html_by_accept_with_vary_link_and_content_location(client) -> None:
    response = client.get("/id/insight/1", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    assert response.headers["content-location"] == "/id/insight/1.html"
    link = response.headers["link"]
    for extension, media_type in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                  ("nt", "application/n-triples"), ("rdf", "application/rdf+xml")):
        assert f'</id/insight/1.{extension}>; rel="alternate"; type="{media_type}"' in link
    assert 'rel="profile"' in link


def test_no_accept_gets_turtle_and_unacceptable_gets_406(client) -> None:
    plain = client.get("/id/insight/1", headers={"Accept": "*/*"})
    assert plain.headers["content-type"].startswith("text/turtle")
    refused = client.get("/id/insight/1", headers={"Accept": "image/png"})
    assert refused.status_code == 406


def test_etag_and_last_modified_revalidate_to_304(client) -> None:
    first = client.get("/id/insight/1.ttl")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/id/insight/1.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/id/insight/1.ttl", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get("/id/insight/1.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    again = client.get("/id/insight/1.ttl", headers={"If-None-Match": '"stale"'})
    assert again.status_code == 200 and again.headers["etag"] == etag and again.content == first.content
    html = client.get("/id/insight/1.html")
    assert html.headers["etag"] != etag  # each representation its own tag
    old = format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)
    assert client.get("/id/insight/1.ttl", headers={"If-Modified-Since": old}).status_code == 200


def test_unknown_iri_is_404_with_a_page(client) -> None:
    page = client.get("/id/insight/99", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "https://w3id.org/vetgraph/id/insight/99" in page.text
    plain = client.get("/id/insight/99", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.headers["content-type"].startswith("text/plain")
    assert client.get("/id/").status_code == 200  # the listing of every kind (tests/test_server_navigation.py)
    assert client.get("/id/no-such-kind/").status_code == 404
    assert client.get("/id/insight/1%20x").status_code == 404


def test_profiles_cbd_leaves_out_incoming_links(client) -> None:
    full = Graph().parse(data=client.get("/id/insight/1.ttl").text, format="turtle")
    cbd_response = client.get("/id/insight/1.ttl", params={"_profile": "cbd"})
    assert cbd_response.headers["content-profile"] == "<https://w3id.org/vetgraph/profile/cbd>"
    cbd = Graph().parse(data=cbd_response.text, format="turtle")
    insight = URIRef(ID + "insight/1")
    assert set(cbd.subjects()) == {insight}
    assert set(cbd) < set(full)
    by_header = client.get("/id/insight/1.ttl",
                           headers={"Accept-Profile": "<https://w3id.org/vetgraph/profile/cbd>"})
    assert by_header.content == cbd_response.content
    assert client.get("/id/insight/1.ttl", params={"_profile": "nope"}).status_code == 400


def test_blank_nodes_are_described_and_iris_ending_in_an_extension_resolve(fixture_client) -> None:
    graph = Graph().parse(data=fixture_client.get("/id/fixture/with-bnode.ttl").text, format="turtle")
    period = graph.value(URIRef(ID + "fixture/with-bnode"), URIRef("http://purl.org/dc/terms/temporal"))
    assert isinstance(period, BNode)
    # the blank node's statements, as tests/data/server/fixture.trig gives them
    date = URIRef("http://www.w3.org/2001/XMLSchema#date")
    assert graph.value(period, URIRef("http://www.w3.org/ns/dcat#startDate")) == Literal("2018-07-01", datatype=date)
    assert graph.value(period, URIRef("http://www.w3.org/ns/dcat#endDate")) == Literal("2020-12-31", datatype=date)
    raw = fixture_client.get("/id/fixture/file.ttl", headers={"Accept": "application/n-triples"})
    assert raw.status_code == 200 and "ends in .ttl" in raw.text


def test_ontology_at_def_by_conneg(client, loaded) -> None:
    html = client.get("/def", headers={"Accept": "text/html"})
    assert html.status_code == 200 and 'id="Insight"' in html.text
    turtle = client.get("/def", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert set(graph) == set(loaded.ontology)
    assert client.get("/def.jsonld").headers["content-type"].startswith("application/ld+json")
    assert client.get("/def.xyz").status_code == 404
    assert "Accept" in turtle.headers["vary"]
