"""The partition planner: the focus nodes of every shape, and their split into partitions.

Partitions are runs of the focus nodes sorted by IRI (the resources of one report stay together), cut where a
hash of the node says so, so that an edit moves no other partition's boundary (and the result cache keeps the
other partitions' keys). Property shapes of targeted node shapes are given their node shape's targets
(`lift_property_shapes`), which pySHACL validates faster, with the same results. Below `PLAIN_BELOW` statements
partitioning does not pay, and the data are validated in one plain pySHACL run.
"""

from __future__ import annotations

import math
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from vetgraph.validation.closure import Compiler, Lookup, State, Step

#: Focus nodes per partition when the caller does not say: big enough that pySHACL's fixed cost per run
#: (harvesting shapes) and the shared resources copied into each partition stay small, small enough to balance
#: the workers and to keep rdflib's SPARQL constraints cheap (their cost per focus node grows with the
#: partition). The figures behind it are in docs/performance.md.
FOCUS_NODES_PER_PARTITION = 500
#: Data statements below which one plain pySHACL run is faster than planning, indexing and forking
#: (measured with bench/bench_validate_small.py, see docs/performance.md).
PLAIN_BELOW = 10_000


@dataclass
class Plan:
    """What each partition validates and reads."""

    #: shape node -> its focus nodes in the full graph
    focus: dict[Node, set[Node]]
    #: focus node -> start states of the automaton (from every shape that targets it)
    starts: dict[Node, list[State]]
    #: the partitions: their own focus nodes, disjoint, covering all focus nodes
    partitions: list[list[Node]]
    #: constants of SPARQL patterns that every partition reads from (patterns not anchored at $this)
    global_starts: list[tuple[Node, State]] = field(default_factory=list)
    #: SPARQL patterns outside the spanning trees, read between the nodes the walk reached
    joins: list[tuple[State | Node, URIRef, State | Node]] = field(default_factory=list)


def _subclasses(lookup: Lookup, cls: Node) -> set[Node]:
    found = {cls}
    pending = [cls]
    while pending:
        for sub in lookup.subjects(RDFS.subClassOf, pending.pop()):
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _targets(shapes: Graph, lookup: Lookup, shape: Node) -> tuple[set[Node], list[Step]]:
    """The focus nodes of a shape in the full graph (as pySHACL finds them), and the steps a partition
    needs so that pySHACL finds the same focus nodes there."""
    focus: set[Node] = set(shapes.objects(shape, SH.targetNode))
    steps: list[Step] = []
    classes = set(shapes.objects(shape, SH.targetClass))
    if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, URIRef(str(RDFS) + "Class")) in shapes:
        classes.add(shape)
    if (shape, RDF.type, OWL.Class) in shapes:
        classes.add(shape)
    for cls in classes:
        for sub in _subclasses(lookup, cls):
            focus |= lookup.subjects(RDF.type, sub)
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        focus |= {s for s, _, _ in lookup.triples((None, predicate, None))}
        steps.append((predicate, False))
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        focus |= {o for _, _, o in lookup.triples((None, predicate, None))}
        steps.append((predicate, True))
    return focus, steps


def _shape_nodes(shapes: Graph) -> set[Node]:
    """Shapes that have targets (pySHACL validates these at top level)."""
    found: set[Node] = set()
    for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        found |= set(shapes.subjects(predicate, None))
    for cls in (SH.NodeShape, SH.PropertyShape):
        for shape in shapes.subjects(RDF.type, cls):
            if (shape, RDF.type, RDFS.Class) in shapes:
                found.add(shape)
    return found


def lift_property_shapes(shapes: Graph) -> Graph:
    """An equivalent shapes graph for pySHACL in which the property shapes of targeted node shapes carry the
    node shape's targets themselves, instead of hanging from it by sh:property.

    pySHACL validates a nested property shape once per focus node, rebuilding its constraint components each
    time; a property shape with targets it validates once for all of its focus nodes, in far less time
    (docs/performance.md). The results are the same (SHACL 2.1: the focus nodes a node shape validates against its
    property shapes are its own targets), with the same sh:sourceShape; a result that two node shapes would
    each report for the same property shape and focus node is reported once. Node shapes that other shapes
    use (sh:node, sh:and, sh:or, sh:xone, sh:not, sh:qualifiedValueShape), deactivated ones, implicit class
    targets and SHACL-AF custom targets (sh:target) are left as they are, and so are those whose property
    shapes need their siblings (sh:qualifiedValueShapesDisjoint)."""
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    used_by_other_shapes = {o for _, p, o in shapes if p in (SH.node, SH["not"], SH.qualifiedValueShape)}
    used_by_other_shapes |= {o for _, p, o in shapes if p == RDF.first}  # members of sh:and/or/xone lists
    lifted = Graph()
    for prefix, namespace in shapes.namespaces():
        lifted.bind(prefix, namespace)
    for triple in shapes:
        lifted.add(triple)
    for node_shape in sorted(set(shapes.subjects(SH.property, None)), key=str):
        properties = list(shapes.objects(node_shape, SH.property))
        own_targets = [(p, o) for p in targets for o in shapes.objects(node_shape, p)]
        if (
            not own_targets
            or node_shape in used_by_other_shapes
            or shapes.value(node_shape, SH.deactivated) == Literal(True)
            or any((node_shape, RDF.type, cls) in shapes for cls in _IMPLICIT_CLASS_TARGETS)
            or (node_shape, SH.target, None) in shapes  # custom targets: the lifted copies would lack them
            # sibling property shapes are found through their node shape
            or any((p, SH.qualifiedValueShapesDisjoint, None) in shapes for p in properties)
        ):
            continue
        for property_shape in properties:
            for predicate, value in own_targets:
                lifted.add((property_shape, predicate, value))
            lifted.remove((node_shape, SH.property, property_shape))
    return lifted


_IMPLICIT_CLASS_TARGETS = (RDFS.Class, OWL.Class)


def _chunks(ordered: list[Node], size: int) -> list[list[Node]]:
    """Cut the sorted focus nodes where a hash of the node says so (content-defined chunking): about `size`
    nodes per part, and adding or removing a node moves no boundary but its own part's, so the other parts
    keep their result-cache keys."""
    parts: list[list[Node]] = [[]]
    for node in ordered:
        current = parts[-1]
        current.append(node)
        cut = zlib.crc32(str(node).encode()) % size == 0 and len(current) >= size // 4
        if cut or len(current) >= 4 * size:
            parts.append([])
    return [part for part in parts if part]


def plan(
    data: Graph,
    shapes: Graph,
    ontology: Graph | None = None,
    partitions: int | None = None,
    partition_size: int = FOCUS_NODES_PER_PARTITION,
) -> Plan:
    """Compile the shapes, find every focus node and split the focus nodes into `partitions` parts (default:
    parts of about `partition_size` focus nodes)."""
    lookup = Lookup(data, ontology)
    compiler = Compiler(shapes, lookup)
    focus: dict[Node, set[Node]] = {}
    starts: dict[Node, list[State]] = defaultdict(list)
    for shape in sorted(_shape_nodes(shapes), key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        nodes, target_steps = _targets(shapes, lookup, shape)
        state = compiler.shape(shape)
        if target_steps:
            entry = State(also=[state])
            for predicate, inverse in target_steps:
                entry.step(predicate, inverse, State())
            state = entry
        focus[shape] = nodes
        for node in nodes:
            starts[node].append(state)
    ordered = sorted(starts, key=lambda n: (isinstance(n, Literal), str(n)))
    size = math.ceil(len(ordered) / partitions) if partitions else partition_size
    parts = _chunks(ordered, max(1, size))
    return Plan(
        focus=focus,
        starts=dict(starts),
        partitions=parts,
        global_starts=compiler.global_starts,
        joins=compiler.joins,
    )
