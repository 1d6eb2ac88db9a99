"""vetgraph.formats: one registry of RDF syntaxes and result formats, on pyoxigraph's own format metadata."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from vetgraph.formats import GRAPH_FORMATS, RDF_FORMATS, RESULT_FORMATS, by_extension, rdf_by_media_type
from vetgraph.loading import RDF_FORMATS as LOADER_SUFFIXES
from vetgraph.reference import eu_labels

# What each published format is, as the W3C, IANA and the EU file-type table name it.
EXPECTED = {
    "ttl": ("text/turtle", "ttl", "http://www.w3.org/ns/formats/Turtle", "RDF_TURTLE", False),
    "nt": ("application/n-triples", "nt", "http://www.w3.org/ns/formats/N-Triples", "RDF_N_TRIPLES", False),
    "jsonld": ("application/ld+json", "jsonld", "http://www.w3.org/ns/formats/JSON-LD", "JSON_LD", True),
    "rdf": ("application/rdf+xml", "rdf", "http://www.w3.org/ns/formats/RDF_XML", "RDF_XML", False),
    "trig": ("application/trig", "trig", "http://www.w3.org/ns/formats/TriG", "RDF_TRIG", True),
    "nq": ("application/n-quads", "nq", "http://www.w3.org/ns/formats/N-Quads", "RDF_N_QUADS", True),
    "json": ("application/sparql-results+json", "srj", "http://www.w3.org/ns/formats/SPARQL_Results_JSON", None, False),
    "xml": ("application/sparql-results+xml", "srx", "http://www.w3.org/ns/formats/SPARQL_Results_XML", None, False),
    "csv": ("text/csv", "csv", "http://www.w3.org/ns/formats/SPARQL_Results_CSV", None, False),
    "tsv": ("text/tab-separated-values", "tsv", "http://www.w3.org/ns/formats/SPARQL_Results_TSV", None, False),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_format_has_its_media_type_extension_and_iris(name: str) -> None:
    fmt = {**RDF_FORMATS, **RESULT_FORMATS}[name]
    assert (fmt.media_type, fmt.extension, fmt.w3c_iri, fmt.file_type, fmt.named_graphs) == EXPECTED[name]


def test_graph_answers_and_the_loader_use_the_same_registry() -> None:
    assert list(GRAPH_FORMATS) == ["ttl", "nt", "jsonld", "rdf"]
    assert all(not f.named_graphs or f.name == "jsonld" for f in GRAPH_FORMATS.values())
    assert LOADER_SUFFIXES == {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES,
                               ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML,
                               ".trig": ox.RdfFormat.TRIG, ".nq": ox.RdfFormat.N_QUADS}
    assert by_extension(".trig") is RDF_FORMATS["trig"] and by_extension(".n3") is None


def test_media_types_stores_answer_with_are_understood() -> None:
    # Virtuoso and older stores send N-Triples as text/plain; some send Turtle as application/x-turtle.
    assert rdf_by_media_type("text/plain; charset=utf-8") is RDF_FORMATS["nt"]
    assert rdf_by_media_type("Application/X-Turtle") is RDF_FORMATS["ttl"]
    assert rdf_by_media_type("application/sparql-results+json") is None


def test_eu_file_types_exist_in_the_eu_table_with_the_catalogue_label(vocab_dir: Path) -> None:
    table = Graph().parse(vocab_dir / "file-type.ttl", format="turtle")
    for fmt in RDF_FORMATS.values():
        iri = URIRef(fmt.file_type_iri)
        assert Literal(eu_labels("en")[str(iri)], lang="en") in set(table.objects(iri, SKOS.prefLabel)), iri
