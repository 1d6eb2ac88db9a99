"""Labels of linked EU concepts in the reader's language (pages), and search through them in any language."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.helpers.servers import app_client
from vetgraph.cli import main
from vetgraph.linked_search import search
from vetgraph.server.languages import choose

HTML = {"Accept": "text/html"}
SELFIE_WBL = "/id/instrument/selfie-wbl"


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded) -> Iterator[TestClient]:
    with app_client(oxigraph_store, ontology=loaded.ontology, workers=1) as test_client:
        yield test_client


def test_accept_language_de_shows_german_country_names(client):
    response = client.get(SELFIE_WBL, headers={**HTML, "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    page = response.text
    assert response.status_code == 200
    assert '<html lang="en">' in page  # the report's own text stays English ...
    assert 'lang="de"' in page and ">Deutschland</a>" in page and ">Frankreich</a>" in page
    assert ">Georgien</a>" in page
    assert ">Germany</a>" not in page
    # ... and the page says so, and which language the linked concepts are shown in
    assert "shown in Deutsch (de)" in page and "the report's own text is in English" in page
    assert "Accept-Language" in response.headers["vary"]


def test_lang_parameter_wins_over_accept_language(client):
    page = client.get(SELFIE_WBL + "?lang=pl", headers={**HTML, "Accept-Language": "de"}).text
    assert ">Niemcy</a>" in page and "shown in Polski (pl)" in page
    assert '<option value="pl" selected>' in page


@pytest.mark.parametrize("headers, query", [({"Accept-Language": "xx-YY, tlh;q=0.8"}, ""),
                                            ({}, "?lang=zz"), ({"Accept-Language": "de;q=0"}, "")])
def test_unknown_or_refused_languages_fall_back_to_english(client, headers, query):
    page = client.get(SELFIE_WBL + query, headers={**HTML, **headers}).text
    assert ">Germany</a>" in page and "shown in English (en)" in page


def test_each_language_is_its_own_cached_page(client):
    german = client.get("/", headers={**HTML, "Accept-Language": "de"})
    english = client.get("/", headers=HTML)
    assert german.headers["etag"] != english.headers["etag"]
    assert "shown in Deutsch (de)" in german.text and "shown in English (en)" in english.text


def test_rdf_answers_do_not_change_with_the_language(client):
    turtle = {"Accept": "text/turtle"}
    german = client.get(SELFIE_WBL, headers={**turtle, "Accept-Language": "de"}).text
    assert german == client.get(SELFIE_WBL, headers=turtle).text
    assert "Deutschland" not in german


@pytest.mark.parametrize("header, expected", [
    ("fr;q=0.5, de;q=0.9", "de"), ("en-GB, pl", "en"), ("*", "en"), ("pt-BR;q=0.7, xx", "pt"),
    ("de;q=abc, sv;q=0.2", "sv"), ("", "en"), (None, "en"),
])
def test_accept_language_q_values(header, expected):
    assert choose(None, header) == expected


def test_a_polish_search_finds_the_insight_through_its_eurovoc_link(loaded):
    rows = search(loaded.store(), "innowacja")
    insight = [r for r in rows if r["resource"].endswith("/id/insight/1")]
    assert insight and insight[0]["concept"] == "http://eurovoc.europa.eu/1439"
    assert (insight[0]["label"], insight[0]["language"]) == ("innowacja", "pl")
    # German and Greek too; a word in no label finds nothing
    assert any(r["resource"].endswith("/id/insight/1") for r in search(loaded.store(), "Innovation"))
    assert any(r["language"] == "el" for r in search(loaded.store(), "καινοτομία"))
    assert search(loaded.store(), "no such word in any language") == []


def test_search_text_is_bound_as_a_literal_not_pasted(loaded):
    assert search(loaded.store(), 'x" ) } ; DROP ALL ; #') == []
    assert search(loaded.store(), "innowacja")  # the store is intact


def test_links_search_command_prints_label_and_language(capsys):
    assert main(["links", "--search", "Niemcy", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["resource"].rsplit("/id/", 1)[1], r["label"], r["language"]) for r in rows] == [
        ("instrument/selfie-wbl", "Niemcy", "pl")]
