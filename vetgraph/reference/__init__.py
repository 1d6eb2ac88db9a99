"""Reference labels shipped with the package as Turtle (as pyLODE and prez keep theirs): labels of the reused
vocabulary terms for the server's pages (`terms.ttl`) and the English labels of the EU vocabulary concepts the
catalogue uses (`eu-concepts.ttl`), and the project's own snapshot of its link targets in every language
(`links-snapshot.ttl`). Each file's header names its sources. Parsed once per process, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS


@cache
def _graph(name: str) -> Graph:
    graph = Graph(bind_namespaces="none")
    graph.parse(data=files(__package__).joinpath(name).read_bytes(), format="turtle")
    return graph


def in_language(graph: Graph, predicate: URIRef, lang: str) -> dict[str, str]:
    """subject IRI -> its `predicate` literal in language `lang` (a concept has one prefLabel per language, so a
    label is chosen by its tag, never as "the" prefLabel). Subjects without one in that language are left out."""
    found: dict[str, str] = {}
    for subject, value in graph.subject_objects(predicate):
        if isinstance(subject, URIRef) and isinstance(value, Literal) and (value.language or "").lower() == lang:
            found.setdefault(str(subject), str(value))
    return found


@cache
def term_labels() -> Mapping[str, str]:
    """English labels of reused W3C/DCMI/FOAF/schema.org terms, for display."""
    return MappingProxyType(in_language(_graph("terms.ttl"), RDFS.label, "en"))


@cache
def eu_labels(lang: str = "en") -> Mapping[str, str]:
    """Labels in `lang` of the EU vocabulary concepts the catalogue may use."""
    return MappingProxyType(in_language(_graph("eu-concepts.ttl"), SKOS.prefLabel, lang))


def snapshot_graph() -> Graph:
    """The project's snapshot of its link targets (parsed once; do not change the returned graph)."""
    return _graph("links-snapshot.ttl")


@cache
def linked_labels(lang: str) -> Mapping[str, str]:
    """Labels in `lang` of the EU concepts the data links to, from the project's snapshot of its link targets
    (`links-snapshot.ttl`, every language the sources give; written by `vetgraph links --refresh`)."""
    return MappingProxyType(in_language(_graph("links-snapshot.ttl"), SKOS.prefLabel, lang))


@cache
def scheme_titles(lang: str = "en") -> Mapping[str, str]:
    """Titles in `lang` of the concept schemes the catalogue may name as theme taxonomies."""
    return MappingProxyType(in_language(_graph("eu-concepts.ttl"), DCTERMS.title, lang))
