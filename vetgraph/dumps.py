"""Deterministic serializations: the same graph gives the same bytes, so diffs between releases mean something.

Statements are converted once to Oxigraph terms, blank nodes get their W3C RDFC-1.0 canonical labels
(`vetgraph.canonical`, not parse order), and everything is sorted before it is written. Turtle, TriG,
RDF/XML, N-Triples and N-Quads are written by Oxigraph's serializers (linear; rdflib's Turtle writer is
super-linear, rdflib issue #2135); JSON-LD is written here, because Oxigraph writes only expanded JSON-LD
and we publish a compact one.

Formats that can hold named graphs (TriG, N-Quads, JSON-LD) keep the statements of each named graph (e.g. the
unconfirmed ones) in that graph. A triple format (Turtle, N-Triples, RDF/XML) has no graphs, so it is written
from one graph only (`Prepared.graph`): merging graphs would erase the line between what a source states and
what it does not, and `serialize` refuses to.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from xml.parsers.expat import ExpatError, ParserCreate

import pyoxigraph as ox
from rdflib import Dataset, Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.term import Node

from vetgraph.canonical import canonical_quads
from vetgraph.formats import RDF_FORMATS, Format
from vetgraph.namespaces import RDF, XSD
from vetgraph.terms import to_oxigraph, written

RDF_TYPE = str(RDF.type)
_TYPE_KEY = f"<{RDF_TYPE}>"
XSD_STRING = str(XSD.string)
#: A namespace can serve as a JSON-LD prefix only if it ends with one of these (JSON-LD 1.1, "prefix flag").
_GEN_DELIMS = ("/", "#", ":", "?", "@", "[", "]")


#: The data dumps, in the order they are written and listed.
FORMATS: dict[str, Format] = RDF_FORMATS


def _key(term: object) -> str:
    """The sort key of a term: its N-Triples form (the default graph sorts first, as "")."""
    return "" if isinstance(term, ox.DefaultGraph) else str(term)


@dataclass
class Prepared:
    """Statements ready to write: canonical blank-node labels, sorted, with the prefixes they use."""

    quads: list[ox.Quad]
    #: (graph, subject, predicate, object) sort keys of `quads`, in the same order: N-Triples forms
    keys: list[tuple[str, str, str, str]]
    prefixes: dict[str, str] = field(default_factory=dict)
    _triples: list[ox.Triple] | None = field(default=None, repr=False)

    @property
    def named_graphs(self) -> bool:
        return any(not isinstance(q.graph_name, ox.DefaultGraph) for q in self.quads)

    def triples(self) -> list[ox.Triple]:
        """The union of all graphs, each statement once, subjects grouped with rdf:type first (for Turtle)."""
        if self._triples is None:
            seen: set[tuple[str, str, str]] = set()
            rows = []
            for (_, s, p, o), quad in zip(self.keys, self.quads, strict=True):
                if (s, p, o) not in seen:
                    seen.add((s, p, o))
                    rows.append(((s, p != _TYPE_KEY, p, o), quad))
            rows.sort(key=itemgetter(0))
            self._triples = [ox.Triple(q.subject, q.predicate, q.object) for _, q in rows]
        return self._triples

    def graph(self, name: str | None = None) -> Prepared:
        """The statements of one graph (None: the default graph) as a default graph, ready for a triple format.

        Blank-node labels stay those computed over the whole dataset; only the prefixes the part uses are kept."""
        wanted = "" if name is None else f"<{name}>"
        keys, quads = [], []
        for key, quad in zip(self.keys, self.quads, strict=True):
            if key[0] == wanted:  # sorted by graph first: the part stays sorted by subject, predicate, object
                keys.append(("", *key[1:]))
                quads.append(ox.Quad(quad.subject, quad.predicate, quad.object))
        return Prepared(quads, keys, used_prefixes(self.prefixes.items(), _iris(quads)))

    def serialize(self, fmt: str) -> bytes:
        """The statements in one of FORMATS; a triple format only of statements that are all in one graph."""
        if fmt in FORMATS and not FORMATS[fmt].named_graphs and self.named_graphs:
            raise ValueError(f"{FORMATS[fmt].title} cannot keep graphs apart: write one graph (Prepared.graph)")
        if fmt == "nt":
            return _sorted_lines(written(ox.serialize(self.triples(), format=ox.RdfFormat.N_TRIPLES)))
        if fmt == "nq":
            return _sorted_lines(written(ox.serialize(self.quads, format=ox.RdfFormat.N_QUADS)))
        if fmt == "ttl":
            return _sorted_prefixes(written(ox.serialize(self.triples(), format=ox.RdfFormat.TURTLE,
                                                         prefixes=self.prefixes)))
        if fmt == "trig":
            return _sorted_prefixes(written(ox.serialize(self.quads, format=ox.RdfFormat.TRIG, prefixes=self.prefixes)))
        if fmt == "rdf":
            return written(ox.serialize(self.triples(), format=ox.RdfFormat.RDF_XML, prefixes=self.prefixes))
        if fmt == "jsonld":
            return json_ld(self.quads, self.prefixes)
        raise ValueError(f"unknown dump format {fmt!r} (known: {', '.join(FORMATS)})")

    def check(self, fmt: str, data: bytes) -> None:
        """Raise ValueError unless `data` (written by `serialize(fmt)`) parses back, with Oxigraph, to as many
        statements as it should hold. RDF/XML is also checked by expat for well-formed XML with namespaces:
        Oxigraph writes an element without local name for a predicate IRI that cannot be split into namespace
        and local name (e.g. .../p/1), and its own parser is lenient enough to read that back."""
        expected = len(self.quads) if FORMATS[fmt].named_graphs else len(self.triples())
        try:
            if fmt == "rdf":
                _well_formed_xml(data)
            found = sum(1 for _ in ox.parse(data, format=FORMATS[fmt].rdf))  # the loader's parser
        except (SyntaxError, ExpatError) as error:
            raise ValueError(f"the {FORMATS[fmt].title} dump does not parse back: {error}") from None
        if found != expected:
            raise ValueError(f"the {FORMATS[fmt].title} dump parses back to {found} statements, not {expected}")


def prepare(source: Dataset | Graph, namespaces: Iterable[tuple[str, object]] | None = None) -> Prepared:
    """Sorted Oxigraph quads of an rdflib Dataset (all graphs) or Graph (default graph only).

    `namespaces` (prefix, IRI) default to the source's bindings; only those the statements use are kept."""
    if isinstance(source, Dataset):
        rdflib_quads: Iterable[tuple] = source.quads((None, None, None, None))
    else:
        rdflib_quads = ((s, p, o, None) for s, p, o in source.triples((None, None, None)))
    # Each distinct term is converted and written out once (graphs repeat their IRIs a lot).
    converted: dict[Node, tuple[Any, str]] = {}

    def term(node: Node) -> tuple[Any, str]:
        hit = converted.get(node)
        if hit is None:
            value = to_oxigraph(node)
            hit = converted[node] = (value, str(value))
        return hit

    default = (ox.DefaultGraph(), "")
    rows = []
    for s, p, o, g in rdflib_quads:
        graph = default if g is None or g == DATASET_DEFAULT_GRAPH_ID else term(_graph_name(g))
        rows.append((graph, term(s), term(p), term(o)))
    if any(isinstance(value, ox.BlankNode) for value, _ in converted.values()):
        quads = canonical_quads([ox.Quad(s[0], p[0], o[0], g[0]) for g, s, p, o in rows])
        keyed = [((_key(q.graph_name), str(q.subject), str(q.predicate), str(q.object)), q) for q in quads]
    else:
        keyed = [((g[1], s[1], p[1], o[1]), ox.Quad(s[0], p[0], o[0], g[0])) for g, s, p, o in rows]
    keyed.sort(key=itemgetter(0))
    iris = {value.value for value, _ in converted.values() if isinstance(value, ox.NamedNode)}
    iris |= {value.datatype.value for value, _ in converted.values() if isinstance(value, ox.Literal)}
    bound = namespaces if namespaces is not None else source.namespaces()
    return Prepared([q for _, q in keyed], [k for k, _ in keyed], used_prefixes(bound, iris))


def _iris(quads: Iterable[ox.Quad]) -> set[str]:
    """The IRIs statements use (as terms or as datatypes), for choosing their prefixes."""
    found: set[str] = set()
    for quad in quads:
        for term in (quad.subject, quad.predicate, quad.object):
            if isinstance(term, ox.NamedNode):
                found.add(term.value)
            elif isinstance(term, ox.Literal):
                found.add(term.datatype.value)
    return found


def _graph_name(g: Graph | Node) -> Node:
    """rdflib hands out named graphs as Graph objects in some calls and as identifiers in others."""
    return g.identifier if isinstance(g, Graph) else g


def used_prefixes(namespaces: Iterable[tuple[str, object]], used: Iterable[str]) -> dict[str, str]:
    """The prefixes whose namespace some of the `used` IRIs starts with, sorted by prefix.

    A namespace bound to two prefixes keeps the first in sort order, so the choice does not depend on the
    order in which files were loaded."""
    iris = sorted(used)
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for prefix, namespace in sorted((str(p), str(n)) for p, n in namespaces):
        if not namespace or namespace in taken:
            continue
        position = bisect_left(iris, namespace)  # first IRI >= namespace: the only candidate to start with it
        if position < len(iris) and iris[position].startswith(namespace):
            chosen[prefix] = namespace
            taken.add(namespace)
    return chosen


def _well_formed_xml(data: bytes) -> None:
    parser = ParserCreate(namespace_separator=" ")
    parser.Parse(data, True)


def _sorted_prefixes(data: bytes) -> bytes:
    """The @prefix lines Oxigraph writes first, in alphabetical order (its own order is by namespace length)."""
    lines = data.split(b"\n")
    count = next((i for i, line in enumerate(lines) if not line.startswith(b"@prefix ")), len(lines))
    return b"\n".join(sorted(lines[:count]) + lines[count:])


def _sorted_lines(data: bytes) -> bytes:
    """N-Triples/N-Quads lines in byte order (one statement per line; newlines in literals are escaped)."""
    lines = data.splitlines()
    lines.sort()
    return b"".join(line + b"\n" for line in lines)


def json_ld_context(prefixes: Mapping[str, str]) -> dict[str, str]:
    """A compact JSON-LD context: the prefixes that JSON-LD 1.1 accepts as such."""
    return {
        prefix: namespace
        for prefix, namespace in sorted(prefixes.items())
        if prefix and prefix != "_" and namespace.endswith(_GEN_DELIMS)
    }


class _Compactor:
    """Compact IRIs (prefix:local) with the longest matching namespace of a JSON-LD context."""

    def __init__(self, context: Mapping[str, str]):
        self.by_length = sorted(((ns, p) for p, ns in context.items()), key=lambda item: (-len(item[0]), item[1]))
        self.cache: dict[str, str] = {}

    def iri(self, value: str) -> str:
        cached = self.cache.get(value)
        if cached is None:
            cached = value
            for namespace, prefix in self.by_length:
                if value.startswith(namespace) and not value[len(namespace):].startswith("//"):
                    cached = f"{prefix}:{value[len(namespace):]}"
                    break
            self.cache[value] = cached
        return cached

    def node(self, term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        raise ValueError(f"a quoted triple (RDF-star) has no JSON-LD 1.1 form: {term}")  # rdflib data has none

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> object:
        if not isinstance(term, ox.Literal):
            return {"@id": self.node(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": self.iri(term.datatype.value)}


def json_ld(quads: list[ox.Quad], prefixes: Mapping[str, str]) -> bytes:
    """Compact JSON-LD 1.1 of sorted quads: one node object per subject, named graphs as `@graph` nodes."""
    context = json_ld_context(prefixes)
    compact = _Compactor(context)
    graphs: dict[str, list[ox.Quad]] = defaultdict(list)
    names: dict[str, ox.NamedNode | ox.BlankNode] = {}
    for q in quads:
        key = _key(q.graph_name)
        graphs[key].append(q)
        if not isinstance(q.graph_name, ox.DefaultGraph):
            names[key] = q.graph_name
    top = _node_objects(graphs.pop("", []), compact)
    by_id = {node["@id"]: node for node in top}
    for key in sorted(graphs):
        name = compact.node(names[key])
        holder = by_id.get(name)
        if holder is None:
            holder = by_id[name] = {"@id": name}
            top.append(holder)
        holder["@graph"] = _node_objects(graphs[key], compact)
    top.sort(key=lambda node: str(node["@id"]))
    # One node object per line, each written by json's C encoder (an indented dump goes through the much slower
    # pure-Python encoder; figures in docs/performance.md); still diffable line by line between releases.
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    lines = ",\n".join(encode(node) for node in top)
    return f'{{"@context":{encode(context)},\n"@graph":[\n{lines}\n]}}\n'.encode()


def _node_objects(quads: list[ox.Quad], compact: _Compactor) -> list[dict[str, object]]:
    """Node objects of one graph's statements (which come sorted by subject, predicate, object)."""
    nodes: list[tuple[dict[str, object], dict[str, list[object]]]] = []  # (node object, its properties)
    properties: dict[str, list[object]] = {}
    subject = None
    for q in quads:
        if q.subject != subject:
            subject = q.subject
            properties = {}
            nodes.append(({"@id": compact.node(subject)}, properties))
        if q.predicate.value == RDF_TYPE and not isinstance(q.object, ox.Literal):
            properties.setdefault("@type", []).append(compact.node(q.object))
        else:
            properties.setdefault(compact.iri(q.predicate.value), []).append(compact.value(q.object))
    for node, properties in nodes:
        for key in sorted(properties, key=lambda k: (k != "@type", k)):
            values = properties[key]
            node[key] = values[0] if len(values) == 1 else values
    return [node for node, _ in nodes]


def gzip_bytes(data: bytes) -> bytes:
    """gzip with no file name and mtime 0 in the header, so the same input gives the same bytes. Level 6
    (gzip's own default): level 9 costs more than twice the time for files only slightly smaller (figures in
    docs/performance.md)."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
