"""Parameters bound into query text for remote endpoints: placed in the top-level WHERE group, exact N-Triples
terms (no injection), and the same answers as the engine's own binding (Oxigraph substitutions)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from tests.helpers.rdf import example_bindings, integer, same
from vetgraph.remote.sparqltext import bind, query_form, tokens
from vetgraph.stores import OxigraphStore, QueryError

EX = "http://example.org/"


@pytest.fixture(scope="module")
def small() -> OxigraphStore:
    store = ox.Store()
    data = f"""
    <{EX}a> <{EX}group> "g1" ; <{EX}value> 1 ; <{EX}label> "say \\"hi\\" {{ # }}" .
    <{EX}b> <{EX}group> "g1" ; <{EX}value> 2 .
    <{EX}c> <{EX}group> "g2" ; <{EX}value> 3 ; <{EX}label> "multi\\nline"@en .
    """
    store.load(data, format=ox.RdfFormat.TURTLE)
    return OxigraphStore(store)


def test_values_go_at_the_start_of_the_where_group() -> None:
    text = bind("SELECT ?x WHERE { ?x ?p ?o }", {"x": URIRef(EX + "a")})
    assert text == f"SELECT ?x WHERE {{ VALUES (?x) {{ (<{EX}a>) }}  ?x ?p ?o }}"


@pytest.mark.parametrize(
    ("query", "marker"),
    [
        ("SELECT * { ?x ?p ?o }", "SELECT * { VALUES"),  # WHERE is optional
        ("PREFIX e: <http://example.org/#WHERE>\n# a comment { with WHERE {\nSELECT ?x WHERE { ?x ?p ?o }",
         "WHERE { VALUES"),
        ("SELECT ?x (CONCAT('WHERE { ', \"\"\"}'\"{\"\"\") AS ?s) WHERE { ?x ?p ?o }", "?s) WHERE { VALUES"),
        ("SELECT (EXISTS { ?x ?p ?o } AS ?e) ?x WHERE { ?x ?p ?o }", "WHERE { VALUES"),
        ("SELECT ?x FROM <http://example.org/g> WHERE { ?x ?p ?o }", "WHERE { VALUES"),
        ("CONSTRUCT { ?x ?p ?o } WHERE { ?x ?p ?o }", "WHERE { VALUES"),
        ("ASK { ?x ?p ?o }", "ASK { VALUES"),
        ("DESCRIBE ?x WHERE { ?x ?p ?o }", "WHERE { VALUES"),
        ("select ?x where { ?x ?p ?o }", "where { VALUES"),
        ('SELECT ?x WHERE { ?x ?p "}{" }', 'WHERE { VALUES'),
        ("SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } } }",
         "WHERE { VALUES (?x) { (<http://example.org/a>) }  {"),
    ],
)
def test_the_top_level_group_is_found_past_iris_strings_comments_and_expressions(query: str, marker: str):
    text = bind(query, {"x": URIRef(EX + "a")})
    assert marker in text
    assert text.count("VALUES") == 1
    ox.Store().query(text)  # still valid SPARQL


def test_construct_where_short_form_gets_an_explicit_template() -> None:
    text = bind("CONSTRUCT WHERE { ?x ?p ?o }", {"x": URIRef(EX + "a")})
    assert text.startswith("CONSTRUCT { ?x ?p ?o } WHERE { VALUES (?x)")
    ox.Store().query(text)


def test_describe_without_where_gets_one() -> None:
    text = bind("DESCRIBE ?x", {"x": URIRef(EX + "a")})
    ox.Store().query(text)
    assert "WHERE { VALUES (?x)" in text


@pytest.mark.parametrize(
    "value",
    [
        Literal('x" } ; DROP ALL ; #'),
        Literal("back\\slash and \"quotes\" and 'single'"),
        Literal("multi\nline", lang="en"),
        Literal("say \"hi\" { # }"),
        Literal("2020-01-01", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
        URIRef(EX + "a"),
    ],
)
def test_values_are_exact_terms_never_syntax(small: OxigraphStore, value: Identifier) -> None:
    query = "SELECT ?x ?l WHERE { ?x ?p ?l }"
    remote_style = small.query(bind(query, {"l": value}))
    engine = small.query(query, {"l": value})
    assert same(remote_style, engine)
    # the value is one token (and its language tag): no word of it (DROP, ALL) is read as a keyword
    language = [value.language] if isinstance(value, Literal) and value.language else []
    words = [t.text for t in tokens(bind(query, {"l": value})) if t.kind == "word"]
    assert words == ["SELECT", "WHERE", "VALUES", *language]


def test_matching_strings_are_found_exactly(small: OxigraphStore) -> None:
    rows = small.query(bind("SELECT ?x ?l WHERE { ?x ?p ?l }", {"l": Literal('say "hi" { # }')})).rows
    assert [str(r[0]) for r in rows] == [EX + "a"]


def test_values_constrain_before_grouping_unlike_a_trailing_values_clause(small: OxigraphStore) -> None:
    """Why VALUES goes inside the WHERE group: a trailing VALUES joins after the aggregation."""
    query = f"SELECT ?g (SUM(?v) AS ?total) WHERE {{ ?x <{EX}group> ?g ; <{EX}value> ?v }} GROUP BY ?g"
    bound = small.query(bind(query, {"g": Literal("g1")}))
    engine = small.query(query, {"g": Literal("g1")})
    assert same(bound, engine)
    assert [integer(r[1]) for r in bound.rows] == [3]
    query_x = f"SELECT ?x (SUM(?v) AS ?total) WHERE {{ ?x <{EX}value> ?v }} GROUP BY ?x"
    inner = small.query(bind(f"SELECT (SUM(?v) AS ?total) WHERE {{ ?x <{EX}value> ?v }}", {"x": URIRef(EX + "b")}))
    trailing = small.query(f"SELECT (SUM(?v) AS ?total) WHERE {{ ?x <{EX}value> ?v }} VALUES ?x {{ <{EX}b> }}")
    assert integer(inner.rows[0][0]) == 2
    assert integer(trailing.rows[0][0]) == 6  # the trailing block did not constrain ?x at all
    assert small.query(query_x).rows  # sanity: the grouped query runs


def test_updates_blank_nodes_and_bad_names_are_refused() -> None:
    with pytest.raises(QueryError, match="update"):
        query_form("PREFIX e: <http://example.org/> INSERT DATA { e:a e:b e:c }")
    with pytest.raises(QueryError, match="blank node|only IRIs and literals"):
        bind("SELECT ?x WHERE { ?x ?p ?o }", {"x": BNode()})
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        bind("SELECT ?x WHERE { ?x ?p ?o }", {"x) {} } DROP ALL #": URIRef(EX + "a")})
    with pytest.raises(QueryError, match="unbalanced"):
        bind("CONSTRUCT { ?x ?p ?o WHERE { ?x ?p ?o }", {"x": URIRef(EX + "a")})


def test_every_stored_query_means_the_same_with_values_as_with_engine_binding(oxigraph_store) -> None:
    from vetgraph.queries import load_catalogue

    catalogue = load_catalogue()
    if not catalogue:
        pytest.skip("queries/ holds no stored query yet")
    checked = 0
    for name, query in catalogue.items():
        for bindings in example_bindings(query):
            engine = oxigraph_store.query(query.text, bindings)
            textual = oxigraph_store.query(bind(query.text, bindings))
            assert same(textual, engine), f"{name} with {bindings}"
            checked += 1
    assert checked >= len(catalogue)
