"""`RemoteStore`: any SPARQL 1.1 Protocol endpoint behind the same `Store` interface as the embedded store.

Embedded, queries see the union of all our graphs as their default graph. A published copy lives in named
graphs (the dataset graph and the graph of unconfirmed statements), so every request carries the protocol's
`default-graph-uri` parameters for those graphs (their RDF merge is our default graph) and `named-graph-uri`
for the unconfirmed graph, so `GRAPH <.../graph/unconfirmed>` means the same as locally. Oxigraph server
and Virtuoso both honour these parameters (checked in tests/test_remote_oxigraph.py, tests/test_virtuoso.py).
Parameters are bound as RDF terms through an inline VALUES block (see `sparqltext`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import httpx
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from vetgraph.config import DATASET_IRI, UNCONFIRMED_GRAPH
from vetgraph.formats import rdf_by_media_type
from vetgraph.namespaces import XSD
from vetgraph.remote import sparqltext
from vetgraph.remote.http import Credentials, HttpClient, RemoteError, split_credentials
from vetgraph.stores import QueryError, QueryResult, QueryTimeout, Store
from vetgraph.terms import to_rdflib

#: What we accept back, by query form: SPARQL JSON results for SELECT/ASK; for graphs N-Triples first
#: (fast, exact), Turtle and RDF/XML for stores that lack it. One Accept for both would not do: Virtuoso
#: answers a CONSTRUCT in SPARQL JSON (an s/p/o table) when that is what the client prefers.
TABULAR_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"



class RemoteStore(Store):
    """A remote SPARQL endpoint (query URL), read through the SPARQL 1.1 Protocol.

    `default_graphs`/`named_graphs`: the protocol's dataset parameters; None means our published layout
    (dataset graph + unconfirmed graph), an empty sequence sends none (the store's own default graph,
    e.g. a Fuseki dataset configured with a union default graph)."""

    name = "remote"

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float | None = 30.0,
        auth: Credentials | tuple[str, str] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        dataset_graph: str = DATASET_IRI,
        retries: int = 2,
        client: HttpClient | None = None,
    ):
        endpoint, url_credentials = split_credentials(endpoint)
        if isinstance(auth, tuple):
            auth = Credentials(*auth)
        self.endpoint = endpoint
        self.timeout = timeout
        self.default_graphs = list(default_graphs) if default_graphs is not None else [dataset_graph, UNCONFIRMED_GRAPH]
        self.named_graphs = list(named_graphs) if named_graphs is not None else [UNCONFIRMED_GRAPH]
        self.http = client or HttpClient(auth or url_credentials, timeout=timeout, retries=retries)
        self._owns_client = client is None

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r})"

    def close(self) -> None:
        if self._owns_client:
            self.http.close()

    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None, timeout: float | None = None
    ) -> QueryResult:
        form = sparqltext.query_form(sparql)  # refuses updates before anything leaves this process
        text = sparqltext.bind(sparql, bindings)
        accept = TABULAR_ACCEPT if form in ("SELECT", "ASK") else GRAPH_ACCEPT
        response = self._post(text, accept, timeout)
        if response.headers.get("x-sql-state"):
            # Virtuoso's "anytime" queries: cut off at its MaxQueryExecutionTime, answered 200 with whatever
            # was found so far. Partial answers are never passed off as complete.
            raise QueryTimeout(
                f"the remote store stopped the query early and sent partial results "
                f"({response.headers['x-sql-state']}: {response.headers.get('x-sql-message', '')})"
            )
        return parse_response(response)

    def _post(self, text: str, accept: str, timeout: float | None) -> httpx.Response:
        data: dict[str, str | list[str]] = {"query": text}
        if self.default_graphs:
            data["default-graph-uri"] = self.default_graphs
        if self.named_graphs:
            data["named-graph-uri"] = self.named_graphs
        limit = timeout if timeout is not None else self.timeout
        try:
            return self.http.send(
                "POST", self.endpoint, data=data, headers={"Accept": accept}, what="query",
                timeout=httpx.Timeout(limit, connect=min(limit or 10.0, 10.0)),
            )
        except RemoteError as error:
            if error.status == 400:
                # The store's parser said no: a query error, in the store's words.
                raise QueryError(error.store_text or error.message) from None
            if error.timed_out:
                raise QueryTimeout(f"the remote store did not answer within {limit} s") from None
            raise


def parse_response(response: httpx.Response) -> QueryResult:
    """A QueryResult from a SPARQL Protocol response, whatever result format the store chose."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    body = response.content
    if media in ("application/sparql-results+json", "application/json"):
        return _from_json(body)
    if media == "application/sparql-results+xml":
        return _from_ox_results(ox.parse_query_results(body, format=ox.QueryResultsFormat.XML))
    syntax = rdf_by_media_type(media)  # also text/plain, Virtuoso's and older stores' N-Triples media type
    if syntax is not None:
        graph = Graph(bind_namespaces="core")
        for quad in ox.parse(body, format=syntax.rdf):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return QueryResult("graph", graph=graph)
    raise RemoteError(f"the store answered with an unexpected content type {media or '(none)'!r}")


def _from_ox_results(raw: ox.QuerySolutions | ox.QueryBoolean) -> QueryResult:
    if isinstance(raw, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(raw))
    variables = [v.value for v in raw.variables]
    rows = [tuple(to_rdflib(s[i]) if s[i] is not None else None for i in range(len(variables))) for s in raw]
    return QueryResult("select", variables=variables, rows=rows)


def _from_json(body: bytes) -> QueryResult:
    """SPARQL 1.1 Query Results JSON, including Virtuoso's legacy `typed-literal` type."""
    try:
        document = json.loads(body)
    except ValueError as error:
        raise RemoteError(f"the store sent invalid SPARQL JSON results: {error}") from None
    if "boolean" in document:
        return QueryResult("ask", boolean=bool(document["boolean"]))
    variables = list(document.get("head", {}).get("vars", []))
    rows = []
    for binding in document.get("results", {}).get("bindings", []):
        rows.append(tuple(_json_term(binding[v]) if v in binding else None for v in variables))
    return QueryResult("select", variables=variables, rows=rows)


def _json_term(cell: Mapping[str, str]) -> Identifier:
    kind, value = cell.get("type"), cell.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        if cell.get("xml:lang"):
            return Literal(value, lang=cell["xml:lang"])
        datatype = cell.get("datatype")
        if datatype and datatype != str(XSD.string):
            return Literal(value, datatype=URIRef(datatype))
        return Literal(value)
    raise RemoteError(f"the store sent a result term of unknown type {kind!r}")
