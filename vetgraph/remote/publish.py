"""Publishing our graphs into an external triple store, safely: stage, verify, swap, verify.

Each of our graphs goes to a named graph of the store (our default graph to the dataset IRI, the graph of
unconfirmed statements to its own IRI). It is first loaded into a staging graph, with one Graph Store
Protocol `PUT` (streamed N-Triples) or SPARQL Update `INSERT DATA` batches; the store's count of the staging
graph is checked against ours; then one SPARQL Update request moves every staging graph onto its target
(`MOVE`), and the targets are counted again. Until the swap, readers see the previous copy, whole; a
failure before it leaves the targets untouched, and a failure after it is reported with what each graph
holds. Publishing again replaces the graphs (idempotent): a store never holds two copies.

Without an update endpoint (a store that only speaks the Graph Store Protocol), or with `--direct`, graphs are
replaced directly, one `PUT` each, one after another. A PUT that replaces a graph goes to the store's
transactional loader: Oxigraph server loads it in one transaction (tested: readers see the previous copy until
it commits, and a server killed mid-PUT restarts with the previous copy whole). Its bulk loader, several times
faster, empties the graph first and commits in parts, so it only loads staging graphs and graphs the store does
not have yet (where readers may see part of the first copy while it loads). Other stores are atomic per PUT
only where they load a PUT in one transaction. Two graphs are never swapped together without staging: between two
PUTs, readers see the new copy of one and the previous copy of the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import quote

import pyoxigraph as ox

from vetgraph.config import UNCONFIRMED_GRAPH
from vetgraph.remote.http import Body, HttpClient, RemoteError, safe_url

GraphName = ox.NamedNode | ox.DefaultGraph
STAGING_PREFIX = "urn:vetgraph:staging:"


class PublishError(RemoteError):
    """A publish that failed; `state` says what the store holds now."""

    def __init__(self, message: str, state: str):
        self.state = state
        super().__init__(f"{message}\nstore state: {state}")


@dataclass(frozen=True)
class Endpoints:
    """Where to send what. `target` is the Graph Store endpoint (gsp) or the update endpoint (update)."""

    protocol: str
    target: str
    query: str
    update: str | None

    @classmethod
    def derive(
        cls, endpoint: str, protocol: str = "gsp", query: str | None = None, update: str | None = None
    ) -> Endpoints:
        """Fill in the query and update endpoints from the well-known layouts of common stores."""
        base = endpoint.rstrip("/")
        guesses: dict[str, tuple[str, str]] = {
            "/store": ("/query", "/update"),  # Oxigraph server
            "/sparql-graph-crud-auth": ("/sparql-auth", "/sparql-auth"),  # Virtuoso, authenticated
            "/sparql-graph-crud": ("/sparql", "/sparql"),  # Virtuoso
            "/data": ("/query", "/update"),  # Fuseki /<dataset>/data
            "/update": ("/query", "/update"),  # Oxigraph, Fuseki (update protocol)
            "/statements": ("", "/statements"),  # GraphDB / RDF4J repository
        }
        guessed_query = guessed_update = None
        for suffix, (query_suffix, update_suffix) in guesses.items():
            if base.endswith(suffix):
                root = base[: -len(suffix)]
                guessed_query, guessed_update = root + query_suffix, root + update_suffix
                break
        if protocol == "update":
            guessed_update = endpoint
            guessed_query = guessed_query or endpoint  # Virtuoso, QLever, Neptune: one URL for both
        query = query or guessed_query
        if not query:
            raise RemoteError(
                f"cannot tell the SPARQL query endpoint that goes with {safe_url(endpoint)}: give --query-endpoint "
                "(it is needed to verify the triple counts)"
            )
        return cls(protocol, endpoint, query, update or guessed_update)


@dataclass
class GraphPlan:
    """One of our graphs and the named graph it goes to."""

    target: str
    source: GraphName
    triples: int

    @property
    def staging(self) -> str:
        return STAGING_PREFIX + quote(self.target, safe="")

    @property
    def label(self) -> str:
        return "our default graph" if isinstance(self.source, ox.DefaultGraph) else f"<{self.source.value}>"


@dataclass
class PublishReport:
    endpoints: Endpoints
    plans: list[GraphPlan]
    before: dict[str, int]
    after: dict[str, int]
    staged: bool
    seconds: float
    lines: list[str] = field(default_factory=list)


def count_local(source: ox.Store, graph: GraphName) -> int:
    pattern = "{ ?s ?p ?o }" if isinstance(graph, ox.DefaultGraph) else f"{{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"
    solutions = source.query(f"SELECT (COUNT(*) AS ?n) {pattern}")
    assert isinstance(solutions, ox.QuerySolutions)  # a SELECT query
    return int(next(iter(solutions))["n"].value)


def plan_graphs(source: ox.Store, dataset_graph: str) -> list[GraphPlan]:
    """Our default graph -> `dataset_graph`; each named graph -> itself. The unconfirmed graph is always
    planned, even empty, so that statements confirmed since the last publish leave the store's copy."""
    named = sorted({g.value for g in source.named_graphs()} | {UNCONFIRMED_GRAPH})
    if dataset_graph in named:
        raise RemoteError(f"--graph <{dataset_graph}> is the name of one of our named graphs: choose another IRI")
    plans = [GraphPlan(dataset_graph, ox.DefaultGraph(), count_local(source, ox.DefaultGraph()))]
    for iri in named:
        node = ox.NamedNode(iri)
        plans.append(GraphPlan(iri, node, count_local(source, node)))
    return plans


def _iri(value: str) -> str:
    """An IRI in SPARQL `<...>` form; pyoxigraph validates it (ValueError), so no text can break out."""
    return str(ox.NamedNode(value))


class Publisher:
    """Loads planned graphs into one store and proves the result by counting."""

    def __init__(
        self,
        http: HttpClient,
        endpoints: Endpoints,
        *,
        staging: bool = True,
        batch_size: int = 10_000,
        out: Callable[[str], None] = print,
    ):
        self.http = http
        self.endpoints = endpoints
        self.staging = staging and endpoints.update is not None
        self.batch_size = max(1, batch_size)
        self.out = out
        #: load with the store's bulk loader (Oxigraph server only, found from its Server header)
        self.bulk = False

    # -- counting -------------------------------------------------------------------------------------
    def counts(self, graphs: Iterable[str], what: str = "count triples") -> dict[str, int]:
        """The store's triple count of each graph (0 for a graph it does not have)."""
        graphs = list(dict.fromkeys(graphs))
        values = " ".join(_iri(g) for g in graphs)
        query = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
        response = self.http.send(
            "POST", self.endpoints.query, data={"query": query},
            headers={"Accept": "application/sparql-results+json"}, what=what,
        )
        from vetgraph.remote.endpoint import parse_response

        result = parse_response(response)
        found = {str(row[0]): int(row[1]) for row in result.rows if row[0] is not None and row[1] is not None}
        return {g: found.get(g, 0) for g in graphs}

    # -- loading --------------------------------------------------------------------------------------
    def _put(self, source: ox.Store, plan: GraphPlan, graph: str, bulk: bool) -> int:
        def write(spool: IO[bytes]) -> None:
            source.dump(spool, format=ox.RdfFormat.N_TRIPLES, from_graph=plan.source)

        body = Body.of(write)
        params = [("graph", graph)]
        if bulk:
            # Oxigraph server: its bulk loader (no_transaction) is several times faster than a transactional
            # load; our N-Triples were written by Oxigraph, so skipping re-validation (lenient) is safe. It empties
            # the graph first and commits in parts, so it is only used where nothing can be lost: a staging graph,
            # or a graph the store does not have yet.
            params += [("no_transaction", ""), ("lenient", "")]
        try:
            self.http.send(
                "PUT", self.endpoints.target, params=params, body=body,
                headers={"Content-Type": ox.RdfFormat.N_TRIPLES.media_type},
                what=f"PUT of {plan.triples} triples into <{graph}>",
            )
        finally:
            body.close()
        return body.size

    def _update(self, text: str | Body, what: str, retry: bool = True) -> None:
        assert self.endpoints.update is not None
        body = text if isinstance(text, Body) else Body.of(lambda spool: spool.write(text.encode("utf-8")))
        try:
            self.http.send(
                "POST", self.endpoints.update, body=body,
                headers={"Content-Type": "application/sparql-update"}, what=what, retry=retry,
            )
        finally:
            body.close()

    def _insert(self, source: ox.Store, plan: GraphPlan, graph: str,
                on_batch: Callable[[int], None] = lambda n: None) -> int:
        """SPARQL Update loading: clear `graph`, then INSERT DATA in batches that never split blank nodes."""
        self._update(f"DROP SILENT GRAPH {_iri(graph)}", f"clearing <{graph}>")
        sent = 0
        for number, batch in enumerate(_batches(source, plan.source, self.batch_size), start=1):
            # INSERT DATA where it can; a batch with blank nodes goes as INSERT {...} WHERE {}, whose template
            # makes one fresh blank node per label (Virtuoso refuses blank nodes in INSERT DATA).
            bnodes = any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in batch)
            head = f"INSERT {'' if bnodes else 'DATA '}{{ GRAPH {_iri(graph)} {{\n".encode()
            tail = b"} } WHERE {}\n" if bnodes else b"} }\n"

            def write(spool: IO[bytes], batch: list[ox.Triple] = batch, head: bytes = head, tail: bytes = tail) -> None:
                spool.write(head)
                ox.serialize(batch, spool, format=ox.RdfFormat.N_TRIPLES)
                spool.write(tail)

            body = Body.of(write)
            sent += body.size
            self._update(body, f"INSERT DATA batch {number} ({len(batch)} triples) into <{graph}>")
            on_batch(len(batch))
        return sent

    def _load(self, source: ox.Store, plan: GraphPlan, graph: str, bulk: bool = False) -> int:
        from vetgraph.progress import current

        with current().step(f"uploading into <{graph}>", total=plan.triples, unit="triples") as step:
            if self.endpoints.protocol == "update":
                return self._insert(source, plan, graph, on_batch=step.update)
            size = self._put(source, plan, graph, bulk)
            step.update(plan.triples)  # one request: done when the store has answered
            return size

    # -- the whole publish ----------------------------------------------------------------------------
    def publish(self, source: ox.Store, plans: list[GraphPlan]) -> PublishReport:
        started = time.perf_counter()
        ep = self.endpoints
        how = "Graph Store Protocol PUT" if ep.protocol == "gsp" else "SPARQL Update INSERT DATA"
        self.out(f"publishing to {safe_url(ep.target)} ({how}); counts via {safe_url(ep.query)}")
        watched = [p.target for p in plans] + ([p.staging for p in plans] if self.staging else [])
        # Counting first also proves the store is reachable and the credentials work, before any write.
        before = self.counts(watched, "reading the store's current counts")
        self.bulk = self.http.server.lower().startswith("oxigraph/") and ep.protocol == "gsp"
        if self.http.server:
            self.out(f"  store: {self.http.server}" + (" (bulk loader)" if self.bulk else ""))
        if self.staging:
            self._stage_and_swap(source, plans, before)
        else:
            self._replace_directly(source, plans, before)
        after = self.counts([p.target for p in plans], "verifying the published counts")
        wrong = [p for p in plans if after[p.target] != p.triples]
        if wrong:
            detail = "; ".join(f"<{p.target}> holds {after[p.target]}, ours {p.triples}" for p in wrong)
            raise PublishError(
                f"verification failed: {detail}",
                "the new copy is in place but differs from ours (the store may have merged or dropped "
                "statements): inspect it, then publish again",
            )
        seconds = time.perf_counter() - started
        total = sum(p.triples for p in plans)
        self.out(f"verified: the store's count of every graph equals ours ({total} triples in {len(plans)} graphs), "
                 f"{seconds:.2f} s")
        return PublishReport(ep, plans, before, after, self.staging, seconds)

    def _stage_and_swap(self, source: ox.Store, plans: list[GraphPlan], before: dict[str, int]) -> None:
        untouched = "no target graph was changed (readers still see the previous copy)"
        for plan in plans:
            if not plan.triples:
                continue
            started = time.perf_counter()
            try:
                size = self._load(source, plan, plan.staging, bulk=self.bulk)
                staged = self.counts([plan.staging], f"counting staging graph <{plan.staging}>")[plan.staging]
            except RemoteError as error:
                raise PublishError(
                    error.message,
                    f"{untouched}; staging graph <{plan.staging}> may hold a partial copy, which the next "
                    "publish replaces",
                ) from None
            if staged != plan.triples:
                raise PublishError(
                    f"staging graph <{plan.staging}> holds {staged} triples after loading, ours {plan.triples}",
                    f"{untouched}; the next publish replaces the staging graph",
                )
            self.out(f"  {plan.label} -> <{plan.target}>: {plan.triples} triples staged in <{plan.staging}> "
                     f"({size / 1e6:.1f} MB, {time.perf_counter() - started:.2f} s), count verified")
        operations = [
            f"MOVE {_iri(p.staging)} TO {_iri(p.target)}" if p.triples else f"DROP SILENT GRAPH {_iri(p.target)}"
            for p in plans
        ]
        self._swap(" ;\n".join(operations), plans, before)
        for plan in plans:
            previous = before.get(plan.target, 0)
            if plan.triples:
                self.out(f"  <{plan.target}>: replaced ({previous} -> {plan.triples} triples) by MOVE from staging")
            else:
                self.out(f"  <{plan.target}>: ours is empty; dropped the store's copy ({previous} triples)")

    def _swap(self, update: str, plans: list[GraphPlan], before: dict[str, int]) -> None:
        """One update request swaps every graph. MOVE is not safe to resend blindly (a MOVE whose answer was
        lost already emptied the staging graph), so after a failure the counts decide what happened."""
        attempts = 1 + self.http.retries
        for attempt in range(attempts):
            try:
                self._update(update, "swapping staging graphs into place (MOVE)", retry=False)
                return
            except RemoteError as error:
                if error.status is not None and error.status < 500:
                    state = self._state_after_failed_swap(plans, before)
                    raise PublishError(error.message + " (does the store support SPARQL 1.1 MOVE? try --direct)",
                                       state) from None
                try:
                    now = self.counts([p.target for p in plans] + [p.staging for p in plans], "checking the swap")
                except RemoteError:
                    now = None
                if now is not None and all(now[p.target] == p.triples and not now[p.staging] for p in plans):
                    return  # the swap went through; only its answer was lost
                intact = now is not None and all(now[p.staging] == p.triples for p in plans if p.triples)
                if not intact or attempt + 1 == attempts:
                    raise PublishError(error.message, self._state_after_failed_swap(plans, before)) from None
                time.sleep(self.http.backoff * 2**attempt)  # nothing moved yet: safe to send again

    def _state_after_failed_swap(self, plans: list[GraphPlan], before: dict[str, int]) -> str:
        try:
            now = self.counts([p.target for p in plans] + [p.staging for p in plans], "reading the store's state")
        except RemoteError as error:
            return f"unknown: the store could not be asked ({error.message}); publish again once it is back"
        parts = []
        for plan in plans:
            held, staged = now[plan.target], now[plan.staging]
            if staged == plan.triples and plan.triples:
                previous = before.get(plan.target, 0)
                parts.append(f"<{plan.target}> not yet replaced ({held} triples, previously {previous})")
            elif held == plan.triples and not staged:
                parts.append(f"<{plan.target}> replaced with the new copy ({held} triples)")
            else:
                parts.append(f"<{plan.target}> holds {held} triples and its staging graph {staged}: inconsistent")
        return "; ".join(parts) + "; publishing again brings every graph to the new copy"

    def _replace_directly(self, source: ox.Store, plans: list[GraphPlan], before: dict[str, int]) -> None:
        self.out("  no SPARQL Update endpoint (or --direct): each graph is replaced by its own PUT, "
                 "one after another, without staging")
        done: list[str] = []
        for plan in plans:
            started = time.perf_counter()
            try:
                if plan.triples:
                    size = self._load(source, plan, plan.target, bulk=self.bulk and not before.get(plan.target))
                elif before.get(plan.target):
                    self._delete(plan.target)
                    size = 0
                else:
                    continue
            except RemoteError as error:
                replaced = ", ".join(f"<{g}>" for g in done) or "none"
                raise PublishError(
                    error.message,
                    f"graphs already replaced: {replaced}; " + (
                        f"<{plan.target}> keeps its previous copy where the store loads a PUT in one transaction "
                        "(Oxigraph server does), else it may be empty or partly loaded"
                        if before.get(plan.target) else f"<{plan.target}> was empty and may now hold part of ours"
                    ) + "; the others are untouched; publishing again completes it",
                ) from None
            done.append(plan.target)
            self.out(f"  {plan.label} -> <{plan.target}>: replaced ({before.get(plan.target, 0)} -> {plan.triples} "
                     f"triples, {size / 1e6:.1f} MB, {time.perf_counter() - started:.2f} s)")

    def _delete(self, graph: str) -> None:
        if self.endpoints.protocol == "update":
            self._update(f"DROP SILENT GRAPH {_iri(graph)}", f"dropping <{graph}>")
            return
        try:
            self.http.send("DELETE", self.endpoints.target, params=[("graph", graph)], what=f"DELETE of <{graph}>")
        except RemoteError as error:
            if error.status != 404:  # already absent: nothing to delete
                raise


def _batches(source: ox.Store, graph: GraphName, size: int) -> Iterator[list[ox.Triple]]:
    """Triples of one graph in batches of about `size`. Blank nodes are scoped to one update request, so all
    triples that share a blank node (transitively) travel in the same batch."""
    batch: list[ox.Triple] = []
    parent: dict[str, str] = {}
    with_bnodes: list[tuple[str, ox.Triple]] = []

    def find(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for quad in source.quads_for_pattern(None, None, None, graph):
        labels = [t.value for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)]
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        if not labels:
            batch.append(triple)
            if len(batch) >= size:
                yield batch
                batch = []
            continue
        roots = [find(label) for label in labels]
        for root in roots[1:]:
            parent[root] = roots[0]
        with_bnodes.append((labels[0], triple))
    groups: dict[str, list[ox.Triple]] = {}
    for label, triple in with_bnodes:
        groups.setdefault(find(label), []).append(triple)
    for group in groups.values():
        if batch and len(batch) + len(group) > size:
            yield batch
            batch = []
        batch.extend(group)
    if batch:
        yield batch
