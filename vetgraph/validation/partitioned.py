"""SHACL validation of large graphs: pySHACL on partitions of the focus nodes, in parallel processes.

pySHACL validates a million triples in minutes, on one core. Each result it reports belongs to one focus node
and depends only on the triples that the shapes read from that node: its paths, the nodes they reach and the
shapes nested on those, the triples a SPARQL constraint can match from `$this`. So the focus nodes are split
into partitions, each partition gets a data graph with exactly those triples (its "closure"), pySHACL runs on
every partition in a worker process, and the results of each partition's own focus nodes are merged into one
`sh:ValidationReport`. The results are pySHACL's own; nothing is re-implemented, only the input is cut.

How the closure is found: the shapes graph is compiled into a small automaton whose transitions are
(predicate, direction) steps: `sh:path` (sequences, alternatives, inverse and `*`/`+`/`?` paths), nested
`sh:node`/`sh:property`/`sh:and`/`sh:or`/`sh:xone`/`sh:not`/`sh:qualifiedValueShape`, `sh:equals` & co., and
the triple patterns of `sh:sparql` constraints (walked from `$this` along a spanning tree that avoids
high fan-in steps, using predicate statistics of the data; the remaining patterns are kept as joins between
reached nodes). Running the automaton from a partition's focus nodes over the full graph yields the triples
to copy: those along the paths, the `rdf:type` of nodes that `sh:class` checks, all outgoing triples of the
focus nodes themselves (targets, `sh:closed`) and any class hierarchy stated in the data. Shapes the analysis
cannot bound (SHACL rules, SPARQL targets, custom constraint components, SPARQL patterns not connected to
`$this`, RDFS/OWL inference) make `validate_partitioned` fall back to one plain pySHACL run, so the answer is
always pySHACL's.

Partitions are runs of the focus nodes sorted by IRI (the resources of one report stay together), cut where a
hash of the node says so, so that an edit moves no other partition's boundary; the shared resources they point
to are copied into each partition that reads them. Workers are forked after the data are indexed once, so they
read the parent's graph without copying or re-parsing it. With a cache folder, a partition whose closure, shapes
and options are unchanged takes its results from the previous run (incremental validation).
"""

from __future__ import annotations

import functools
import gc
import logging
import math
import multiprocessing
import os
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, BNode, ConjunctiveGraph, Graph, Literal, URIRef, Variable
from rdflib.namespace import SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

log = logging.getLogger(__name__)

Triple = tuple[Node, Node, Node]
#: A step of the automaton: (predicate, or None for any predicate; True when walked from object to subject)
Step = tuple["URIRef | None", bool]

#: Focus nodes per partition when the caller does not say: big enough that pySHACL's fixed cost per run
#: (harvesting shapes) and the shared resources copied into each partition stay small, small enough to balance
#: the workers and to keep rdflib's SPARQL constraints cheap (their cost per focus node grows with the
#: partition). Measured at 1000x, 2 processes: 150 -> 71 s, 250 -> 65 s, 500 -> 59-63 s, 1500 -> 81 s.
FOCUS_NODES_PER_PARTITION = 500
#: Partitions a worker validates before it is replaced by a fresh fork: a worker's memory grows as it touches
#: the parent's objects (reference counts copy their pages); a new worker starts from the shared pages again.
TASKS_PER_WORKER = int(os.environ.get("VETGRAPH_TASKS_PER_WORKER", "8"))


class Unpartitionable(Exception):
    """The shapes use a feature whose reach the analysis cannot bound; validate the whole graph instead."""


@dataclass(eq=False)
class State:
    """A state of the access automaton: what to read from a node reached in this state."""

    steps: dict[Step, list[State]] = field(default_factory=lambda: defaultdict(list))
    also: list[State] = field(default_factory=list)  # epsilon moves: other states for the same node
    all_out: bool = False  # every outgoing triple (sh:closed, variable predicates)
    types: bool = False  # the node's rdf:type triples (sh:class)

    def step(self, predicate: URIRef | None, inverse: bool, target: State) -> None:
        self.steps[(predicate, inverse)].append(target)


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


#: rdflib's Memory store: subject -> predicate -> {object: 1}, predicate -> object -> {subject: 1},
#: object -> subject -> {predicate: 1}, over all the graphs of the store
_Indexes = tuple[dict, dict, dict]


def _memory_indexes(graph: Graph) -> _Indexes | None:
    """The dictionaries rdflib's default (Memory) store indexes its statements by, when they hold exactly the
    statements to validate: those of a dataset (the union of its graphs) or of a graph alone in its store.

    Reading them directly is 10x faster than asking the store triple by triple (9 s at 1000x) and needs no
    copy. They are private to rdflib, so any other store, or a future rdflib without them, takes the
    ordinary path (rdflib's triples/quads)."""
    store = graph.store
    indexes = tuple(getattr(store, f"_Memory__{name}", None) for name in ("spo", "pos", "osp"))
    if not isinstance(store, Memory) or not all(isinstance(index, dict) for index in indexes):
        return None
    if not isinstance(graph, ConjunctiveGraph) and any(c.identifier != graph.identifier for c in store.contexts()):
        return None  # one graph of a dataset: the indexes hold the other graphs too
    return indexes  # type: ignore[return-value]


def _indexed_triples(indexes: _Indexes, pattern: tuple[Node | None, Node | None, Node | None]) -> Iterator[Triple]:
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


class _Lookup:
    """Triple lookups over the data graph and the ontology together (pySHACL mixes the ontology in). A
    dataset counts as the union of its graphs, as pySHACL validates it."""

    def __init__(self, data: Graph, ontology: Graph | None):
        self.graphs = [g for g in (data, ontology) if g is not None]
        self.indexes = [_memory_indexes(g) for g in self.graphs]

    def triples(self, pattern: tuple[Node | None, Node | None, Node | None]) -> Iterator[Triple]:
        for graph, indexes in zip(self.graphs, self.indexes, strict=True):
            if indexes is not None:
                yield from _indexed_triples(indexes, pattern)
            elif isinstance(graph, ConjunctiveGraph):
                for s, p, o, _ in graph.quads((*pattern, None)):
                    yield s, p, o
            else:
                yield from graph.triples(pattern)

    def subjects(self, predicate: Node, obj: Node) -> set[Node]:
        return {s for s, _, _ in self.triples((None, predicate, obj))}


class _Index:
    """The data graph and the ontology as plain dictionaries, ready before the workers fork: the walk asks
    millions of small questions, and rdflib's store answers each with a generator and context checks.

    outgoing: subject -> predicate -> objects; incoming: predicate -> object -> subjects, for the predicates
    the automaton walks backwards. When the data sit in rdflib's Memory store its own dictionaries are used
    (shared, never modified: an entry that the ontology adds to is copied first)."""

    def __init__(self, lookup: _Lookup, inverse_predicates: set[URIRef]):
        self.lookup = lookup
        self.outgoing: dict[Node, dict[Node, dict[Node, int]]] = {}
        self.incoming: dict[Node, dict[Node, dict[Node, int]]] = {p: {} for p in inverse_predicates}
        self.size = 0  # statements indexed (data and ontology)
        pending = list(zip(lookup.graphs, lookup.indexes, strict=True))
        if pending and pending[0][1] is not None:
            (data, (spo, pos, _)), pending = pending[0], pending[1:]
            self.outgoing = dict(spo)
            self.incoming = {p: dict(pos.get(p, {})) for p in inverse_predicates}
            self.size = len(data.store)
        self._own: set[object] = set()  # entries copied from the store's dictionaries, ours to change
        for graph, _ in pending:
            for triple in _Lookup(graph, None).triples((None, None, None)):
                self._add(*triple)
        #: the class hierarchy, from data and ontology: sh:class and class targets follow it, so every
        #: partition gets all of it
        self.hierarchy: list[Triple] = [
            (s, RDFS.subClassOf, o) for o, subjects in self._by_object(RDFS.subClassOf).items() for s in subjects
        ]

    def _by_object(self, predicate: URIRef) -> dict[Node, dict[Node, int]]:
        if predicate in self.incoming:
            return self.incoming[predicate]
        found: dict[Node, dict[Node, int]] = defaultdict(dict)
        for s, _, o in self.lookup.triples((None, predicate, None)):
            found[o][s] = 1
        return found

    def _add(self, s: Node, p: Node, o: Node) -> None:
        self.size += 1
        by_predicate = self.outgoing.get(s)
        if ("out", s) not in self._own:
            self._own.add(("out", s))
            by_predicate = self.outgoing[s] = {k: dict(v) for k, v in (by_predicate or {}).items()}
        by_predicate.setdefault(p, {})[o] = 1
        by_object = self.incoming.get(p)
        if by_object is not None:
            if ("in", p, o) not in self._own:
                self._own.add(("in", p, o))
                by_object[o] = dict(by_object.get(o, {}))
            by_object[o][s] = 1

    def subjects(self, predicate: URIRef | None, obj: Node) -> Iterable[Node | Triple]:
        """Triples (s, predicate, obj); any predicate when None."""
        by_object = self.incoming.get(predicate) if predicate is not None else None
        if by_object is not None:
            return [(s, predicate, obj) for s in by_object.get(obj, ())]
        return list(self.lookup.triples((None, predicate, obj)))


# --- compiling the shapes into the automaton ----------------------------------------------------------


class _Compiler:
    def __init__(self, shapes: Graph, lookup: _Lookup):
        self.sg = shapes
        self.lookup = lookup
        self.node_states: dict[Node, State] = {}
        self.global_starts: list[tuple[Node, State]] = []
        #: patterns outside the spanning trees: (subject, predicate, object), each end a State or a constant
        self.joins: list[tuple[State | Node, URIRef, State | Node]] = []
        self._fanout: dict[Step, float] = {}
        if any(self.sg.triples((None, SH.rule, None))):
            raise Unpartitionable("the shapes have SHACL rules (sh:rule), which change the data graph")
        if any(self.sg.triples((None, SH.target, None))):
            raise Unpartitionable("the shapes have SHACL-AF custom targets (sh:target)")
        if any(self.sg.triples((None, RDF.type, SH.ConstraintComponent))):
            raise Unpartitionable("the shapes define custom constraint components")

    def _list(self, head: Node) -> list[Node]:
        items = []
        while head and head != RDF.nil:
            first = self.sg.value(head, RDF.first)
            if first is None:
                break
            items.append(first)
            head = self.sg.value(head, RDF.rest)
        return items

    def shape(self, shape: Node) -> State:
        """The state for a focus node validated against `shape` (node or property shape)."""
        state = self.node_states.get(shape)
        if state is not None:
            return state
        state = self.node_states[shape] = State()
        sg = self.sg
        if sg.value(shape, SH.deactivated) == Literal(True):
            return state
        path = sg.value(shape, SH.path)
        if path is None:
            self._node_constraints(shape, state)  # a node shape constrains the focus node itself
        else:
            values = State()  # a property shape constrains the nodes its path reaches
            self._path(path, state, values)
            self._node_constraints(shape, values)
            if any(sg.objects(shape, SH.qualifiedValueShapesDisjoint)):
                for parent in sg.subjects(SH.property, shape):
                    for sibling in sg.objects(parent, SH.property):
                        for qvs in sg.objects(sibling, SH.qualifiedValueShape):
                            values.also.append(self.shape(qvs))
        for constraint in sg.objects(shape, SH.sparql):  # $this is the focus node in both kinds
            self._sparql(shape, constraint, state)
        # Pair constraints compare the values (or the node itself) with the focus node's values of a predicate.
        for pair in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            for predicate in sg.objects(shape, pair):
                state.step(predicate, False, State())
        return state

    def _node_constraints(self, shape: Node, state: State) -> None:
        """Constraints of `shape` that apply to each node in `state`: class, closed, nested shapes."""
        sg = self.sg
        state.types = state.types or (shape, SH["class"], None) in sg
        state.all_out = state.all_out or sg.value(shape, SH.closed) == Literal(True)
        for nested in (*sg.objects(shape, SH.property), *sg.objects(shape, SH.node), *sg.objects(shape, SH["not"])):
            state.also.append(self.shape(nested))
        for nested in sg.objects(shape, SH.qualifiedValueShape):
            state.also.append(self.shape(nested))
        for connective in (SH["and"], SH["or"], SH.xone):
            for members in sg.objects(shape, connective):
                state.also.extend(self.shape(member) for member in self._list(members))

    def _path(self, path: Node, start: State, end: State, inverse: bool = False) -> None:
        """Transitions from `start` to `end` that walk a SHACL path (or its inverse)."""
        sg = self.sg
        if isinstance(path, URIRef):
            start.step(path, inverse, end)
            return
        items = self._list(path) if sg.value(path, RDF.first) is not None else None
        if items is not None:  # sequence path
            if inverse:
                items = list(reversed(items))
            current = start
            for i, item in enumerate(items):
                following = end if i == len(items) - 1 else State()
                self._path(item, current, following, inverse)
                current = following
            return
        if (inner := sg.value(path, SH.inversePath)) is not None:
            self._path(inner, start, end, not inverse)
        elif (alternatives := sg.value(path, SH.alternativePath)) is not None:
            for item in self._list(alternatives):
                self._path(item, start, end, inverse)
        elif (inner := sg.value(path, SH.zeroOrMorePath)) is not None:
            self._repeat(inner, start, end, inverse, zero=True)
        elif (inner := sg.value(path, SH.oneOrMorePath)) is not None:
            self._repeat(inner, start, end, inverse, zero=False)
        elif (inner := sg.value(path, SH.zeroOrOnePath)) is not None:
            start.also.append(end)
            self._path(inner, start, end, inverse)
        else:
            raise Unpartitionable(f"unknown SHACL path {path!r}")

    def _repeat(self, path: Node | Path, start: State, end: State, inverse: bool, zero: bool) -> None:
        loop = State()
        loop.also.append(end)
        if zero:
            start.also.append(loop)
        compile_step = self._path if not isinstance(path, Path) else self._sparql_path
        compile_step(path, start, loop, inverse)
        compile_step(path, loop, loop, inverse)

    # --- SPARQL constraints ---

    def _prefixes(self, constraint: Node) -> str:
        lines = []
        for holder in self.sg.objects(constraint, SH.prefixes):
            for declaration in self.sg.objects(holder, SH.declare):
                prefix = self.sg.value(declaration, SH.prefix)
                namespace = self.sg.value(declaration, SH.namespace)
                if prefix is not None and namespace is not None:
                    lines.append(f"PREFIX {prefix}: <{namespace}>")
        return "\n".join(lines)

    def _sparql(self, shape: Node, constraint: Node, state: State) -> None:
        from rdflib.plugins.sparql import prepareQuery

        if self.sg.value(constraint, SH.deactivated) == Literal(True):
            return
        select = self.sg.value(constraint, SH.select)
        if select is None:
            raise Unpartitionable(f"SPARQL constraint {constraint} has no sh:select")
        text = str(select)
        if "$PATH" in text or "?PATH" in text:
            raise Unpartitionable(f"SPARQL constraint {constraint} uses $PATH")
        try:
            algebra = prepareQuery(self._prefixes(constraint) + "\n" + text).algebra
        except Exception as error:  # pySHACL would fail on it too; let it say so on the full graph
            raise Unpartitionable(f"SPARQL constraint {constraint} does not parse: {error}") from None
        patterns: list[tuple[Node, Node | Path, Node]] = []
        _collect_patterns(algebra, patterns)
        self._anchor(patterns, state, f"SPARQL constraint {constraint} of shape {shape}")

    def _fanout_of(self, predicate: URIRef | None, inverse: bool) -> float:
        """Average number of nodes one step reaches, from the data (a query optimiser's statistic)."""
        if predicate is None:
            return 1e9
        key = (predicate, inverse)
        if key not in self._fanout:
            triples = 0
            ends: set[Node] = set()
            for s, _, o in self.lookup.triples((None, predicate, None)):
                triples += 1
                ends.add(o if inverse else s)
            self._fanout[key] = triples / len(ends) if ends else 1.0
        return self._fanout[key]

    def _path_cost(self, path: Node | Path, inverse: bool) -> float:
        if isinstance(path, URIRef):
            return math.log1p(self._fanout_of(path, inverse))
        if isinstance(path, InvPath):
            return self._path_cost(path.arg, not inverse)
        if isinstance(path, SequencePath):
            return sum(self._path_cost(p, inverse) for p in path.args)
        if isinstance(path, AlternativePath):
            return max(self._path_cost(p, inverse) for p in path.args)
        if isinstance(path, MulPath):
            return 10 * self._path_cost(path.path, inverse)
        return math.log1p(1e9)  # negated or variable predicate: any predicate

    def _anchor(self, patterns: list[tuple[Node, Node | Path, Node]], this: State, what: str) -> None:
        """Turn a SPARQL pattern graph into transitions from $this: the cheapest spanning tree of its variables
        (Dijkstra on the log fan-out of each step, so a join goes through a report rather than through a
        literal shared by thousands of nodes) is walked; every other pattern becomes a join between nodes
        already reached. Constants are never walked through (they only filter); variables that only a
        constant connects are read from that constant in every partition."""
        import heapq

        def variable(term: object) -> bool:
            return isinstance(term, Variable | BNode)  # blank nodes in a query are variables

        states: dict[Node, State] = {Variable("this"): this}
        parent: dict[Node, tuple[int, bool]] = {}
        best: dict[Node, float] = {}
        reached: set[Node] = set()
        counter = 0

        def grow(root: Node) -> None:
            nonlocal counter
            queue: list[tuple[float, int, Node]] = [(0.0, counter, root)]
            while queue:
                cost, _, term = heapq.heappop(queue)
                if term in reached:
                    continue
                reached.add(term)
                for i, (s, p, o) in enumerate(patterns):
                    for near, far, inverse in ((s, o, False), (o, s, True)):
                        if near != term or not variable(far) or far in reached:
                            continue
                        total = cost + self._path_cost(p, inverse)
                        if total < best.get(far, math.inf):
                            best[far], parent[far] = total, (i, inverse)
                            counter += 1
                            heapq.heappush(queue, (total, counter, far))

        grow(Variable("this"))
        variables = {t for s, _, o in patterns for t in (s, o) if variable(t)}
        while missing := variables - reached:
            touching = [(s, o) for s, _, o in patterns if s in missing or o in missing]
            constant = next((t for ends in touching for t in ends if not variable(t)), None)
            if constant is None:
                raise Unpartitionable(f"{what} has patterns not connected to $this")
            states[constant] = State()
            self.global_starts.append((constant, states[constant]))
            grow(constant)
        tree = set(parent.values())
        for term, (i, inverse) in parent.items():
            s, p, o = patterns[i]
            near = o if inverse else s
            self._walk(p, states.setdefault(near, State()), states.setdefault(term, State()), inverse)
        for i, (s, p, o) in enumerate(patterns):
            if (i, False) in tree or (i, True) in tree:
                continue
            if isinstance(p, URIRef):
                ends = [states.setdefault(t, State()) if variable(t) else t for t in (s, o)]
                self.joins.append((ends[0], p, ends[1]))
            elif variable(s):  # a path or variable predicate: read all of it from the subject side
                self._walk(p, states.setdefault(s, State()), State(), False)
            elif variable(o):
                self._walk(p, states.setdefault(o, State()), State(), True)
            else:
                raise Unpartitionable(f"{what} has a pattern with constants at both ends and a path")

    def _walk(self, predicate: Node | Path, start: State, end: State, inverse: bool) -> None:
        if isinstance(predicate, Path):
            self._sparql_path(predicate, start, end, inverse)
        elif isinstance(predicate, Variable):
            start.step(None, inverse, end)
        else:
            start.step(predicate, inverse, end)

    def _sparql_path(self, path: Node | Path, start: State, end: State, inverse: bool) -> None:
        if isinstance(path, URIRef):
            start.step(path, inverse, end)
        elif isinstance(path, InvPath):
            self._sparql_path(path.arg, start, end, not inverse)
        elif isinstance(path, SequencePath):
            items = list(reversed(path.args)) if inverse else list(path.args)
            current = start
            for i, item in enumerate(items):
                following = end if i == len(items) - 1 else State()
                self._sparql_path(item, current, following, inverse)
                current = following
        elif isinstance(path, AlternativePath):
            for item in path.args:
                self._sparql_path(item, start, end, inverse)
        elif isinstance(path, MulPath):
            if path.mod == "?":
                start.also.append(end)
                self._sparql_path(path.path, start, end, inverse)
            else:
                self._repeat(path.path, start, end, inverse, zero=path.mod == "*")
        elif isinstance(path, NegatedPath):
            start.step(None, inverse, end)
        else:
            raise Unpartitionable(f"unknown SPARQL path {path!r}")


def _collect_patterns(node: object, into: list) -> None:
    """Every triple pattern of a SPARQL algebra tree, including those inside FILTER (NOT) EXISTS."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name in ("ServiceGraphPattern", "Graph", "GraphGraphPattern"):
            raise Unpartitionable(f"SPARQL constraint uses {node.name}")
        for key, value in node.items():
            if key == "triples" and isinstance(value, list):
                into.extend(tuple(t) for t in value)
            else:
                _collect_patterns(value, into)
    elif isinstance(node, list | tuple):
        for item in node:
            _collect_patterns(item, into)
    elif isinstance(node, dict):
        for value in node.values():
            _collect_patterns(value, into)


# --- planning: focus nodes, partitions --------------------------------------------------------------


def _subclasses(lookup: _Lookup, cls: Node) -> set[Node]:
    found = {cls}
    pending = [cls]
    while pending:
        for sub in lookup.subjects(RDFS.subClassOf, pending.pop()):
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _targets(shapes: Graph, lookup: _Lookup, shape: Node) -> tuple[set[Node], list[Step]]:
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
    time; a property shape with targets it validates once for all of its focus nodes: half the time on the
    synthetic corpora. The results are the same (SHACL 2.1: the focus nodes a node shape validates against its
    property shapes are its own targets), with the same sh:sourceShape; a result that two node shapes would
    each report for the same property shape and focus node is reported once. Node shapes that other shapes
    use (sh:node, sh:and, sh:or, sh:xone, sh:not, sh:qualifiedValueShape), deactivated ones and implicit class
    targets are left as they are, and so are those whose property shapes need their siblings
    (sh:qualifiedValueShapesDisjoint)."""
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
    lookup = _Lookup(data, ontology)
    compiler = _Compiler(shapes, lookup)
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


@dataclass(frozen=True)
class _Merged:
    """A set of automaton states taken together (a lazily built DFA state): what to read from a node."""

    types: bool
    all_out: bool
    steps: tuple[tuple[URIRef | None, bool, frozenset[State]], ...]
    states: frozenset[State]


class _Walker:
    """Runs the access automaton over the full graph, as a lazily determinised automaton, so that a node
    reached by several shapes is read once per predicate instead of once per shape."""

    def __init__(self, index: _Index, plan_: Plan):
        self.index = index
        self.merged: dict[frozenset[State], _Merged] = {}
        #: states whose nodes the joins need, and the nodes reached in them
        self.watched = {end for join in plan_.joins for end in (join[0], join[2]) if isinstance(end, State)}
        self.reached: dict[State, set[Node]] = defaultdict(set)

    @staticmethod
    def closed(states: Iterable[State]) -> frozenset[State]:
        """The states plus every state their epsilon moves lead to."""
        found: set[State] = set()
        pending = list(states)
        while pending:
            state = pending.pop()
            if state not in found:
                found.add(state)
                pending.extend(state.also)
        return frozenset(found)

    def merge(self, states: frozenset[State]) -> _Merged:
        merged = self.merged.get(states)
        if merged is None:
            steps: dict[tuple[URIRef | None, bool], set[State]] = defaultdict(set)
            for state in states:
                for key, targets in state.steps.items():
                    steps[key].update(targets)
            merged = self.merged[states] = _Merged(
                types=any(s.types for s in states),
                all_out=any(s.all_out for s in states),
                steps=tuple((p, inv, self.closed(t)) for (p, inv), t in steps.items()),
                states=states,
            )
        return merged

    def walk(self, starts: Iterable[tuple[Node, frozenset[State]]], out: set[Triple]) -> None:
        outgoing = self.index.outgoing
        seen: set[tuple[Node, frozenset[State]]] = set()
        queue = deque(starts)
        empty: dict[Node, list[Node]] = {}
        while queue:
            item = queue.popleft()
            if item in seen:
                continue
            seen.add(item)
            node, states = item
            merged = self.merge(states)
            if self.watched:
                for state in merged.states & self.watched:
                    self.reached[state].add(node)
            by_predicate = outgoing.get(node, empty)
            if merged.all_out:
                out.update((node, p, o) for p, objects in by_predicate.items() for o in objects)
            elif merged.types:
                out.update((node, RDF.type, o) for o in by_predicate.get(RDF.type, ()))
            for predicate, inverse, targets in merged.steps:
                if inverse:
                    for triple in self.index.subjects(predicate, node):
                        out.add(triple)
                        queue.append((triple[0], targets))
                elif predicate is None:
                    for p, objects in by_predicate.items():
                        for o in objects:
                            out.add((node, p, o))
                            queue.append((o, targets))
                else:
                    for o in by_predicate.get(predicate, ()):
                        out.add((node, predicate, o))
                        queue.append((o, targets))


def _inverse_predicates(plan_: Plan) -> set[URIRef]:
    """Predicates the automaton walks from object to subject (they get an index of their own)."""
    found: set[URIRef] = set()
    pending = [state for states in plan_.starts.values() for state in states]
    pending += [state for _, state in plan_.global_starts]
    visited: set[State] = set()
    while pending:
        state = pending.pop()
        if state in visited:
            continue
        visited.add(state)
        pending.extend(state.also)
        for (predicate, inverse), targets in state.steps.items():
            if inverse and predicate is not None:
                found.add(predicate)
            pending.extend(targets)
    return found


def index_for(data: Graph, ontology: Graph | None, plan_: Plan) -> _Index:
    return _Index(_Lookup(data, ontology), _inverse_predicates(plan_))


def closure_triples(index: _Index, plan_: Plan, part: int) -> set[Triple]:
    """Every triple the validation of partition `part`'s own focus nodes can read."""
    walker = _Walker(index, plan_)
    out: set[Triple] = set(index.hierarchy)
    starts: list[tuple[Node, frozenset[State]]] = []
    for node in plan_.partitions[part]:
        # A focus node's own triples: for its targets and sh:closed.
        out.update((node, p, o) for p, objects in index.outgoing.get(node, {}).items() for o in objects)
        starts.append((node, walker.closed(plan_.starts[node])))
    starts.extend((node, walker.closed([state])) for node, state in plan_.global_starts)
    walker.walk(starts, out)
    for subject, predicate, obj in plan_.joins:
        subjects = walker.reached.get(subject, set()) if isinstance(subject, State) else {subject}
        objects = walker.reached.get(obj, set()) if isinstance(obj, State) else {obj}
        for node in subjects:
            for o in index.outgoing.get(node, {}).get(predicate, ()):
                if o in objects:
                    out.add((node, predicate, o))
    return out


def closure(data: Graph, ontology: Graph | None, plan_: Plan, part: int, index: _Index | None = None) -> Graph:
    """The data graph of one partition."""
    index = index or index_for(data, ontology, plan_)
    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in closure_triples(index, plan_, part))
    return graph


# --- running pySHACL on the partitions -----------------------------------------------------------------

_FORKED: dict[str, object] = {}  # what forked workers inherit: shapes, plan, index, options, cache


@functools.lru_cache(maxsize=256)
def _translated(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]) -> object:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces))


@contextmanager
def prepared_queries() -> Iterator[None]:
    """Let rdflib reuse the parsed form of a SPARQL query text it has seen before.

    pySHACL evaluates a SPARQL constraint once per focus node, each time handing rdflib the same query text
    with `$this` pre-bound; rdflib parses that text every time (about 15 ms, most of the constraint's cost).
    rdflib supports evaluating one prepared query with different initial bindings (`prepareQuery`); this
    does that for identical texts, so the results are unchanged and only the parsing is saved. The parsed
    queries outlive the patch (module-level cache), so a worker parses each constraint once, not once per
    partition."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = _translated(strOrQuery, base, tuple(sorted((initNs or {}).items())))  # noqa: N806
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


def _validate_part(index: int) -> tuple[int, list[Triple], int, bool]:
    """Worker: build partition `index`, run pySHACL (or take its earlier answer from the cache), and keep the
    results of the partition's own focus nodes. Returns (index, result triples, closure size, cache hit)."""
    import pyshacl

    shapes, plan_, options, data_index, cache = (
        _FORKED[k] for k in ("shapes", "plan", "options", "index", "cache")
    )
    triples = closure_triples(data_index, plan_, index)
    key = cache.key(plan_.partitions[index], triples) if cache else None
    if key and (cached := cache.get(key)) is not None:
        return index, cached, len(triples), True
    part = Graph()
    part.addN((s, p, o, part) for s, p, o in triples)
    # No ont_graph: the closure already holds every ontology statement the partition's shapes read (the index
    # covers data and ontology). Mixing the whole ontology in would also make every partition validate the
    # ontology's own labelled terms again (sh:targetSubjectsOf rdfs:label), results that are then dropped.
    with prepared_queries():
        _, report, _ = pyshacl.validate(part, shacl_graph=shapes, inplace=True, **options)
    own = set(plan_.partitions[index])
    kept: list[Triple] = []
    renamed: dict[Node, BNode] = {}

    def rename(term: Node) -> Node:
        # Blank nodes the report made (results, copies of paths) are minted in forked processes that share the
        # generator state; give them local names, made unique per partition when merging. Anonymous shapes
        # keep their names, as in pySHACL's report: sh:sourceShape leads back into the shapes graph.
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
    if key:
        cache.put(key, kept)
    return index, kept, len(triples), False


_LOCAL = "vglocal"


class ResultCache:
    """pySHACL's results per partition, on disk, keyed by everything they depend on: the partition's focus
    nodes and closure, the shapes and the ontology (canonicalised, so blank-node labels do not matter),
    the options and the pySHACL and rdflib versions. An unchanged partition is not validated again; any change
    in its closure (even one triple in a neighbouring report that a shape reads) changes its key. Entries are
    pickles: use a folder only vetgraph writes to. Nothing is evicted; delete the folder to start afresh."""

    def __init__(self, folder: os.PathLike | str, shapes: Graph, ontology: Graph | None, options: dict):
        import hashlib
        from importlib.metadata import version

        from rdflib.compare import to_canonical_graph

        self.folder = os.fspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        digest = hashlib.sha256()
        for graph in (shapes, ontology if ontology is not None else Graph()):
            for line in sorted(_n3(t) for t in to_canonical_graph(graph)):
                digest.update(line.encode())
            digest.update(b"\x00")
        digest.update(repr(sorted((k, repr(v)) for k, v in options.items())).encode())
        digest.update(f"pyshacl {version('pyshacl')} rdflib {version('rdflib')}".encode())
        self.context = digest.hexdigest()

    def key(self, focus: list[Node], triples: set[Triple]) -> str:
        import hashlib

        digest = hashlib.sha256(self.context.encode())
        for line in sorted(n.n3() for n in focus):
            digest.update(line.encode() + b"\n")
        digest.update(b"\x00")
        for line in sorted(_n3(t) for t in triples):
            digest.update(line.encode())
        return digest.hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], key + ".pickle")

    def get(self, key: str) -> list[Triple] | None:
        import pickle

        try:
            with open(self._path(key), "rb") as stream:
                return pickle.load(stream)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    def put(self, key: str, triples: list[Triple]) -> None:
        """Written atomically (a temporary file renamed), so a crash never leaves a half entry."""
        import pickle
        import tempfile

        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(triples, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def _n3(triple: Triple) -> str:
    return " ".join(term.n3() for term in triple) + "\n"


def _conforms(results: Graph, options: dict) -> bool:
    """pySHACL's rule: any result fails, except those whose severity the options allow."""
    allowed: set[Node] = set()
    if options.get("allow_infos") or options.get("allow_warnings"):
        allowed.add(SH.Info)
    if options.get("allow_warnings"):
        allowed.add(SH.Warning)
    return all(results.value(r, SH.resultSeverity) in allowed for r in results.objects(None, SH.result))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def validate_partitioned(
    data_graph: Graph,
    shapes: Graph,
    ontology: Graph | None = None,
    jobs: int | None = None,
    partitions: int | None = None,
    cache_dir: os.PathLike | str | None = None,
    **pyshacl_options: object,
) -> tuple[bool, Graph]:
    """Validate `data_graph` (a graph, or a dataset: the union of its graphs) against `shapes` with pySHACL,
    on partitions of the focus nodes in `jobs` processes (default: the usable cores). Returns pySHACL's
    (conforms, sh:ValidationReport graph) for the whole graph. `pyshacl_options` go to `pyshacl.validate`
    (e.g. allow_warnings=True); RDFS/OWL inference or SHACL rules make it one plain pySHACL run.
    With `cache_dir`, each partition's results are kept there and reused while the partition's closure, the
    shapes, the ontology and the options stay the same (incremental validation)."""
    import pyshacl

    jobs = jobs or default_jobs()
    inference = pyshacl_options.get("inference")
    started = time.perf_counter()
    try:
        if inference not in (None, "none"):
            raise Unpartitionable(f"inference={inference!r} derives triples across partitions")
        lifted = lift_property_shapes(shapes)
        plan_ = plan(data_graph, lifted, ontology, partitions=partitions)
        shapes = lifted
    except Unpartitionable as reason:
        log.info("validating the whole graph at once: %s", reason)
        if isinstance(data_graph, ConjunctiveGraph):  # pySHACL would validate each named graph on its own
            from vetgraph.loading import union_graph

            data_graph = union_graph(data_graph)
        with prepared_queries():
            conforms, report, _ = pyshacl.validate(
                data_graph, shacl_graph=shapes, ont_graph=ontology, **pyshacl_options
            )
        return bool(conforms), report
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
    _FORKED.update(shapes=shapes, plan=plan_, options=pyshacl_options, index=index, cache=cache)
    indexes = range(len(plan_.partitions))
    try:
        if jobs > 1 and len(plan_.partitions) > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Keep the cyclic GC of the workers away from the inherited graph: a collection writes to every
            # object it visits, which would copy the parent's pages into each worker (and take time).
            gc.freeze()
            try:
                pool_size = min(jobs, len(plan_.partitions))
                with multiprocessing.get_context("fork").Pool(pool_size, maxtasksperchild=TASKS_PER_WORKER) as pool:
                    parts = list(pool.imap_unordered(_validate_part, indexes))
            finally:
                gc.unfreeze()
        else:
            parts = [_validate_part(i) for i in indexes]
    finally:
        _FORKED.clear()
    log.info(
        "validated %d partition triples (%.2fx the data; %d of %d partitions from the cache) in %.1f s",
        sum(part[2] for part in parts),
        sum(part[2] for part in parts) / max(1, index.size),
        sum(1 for part in parts if part[3]),
        len(parts),
        time.perf_counter() - started,
    )
    return _merge(sorted(parts, key=lambda part: part[0]), pyshacl_options)


def _unique(term: Node, index: int) -> Node:
    """A report blank node with a partition-local name, made unique across partitions."""
    if isinstance(term, BNode) and term.startswith(_LOCAL):
        return BNode(f"vgpart{index}r{term[len(_LOCAL) :]}")
    return term


def _merge(parts: Iterable[tuple[int, list[Triple], int, bool]], options: dict) -> tuple[bool, Graph]:
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
    conforms = _conforms(merged, options)
    merged.add((report, SH.conforms, Literal(conforms)))
    return conforms, merged
