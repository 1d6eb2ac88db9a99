"""One store abstraction for every engine that answers SPARQL: the embedded Oxigraph store (default),
rdflib's own engine (reference, and for comparison) and, in `vetgraph.remote`, any SPARQL 1.1 endpoint.

A query returns a `QueryResult`: rows of rdflib terms for Python callers, and `serialize()` into the W3C
result formats (SELECT/ASK) or RDF syntaxes (CONSTRUCT/DESCRIBE) for the CLI and the server. Oxigraph
results are serialized by Oxigraph's own writers, which are much faster than rdflib's.

Parameters are always bound as RDF terms (`bindings`), never pasted into the query text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

import pyoxigraph as ox
from rdflib import Dataset, Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.query import ResultRow
from rdflib.term import Identifier, Variable

from vetgraph import formats
from vetgraph.terms import to_oxigraph, to_rdflib, written

ResultKind = TypingLiteral["select", "ask", "graph"]

#: result format name -> (media type, pyoxigraph format), from the format registry. Names are what `--format`
#: and `?format=` accept.
TABULAR_FORMATS: dict[str, tuple[str, ox.QueryResultsFormat]] = {
    name: (f.media_type, f.results) for name, f in formats.RESULT_FORMATS.items()
}
GRAPH_FORMATS: dict[str, tuple[str, ox.RdfFormat]] = {
    name: (f.media_type, f.rdf) for name, f in formats.GRAPH_FORMATS.items()
}


class QueryError(Exception):
    """A query that cannot run: syntax error (with line and column where known), or a refused feature."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        super().__init__(message)


class QueryTimeout(Exception):
    """A query that ran past its time limit."""


@dataclass
class QueryResult:
    """The answer to a query, engine-neutral. `rows` hold rdflib terms (None for unbound)."""

    kind: ResultKind
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Identifier | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None

    def as_dicts(self) -> list[dict[str, Identifier]]:
        return [{v: t for v, t in zip(self.variables, row, strict=True) if t is not None} for row in self.rows]

    def serialize(self, fmt: str) -> bytes:
        """The result in a W3C format: json/xml/csv/tsv for SELECT and ASK, ttl/nt/jsonld/rdf for graphs."""
        if self.kind == "graph":
            if fmt not in GRAPH_FORMATS:
                raise ValueError(f"a graph result cannot be written as {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
            return serialize_triples(self.graph or Graph(bind_namespaces="core"), fmt)
        if fmt not in TABULAR_FORMATS:
            raise ValueError(
                f"a {self.kind.upper()} result cannot be written as {fmt!r}; use one of {', '.join(TABULAR_FORMATS)}"
            )
        if self.kind == "ask":
            return _ask_bytes(bool(self.boolean), fmt)
        return _solutions_bytes(self.variables, self.rows, fmt)


def _tabular_bytes(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, fmt: str) -> bytes:
    if isinstance(result, ox.QueryTriples):
        raise ValueError(f"a graph result cannot be written as {fmt!r}")
    return written(result.serialize(format=TABULAR_FORMATS[fmt][1]))


def _ask_bytes(value: bool, fmt: str) -> bytes:
    return _tabular_bytes(ox.Store().query("ASK {}" if value else "ASK { FILTER(false) }"), fmt)


def _solutions_bytes(variables: Sequence[str], rows: Sequence[tuple[Identifier | None, ...]], fmt: str) -> bytes:
    """Serialize rdflib rows with Oxigraph's writers: a VALUES query over an empty store echoes them."""
    if not variables:
        return _tabular_bytes(ox.Store().query("SELECT * {} LIMIT 0"), fmt)
    store = ox.Store()
    names = " ".join(f"?{v}" for v in variables)
    # Terms go in as substitutions of one row at a time would be slow; build VALUES from N-Triples forms,
    # which are exact serializations of RDF terms (not user strings).
    lines = []
    for row in rows:
        cells = [(_nt(term) if term is not None else "UNDEF") for term in row]
        lines.append("(" + " ".join(cells) + ")")
    query = f"SELECT {names} {{ VALUES ({names}) {{ {' '.join(lines)} }} }}"
    return _tabular_bytes(store.query(query), fmt)


def _nt(term: Identifier) -> str:
    from rdflib import BNode

    if isinstance(term, BNode):
        return f"<urn:bnode:{term}>"  # VALUES cannot hold blank nodes; keep them distinct and visible
    return term.n3()


def serialize_triples(graph: Graph | Iterable[tuple], fmt: str, prefixes: Mapping[str, str] | None = None) -> bytes:
    """Triples in an RDF syntax, written by Oxigraph."""
    triples = graph if not isinstance(graph, Graph) else graph.triples((None, None, None))
    ox_triples = [ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in triples]
    if prefixes is None and isinstance(graph, Graph):
        prefixes = {p: str(n) for p, n in graph.namespaces() if p}
    with_prefixes = dict(prefixes) if prefixes and fmt in ("ttl", "rdf", "jsonld") else None
    return written(ox.serialize(ox_triples, format=GRAPH_FORMATS[fmt][1], prefixes=with_prefixes))


def _query_error(error: SyntaxError) -> QueryError:
    """Oxigraph's SPARQL parser puts the position in the message ("error at 3:2: ...")."""
    import re

    match = re.match(r"error at (\d+):(\d+): (.*)", str(error.msg), re.S)
    if match:
        return QueryError(match.group(3), int(match.group(1)), int(match.group(2)))
    return QueryError(str(error.msg), error.lineno, error.offset)


class Store(ABC):
    """Anything that answers SPARQL 1.1 queries over the vetgraph data."""

    name: str = "store"

    @abstractmethod
    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None, timeout: float | None = None
    ) -> QueryResult:
        """Run a query with parameters bound as RDF terms.

        Bound variables must appear in the SELECT projection (SEP-0007 substitution, as Oxigraph implements
        it); for CONSTRUCT/DESCRIBE/ASK any variable of the WHERE clause can be bound."""

    def native(
        self, sparql: str, fmt: str, bindings: Mapping[str, Identifier] | None = None
    ) -> tuple[ResultKind, bytes]:
        """Run and serialize in one step (engines override this with a faster path)."""
        result = self.query(sparql, bindings)
        return result.kind, result.serialize(fmt)

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class OxigraphStore(Store):
    """The embedded Oxigraph store, in memory. The default graph of queries is the union of all graphs."""

    name = "oxigraph"

    def __init__(self, store: ox.Store | None = None):
        self.store = store or ox.Store()

    @classmethod
    def from_dataset(cls, dataset: Dataset, store: ox.Store | None = None) -> OxigraphStore:
        """The dataset's statements in `store` (default: a new in-memory store)."""
        from vetgraph.memory import cyclic_gc_paused

        store = ox.Store() if store is None else store
        with cyclic_gc_paused():  # a million new quads beside the dataset's objects: no garbage to look for
            quads = []
            for s, p, o, g in dataset.quads((None, None, None, None)):
                graph_name = ox.DefaultGraph() if g is None or g == DATASET_DEFAULT_GRAPH_ID else ox.NamedNode(str(g))
                quads.append(ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), graph_name))
        store.bulk_extend(quads)
        return cls(store)

    def __len__(self) -> int:
        return len(self.store)

    def _run(self, sparql: str, bindings: Mapping[str, Identifier] | None):
        substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()}
        try:
            return self.store.query(sparql, use_default_graph_as_union=True, substitutions=substitutions or None)
        except SyntaxError as error:
            raise _query_error(error) from None

    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None, timeout: float | None = None
    ) -> QueryResult:
        raw = self._run(sparql, bindings)
        if isinstance(raw, ox.QuerySolutions):
            variables = [v.value for v in raw.variables]
            rows = [tuple(to_rdflib(s[i]) if s[i] is not None else None for i in range(len(variables))) for s in raw]
            return QueryResult("select", variables=variables, rows=rows)
        if isinstance(raw, ox.QueryBoolean):
            return QueryResult("ask", boolean=bool(raw))
        graph = Graph(bind_namespaces="core")
        for t in raw:
            graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return QueryResult("graph", graph=graph)

    def native(
        self, sparql: str, fmt: str, bindings: Mapping[str, Identifier] | None = None
    ) -> tuple[ResultKind, bytes]:
        raw = self._run(sparql, bindings)
        if isinstance(raw, ox.QueryTriples):
            if fmt not in GRAPH_FORMATS:
                raise ValueError(f"unsupported graph format {fmt!r}")
            return "graph", written(raw.serialize(format=GRAPH_FORMATS[fmt][1]))
        if fmt not in TABULAR_FORMATS:
            raise ValueError(f"unsupported result format {fmt!r}")
        kind: ResultKind = "select" if isinstance(raw, ox.QuerySolutions) else "ask"
        return kind, _tabular_bytes(raw, fmt)


class RdflibStore(Store):
    """rdflib's own SPARQL engine over the same data: the reference the Oxigraph results are checked against."""

    name = "rdflib"

    def __init__(self, dataset: Dataset):
        self.dataset = Dataset(store=dataset.store, default_union=True)

    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None, timeout: float | None = None
    ) -> QueryResult:
        from pyparsing import ParseException

        try:
            result = self.dataset.query(
                sparql, initBindings={Variable(k): v for k, v in (bindings or {}).items()} or None
            )
        except ParseException as error:
            raise QueryError(str(error.msg), error.lineno, error.col) from None
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            rows: list[tuple[Identifier | None, ...]] = [tuple(row) for row in result if isinstance(row, ResultRow)]
            return QueryResult("select", variables=variables, rows=rows)
        if result.type == "ASK":
            return QueryResult("ask", boolean=bool(result.askAnswer))
        graph = Graph(bind_namespaces="core")
        for triple in result.graph if result.graph is not None else ():  # CONSTRUCT and DESCRIBE fill .graph
            graph.add(triple)
        return QueryResult("graph", graph=graph)
