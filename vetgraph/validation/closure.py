"""The shape-reachability closure: which triples the validation of given focus nodes can read.

Each result pySHACL reports belongs to one focus node and depends only on the triples the shapes read from
that node: its paths, the nodes they reach and the shapes nested on those, the triples a SPARQL constraint can
match from `$this`. The shapes graph is compiled into a small automaton whose transitions are (predicate,
direction) steps: `sh:path` (sequences, alternatives, inverse and `*`/`+`/`?` paths), nested
`sh:node`/`sh:property`/`sh:and`/`sh:or`/`sh:xone`/`sh:not`/`sh:qualifiedValueShape`, `sh:equals` & co., and
the triple patterns of `sh:sparql` constraints (walked from `$this` along a spanning tree that avoids high
fan-in steps, using predicate statistics of the data; the remaining patterns are kept as joins between reached
nodes). Running the automaton from a partition's focus nodes over the full graph yields the triples to copy:
those along the paths, the `rdf:type` of nodes that `sh:class` checks, all outgoing triples of the focus nodes
themselves (targets, `sh:closed`) and any class hierarchy stated in the data. Shapes the analysis cannot bound
(SHACL rules, SPARQL targets, custom constraint components, SPARQL patterns not connected to `$this`) raise
`Unpartitionable`.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import RDF, RDFS, BNode, ConjunctiveGraph, Graph, Literal, URIRef, Variable
from rdflib.namespace import SH
from rdflib.paths import AlternativePath, InvPath, MulPath, NegatedPath, Path, SequencePath
from rdflib.term import Node

from vetgraph.validation.rdflib_compat import indexed_triples, memory_indexes

if TYPE_CHECKING:
    from vetgraph.validation.planner import Plan

Triple = tuple[Node, Node, Node]
#: A step of the automaton: (predicate, or None for any predicate; True when walked from object to subject)
Step = tuple["Node | None", bool]


class Unpartitionable(Exception):
    """The shapes use a feature whose reach the analysis cannot bound; validate the whole graph instead."""


@dataclass(eq=False)
class State:
    """A state of the access automaton: what to read from a node reached in this state."""

    steps: dict[Step, list[State]] = field(default_factory=lambda: defaultdict(list))
    also: list[State] = field(default_factory=list)  # epsilon moves: other states for the same node
    all_out: bool = False  # every outgoing triple (sh:closed, variable predicates)
    types: bool = False  # the node's rdf:type triples (sh:class)

    def step(self, predicate: Node | None, inverse: bool, target: State) -> None:
        self.steps[(predicate, inverse)].append(target)


class Lookup:
    """Triple lookups over the data graph and the ontology together (pySHACL mixes the ontology in). A
    dataset counts as the union of its graphs, as pySHACL validates it."""

    def __init__(self, data: Graph, ontology: Graph | None):
        self.graphs = [g for g in (data, ontology) if g is not None]
        self.indexes = [memory_indexes(g) for g in self.graphs]

    def triples(self, pattern: tuple[Node | None, Node | None, Node | None]) -> Iterator[Triple]:
        for graph, indexes in zip(self.graphs, self.indexes, strict=True):
            if indexes is not None:
                yield from indexed_triples(indexes, pattern)
            elif isinstance(graph, ConjunctiveGraph):
                for s, p, o, _ in graph.quads((*pattern, None)):
                    yield s, p, o
            else:
                yield from graph.triples(pattern)

    def subjects(self, predicate: Node, obj: Node) -> set[Node]:
        return {s for s, _, _ in self.triples((None, predicate, obj))}


class Index:
    """The data graph and the ontology as plain dictionaries, ready before the workers fork: the walk asks
    millions of small questions, and rdflib's store answers each with a generator and context checks.

    outgoing: subject -> predicate -> objects; incoming: predicate -> object -> subjects, for the predicates
    the automaton walks backwards. When the data sit in rdflib's Memory store its own dictionaries are used
    (shared, never modified: an entry that the ontology adds to is copied first)."""

    def __init__(self, lookup: Lookup, inverse_predicates: set[Node]):
        self.lookup = lookup
        self.outgoing: dict[Node, dict[Node, dict[Node, int]]] = {}
        self.incoming: dict[Node, dict[Node, dict[Node, int]]] = {p: {} for p in inverse_predicates}
        self.size = 0  # statements indexed (data and ontology)
        pending = list(zip(lookup.graphs, lookup.indexes, strict=True))
        first, first_indexes = pending[0] if pending else (None, None)
        if first is not None and first_indexes is not None:
            spo, pos, _ = first_indexes
            self.outgoing = dict(spo)
            self.incoming = {p: dict(pos.get(p, {})) for p in inverse_predicates}
            self.size = len(first.store)
            pending = pending[1:]
        self._own: set[object] = set()  # entries copied from the store's dictionaries, ours to change
        for graph, _ in pending:
            for triple in Lookup(graph, None).triples((None, None, None)):
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
        if ("out", s) not in self._own:
            self._own.add(("out", s))
            self.outgoing[s] = {k: dict(v) for k, v in self.outgoing.get(s, {}).items()}
        self.outgoing[s].setdefault(p, {})[o] = 1
        by_object = self.incoming.get(p)
        if by_object is not None:
            if ("in", p, o) not in self._own:
                self._own.add(("in", p, o))
                by_object[o] = dict(by_object.get(o, {}))
            by_object[o][s] = 1

    def subjects(self, predicate: Node | None, obj: Node) -> list[Triple]:
        """Triples (s, predicate, obj); any predicate when None."""
        if predicate is not None and (by_object := self.incoming.get(predicate)) is not None:
            return [(s, predicate, obj) for s in by_object.get(obj, ())]
        return list(self.lookup.triples((None, predicate, obj)))


# --- compiling the shapes into the automaton ----------------------------------------------------------


class Compiler:
    def __init__(self, shapes: Graph, lookup: Lookup):
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
        current: Node | None = head
        while current and current != RDF.nil:
            first = self.sg.value(current, RDF.first)
            if first is None:
                break
            items.append(first)
            current = self.sg.value(current, RDF.rest)
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
        for source in (start, loop):
            if isinstance(path, Path):
                self._sparql_path(path, source, loop, inverse)
            else:
                self._path(path, source, loop, inverse)

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

    def _fanout_of(self, predicate: Node | None, inverse: bool) -> float:
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


@dataclass(frozen=True)
class _Merged:
    """A set of automaton states taken together (a lazily built DFA state): what to read from a node."""

    types: bool
    all_out: bool
    steps: tuple[tuple[Node | None, bool, frozenset[State]], ...]
    states: frozenset[State]


class _Walker:
    """Runs the access automaton over the full graph, as a lazily determinised automaton, so that a node
    reached by several shapes is read once per predicate instead of once per shape."""

    def __init__(self, index: Index, plan_: Plan):
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
            steps: dict[Step, set[State]] = defaultdict(set)
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


def _inverse_predicates(plan_: Plan) -> set[Node]:
    """Predicates the automaton walks from object to subject (they get an index of their own)."""
    found: set[Node] = set()
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


def index_for(data: Graph, ontology: Graph | None, plan_: Plan) -> Index:
    return Index(Lookup(data, ontology), _inverse_predicates(plan_))


def closure_triples(index: Index, plan_: Plan, part: int) -> set[Triple]:
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


def closure(data: Graph, ontology: Graph | None, plan_: Plan, part: int, index: Index | None = None) -> Graph:
    """The data graph of one partition."""
    index = index or index_for(data, ontology, plan_)
    graph = Graph()
    graph.addN((s, p, o, graph) for s, p, o in closure_triples(index, plan_, part))
    return graph
