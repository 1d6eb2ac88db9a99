"""The SPARQL 1.1 Protocol endpoint at /sparql (read-only) and the execution path shared with the stored
queries API: refuse what must not run, pick the result format, run with the time limit, map failures
to clear HTTP answers.

    GET  /sparql?query=...                                   (+ default-graph-uri, named-graph-uri)
    POST /sparql  application/x-www-form-urlencoded  query=...
    POST /sparql  application/sparql-query           <the query>
    GET  /sparql                                             service description (RDF), or the query UI

Result formats by Accept (with q-values) or ?format= (also `output=`, `results=`, repeated, comma lists):
SELECT/ASK in SPARQL JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE in Turtle, N-Triples, JSON-LD, RDF/XML; an
HTML results page for browsers; 406 otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from vetgraph.config import UNCONFIRMED_GRAPH
from vetgraph.formats import GRAPH_FORMATS, RESULT_FORMATS
from vetgraph.namespaces import DCTERMS, RDF, SD, VOID, XSD, prefixes
from vetgraph.server.connections import DISCONNECT_EXTENSION, LOAD_EXTENSION, ConnectionGuard, Disconnection
from vetgraph.server.conneg import (
    GRAPH_OFFERS,
    HTML_OFFER,
    TABULAR_OFFERS,
    Offer,
    by_name,
    by_names,
    format_names,
    negotiate,
    prefers,
)
from vetgraph.server.querycheck import inspect
from vetgraph.server.site import Rendered, Site, error, send, with_charset
from vetgraph.server.workers import (
    Answer,
    Dataset,
    EngineBusy,
    NotAcceptable,
    Overloaded,
    QueryRequest,
    ResultTooLarge,
    WorkerLost,
)
from vetgraph.stores import QueryError, QueryTimeout, serialize_triples

log = logging.getLogger("vetgraph.server")

_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"


class Refusal(Exception):
    """A request the endpoint answers with an error status before running anything."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        super().__init__(message)


#: The parameters clients name the result format by: `format` (Virtuoso), `output` (Fuseki, Joseki),
#: `results` (Rasqal); SPARQLWrapper sends all three, some twice.
FORMAT_PARAMETERS = ("format", "output", "results")
#: What the HTML results page runs the query in (then turned into a table with labels).
_HTML_TABULAR, _HTML_GRAPH = TABULAR_OFFERS[0], next(o for o in GRAPH_OFFERS if o.name == "nt")


@dataclass(frozen=True)
class Wanted:
    """The formats a client takes: for a result table, for a graph, and whether it wants an HTML page."""

    tabular: Offer | None
    graph: Offer | None
    html: bool = False


def result_offers(accept: str | None, format_values: Sequence[str] = ()) -> Wanted:
    """The formats a request asks for: by `?format=` (or `output=`, `results=`) values when any name a
    format, else by Accept. A browser (text/html ranked at least as high as any data format) gets HTML."""
    return _result_offers(accept, tuple(format_values))


@functools.lru_cache(maxsize=512)  # clients send the same few headers: negotiating took 20 us a query
def _result_offers(accept: str | None, format_values: tuple[str, ...]) -> Wanted:
    names = format_names(format_values)
    if names:
        first = next((o for n in names for o in (by_name(n, (*TABULAR_OFFERS, *GRAPH_OFFERS, HTML_OFFER)),)
                      if o is not None), None)
        if first is None:
            known = ", ".join(o.name for o in (*TABULAR_OFFERS, *GRAPH_OFFERS, HTML_OFFER))
            raise Refusal(400, f"unknown format {', '.join(names)!r}; use one of: {known}")
        if first is HTML_OFFER:
            return Wanted(_HTML_TABULAR, _HTML_GRAPH, html=True)
        return Wanted(by_names(names, TABULAR_OFFERS), by_names(names, GRAPH_OFFERS))
    if prefers(accept, HTML_OFFER, (*TABULAR_OFFERS, *GRAPH_OFFERS)):
        return Wanted(_HTML_TABULAR, _HTML_GRAPH, html=True)
    return Wanted(negotiate(accept, TABULAR_OFFERS), negotiate(accept, GRAPH_OFFERS))


def _not_acceptable(kind: str) -> Refusal:
    offers = GRAPH_OFFERS if kind in ("graph", "CONSTRUCT", "DESCRIBE") else TABULAR_OFFERS
    what = "an RDF graph" if offers is GRAPH_OFFERS else "a result table"
    types = ", ".join(o.media_type for o in offers)
    return Refusal(406, f"this query gives {what}, which this endpoint writes as: {types} "
                        f"(ask by Accept header or ?format={'|'.join(o.name for o in offers)})")


async def execute(
    site: Site,
    sparql: str,
    *,
    tabular: Offer | None,
    graph: Offer | None,
    bindings: Mapping[str, Identifier] | None = None,
    dataset: Dataset | None = None,
    request: Request | None = None,
) -> Answer:
    """Check, then run a query (or take its result from the cache); raises Refusal for every failure.
    With the `request`, the query is abandoned (its worker freed) when the client disconnects, and the
    client's address counts against its share of long-running queries."""
    info = inspect(sparql)
    if info.update:
        raise Refusal(403, "this endpoint is read-only: SPARQL Update requests are not accepted")
    if info.service:
        raise Refusal(403, "SERVICE (federated query) is not allowed here: this endpoint does not fetch "
                           "data from other hosts")
    if info.form in ("SELECT", "ASK") and tabular is None or info.form in ("CONSTRUCT", "DESCRIBE") and graph is None:
        raise _not_acceptable(info.form or "")
    tabular_name, graph_name = (tabular.name if tabular else None), (graph.name if graph else None)
    key = (sparql, tabular_name, graph_name, tuple(sorted((k, v.n3()) for k, v in (bindings or {}).items())), dataset)
    if info.deterministic:
        cached = site.results.get(key)
        if cached is not None:
            return cached
    client = request.client.host if request is not None and request.client else None
    load = request.scope.get("extensions", {}).get(LOAD_EXTENSION) if request is not None else None
    backlog = load.in_progress if isinstance(load, ConnectionGuard) else 0
    work = site.engine.run(QueryRequest(sparql, tabular_name, graph_name, site.timeout, bindings, dataset, client,
                                        backlog))
    try:
        answer = await (work if request is None else _unless_disconnected(request, work))
    except QueryError as failure:
        where = f" (line {failure.line}, column {failure.column})" if failure.line else ""
        raise Refusal(400, f"SPARQL error{where}: {failure.message}") from None
    except QueryTimeout:
        raise Refusal(503, f"the query was stopped at the time limit of {site.timeout:g} s. Narrow it down "
                           f"(more specific patterns, LIMIT) or download the data at {site.url('/download/')} "
                           "and query it locally.") from None
    except EngineBusy:
        raise Refusal(503, f"all query workers stayed busy for {site.timeout:g} s; try again shortly",
                      {"Retry-After": "5"}) from None
    except ResultTooLarge as failure:
        raise Refusal(503, f"the result is larger than this server's limit of {failure.limit} bytes; add a "
                           f"LIMIT, or download the data at {site.url('/download/')}") from None
    except NotAcceptable as failure:
        raise _not_acceptable(failure.kind) from None
    except Overloaded as failure:
        raise Refusal(503, f"{failure}: it was stopped; try again when those have finished",
                      {"Retry-After": "5"}) from None
    except WorkerLost as failure:
        raise Refusal(503, f"the query worker stopped while running this query ({failure.reason}); the "
                           "query was abandoned") from None
    if info.deterministic:
        site.results.put(key, answer, len(answer.body) + len(sparql))
    return answer


async def _unless_disconnected(request: Request, work: Awaitable[Answer]) -> Answer:
    """The result of `work`, which is cancelled if the client disconnects first: nobody waits for it, and
    its worker is better used by others. Our server calls back on a disconnect (`Disconnection`); under any
    other ASGI server a second task waits for it on `receive`."""
    task = asyncio.ensure_future(work)
    disconnection = request.scope.get("extensions", {}).get(DISCONNECT_EXTENSION)
    if isinstance(disconnection, Disconnection):
        disconnection.callback = task.cancel
        if disconnection.happened:
            task.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            if not disconnection.happened:
                raise  # this request itself is being cancelled (the server stops): so is the work
            raise Refusal(499, "the client closed the connection; the query was abandoned") from None
        finally:
            disconnection.callback = None
    watch = asyncio.ensure_future(_disconnected(request))
    watch.add_done_callback(lambda _: task.cancel())  # a no-op once the work is done
    try:
        return await task
    except asyncio.CancelledError:
        if not watch.done() or watch.cancelled():
            raise  # this request itself is being cancelled (the server stops): so is the work
        watch.exception()  # retrieved: a failing receive counts as a disconnect
        raise Refusal(499, "the client closed the connection; the query was abandoned") from None
    finally:
        watch.cancel()


async def _disconnected(request: Request) -> None:
    # The body, if any, was read before the query runs: what arrives now is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


def answer_response(answer: Answer) -> Response:
    return Response(answer.body, media_type=_content_type(answer.kind, answer.format), headers={"Vary": "Accept"})


@functools.cache  # a handful of (kind, format) pairs
def _content_type(kind: str, format_name: str) -> str:
    offers = GRAPH_OFFERS if kind == "graph" else TABULAR_OFFERS
    return with_charset(next(o.media_type for o in offers if o.name == format_name))


async def _send_answer(send: Send, answer: Answer) -> None:
    """What `answer_response(answer)` sends, without building a Response: the same head, the same body."""
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"vary", b"Accept"), (b"content-length", str(len(answer.body)).encode("latin-1")),
        (b"content-type", _content_type(answer.kind, answer.format).encode("latin-1"))]})
    await send({"type": "http.response.body", "body": answer.body})


def refusal_response(request: Request, refusal: Refusal) -> Response:
    return error(request, refusal.status, refusal.message, headers={"Vary": "Accept", **refusal.headers})


async def _read_request(request: Request) -> tuple[str | None, list[tuple[str, str]]]:
    """The query text and the protocol parameters, from GET or either POST form."""
    params = list(request.query_params.multi_items())
    if request.method != "POST":
        return dict(params).get("query"), params
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    try:
        body = await request.body()
    except ClientDisconnect:
        raise Refusal(499, "the client closed the connection before sending the whole request") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the request body is not UTF-8 text") from None
    if media_type == _FORM:
        form = parse_qsl(text, keep_blank_values=True)
        if any(name == "update" for name, _ in form):
            raise Refusal(403, "this endpoint is read-only: SPARQL Update requests are not accepted")
        return dict(form).get("query"), params + form
    if media_type == _QUERY:
        return text, params
    if media_type == _UPDATE:
        raise Refusal(403, "this endpoint is read-only: SPARQL Update requests are not accepted")
    raise Refusal(415, f"a POST to the SPARQL endpoint must be {_QUERY} or {_FORM}, not "
                       f"{media_type or 'without Content-Type'}")


class Endpoint:
    """/sparql as a plain ASGI app (a class, so that Starlette routes to it unwrapped): a query's answer goes
    out as two ASGI messages, without the request-response wrapping and Response object (about 8 us a query,
    docs/performance.md)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = await _respond(Request(scope, receive, send))
        if isinstance(outcome, Answer):
            await _send_answer(send, outcome)
        else:
            await outcome(scope, receive, send)


endpoint = Endpoint()


async def _respond(request: Request) -> Response | Answer:
    site: Site = request.app.state.site
    try:
        query, params = await _read_request(request)
        names = [name for name, _ in params]
        if "update" in names:
            raise Refusal(403, "this endpoint is read-only: SPARQL Update requests are not accepted")
        if query is None:
            if request.method == "POST":
                raise Refusal(400, "no query: send query=... (form) or the query itself (application/sparql-query)")
            return service_description(request, site)
        if names.count("query") > 1:
            raise Refusal(400, "give exactly one query parameter")
        dataset = (tuple(v for n, v in params if n == "default-graph-uri"),
                   tuple(v for n, v in params if n == "named-graph-uri"))
        wanted = result_offers(request.headers.get("accept"),
                               [v for n, v in params if n in FORMAT_PARAMETERS])
        answer = await execute(site, query, tabular=wanted.tabular, graph=wanted.graph,
                               dataset=dataset if dataset[0] or dataset[1] else None, request=request)
    except Refusal as refusal:
        return refusal_response(request, refusal)
    if wanted.html:
        return await results_page(site, query, answer, [(n, v) for n, v in params
                                                        if n in ("default-graph-uri", "named-graph-uri")])
    return answer


async def results_page(site: Site, query: str, answer: Answer, dataset: list[tuple[str, str]]) -> Response:
    """The result as an HTML page: a table with labels and links to the local pages, download links in
    every format of its kind (the same request with `format=`), and the query."""
    from vetgraph.server.stored import result_table

    table = await asyncio.to_thread(result_table, site, answer.kind, answer.body)
    offers = GRAPH_OFFERS if answer.kind == "graph" else TABULAR_OFFERS
    formats = [(o.name, o.media_type, site.url("/sparql") + "?" + urlencode([("query", query), *dataset,
                                                                              ("format", o.name)]))
               for o in offers]
    html = site.templates.get_template("sparql_results.html").render(
        site=site, query=query, table=table, formats=formats)
    return Response(html, media_type="text/html; charset=utf-8", headers={"Vary": "Accept"})


def service_description(request: Request, site: Site) -> Response:
    """SPARQL 1.1 Service Description in RDF; a browser gets the query UI instead."""
    offers = (*GRAPH_OFFERS, HTML_OFFER)
    chosen = negotiate(request.headers.get("accept"), offers)
    if chosen is HTML_OFFER:
        from vetgraph.server.pages import query_ui

        return query_ui(request, site)
    if chosen is None:
        return refusal_response(request, Refusal(406, "the service description is available as: "
                                                      + ", ".join(o.media_type for o in offers)))
    key = ("service-description", chosen.name)
    rendered = site.pages.get(key)
    if rendered is None:
        body = serialize_triples(_description_graph(site), chosen.name,
                                 prefixes("sd", "void", "dct", "formats"))
        rendered = Rendered.of(body, chosen.media_type, {"Vary": "Accept"})
        site.pages.put(key, rendered, len(body))
    return send(request, site, rendered)


def _description_graph(site: Site) -> Graph:
    graph = Graph()
    service = URIRef(site.absolute("/sparql"))
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    for fmt in (*RESULT_FORMATS.values(), *GRAPH_FORMATS.values()):
        graph.add((service, SD.resultFormat, URIRef(fmt.w3c_iri)))
    graph.add((service, DCTERMS.description, Literal(
        f"Read-only SPARQL 1.1 Query endpoint of vetgraph. The default graph is the union of all graphs. "
        f"SPARQL Update and SERVICE are refused. Each query may run {site.timeout:g} s at most; results are "
        f"limited to {site.max_result_bytes} bytes.", lang="en")))
    dataset, default = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    if site.triples is not None:
        graph.add((default, VOID.triples, Literal(site.triples, datatype=XSD.integer)))
    named, unconfirmed = BNode(), BNode()
    graph.add((dataset, SD.namedGraph, named))
    graph.add((named, RDF.type, SD.NamedGraph))
    graph.add((named, SD.name, URIRef(UNCONFIRMED_GRAPH)))
    graph.add((named, SD.graph, unconfirmed))
    graph.add((unconfirmed, RDF.type, SD.Graph))
    return graph
