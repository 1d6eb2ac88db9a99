"""The direct way to /sparql (`VetgraphApp`): the requests it takes get the same answer, head and body, as
through Starlette's whole stack (router, CORS, body limit, security headers, error handler); the requests
that need that stack (an Origin, a body over the limit or without a length, HEAD, OPTIONS) still go through
it. Runs at the ASGI level on the real data with queries in threads (no worker processes)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic
from starlette.applications import Starlette

from vetgraph.server.app import VetgraphApp, create_app
from vetgraph.server.workers import Answer, Engine, QueryRequest, ThreadEngine

SELECT = "SELECT ?s WHERE { ?s a ?type } ORDER BY ?s LIMIT 3"
CONSTRUCT = "CONSTRUCT { ?s a ?type } WHERE { ?s a ?type } ORDER BY ?s LIMIT 3"
FORM = "application/x-www-form-urlencoded"


def _scope(method: str, path: str, headers: list[tuple[str, str]], query: dict[str, str] | None = None,
           body: bytes = b"") -> dict[str, Any]:
    raw = [(name.encode(), value.encode()) for name, value in headers]
    if body:
        raw.append((b"content-length", str(len(body)).encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
            "query_string": urlencode(query or {}).encode(), "headers": [(b"host", b"127.0.0.1:8000"), *raw],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _call(app: Any, scope: dict[str, Any], body: bytes, chunks: int = 1) -> list[dict]:
    """One request through `app` (an ASGI callable); the messages it sent."""
    size = -(-len(body) // chunks) if body else 1
    pending = [{"type": "http.request", "body": body[i:i + size], "more_body": i + size < len(body)}
               for i in range(0, max(len(body), 1), size)]
    sent: list[dict] = []

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await asyncio.wait_for(app(scope, receive, send), 30)
    return sent


def _both(app: VetgraphApp, scope: dict[str, Any], body: bytes = b"") -> tuple[list[dict], list[dict]]:
    """The messages sent by the direct way and by Starlette's whole stack for the same request."""

    async def whole_stack(scope: Any, receive: Any, send: Any) -> None:
        await Starlette.__call__(app, scope, receive, send)

    return (asyncio.run(_call(app, dict(scope), body)), asyncio.run(_call(whole_stack, dict(scope), body)))


def _head(sent: list[dict]) -> tuple[int, list[tuple[bytes, bytes]]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], sorted(start["headers"])


def _body(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.fixture(scope="module")
def app(oxigraph_store, loaded) -> VetgraphApp:
    built = create_app(oxigraph_store, engine=ThreadEngine(oxigraph_store), ontology=loaded.ontology, cache_bytes=0)
    assert isinstance(built, VetgraphApp)
    return built


REQUESTS = {
    "form POST, JSON": ("POST", [("accept", "application/sparql-results+json"), ("content-type", FORM)], None,
                        urlencode({"query": SELECT}).encode()),
    "GET, CSV": ("GET", [("accept", "text/csv")], {"query": SELECT}, b""),
    "query POST, Turtle": ("POST", [("accept", "text/turtle"), ("content-type", "application/sparql-query")],
                           None, CONSTRUCT.encode()),
    "service description": ("GET", [("accept", "text/turtle")], None, b""),
    "query UI for a browser": ("GET", [("accept", "text/html")], None, b""),
    "results page for a browser": ("GET", [("accept", "text/html,*/*;q=0.8")], {"query": SELECT}, b""),
    "syntax error": ("GET", [("accept", "application/sparql-results+json")], {"query": "SELECT ?s WHERE {"}, b""),
    "update": ("POST", [("content-type", FORM)], None, urlencode({"update": "CLEAR ALL"}).encode()),
    "service": ("GET", [], {"query": "SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }"}, b""),
    "unsupported media type": ("POST", [("content-type", "text/plain")], None, SELECT.encode()),
    "not acceptable": ("GET", [("accept", "image/png")], {"query": SELECT}, b""),
    "unknown format": ("GET", [], {"query": SELECT, "format": "nonesuch"}, b""),
    "form without a query": ("POST", [("content-type", FORM)], None, b"default-graph-uri=x"),
    "body not UTF-8": ("POST", [("content-type", "application/sparql-query")], None, b"SELECT \xff"),
    "browser error page": ("GET", [("accept", "text/html")], {"query": "SELECT nothing"}, b""),
}


@pytest.mark.parametrize("name", REQUESTS)
def test_the_direct_way_answers_as_the_whole_stack(app: VetgraphApp, name: str) -> None:
    method, headers, query, body = REQUESTS[name]
    scope = _scope(method, "/sparql", headers, query, body)
    assert app._plain(scope)
    direct, whole = _both(app, scope, body)
    _assert_same(direct, whole)
    assert (b"x-content-type-options", b"nosniff") in _head(direct)[1]


def _assert_same(direct: list[dict], whole: list[dict]) -> None:
    """The same head and body; for a graph with blank nodes (the service description), which are named anew
    each time it is written, the same graph and the same head but for its length and ETag."""
    if (b"content-type", b"text/turtle; charset=utf-8") not in _head(whole)[1] or b"_:" not in _body(whole):
        assert _head(direct) == _head(whole)
        assert _body(direct) == _body(whole)
        return
    status, headers = _head(whole)
    by_body = {b"content-length", b"etag"}
    assert _head(direct)[0] == status
    assert [h for h in _head(direct)[1] if h[0] not in by_body] == [h for h in headers if h[0] not in by_body]
    graphs = [Graph().parse(data=_body(sent), format="turtle") for sent in (direct, whole)]
    assert len(graphs[0]) > 0 and isomorphic(*graphs)


def test_the_security_headers_are_sent_once_with_a_policy_on_html(app: VetgraphApp) -> None:
    direct, _ = _both(app, _scope("GET", "/sparql", [("accept", "text/html")]))
    names = [name for name, _ in _head(direct)[1]]
    assert names.count(b"x-content-type-options") == 1 and names.count(b"content-security-policy") == 1


@pytest.mark.parametrize(("method", "headers", "why"), [
    ("GET", [("origin", "https://example.org")], "CORS answers a cross-origin request"),
    ("POST", [("content-type", FORM), ("transfer-encoding", "chunked")], "the body limit counts a streamed body"),
    ("POST", [("content-type", FORM), ("content-length", str(2**20 + 1))], "the body limit refuses it"),
    ("POST", [("content-type", FORM), ("content-length", "12x")], "the body limit refuses a bad length"),
    ("HEAD", [], "the router answers HEAD"),
    ("OPTIONS", [("origin", "https://example.org"), ("access-control-request-method", "POST")], "a preflight"),
])
def test_requests_that_need_the_stack_go_through_it(app: VetgraphApp, method: str, headers: list[tuple[str, str]],
                                                    why: str) -> None:
    assert not app._plain(_scope(method, "/sparql", headers)), why


def test_a_cross_origin_query_gets_the_cors_headers(app: VetgraphApp) -> None:
    scope = _scope("GET", "/sparql", [("origin", "https://example.org"), ("accept", "text/csv")], {"query": SELECT})
    status, headers = _head(asyncio.run(_call(app, scope, b"")))
    assert status == 200 and (b"access-control-allow-origin", b"*") in headers


def test_a_streamed_body_over_the_limit_is_refused(app: VetgraphApp) -> None:
    body = urlencode({"query": SELECT + " " * 2**20}).encode()
    scope = _scope("POST", "/sparql", [("content-type", FORM), ("transfer-encoding", "chunked")])
    assert _head(asyncio.run(_call(app, scope, body, chunks=4)))[0] == 413


def test_a_body_announced_over_the_limit_is_refused(app: VetgraphApp) -> None:
    body = urlencode({"query": SELECT + " " * 2**20}).encode()
    scope = _scope("POST", "/sparql", [("content-type", FORM)], None, body)
    assert _head(asyncio.run(_call(app, scope, body)))[0] == 413


class FailingEngine(Engine):
    @property
    def capacity(self) -> int:
        return 1

    async def run(self, request: QueryRequest) -> Answer:
        raise RuntimeError("a defect in the engine")


def test_a_defect_is_answered_500_and_raised_for_the_server_to_log_as_by_the_whole_stack(oxigraph_store) -> None:
    app = create_app(oxigraph_store, engine=FailingEngine(), cache_bytes=0)
    assert isinstance(app, VetgraphApp)
    scope = _scope("GET", "/sparql", [("accept", "text/csv")], {"query": SELECT})
    answers = []
    for way in (app, lambda s, r, w: Starlette.__call__(app, s, r, w)):
        sent: list[dict] = []

        async def send(message: MutableMapping[str, Any], sent: list[dict] = sent) -> None:
            sent.append(dict(message))

        pending = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive(pending: list[dict] = pending) -> dict:
            if pending:
                return pending.pop()
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        with pytest.raises(RuntimeError, match="a defect in the engine"):
            asyncio.run(way(dict(scope), receive, send))
        answers.append((_head(sent), _body(sent)))
    assert answers[0] == answers[1]
    assert answers[0][0][0] == 500


def test_under_a_base_path_the_direct_way_is_the_endpoint_there(oxigraph_store, loaded) -> None:
    app = create_app(oxigraph_store, engine=ThreadEngine(oxigraph_store), base_url="http://127.0.0.1:8000/vet/",
                     ontology=loaded.ontology, cache_bytes=0)
    assert isinstance(app, VetgraphApp)
    scope = _scope("GET", "/vet/sparql", [("accept", "text/csv")], {"query": SELECT})
    direct, whole = _both(app, scope)
    assert _head(direct)[0] == 200
    _assert_same(direct, whole)
    assert _head(asyncio.run(_call(app, _scope("GET", "/sparql", [], {"query": SELECT}), b"")))[0] == 404
