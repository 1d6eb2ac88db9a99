"""vetgraph.namespaces: the closed `VET` namespace matches the ontology, and the one prefix table is sound."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from vetgraph.config import VET_NS, Paths
from vetgraph.namespaces import PREFIXES, VET, prefixes


def ontology_terms() -> set[str]:
    graph = Graph().parse(Paths().ontology_file, format="turtle")
    return {str(s)[len(VET_NS):] for s in graph.subjects() if isinstance(s, URIRef) and s.startswith(VET_NS)} - {""}


def test_vet_namespace_lists_exactly_the_terms_of_the_ontology() -> None:
    # A term added to (or removed from) ontology/vet.ttl must be added to (or removed from) VET as well.
    assert set(VET.__annotations__) == ontology_terms()
    assert VET.titleEvidence == URIRef(VET_NS + "titleEvidence")


def test_a_misspelt_vet_term_fails_loudly() -> None:
    for misspelt in (lambda: VET.declaredInsightCout, lambda: VET["Insights"]):
        with pytest.raises(AttributeError, match="not in namespace"):
            misspelt()


def test_the_prefix_table_binds_each_namespace_once() -> None:
    assert len(set(PREFIXES.values())) == len(PREFIXES)
    assert all(namespace.endswith(("/", "#")) for namespace in PREFIXES.values())
    assert prefixes("dct", "vet") == {"dct": "http://purl.org/dc/terms/", "vet": VET_NS}
    with pytest.raises(KeyError):
        prefixes("dcterms")  # rdflib's name for it; ours is dct
