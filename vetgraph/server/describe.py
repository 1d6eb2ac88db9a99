"""The description of a resource, as dereferencing returns it: the resource's own statements (with the
blank nodes they lead to), the statements that point to it (incoming links), and the labels of every IRI
they mention. Built with SPARQL over the `Store` interface, so it works on the embedded store and on a
remote endpoint alike; the resource is bound as an RDF term, never pasted into the query text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS
from rdflib.term import Identifier

from vetgraph.config import UNCONFIRMED_GRAPH
from vetgraph.server.vocabulary import Vocabulary, language_rank
from vetgraph.stores import Store

Triple = tuple[Identifier, Identifier, Identifier]

_OUT = f"""SELECT DISTINCT ?r ?p ?o ?unconfirmed WHERE {{
  ?r ?p ?o .
  OPTIONAL {{ GRAPH <{UNCONFIRMED_GRAPH}> {{ ?r ?p ?o }} BIND(true AS ?unconfirmed) }}
}}"""
_BLANK = """SELECT DISTINCT ?r ?b ?p ?o WHERE { ?r ?q ?b . FILTER(isBlank(?b)) ?b ?p ?o . }"""
_IN = """SELECT DISTINCT ?r ?s ?p WHERE { ?s ?p ?r . } LIMIT %d"""
_GRAPH = """SELECT DISTINCT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"""
_SOURCES = "SELECT DISTINCT ?s ?source WHERE { VALUES ?s { %s } ?s <http://purl.org/dc/terms/source> ?source }"
_LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel)

#: Incoming links listed at most (a hub resource could have very many).
MAX_INCOMING = 1000


@dataclass
class Description:
    iri: URIRef
    triples: list[Triple] = field(default_factory=list)  # the resource's statements and its blank nodes'
    incoming: list[Triple] = field(default_factory=list)
    unconfirmed: set[tuple[Identifier, Identifier]] = field(default_factory=set)  # (p, o) in the unconfirmed graph
    labels: dict[URIRef, Literal] = field(default_factory=dict)  # from the data and the ontology
    incoming_truncated: bool = False

    @property
    def exists(self) -> bool:
        return bool(self.triples or self.incoming)

    def graph(self) -> Graph:
        """All of it as one RDF graph (labels as rdfs:label triples), for Turtle, JSON-LD and friends."""
        graph = Graph(bind_namespaces="core")
        for triple in (*self.triples, *self.incoming):
            graph.add(triple)
        for iri, label in self.labels.items():
            if (iri, RDFS.label, None) not in graph:
                graph.add((iri, RDFS.label, label))
        return graph


@dataclass
class GraphContents:
    """The statements of one named graph, with the sources their subjects name and the labels of their IRIs."""

    iri: URIRef
    triples: list[Triple] = field(default_factory=list)
    #: subject -> the dct:source values it has in any graph (the data cites sources per resource)
    sources: dict[Identifier, list[Identifier]] = field(default_factory=dict)
    labels: dict[URIRef, Literal] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.triples)


def mentioned(triples: Iterable[Triple]) -> set[URIRef]:
    return {term for triple in triples for term in triple if isinstance(term, URIRef)}


def labels_of(store: Store, iris: Iterable[URIRef]) -> dict[URIRef, Literal]:
    """Labels (rdfs:label, else skos:prefLabel; English first) of the given IRIs, from the store."""
    wanted = sorted({iri for iri in iris if isinstance(iri, URIRef)})
    if not wanted:
        return {}
    # The IRIs come from the store's own results (valid IRIs), so writing them as <...> terms is exact.
    values = " ".join(iri.n3() for iri in wanted)
    predicates = f"{RDFS.label.n3()} {SKOS.prefLabel.n3()}"
    query = f"SELECT ?x ?p ?l WHERE {{ VALUES ?x {{ {values} }} VALUES ?p {{ {predicates} }} ?x ?p ?l }}"
    best: dict[URIRef, tuple[int, Literal]] = {}
    for x, p, label in store.query(query).rows:
        if not isinstance(x, URIRef) or not isinstance(label, Literal):
            continue
        score = _LABEL_PREDICATES.index(p) * 3 + language_rank(label)
        if x not in best or score < best[x][0]:
            best[x] = (score, label)
    return {x: label for x, (_, label) in best.items()}


def describe_graph(store: Store, iri: URIRef, vocabulary: Vocabulary | None = None) -> GraphContents:
    """The contents of the named graph `iri` (empty when the store has no such graph)."""
    contents = GraphContents(iri)
    contents.triples = [(s, p, o) for _, s, p, o in store.query(_GRAPH, {"g": iri}).rows
                        if s is not None and p is not None and o is not None]  # bound by the pattern
    if not contents.triples:
        return contents
    subjects = sorted({s for s, _, _ in contents.triples if isinstance(s, URIRef)})
    if subjects:  # IRIs from the store's own results: exact as <...> terms
        for s, source in store.query(_SOURCES % " ".join(s.n3() for s in subjects)).rows:
            if s is not None and source is not None:
                contents.sources.setdefault(s, []).append(source)
    for found in contents.sources.values():
        found.sort()
    contents.labels = _labels(store, mentioned(contents.triples), vocabulary)
    return contents


def _labels(store: Store, terms: set[URIRef], vocabulary: Vocabulary | None) -> dict[URIRef, Literal]:
    """Labels from the store, and for ontology terms (properties, classes, evidence levels) from the ontology."""
    labels = labels_of(store, terms)
    if vocabulary is not None:
        for term in terms - labels.keys():
            if str(term) in vocabulary.ontology_labels:
                labels[term] = Literal(vocabulary.ontology_labels[str(term)], lang="en")
    return labels


def describe(store: Store, iri: URIRef, vocabulary: Vocabulary | None = None) -> Description:
    """The description of `iri` (empty when the store knows nothing about it)."""
    description = Description(iri)
    bindings = {"r": iri}
    # the patterns bind ?p, ?o, ?b and ?s in every row (only ?unconfirmed is optional)
    for _, p, o, unconfirmed in store.query(_OUT, bindings).rows:
        if p is not None and o is not None:
            description.triples.append((iri, p, o))
            if unconfirmed is not None:
                description.unconfirmed.add((p, o))
    if any(isinstance(o, BNode) for _, _, o in description.triples):
        for _, b, p, o in store.query(_BLANK, bindings).rows:
            if b is not None and p is not None and o is not None:
                description.triples.append((b, p, o))
    rows = store.query(_IN % (MAX_INCOMING + 1), bindings).rows
    description.incoming_truncated = len(rows) > MAX_INCOMING
    description.incoming = [(s, p, iri) for _, s, p in rows[:MAX_INCOMING] if s is not None and p is not None]
    if not description.exists:
        return description
    description.labels = _labels(store, mentioned((*description.triples, *description.incoming)), vocabulary)
    return description
