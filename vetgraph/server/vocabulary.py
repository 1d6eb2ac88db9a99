"""Human labels for the terms a page shows: the vetgraph ontology's own labels and comments, then short
English labels of the reused W3C/DCMI/schema.org terms (the reference file `vetgraph/reference/terms.ttl`,
which names their specifications), then a label made from the IRI's local name. Display only: these labels
never go into RDF output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from vetgraph.namespaces import AUTHORITY, DOI, ELI, ESCO, EUROVOC
from vetgraph.reference import term_labels

#: Well-known namespaces, for a small badge naming where a linked term comes from.
SOURCES: tuple[tuple[str, str], ...] = (
    (str(EUROVOC), "EuroVoc"),
    (str(ESCO), "ESCO"),
    (str(AUTHORITY), "EU authority table"),
    (str(ELI), "ELI"),
    ("http://data.europa.eu/", "data.europa.eu"),  # any other EU vocabulary
    (str(DOI), "DOI"),
)


def local_name(iri: str) -> str:
    """A readable fallback label: the last IRI segment, camelCase split into words."""
    tail = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", tail)


def source_of(iri: str) -> str | None:
    """The name of the known vocabulary an IRI belongs to (EuroVoc, ESCO ...), if any."""
    return next((name for prefix, name in SOURCES if iri.startswith(prefix)), None)


@dataclass
class Vocabulary:
    """Labels and comments of terms, from the ontology first, then the reference labels of reused terms."""

    labels: dict[str, str] = field(default_factory=dict)  # for display: ontology + reference labels
    comments: dict[str, str] = field(default_factory=dict)
    ontology_labels: dict[str, str] = field(default_factory=dict)  # the ontology's own (may go into RDF)

    @classmethod
    def from_ontology(cls, ontology: Graph | None) -> Vocabulary:
        vocabulary = cls(labels=dict(term_labels()))
        if ontology is not None:
            vocabulary.ontology_labels = _english(ontology, RDFS.label, SKOS.prefLabel)
            vocabulary.labels.update(vocabulary.ontology_labels)
            vocabulary.comments.update(_english(ontology, RDFS.comment, SKOS.definition))
        return vocabulary

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or local_name(iri)

    def comment(self, iri: str) -> str | None:
        return self.comments.get(iri)


def _english(graph: Graph, *predicates: URIRef) -> dict[str, str]:
    """term -> text, preferring English, then untagged, over other languages; first predicate wins."""
    best: dict[str, tuple[int, str]] = {}
    for rank, predicate in enumerate(predicates):
        for subject, value in graph.subject_objects(predicate):
            if not isinstance(subject, URIRef) or not isinstance(value, Literal):
                continue
            score = rank * 3 + language_rank(value)
            key = str(subject)
            if key not in best or score < best[key][0]:
                best[key] = (score, str(value))
    return {key: text for key, (_, text) in best.items()}


def language_rank(value: Literal) -> int:
    """0 for English, 1 for no language tag, 2 for any other language (lower is preferred)."""
    lang = (value.language or "").lower()
    return 0 if lang == "en" or lang.startswith("en-") else (1 if not lang else 2)
