"""The process pool: pySHACL on every partition, in forked worker processes.

Workers are forked after the data are indexed once, so they read the parent's graph (and the index) without
copying or re-parsing it; the cyclic GC is frozen before the fork, and each worker is replaced after a few
partitions, to keep the inherited pages shared.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph

from vetgraph.validation.cache import ResultCache
from vetgraph.validation.closure import Index, closure_triples
from vetgraph.validation.merge import Part, own_results
from vetgraph.validation.planner import Plan
from vetgraph.validation.rdflib_compat import prepared_queries

#: Partitions a worker validates before it is replaced by a fresh fork: a worker's memory grows as it touches
#: the parent's objects (reference counts copy their pages); a new worker starts from the shared pages again.
TASKS_PER_WORKER = int(os.environ.get("VETGRAPH_TASKS_PER_WORKER", "8"))


@dataclass
class _Work:
    """What the workers validate; set before they fork, so each inherits it."""

    shapes: Graph
    plan: Plan
    index: Index
    options: dict
    cache: ResultCache | None


_FORKED: _Work | None = None


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def validate_parts(
    shapes: Graph, plan_: Plan, index: Index, options: dict, cache: ResultCache | None, jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[Part]:
    """Every partition of `plan_` validated, in `jobs` forked processes (in this one when there is one job or
    one partition, or no fork on this platform), in partition order; `progress(done, total)` as they finish."""
    global _FORKED
    _FORKED = _Work(shapes, plan_, index, options, cache)
    indexes = range(len(plan_.partitions))
    report = progress or (lambda done, total: None)
    report(0, len(indexes))
    parts: list[Part] = []
    try:
        if jobs > 1 and len(plan_.partitions) > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Keep the cyclic GC of the workers away from the inherited graph: a collection writes to every
            # object it visits, which would copy the parent's pages into each worker (and take time).
            gc.freeze()
            try:
                pool_size = min(jobs, len(plan_.partitions))
                with multiprocessing.get_context("fork").Pool(pool_size, initializer=_default_signals,
                                                              maxtasksperchild=TASKS_PER_WORKER) as pool:
                    for part in pool.imap_unordered(_validate_part, indexes):
                        parts.append(part)
                        report(len(parts), len(indexes))
            finally:
                gc.unfreeze()
        else:
            for i in indexes:
                parts.append(_validate_part(i))
                report(len(parts), len(indexes))
    finally:
        _FORKED = None
    return sorted(parts, key=lambda part: part[0])


def _default_signals() -> None:
    """A worker takes SIGTERM and SIGINT as the operating system does: the pool stops its workers with SIGTERM
    (also when a with-block ends), and a Python-level handler inherited from a command (build treats SIGTERM
    as Ctrl-C) left a worker blocked on the pool's queue lock alive, and the pool's join waiting for ever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the pool


def _validate_part(index: int) -> Part:
    """Worker: build partition `index`, run pySHACL (or take its earlier answer from the cache), and keep the
    results of the partition's own focus nodes. Returns (index, result triples, closure size, cache hit)."""
    import pyshacl

    work = _FORKED
    assert work is not None, "validate_parts sets the work before running a partition"
    cache = work.cache
    triples = closure_triples(work.index, work.plan, index)
    key = cache.key(work.plan.partitions[index], triples) if cache else None
    if cache and key and (cached := cache.get(key)) is not None:
        return index, cached, len(triples), True
    part = Graph()
    part.addN((s, p, o, part) for s, p, o in triples)
    # No ont_graph: the closure already holds every ontology statement the partition's shapes read (the index
    # covers data and ontology). Mixing the whole ontology in would also make every partition validate the
    # ontology's own labelled terms again (sh:targetSubjectsOf rdfs:label), results that are then dropped.
    with prepared_queries():
        _, report, _ = pyshacl.validate(part, shacl_graph=work.shapes, inplace=True, **work.options)
    kept = own_results(report, part, work.shapes, set(work.plan.partitions[index]))
    if cache and key:
        cache.put(key, kept)
    return index, kept, len(triples), False
