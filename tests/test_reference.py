"""vetgraph.reference: labels kept as Turtle reference files inside the package, picked by language."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from vetgraph.config import PROJECT_ROOT
from vetgraph.reference import eu_labels, in_language, term_labels
from vetgraph.server.vocabulary import Vocabulary


def test_a_label_is_picked_by_its_language_tag_not_as_the_first_pref_label() -> None:
    graph = Graph().parse(data="""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <https://example.org/c> skos:prefLabel "Bildung"@de , "Education"@en , "Éducation"@fr .
        <https://example.org/d> skos:prefLabel "nur Deutsch"@de .""", format="turtle")
    assert in_language(graph, SKOS.prefLabel, "en") == {"https://example.org/c": "Education"}
    assert in_language(graph, SKOS.prefLabel, "de")["https://example.org/c"] == "Bildung"


def test_reference_labels_feed_the_catalogue_and_the_pages() -> None:
    assert eu_labels("en")["http://publications.europa.eu/resource/authority/file-type/RDF_TURTLE"] == "RDF Turtle"
    assert eu_labels("de") == {}  # the reference file holds English labels only
    dct_license = "http://purl.org/dc/terms/license"
    assert term_labels()[dct_license] == "licence"
    assert Vocabulary.from_ontology(None).label(dct_license) == "licence"
    # the ontology's own label wins over the reference file
    ontology = Graph().parse(data=f'<{dct_license}> <http://www.w3.org/2000/01/rdf-schema#label> "permit"@en .',
                             format="turtle")
    assert Vocabulary.from_ontology(ontology).label(dct_license) == "permit"


def test_every_reference_label_is_english_and_every_term_iri_is_absolute() -> None:
    for name in ("terms.ttl", "eu-concepts.ttl"):
        graph = Graph().parse(PROJECT_ROOT / "vetgraph" / "reference" / name, format="turtle")
        for s, _, o in graph:
            assert isinstance(s, URIRef) and s.startswith("http"), (name, s)
            if isinstance(o, Literal) and o.language is not None:
                assert o.language == "en", (name, s, o)
        header = (PROJECT_ROOT / "vetgraph" / "reference" / name).read_text(encoding="utf-8").split("@prefix")[0]
        assert "Source" in header, name  # each file names where its labels come from
