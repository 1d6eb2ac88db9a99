"""Comparing RDF as different tools read it: datasets parsed by rdflib and by pyoxigraph, query results of
different engines (blank node labels ignored), and the parameter sets to try on each stored query."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Identifier, Node

from vetgraph.stores import QueryResult
from vetgraph.terms import to_rdflib

#: dump file extension -> rdflib parser name
RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml", "trig": "trig", "nq": "nquads"}
#: the RDF syntaxes the server negotiates for a resource or a graph: media type -> (extension, rdflib parser)
SERVED_FORMATS = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("rdf", "xml"),
}


def graphs_of(dataset: Dataset) -> dict[str | None, Graph]:
    """Each graph of a dataset (None: the default graph), skipping empty ones."""
    out: dict[str | None, Graph] = {}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        identifier = getattr(g, "identifier", g)
        name = None if identifier is None or identifier == DATASET_DEFAULT_GRAPH_ID else str(identifier)
        out.setdefault(name, Graph()).add((s, p, o))
    return out


def union_of(source: Dataset | Graph) -> Graph:
    """The statements of all graphs of a Dataset, or those of a Graph."""
    union = Graph()
    for statement in source.quads((None, None, None, None)) if isinstance(source, Dataset) else source:
        union.add(statement[:3])
    return union


def literal_value(graph: Graph, subject: Node | None, predicate: Node) -> Any:
    """The Python value of the literal `graph.value(subject, predicate)` (fails when that is no literal)."""
    node = graph.value(subject, predicate)
    assert isinstance(node, Literal), (subject, predicate, node)
    return node.toPython()


def dumped(store: ox.Store, fmt: ox.RdfFormat,
           from_graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None) -> bytes:
    """`store.dump` into bytes (it answers None only when given an output to write to)."""
    data = store.dump(format=fmt, from_graph=from_graph)
    assert data is not None
    return data


def integer(cell: Identifier | None) -> int:
    """A result cell that must be bound, as an int."""
    assert cell is not None, "unbound"
    return int(cell)


def oxigraph_dataset(path: Path) -> Dataset:
    """A file parsed by pyoxigraph, as an rdflib Dataset."""
    dataset = Dataset()
    for quad in ox.parse(path=str(path)):
        graph = quad.graph_name
        target = dataset.default_graph if isinstance(graph, ox.DefaultGraph) else dataset.graph(URIRef(graph.value))
        target.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return dataset


def rdflib_dataset(path: Path, fmt: str) -> Dataset:
    dataset = Dataset()
    dataset.parse(path, format=RDFLIB_FORMATS[fmt])
    return dataset


def assert_same_data(parsed: Dataset, source: Dataset | Graph, named_graphs: bool) -> None:
    """Triple formats: the union of the source; quad formats: each graph of the source."""
    if not named_graphs:
        assert isomorphic(union_of(parsed), union_of(source))
        return
    assert isinstance(source, Dataset)  # graphs_of needs quads: only a Dataset has named graphs
    got, want = graphs_of(parsed), graphs_of(source)
    assert sorted(got, key=str) == sorted(want, key=str)
    for name in want:
        assert isomorphic(got[name], want[name]), name


def canonical(result: QueryResult) -> object:
    """A comparable form of a result: sorted rows of N-Triples terms, blank nodes made anonymous."""
    if result.kind == "ask":
        return result.boolean
    if result.kind == "graph":
        return result.graph
    cells = [tuple("_:b" if isinstance(t, BNode) else (t.n3() if t is not None else "UNDEF") for t in row)
             for row in result.rows]
    return result.variables, sorted(cells)


def same(a: QueryResult, b: QueryResult) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "graph":
        assert a.graph is not None and b.graph is not None  # a graph result carries its graph
        return isomorphic(a.graph, b.graph)
    return canonical(a) == canonical(b)


def example_bindings(query) -> list[dict]:
    """Parameter sets to try for a stored query: its documented example, none, and each parameter alone."""
    cases: list[dict[str, str]] = [{}]
    words = shlex.split(query.example) if query.example else []
    example = {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag in ("--param", "-p"):
            key, _, val = value.partition("=")
            example[key] = val
    cases.append(example)
    samples = {"iri": "insight/1", "integer": "2", "date": "2020-01-01", "boolean": "true", "langstring": "x"}
    for param in query.params:
        cases.append({param.name: param.default or (param.enum[0] if param.enum else samples.get(param.type, "x"))})
    result = []
    for case in cases:
        try:
            result.append(query.bind(case))
        except ValueError:  # a required parameter missing in this case
            continue
    return result
