"""Aligned, terminal-friendly tables of query results (`vetgraph query --format table`).

IRIs are shortened with well-known prefixes (listed under the table), literals show their text, long
cells wrap inside their column so that the table fits the terminal without losing any value. The W3C
formats (csv/tsv/json/xml, RDF syntaxes) come from `QueryResult.serialize`, not from here.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable, Mapping, Sequence

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from vetgraph.config import ID_BASE, VET_NS
from vetgraph.store import QueryResult, serialize_triples

#: prefix -> namespace used to shorten IRIs in tables (display only; longest namespace wins)
PREFIXES: dict[str, str] = {
    "id": ID_BASE,
    "vet": VET_NS,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "eurovoc": "http://eurovoc.europa.eu/",
    "esco": "http://data.europa.eu/esco/",
    "authority": "http://publications.europa.eu/resource/authority/",
}

#: prefixes whose local names contain "/" (fine in a table, escaped in Turtle)
_PATH_PREFIXES = {"id", "esco", "authority"}
MIN_COLUMN = 12
#: columns without spaces (IRIs, codes) are kept unbroken up to this width when the table fits
MAX_UNBROKEN = 40
SEPARATOR = "  "


def cell_text(term: Identifier | None, prefixes: Mapping[str, str] = PREFIXES, used: set[str] | None = None) -> str:
    """How one term reads in a table: prefixed IRI, literal text, `_:b` for blank nodes, '' for unbound."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        return " ".join(str(term).split())  # newlines would break the row layout
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, URIRef):
        iri = str(term)
        best = max((ns for ns in prefixes.values() if iri.startswith(ns) and len(iri) > len(ns)), key=len,
                   default=None)
        if best is not None:
            prefix = next(p for p, ns in prefixes.items() if ns == best)
            if used is not None:
                used.add(prefix)
            return f"{prefix}:{iri[len(best):]}"
        return iri
    return str(term)


def column_widths(natural: Sequence[int], minimum: Sequence[int], budget: int) -> list[int]:
    """Widths that fit `budget` characters: cap the widest columns at one common limit, never below minimum."""
    if sum(natural) <= budget:
        return list(natural)
    low, high = 1, max(natural)
    while low < high:  # the largest cap whose table still fits
        cap = (low + high + 1) // 2
        if sum(max(min(n, cap), m) for n, m in zip(natural, minimum, strict=True)) <= budget:
            low = cap
        else:
            high = cap - 1
    return [max(min(n, low), m) for n, m in zip(natural, minimum, strict=True)]


def format_table(
    variables: Sequence[str],
    rows: Iterable[Sequence[Identifier | None]],
    width: int | None = None,
    hide: set[str] | frozenset[str] = frozenset(),
    prefixes: Mapping[str, str] = PREFIXES,
) -> str:
    """Rows as an aligned table with a header, a rule, wrapped cells, a row count and the prefixes used."""
    width = width or shutil.get_terminal_size(fallback=(120, 24)).columns
    shown = [i for i, v in enumerate(variables) if v not in hide] or list(range(len(variables)))
    headers = [variables[i] for i in shown]
    used: set[str] = set()
    cells = [[cell_text(row[i], prefixes, used) for i in shown] for row in rows]
    natural = [max([len(h)] + [len(r[c]) for r in cells]) for c, h in enumerate(headers)]
    budget = width - len(SEPARATOR) * (len(headers) - 1)
    # Text wraps well at spaces; IRIs and codes do not, so their columns keep more width when there is room.
    minimum = [min(n, max(len(h), MIN_COLUMN)) for n, h in zip(natural, headers, strict=True)]
    unbreakable = [min(n, MAX_UNBROKEN) if not any(" " in r[c] for r in cells) else m
                   for c, (n, m) in enumerate(zip(natural, minimum, strict=True))]
    widths = column_widths(natural, unbreakable if sum(unbreakable) <= budget else minimum, budget)
    lines = [_line(headers, widths), _line(["-" * w for w in widths], widths)]
    for row in cells:
        wrapped = [textwrap.wrap(text, w, break_on_hyphens=False) or [""]
                   for text, w in zip(row, widths, strict=True)]
        for k in range(max(len(w) for w in wrapped)):
            lines.append(_line([w[k] if k < len(w) else "" for w in wrapped], widths))
    count = len(cells)
    lines.append(f"({count} row{'s' if count != 1 else ''})")
    if used:
        lines.append("prefixes: " + ", ".join(f"{p}: <{prefixes[p]}>" for p in sorted(used)))
    return "\n".join(lines) + "\n"


def _line(texts: Sequence[str], widths: Sequence[int]) -> str:
    return SEPARATOR.join(t.ljust(w) for t, w in zip(texts, widths, strict=True)).rstrip()


def format_result(result: QueryResult, width: int | None = None, hide: set[str] | frozenset[str] = frozenset()) -> str:
    """A query result for the terminal: a table (SELECT), true/false (ASK), Turtle (CONSTRUCT/DESCRIBE).

    `hide` names columns not worth repeating on every row, such as the bound parameters."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    if result.kind == "graph":
        return turtle(result.graph).decode("utf-8") if result.graph is not None else ""
    return format_table(result.variables, result.rows, width=width, hide=hide)


def turtle(graph: Graph) -> bytes:
    """A graph as readable Turtle: statements grouped by subject, well-known prefixes.

    Only prefixes whose local names need no escaping are used: `id:insight\\/3` would be valid Turtle but
    harder to read than the full IRI."""
    namespaces = {p: ns for p, ns in PREFIXES.items() if ns.endswith(("#", "/")) and p not in _PATH_PREFIXES}
    used = {p: ns for p, ns in namespaces.items() if any(str(t).startswith(ns) for triple in graph for t in triple)}
    return serialize_triples(sorted(graph), "ttl", prefixes=used)
