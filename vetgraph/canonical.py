"""Blank-node canonicalisation, once for the whole package: the W3C RDF Dataset Canonicalization algorithm
(RDFC-1.0, https://www.w3.org/TR/rdf-canon/) as Oxigraph implements it.

Two parses of the same data give their blank nodes different random labels; after canonicalisation they
carry the same `c14n<N>` labels whatever the parse order, process or hash seed, so dumps are byte-identical
and comparisons of two datasets are comparisons of statements. RDFC-1.0 numbers the blank nodes of the whole
dataset, so adding a blank node may renumber others: equal data give equal labels, but a label is not a stable
name across releases.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import BNode

from vetgraph.terms import to_oxigraph, to_rdflib

#: SHA-256 is RDFC-1.0's default hash; the W3C test suite's expected outputs use it.
ALGORITHM = ox.CanonicalizationAlgorithm.RDFC_1_0


def _has_blank_nodes(quads: Iterable[ox.Quad]) -> bool:
    return any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))


def canonical_quads(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads with RDFC-1.0 blank-node labels (in no particular order); the same list when none has a
    blank node (the algorithm is not needed then, and the real data have none)."""
    if not _has_blank_nodes(quads):
        return quads
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ALGORITHM)
    return list(dataset)


def canonical_rdflib_quads(quads: Iterable[tuple]) -> list[tuple]:
    """rdflib (s, p, o, graph-or-None) statements with RDFC-1.0 blank-node labels (duplicates dropped)."""
    rows = list(quads)
    if not any(isinstance(t, BNode) for s, _, o, _ in rows for t in (s, o)):
        return rows
    default = ox.DefaultGraph()
    converted = [
        ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), default if g is None else to_oxigraph(g))
        for s, p, o, g in rows
    ]
    return [
        (to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), to_rdflib(q.graph_name))
        for q in canonical_quads(converted)
    ]
