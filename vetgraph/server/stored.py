"""The stored queries as a web API: `/queries` lists them (HTML or JSON), `/queries/{name}?param=...`
runs one, in every result format (Accept or ?format=) or as an HTML page with a form and a result
table, and `/openapi.json` describes it all (OpenAPI 3.0, generated from the catalogue).

Parameters are bound exactly as `vetgraph query` binds them: `StoredQuery.bind` turns each value into an
RDF term of the declared type (or refuses it with a message naming the parameter), and the engine
substitutes the terms (SEP-0007), never pasting text into the query.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from rdflib import Literal, URIRef
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vetgraph import __version__
from vetgraph.config import GRAPH_BASE, ID_BASE
from vetgraph.server.conneg import GRAPH_OFFERS, HTML_OFFER, TABULAR_OFFERS, Offer, by_extension, by_name, negotiate
from vetgraph.server.describe import labels_of
from vetgraph.server.site import Site, error
from vetgraph.server.sparql import Refusal, answer_response, execute, refusal_response
from vetgraph.terms import to_rdflib

JSON_OFFER = Offer("json", "application/json", (), "json")
_RESERVED = ("format",)


def _describe(site: Site, query: Any) -> dict[str, Any]:
    return {
        "name": query.name,
        "summary": query.summary,
        "description": query.description,
        "tags": list(query.tags),
        "kind": query.kind,
        "params": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                    "description": p.description, "enum": p.enum} for p in query.params],
        "example": query.example,
        "url": site.absolute(f"/queries/{query.name}"),
        "sparql": query.text,
    }


async def list_queries(request: Request) -> Response:
    site: Site = request.app.state.site
    as_json = request.url.path.endswith(".json") or request.query_params.get("format") == "json"
    if not as_json:
        as_json = negotiate(request.headers.get("accept"), (HTML_OFFER, JSON_OFFER)) is JSON_OFFER
    if as_json:
        return JSONResponse({"queries": [_describe(site, q) for q in site.catalogue.values()]},
                            headers={"Vary": "Accept"})
    return Response(queries_html(site), media_type="text/html; charset=utf-8", headers={"Vary": "Accept"})


def queries_html(site: Site) -> str:
    """The page listing the stored queries (the server's /queries and the static site's queries.html)."""
    return site.templates.get_template("queries.html").render(site=site, queries=list(site.catalogue.values()))


def _offers(kind: str) -> tuple[Offer, ...]:
    data = GRAPH_OFFERS if kind in ("construct", "describe") else TABULAR_OFFERS
    return (*data, HTML_OFFER)


async def run_query(request: Request) -> Response:
    from vetgraph.queries import ParameterError

    site: Site = request.app.state.site
    name = request.path_params["name"]
    query = site.catalogue.get(name)
    offer: Offer | None = None
    if query is None:  # /queries/insights.csv
        stem, offer = by_extension(name, (*TABULAR_OFFERS, *GRAPH_OFFERS, HTML_OFFER))
        query = site.catalogue.get(stem)
    if query is None:
        known = ", ".join(site.catalogue) or "none"
        return error(request, 404, f"no stored query named {name!r} (stored queries: {known})")
    offers = _offers(query.kind)
    if request.query_params.get("format"):
        offer = by_name(request.query_params["format"], offers)
        if offer is None:
            return error(request, 406, f"query {query.name!r} can be had as: {', '.join(o.name for o in offers)}")
    elif offer is None:
        offer = negotiate(request.headers.get("accept"), offers)
    if offer is None or offer not in offers:
        types = ", ".join(o.media_type for o in offers)
        return error(request, 406, f"query {query.name!r} can be had as: {types}", headers={"Vary": "Accept"})
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in _RESERVED]
    values = dict(items)
    if len(values) != len(items):
        return error(request, 400, "give each parameter once")
    if offer is HTML_OFFER and not values and any(p.required for p in query.params):
        return _page(site, query, values, None, None)  # a browser arriving without values gets the form
    try:
        bindings = query.bind(values)
    except ParameterError as failure:
        if offer is HTML_OFFER:
            return _page(site, query, values, None, str(failure), status=400)
        return error(request, 400, str(failure), headers={"Vary": "Accept"})
    graph = query.kind in ("construct", "describe")
    if offer is HTML_OFFER:
        tabular, rdf = (None, GRAPH_OFFERS[1]) if graph else (TABULAR_OFFERS[0], None)
    else:
        tabular, rdf = (None, offer) if graph else (offer, None)
    try:
        answer = await execute(site, query.text, tabular=tabular, graph=rdf, bindings=bindings, request=request)
    except Refusal as refusal:
        if offer is HTML_OFFER:
            return _page(site, query, values, None, refusal.message, status=refusal.status)
        return refusal_response(request, refusal)
    if offer is not HTML_OFFER:
        return answer_response(answer)
    table = await asyncio.to_thread(result_table, site, answer.kind, answer.body)
    return _page(site, query, values, table, None)


def result_table(site: Site, kind: str, body: bytes) -> dict[str, Any]:
    """Rows of terms for an HTML page (IRIs with their labels), from SPARQL JSON or N-Triples (what the
    stored-query page and the endpoint's results page run their queries in)."""
    from vetgraph.server.pages import Views

    if kind == "graph":
        triples = [(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                   for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        head, rows = ["subject", "predicate", "object"], [list(t) for t in triples]
    else:
        data = json.loads(body)
        if "boolean" in data:
            return {"boolean": data["boolean"], "head": [], "rows": []}
        head = data["head"]["vars"]
        rows = [[_term(binding.get(v)) for v in head] for binding in data["results"]["bindings"]]
    labels = labels_of(site.store, {t for row in rows for t in row if isinstance(t, URIRef)})
    views = Views(site, labels)
    return {"boolean": None, "head": head, "rows": [[views.term(t) if t is not None else None for t in row]
                                                    for row in rows]}


def _term(cell: dict[str, str] | None) -> Any:
    if cell is None:
        return None
    if cell["type"] == "uri":
        return URIRef(cell["value"])
    if cell["type"] == "bnode":
        from rdflib import BNode

        return BNode(cell["value"])
    if "xml:lang" in cell:
        return Literal(cell["value"], lang=cell["xml:lang"])
    return Literal(cell["value"], datatype=URIRef(cell["datatype"]) if "datatype" in cell else None)


def _page(site: Site, query: Any, values: dict[str, str], table: dict[str, Any] | None, message: str | None,
          status: int = 200) -> Response:
    # The download links repeat the parameters, URL-encoded ("R&D", "#", "+", spaces, any script survive)
    here = site.url("/queries/" + quote(query.name, safe=""))
    given = [(k, v) for k, v in values.items() if v]
    formats = [(o.name, o.media_type, f"{here}?{urlencode([*given, ('format', o.name)])}")
               for o in _offers(query.kind) if o is not HTML_OFFER]
    html = site.templates.get_template("query.html").render(
        site=site, query=query, values=values, table=table, message=message, formats=formats,
    )
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers={"Vary": "Accept"})


# ---------------------------------------------------------------------------------------------------
# OpenAPI

_SCHEMAS = {
    "iri": {"type": "string", "format": "iri"},
    "integer": {"type": "integer"},
    "string": {"type": "string"},
    "langstring": {"type": "string", "description": "text, optionally ending in @lang (e.g. Innovation@en)"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
}


def openapi_document(site: Site) -> dict[str, Any]:
    """OpenAPI 3.0 description of the stored queries, the SPARQL endpoint and dereferencing."""
    tabular = {o.media_type: {"schema": {"type": "string"}} for o in TABULAR_OFFERS}
    graph = {o.media_type: {"schema": {"type": "string"}} for o in GRAPH_OFFERS}
    errors = {
        "400": {"description": "a parameter is missing or not of its type; the message names it"},
        "406": {"description": "the result cannot be written in an acceptable format"},
        "503": {"description": "the query was stopped at the time limit, or the server is busy"},
    }
    fmt = {"name": "format", "in": "query", "required": False,
           "description": "result format, instead of the Accept header",
           "schema": {"type": "string", "enum": [o.name for o in (*TABULAR_OFFERS, *GRAPH_OFFERS)] + ["html"]}}
    paths: dict[str, Any] = {}
    for query in site.catalogue.values():
        parameters = [fmt]
        for p in query.params:
            schema: dict[str, object] = dict(_SCHEMAS.get(p.type, {"type": "string"}))
            if p.enum:
                schema["enum"] = p.enum
            if p.default is not None:
                schema["default"] = p.default
            parameters.append({"name": p.name, "in": "query", "required": p.required,
                               "description": p.description or p.name, "schema": schema})
        content = graph if query.kind in ("construct", "describe") else tabular
        paths[f"/queries/{query.name}"] = {"get": {
            "operationId": query.name.replace("-", "_"),
            "summary": query.summary,
            "description": query.description or query.summary,
            "tags": list(query.tags) or ["queries"],
            "parameters": parameters,
            "responses": {"200": {"description": f"the {query.kind.upper()} result",
                                  "content": {**content, "text/html": {"schema": {"type": "string"}}}}, **errors},
        }}
    paths["/sparql"] = {
        "get": {"operationId": "sparql_get", "summary": "SPARQL 1.1 Protocol query (read-only)",
                "parameters": [{"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "the query; without it, the service description"}],
                "responses": {"200": {"description": "query result", "content": {**tabular, **graph}}, **errors}},
        "post": {"operationId": "sparql_post", "summary": "SPARQL 1.1 Protocol query by POST",
                 "requestBody": {"content": {
                     "application/sparql-query": {"schema": {"type": "string"}},
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}},
                 "responses": {"200": {"description": "query result", "content": {**tabular, **graph}}, **errors}},
    }
    paths["/id/{path}"] = {"get": {
        "operationId": "resource", "summary": "the description of a vetgraph resource (content negotiation)",
        "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": f"the IRI after {ID_BASE}, e.g. insight/1"},
                       {"name": "_profile", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["description", "cbd", "alt"]},
                        "description": "W3C Content Negotiation by Profile (or the Accept-Profile header)"},
                       {"name": "_mediatype", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "media type, instead of the Accept header (also ?format=)"}],
        "responses": {"200": {"description": "description", "content": {**graph, "text/html": {"schema": {
            "type": "string"}}}}, "404": {"description": "no such resource"}}}}
    paths["/graph/{name}"] = {"get": {
        "operationId": "namedGraph", "summary": "the statements of a named graph (content negotiation)",
        "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": f"the IRI after {GRAPH_BASE}: unconfirmed"}],
        "responses": {"200": {"description": "the graph, or a page listing it", "content": {**graph, "text/html": {
            "schema": {"type": "string"}}}}, "404": {"description": "no such graph"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "vetgraph linked-data API", "version": __version__,
                 "description": "Stored SPARQL queries over the vetgraph knowledge graph, the read-only SPARQL "
                                "endpoint and dereferenceable resource IRIs."},
        "servers": [{"url": site.base_url.rstrip("/")}],
        "paths": paths,
    }


async def openapi(request: Request) -> Response:
    site: Site = request.app.state.site
    return JSONResponse(openapi_document(site))
