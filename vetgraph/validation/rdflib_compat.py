"""The two places where validation reaches into rdflib's internals, each with the versions it was verified on
and the ordinary path it falls back to.

1. `memory_indexes`: the dictionaries rdflib's default (Memory) store indexes its statements by, read directly
   instead of asking the store triple by triple. Falls back to rdflib's `triples`/`quads` (the caller's
   ordinary path) for any other store or an rdflib without those attributes.
2. `prepared_queries`: a scoped patch of rdflib's `SPARQLProcessor.query` that reuses the parsed form of a
   SPARQL text it has seen before. Falls back to rdflib's own method (every text parsed again: slower, the
   same results) when the method's signature is not the one it was verified on.

Both were verified with the equivalence tests (tests/test_parallel_validation.py: partitioned results equal a
full pySHACL run) on the versions in VERIFIED_ON; pyproject.toml pins rdflib and pySHACL to those ranges.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager

from rdflib import ConjunctiveGraph, Graph
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

#: (rdflib, pySHACL) version pairs the equivalence tests passed on, with both touches active
VERIFIED_ON = (("7.3.0", "0.30.1"), ("7.6.0", "0.40.1"))

Triple = tuple[Node, Node, Node]
#: rdflib's Memory store: subject -> predicate -> {object: 1}, predicate -> object -> {subject: 1},
#: object -> subject -> {predicate: 1}, over all the graphs of the store
Indexes = tuple[dict, dict, dict]


def memory_indexes(graph: Graph) -> Indexes | None:
    """The dictionaries rdflib's default (Memory) store indexes its statements by, when they hold exactly the
    statements to validate: those of a dataset (the union of its graphs) or of a graph alone in its store.

    Reading them directly is an order of magnitude faster than asking the store triple by triple (figures in
    docs/performance.md) and needs no copy. They are private to rdflib (the name-mangled `Memory.__spo` & co.),
    so any other store, or an rdflib without them, gets None and takes the ordinary path."""
    store = graph.store
    indexes = tuple(getattr(store, f"_Memory__{name}", None) for name in ("spo", "pos", "osp"))
    if not isinstance(store, Memory) or not all(isinstance(index, dict) for index in indexes):
        return None
    if not isinstance(graph, ConjunctiveGraph) and any(c.identifier != graph.identifier for c in store.contexts()):
        return None  # one graph of a dataset: the indexes hold the other graphs too
    return indexes  # type: ignore[return-value]


def indexed_triples(indexes: Indexes, pattern: tuple[Node | None, Node | None, Node | None]) -> Iterator[Triple]:
    """The triples matching `pattern`, read from the indexes `memory_indexes` returned."""
    spo, pos, osp = indexes
    s, p, o = pattern
    if s is not None:
        for predicate, objects in spo.get(s, {}).items():
            if p is None or predicate == p:
                yield from ((s, predicate, obj) for obj in objects if o is None or obj == o)
    elif p is not None:
        by_object = pos.get(p, {})
        if o is not None:
            yield from ((subject, p, o) for subject in by_object.get(o, ()))
        else:
            yield from ((subject, p, obj) for obj, subjects in by_object.items() for subject in subjects)
    elif o is not None:
        by_subject = osp.get(o, {})
        yield from ((subject, predicate, o) for subject, predicates in by_subject.items() for predicate in predicates)
    else:
        yield from ((subject, predicate, obj) for subject, po in spo.items() for predicate, objects in po.items()
                    for obj in objects)


@functools.lru_cache(maxsize=256)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> object:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces))


#: the parameters of `SPARQLProcessor.query` the patch passes on, in order
_QUERY_PARAMETERS = ("self", "strOrQuery", "initBindings", "initNs", "base", "DEBUG")


def _patchable(method: object) -> bool:
    try:
        return tuple(inspect.signature(method).parameters) == _QUERY_PARAMETERS  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


@contextmanager
def prepared_queries() -> Iterator[bool]:
    """Let rdflib reuse the parsed form of a SPARQL query text it has seen before; yields whether it does.

    pySHACL evaluates a SPARQL constraint once per focus node, each time handing rdflib the same query text
    with `$this` pre-bound; rdflib parses that text every time (most of the constraint's cost). rdflib
    supports evaluating one prepared query with different initial bindings (`prepareQuery`); this does that
    for identical texts, so the results are unchanged and only the parsing is saved. The parsed queries
    outlive the patch (module-level cache), so a worker parses each constraint once, not once per partition.
    If `SPARQLProcessor.query` does not have the signature it was verified on, nothing is patched."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    if not _patchable(original):
        yield False
        return

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = _translated(strOrQuery, base, tuple(sorted((initNs or {}).items())))  # noqa: N806
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield True
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]
