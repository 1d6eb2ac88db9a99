"""Human labels for the terms a page shows: the vetgraph ontology's own labels and comments, then short
English labels of the reused W3C/DCMI/schema.org terms (as their specifications name them), then a label
made from the IRI's local name. Display only: these labels never go into RDF output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS

_DCT = "http://purl.org/dc/terms/"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_ORG = "http://www.w3.org/ns/org#"
_PROV = "http://www.w3.org/ns/prov#"
_FOAF = "http://xmlns.com/foaf/0.1/"
_SCHEMA = "https://schema.org/"
_DCAT = "http://www.w3.org/ns/dcat#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"

#: Labels of reused vocabulary terms, as their own specifications label them (lower case, as in the ontology).
KNOWN_LABELS: dict[str, str] = {
    _RDF + "type": "type",
    _RDFS + "label": "label",
    _RDFS + "comment": "comment",
    _RDFS + "seeAlso": "see also",
    _RDFS + "isDefinedBy": "is defined by",
    _OWL + "sameAs": "same as",
    _DCT + "title": "title",
    _DCT + "alternative": "alternative title",
    _DCT + "description": "description",
    _DCT + "abstract": "abstract",
    _DCT + "tableOfContents": "table of contents",
    _DCT + "source": "source",
    _DCT + "creator": "creator",
    _DCT + "contributor": "contributor",
    _DCT + "publisher": "publisher",
    _DCT + "license": "licence",
    _DCT + "rights": "rights",
    _DCT + "language": "language",
    _DCT + "format": "format",
    _DCT + "issued": "date issued",
    _DCT + "created": "date created",
    _DCT + "modified": "date modified",
    _DCT + "date": "date",
    _DCT + "dateAccepted": "date accepted",
    _DCT + "identifier": "identifier",
    _DCT + "subject": "subject",
    _DCT + "spatial": "spatial coverage",
    _DCT + "temporal": "temporal coverage",
    _DCT + "relation": "relation",
    _DCT + "references": "references",
    _DCT + "isReferencedBy": "is referenced by",
    _DCT + "hasPart": "has part",
    _DCT + "isPartOf": "is part of",
    _DCT + "hasVersion": "has version",
    _DCT + "isVersionOf": "is version of",
    _DCT + "replaces": "replaces",
    _DCT + "isReplacedBy": "is replaced by",
    _DCT + "bibliographicCitation": "bibliographic citation",
    _DCT + "PeriodOfTime": "period of time",
    _DCT + "Location": "location",
    _SKOS + "prefLabel": "preferred label",
    _SKOS + "altLabel": "alternative label",
    _SKOS + "hiddenLabel": "hidden label",
    _SKOS + "notation": "notation",
    _SKOS + "definition": "definition",
    _SKOS + "note": "note",
    _SKOS + "scopeNote": "scope note",
    _SKOS + "editorialNote": "editorial note",
    _SKOS + "historyNote": "history note",
    _SKOS + "example": "example",
    _SKOS + "inScheme": "in scheme",
    _SKOS + "topConceptOf": "top concept of",
    _SKOS + "hasTopConcept": "has top concept",
    _SKOS + "broader": "broader",
    _SKOS + "narrower": "narrower",
    _SKOS + "related": "related",
    _SKOS + "exactMatch": "exact match",
    _SKOS + "closeMatch": "close match",
    _SKOS + "broadMatch": "broader match",
    _SKOS + "narrowMatch": "narrower match",
    _SKOS + "relatedMatch": "related match",
    _SKOS + "Concept": "concept",
    _SKOS + "ConceptScheme": "concept scheme",
    _ORG + "Organization": "organization",
    _ORG + "OrganizationalUnit": "organizational unit",
    _ORG + "Membership": "membership",
    _ORG + "Role": "role",
    _ORG + "member": "member",
    _ORG + "memberOf": "member of",
    _ORG + "hasMember": "has member",
    _ORG + "hasMembership": "has membership",
    _ORG + "organization": "organization",
    _ORG + "role": "role",
    _ORG + "headOf": "head of",
    _ORG + "unitOf": "unit of",
    _ORG + "hasUnit": "has unit",
    _ORG + "subOrganizationOf": "sub-organization of",
    _ORG + "hasSubOrganization": "has sub-organization",
    _ORG + "linkedTo": "linked to",
    _ORG + "memberDuring": "member during",
    _PROV + "Attribution": "attribution",
    _PROV + "agent": "agent",
    _PROV + "hadRole": "had role",
    _PROV + "qualifiedAttribution": "qualified attribution",
    _PROV + "wasAttributedTo": "was attributed to",
    _PROV + "wasDerivedFrom": "was derived from",
    _FOAF + "Person": "person",
    _FOAF + "Group": "group",
    _FOAF + "Document": "document",
    _FOAF + "Organization": "organization",
    _FOAF + "name": "name",
    _FOAF + "page": "page",
    _FOAF + "homepage": "homepage",
    _SCHEMA + "isbn": "ISBN",
    _SCHEMA + "sameAs": "same as",
    _SCHEMA + "numberOfPages": "number of pages",
    _SCHEMA + "jobTitle": "job title",
    _SCHEMA + "attendee": "attendee",
    _SCHEMA + "location": "location",
    _SCHEMA + "subjectOf": "subject of",
    _SCHEMA + "name": "name",
    _SCHEMA + "url": "URL",
    _DCAT + "startDate": "start date",
    _DCAT + "endDate": "end date",
    _DCAT + "keyword": "keyword",
    _DCAT + "theme": "theme",
    _DCAT + "landingPage": "landing page",
}

#: Well-known namespaces, for a small badge naming where a linked term comes from.
SOURCES: tuple[tuple[str, str], ...] = (
    ("http://eurovoc.europa.eu/", "EuroVoc"),
    ("http://data.europa.eu/esco/", "ESCO"),
    ("http://publications.europa.eu/resource/authority/", "EU authority table"),
    ("http://data.europa.eu/eli/", "ELI"),
    ("http://data.europa.eu/", "data.europa.eu"),
    ("https://doi.org/", "DOI"),
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
    """Labels and comments of terms, from the ontology first, then `KNOWN_LABELS`."""

    labels: dict[str, str] = field(default_factory=dict)  # for display: ontology + KNOWN_LABELS
    comments: dict[str, str] = field(default_factory=dict)
    ontology_labels: dict[str, str] = field(default_factory=dict)  # the ontology's own (may go into RDF)

    @classmethod
    def from_ontology(cls, ontology: Graph | None) -> Vocabulary:
        vocabulary = cls(labels=dict(KNOWN_LABELS))
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
