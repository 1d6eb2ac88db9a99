"""The merge: from each partition's pySHACL report the results of its own focus nodes, and from all partitions
one `sh:ValidationReport` with pySHACL's `sh:conforms`.

A partition's report also holds results for the shared resources copied into it (they are some other
partition's focus nodes); only its own are kept. The blank nodes a report makes are renamed to names local to
the partition, then made unique per partition when merging: workers are forked from one process and share
the blank-node generator's state, so two partitions can mint the same label.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, BNode, Graph, Literal
from rdflib.namespace import SH
from rdflib.term import Node

from vetgraph.validation.closure import Triple

#: the prefix of the partition-local names of report blank nodes
_LOCAL = "vglocal"
#: what a worker returns: (partition index, kept result triples, closure size, whether from the cache)
Part = tuple[int, list[Triple], int, bool]


def own_results(report: Graph, part: Graph, shapes: Graph, own: set[Node]) -> list[Triple]:
    """The triples of `report`'s results whose focus node is in `own`, with their nested blank nodes (paths,
    details), a `(sh:result, sh:result, result)` marker for each top-level result, report blank nodes renamed
    to partition-local names."""
    kept: list[Triple] = []
    renamed: dict[Node, BNode] = {}

    def rename(term: Node) -> Node:
        # Anonymous shapes keep their names, as in pySHACL's report: sh:sourceShape leads back into the shapes
        # graph; so do blank nodes of the data.
        if (
            isinstance(term, BNode)
            and (term, None, None) in report
            and (term, None, None) not in part
            and (term, None, None) not in shapes
        ):
            if term not in renamed:
                renamed[term] = BNode(f"{_LOCAL}{len(renamed)}")
            return renamed[term]
        return term

    for result in report.objects(None, SH.result):
        if report.value(result, SH.focusNode) not in own:
            continue
        kept.append((SH.result, SH.result, rename(result)))  # marker: a top-level result
        pending, visited = [result], set()
        while pending:
            node = pending.pop()
            if node in visited:
                continue
            visited.add(node)
            for s, p, o in report.triples((node, None, None)):
                kept.append((rename(s), p, rename(o)))
                if isinstance(o, BNode) and (o, None, None) in report:
                    pending.append(o)
    return kept


def conforms(results: Graph, options: dict) -> bool:
    """pySHACL's rule: any result fails, except those whose severity the options allow."""
    allowed: set[Node] = set()
    if options.get("allow_infos") or options.get("allow_warnings"):
        allowed.add(SH.Info)
    if options.get("allow_warnings"):
        allowed.add(SH.Warning)
    return all(results.value(r, SH.resultSeverity) in allowed for r in results.objects(None, SH.result))


def _unique(term: Node, index: int) -> Node:
    """A report blank node with a partition-local name, made unique across partitions."""
    if isinstance(term, BNode) and term.startswith(_LOCAL):
        return BNode(f"vgpart{index}r{term[len(_LOCAL) :]}")
    return term


def merge(parts: Iterable[Part], options: dict) -> tuple[bool, Graph]:
    """One report of every partition's kept results, and whether it conforms by the `options`."""
    merged = Graph()
    merged.bind("sh", SH)
    report = BNode()
    merged.add((report, RDF.type, SH.ValidationReport))
    for index, triples, _, _ in parts:
        for s, p, o in triples:
            if s == SH.result and p == SH.result:
                merged.add((report, SH.result, _unique(o, index)))
            else:
                merged.add((_unique(s, index), p, _unique(o, index)))
    result = conforms(merged, options)
    merged.add((report, SH.conforms, Literal(result)))
    return result, merged
