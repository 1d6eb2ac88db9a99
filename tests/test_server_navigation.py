"""Finding one's way on the server's pages: the header search box (the stored query `search`), listing pages of
the IRI space with breadcrumbs, sources by their titles, Markdown in stored-query descriptions (escaped), the
release's index at /download/ and the favicon. The browser side (clicks, narrow screens) is in
tests/test_browser_pages.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.helpers.servers import app_client
from vetgraph.queries import load_catalogue

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded, project_release) -> Iterator[TestClient]:
    with app_client(oxigraph_store, ontology=loaded.ontology, catalogue=load_catalogue(), workers=1,
                    dist_dir=project_release) as test_client:
        yield test_client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("path", ["/", "/id/insight/1", "/id/insight/", "/queries", "/download/", "/def",
                                  "/graph/unconfirmed", "/catalog"])
def test_every_page_has_the_search_box_and_the_icon(client, path) -> None:
    page = client.get(path, headers=HTML)
    assert page.status_code == 200, path
    assert '<form class="search" role="search" method="get" action="/queries/search">' in page.text
    assert '<input type="search" name="text"' in page.text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text


def test_the_search_box_leads_to_a_results_page(client) -> None:
    page = client.get("/queries/search", params={"text": "selfie"}, headers=HTML)
    assert page.status_code == 200
    assert 'href="/id/' in page.text and "SELFIE" in page.text.upper()


def test_favicon(client) -> None:
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert client.get("/favicon.ico", follow_redirects=False).headers["location"] == "/static/favicon.svg"


def test_listing_of_a_kind_in_natural_order_with_breadcrumbs(client) -> None:
    page = client.get("/id/insight/", headers=HTML)
    assert page.status_code == 200
    links = re.findall(r'<a href="/id/insight/(\d+)">', page.text)
    assert links == [str(n) for n in range(1, 9)]
    crumbs = '<nav class="breadcrumbs" aria-label="breadcrumb"><ol><li><a href="/">home</a></li>'
    assert crumbs + '<li><a href="/id/">id</a>' in page.text
    assert '<span aria-current="page">insight</span>' in page.text


def test_natural_order_puts_2_before_10() -> None:
    from vetgraph.server.listing import natural

    assert sorted(["insight/10", "insight/2", "insight/1"], key=natural) == ["insight/1", "insight/2", "insight/10"]


def test_the_root_lists_every_kind(client) -> None:
    page = client.get("/id/", headers=HTML)
    assert page.status_code == 200
    kinds = set(re.findall(r'<a href="/id/([a-z-]+)/">', page.text))
    assert {"insight", "topic", "agent", "report"} <= kinds
    for kind in sorted(kinds):
        assert client.get(f"/id/{kind}/", headers=HTML).status_code == 200, kind


def test_listing_refuses_what_it_cannot_be(client) -> None:
    assert client.get("/id/nothing-here/", headers=HTML).status_code == 404
    assert client.get("/id/insight/", headers={"Accept": "text/turtle"}).status_code == 406


def test_resource_pages_have_breadcrumbs(client) -> None:
    page = client.get("/id/insight/1", headers=HTML).text
    assert '<li><a href="/id/insight/">insight</a></li><li><span aria-current="page">1</span></li>' in page


def test_sources_show_the_title_the_graph_gives_them(client, oxigraph_store) -> None:
    rows = oxigraph_store.query(
        "SELECT ?s ?src ?label WHERE { ?s <http://purl.org/dc/terms/source> ?src . "
        "?src <http://www.w3.org/2000/01/rdf-schema#label> ?label "
        "FILTER(STRSTARTS(STR(?s), 'https://w3id.org/vetgraph/id/')) } ORDER BY ?s LIMIT 1").rows
    subject, source, label = (str(term) for term in rows[0])
    page = client.get(subject.replace("https://w3id.org/vetgraph", ""), headers=HTML).text
    sources = page.split("<h2>Sources</h2>", 1)[1].split("</section>", 1)[0]
    assert f'title="{source}">{label}</a>' in sources.replace("&amp;", "&")
    assert f">{source}</a>" not in sources


def test_markdown_in_query_descriptions_is_rendered_and_stays_escaped(tmp_path: Path, oxigraph_store) -> None:
    (tmp_path / "q.rq").write_text(
        "#+ summary: A query\n"
        "#+ description: >-\n"
        "#+   Uses `code`, **bold** and a [link](https://example.org/a).\n"
        "#+   <script>alert(1)</script> [bad](javascript:alert(1))\n"
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    with app_client(oxigraph_store, catalogue=load_catalogue(tmp_path), workers=1) as client:
        page = client.get("/queries/q", headers=HTML).text
    assert "<code>code</code>" in page and "<strong>bold</strong>" in page
    assert '<a href="https://example.org/a">link</a>' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript:' not in page


def test_download_shows_the_release_index(client, project_release) -> None:
    page = client.get("/download/", headers=HTML)
    text = _text(page.text)
    index = _text((project_release / "index.html").read_text(encoding="utf-8"))
    cited = re.search(r"The report: (.+?) \( ?doi:", index)
    assert cited and "The report: " + cited.group(1) in text  # the same citation as the release's index.html
    assert "Publications Office of the European Union. https://doi.org/10.2767/25307" in text
    assert "This dataset: vetgraph contributors (2026). vetgraph, version 0.1.0 [data set]." in text
    assert "Creative Commons Attribution 4.0 International" in text and 'rel="license"' in page.text
    assert "Version 0.1.0" in text
    assert "DCAT-AP 3 description of the dataset" in text  # what catalog.ttl holds, from vetgraph.contents
