"""SHACL validation of large graphs: pySHACL on partitions of the focus nodes, in parallel processes.

pySHACL validates a million triples in minutes, on one core. Each result it reports belongs to one focus node
and depends only on the triples that the shapes read from that node. So the focus nodes are split into
partitions, each partition gets a data graph with exactly those triples (its "closure"), pySHACL runs on every
partition in a worker process, and the results of each partition's own focus nodes are merged into one
`sh:ValidationReport`. The results are pySHACL's own; nothing is re-implemented, only the input is cut.

The parts, one module each:

- `closure`: the shapes compiled into an automaton, and the triples it reaches from given focus nodes;
- `planner`: the focus nodes of every shape and their partitions, and the size below which the data are
  validated in one plain pySHACL run (partitioning does not pay there);
- `pool`: pySHACL on each partition in forked workers;
- `cache`: each partition's results on disk, reused while its closure, the shapes and options are unchanged;
- `merge`: the results of each partition's own focus nodes, merged into one report;
- `rdflib_compat`: the two places that reach into rdflib's internals, with the versions they were verified on.

Shapes the analysis cannot bound (SHACL rules, SPARQL targets, custom constraint components, SPARQL patterns not
connected to `$this`) and RDFS/OWL inference make `validate_partitioned` fall back to one plain pySHACL run, so
the answer is always pySHACL's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from rdflib import ConjunctiveGraph, Graph

from vetgraph.validation.cache import ResultCache
from vetgraph.validation.closure import Unpartitionable, closure, closure_triples, index_for
from vetgraph.validation.merge import merge
from vetgraph.validation.planner import PLAIN_BELOW, lift_property_shapes, plan
from vetgraph.validation.pool import default_jobs, validate_parts
from vetgraph.validation.rdflib_compat import prepared_queries

__all__ = [
    "PLAIN_BELOW", "Unpartitionable", "closure", "closure_triples", "default_jobs", "index_for",
    "lift_property_shapes", "plan", "validate_partitioned", "validate_plain",
]

log = logging.getLogger(__name__)


def validate_partitioned(
    data_graph: Graph,
    shapes: Graph,
    ontology: Graph | None = None,
    jobs: int | None = None,
    partitions: int | None = None,
    cache_dir: os.PathLike | str | None = None,
    plain_below: int = PLAIN_BELOW,
    progress: Callable[[int, int], None] | None = None,
    **pyshacl_options: object,
) -> tuple[bool, Graph]:
    """Validate `data_graph` (a graph, or a dataset: the union of its graphs) against `shapes` with pySHACL,
    on partitions of the focus nodes in `jobs` processes (default: the usable cores). Returns pySHACL's
    (conforms, sh:ValidationReport graph) for the whole graph. `pyshacl_options` go to `pyshacl.validate`
    (e.g. allow_warnings=True); RDFS/OWL inference or SHACL rules make it one plain pySHACL run, and so do
    data of fewer than `plain_below` statements (where partitioning does not pay) unless a number of
    `partitions` is asked for.
    With `cache_dir`, each partition's results are kept there and reused while the partition's closure, the
    shapes, the ontology and the options stay the same (incremental validation); a plain run uses no cache.
    `progress(done, total)` hears of each validated partition (a plain run is one)."""
    jobs = jobs or default_jobs()
    inference = pyshacl_options.get("inference")
    started = time.perf_counter()
    try:
        if inference not in (None, "none"):
            raise Unpartitionable(f"inference={inference!r} derives triples across partitions")
        lifted = lift_property_shapes(shapes)
        if partitions is None and (statements := len(data_graph)) < plain_below:
            log.info("validating the whole graph at once: %d statements, below %d", statements, plain_below)
            # The lifted shapes, as the partitions get them: faster, and the same report at every size.
            return _counted(progress, lambda: validate_plain(data_graph, lifted, ontology, pyshacl_options))
        plan_ = plan(data_graph, lifted, ontology, partitions=partitions)
        shapes = lifted
    except Unpartitionable as reason:
        log.info("validating the whole graph at once: %s", reason)
        return _counted(progress, lambda: validate_plain(data_graph, shapes, ontology, pyshacl_options))
    planned = time.perf_counter()
    index = index_for(data_graph, ontology, plan_)
    log.info(
        "planned %d partitions of %d focus nodes in %.1f s, indexed in %.1f s",
        len(plan_.partitions),
        len(plan_.starts),
        planned - started,
        time.perf_counter() - planned,
    )
    cache = ResultCache(cache_dir, shapes, ontology, pyshacl_options) if cache_dir is not None else None
    parts = validate_parts(shapes, plan_, index, pyshacl_options, cache, jobs, progress)
    log.info(
        "validated %d partition triples (%.2fx the data; %d of %d partitions from the cache) in %.1f s",
        sum(part[2] for part in parts),
        sum(part[2] for part in parts) / max(1, index.size),
        sum(1 for part in parts if part[3]),
        len(parts),
        time.perf_counter() - started,
    )
    return merge(parts, pyshacl_options)


def _counted(progress: Callable[[int, int], None] | None, run: Callable[[], tuple[bool, Graph]]
             ) -> tuple[bool, Graph]:
    """A plain run reported as one partition."""
    if progress:
        progress(0, 1)
    result = run()
    if progress:
        progress(1, 1)
    return result


def validate_plain(data_graph: Graph, shapes: Graph, ontology: Graph | None, options: dict) -> tuple[bool, Graph]:
    """One pySHACL run on the whole graph (a dataset: the union of its graphs), SPARQL constraints parsed once."""
    import pyshacl

    if isinstance(data_graph, ConjunctiveGraph):  # pySHACL would validate each named graph on its own
        from vetgraph.loading import union_graph

        data_graph = union_graph(data_graph)  # type: ignore[arg-type]  # it reads any ConjunctiveGraph's quads
    with prepared_queries():
        conforms, report, _ = pyshacl.validate(data_graph, shacl_graph=shapes, ont_graph=ontology, **options)
    return bool(conforms), report
