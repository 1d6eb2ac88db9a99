"""/catalog and /.well-known/void of `vetgraph serve` over a real release, read by the clients harvesters use:
Debian's rapper (RDF/XML, N-Triples, Turtle by Accept), pyld with its own document loader (JSON-LD), a browser's
Accept header (HTML), and 406 for a format neither is in."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers.servers import start_serve, stop_process

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}
DOCUMENTS = [("catalog", "catalog.ttl"), (".well-known/void", "void.ttl")]


@pytest.fixture(scope="module")
def served(fixture_release: Path) -> Iterator[str]:
    process, url = start_serve(["--workers", "1", "--dist", str(fixture_release)])
    try:
        yield url
    finally:
        stop_process(process)


def _rapper(url: str, parser: str) -> Graph:
    if shutil.which("rapper") is None:
        pytest.skip("rapper (raptor2-utils) is not installed")
    done = subprocess.run(["rapper", "-q", "-i", parser, "-o", "ntriples", url], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return Graph().parse(data=done.stdout.decode("utf-8"), format="nt")


@pytest.mark.parametrize("path, source", DOCUMENTS)
@pytest.mark.parametrize("parser", ["rdfxml", "ntriples", "turtle", "guess"])
def test_rapper_gets_the_description_in_the_syntax_it_asks_for(served, fixture_release, path, source, parser) -> None:
    # rapper -i <parser> sends that parser's media types in Accept ("guess": all it reads) and parses the body
    # with that parser: the Turtle of old gave it a parse error for RDF/XML and N-Triples.
    expected = Graph().parse(fixture_release / source, format="turtle")
    assert isomorphic(_rapper(served + path, parser), expected)


@pytest.mark.parametrize("accept, media_type", [
    ("application/rdf+xml", "application/rdf+xml"), ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"), ("text/turtle", "text/turtle"), ("*/*", "text/turtle"),
    (BROWSER["Accept"], "text/html"),
])
@pytest.mark.parametrize("path, source", DOCUMENTS)
def test_content_type_follows_accept(served, path, source, accept, media_type) -> None:
    response = httpx.get(served + path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]


def test_the_release_s_own_rdf_xml_is_what_harvesters_get(served, fixture_release) -> None:
    response = httpx.get(served + "catalog", headers={"Accept": "application/rdf+xml"})
    assert response.content == (fixture_release / "catalog.rdf").read_bytes()
    assert response.headers["content-location"].endswith("/download/catalog.rdf")


@pytest.mark.parametrize("path, source", DOCUMENTS)
def test_pyld_reads_the_json_ld(served, fixture_release, path, source) -> None:
    from pyld import jsonld

    jsonld.set_document_loader(jsonld.requests_document_loader(timeout=30))
    nquads = jsonld.to_rdf(served + path, {"format": "application/n-quads"})
    assert isomorphic(Graph().parse(data=nquads, format="nt"),
                      Graph().parse(fixture_release / source, format="turtle"))


@pytest.mark.parametrize("path, source", DOCUMENTS)
def test_unknown_formats_get_406(served, path, source) -> None:
    response = httpx.get(served + path, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/rdf+xml" in response.text
    assert httpx.get(served + path, params={"format": "xlsx"}).status_code == 406


def test_the_page_shows_the_catalogue_by_its_titles(served) -> None:
    page = httpx.get(served + "catalog", headers=BROWSER).text
    assert "<h1>DCAT-AP catalogue</h1>" in page
    assert "vetgraph catalogue" in page and "Fixture publisher of the dataset" in page
    assert 'href="?format=rdf"' in page
