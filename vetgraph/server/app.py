"""The ASGI application: `create_app(store, ...)` wires the routes, the query engine and the caches.

Tests build it on an in-memory `OxigraphStore`; `vetgraph serve --store URL` builds it on a
`vetgraph.remote.RemoteStore`. With an Oxigraph store, user queries run in a pool of worker processes
(`workers.WorkerPool`) so that time limits hold; any other store runs in threads (`workers.ThreadEngine`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vetgraph.namespaces import SD, prefixes
from vetgraph.server import downloads, profiles, resources, sparql, stored
from vetgraph.server.cache import ByteBudgetCache
from vetgraph.server.languages import from_request
from vetgraph.server.pages import environment, render_home
from vetgraph.server.site import Rendered, Site, error, send
from vetgraph.server.vocabulary import Vocabulary
from vetgraph.server.workers import IN_PROCESS_UP_TO, Engine, ThreadEngine, WorkerPool
from vetgraph.stores import OxigraphStore, Store
from vetgraph.terms import written

if TYPE_CHECKING:
    from rdflib import Graph

    from vetgraph.queries import StoredQuery

log = logging.getLogger("vetgraph.server")
STATIC = Path(__file__).resolve().parent / "static"
#: Prefixes for RDF answers when the caller gives none.
DEFAULT_PREFIXES = prefixes("vet", "rdfs", "xsd", "dct", "skos", "org", "foaf", "prov", "schema")


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and not announced_within(length, self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = f"the request body is larger than this server's limit of {self.limit} bytes\n".encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def announced_within(content_length: bytes, limit: int) -> bool:
    """Whether a Content-Length header's value is a length of at most `limit` bytes."""
    return content_length.isdigit() and int(content_length) <= limit


#: For HTML pages: scripts and styles from this server only (YASGUI sets inline styles), no plugins, forms
#: and fetches to this server only. With autoescaping, a second wall against injected markup.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'")
_CSP = CSP.encode()


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every answer (a text/plain error is never read as HTML) and a
    Content-Security-Policy on HTML pages."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            await send(with_security_headers(message) if message["type"] == "http.response.start" else message)

        await self.app(scope, receive, send_secured)


def with_security_headers(start: Message) -> Message:
    """A response head (`http.response.start`) with the security headers added."""
    headers = list(start.get("headers", []))
    headers.append((b"x-content-type-options", b"nosniff"))
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if content_type.startswith(b"text/html"):
        headers.append((b"content-security-policy", _CSP))
    return {**start, "headers": headers}

async def home(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = from_request(request)
    rendered = site.pages.get(("home", lang))
    if rendered is None:
        from vetgraph.server import home as home_data

        data = await asyncio.to_thread(home_data.load, site.store)
        html = await asyncio.to_thread(render_home, site, data, lang)
        rendered = Rendered.of(html.encode("utf-8"), "text/html", {"Vary": "Accept-Language"})
        site.pages.put(("home", lang), rendered, len(rendered.body))
    return send(request, site, rendered, {"Link": _discovery_links(site)})


def _discovery_links(site: Site) -> str:
    return ", ".join([
        f'<{site.url("/sparql")}>; rel="{SD.endpoint}"',
        f'<{site.url("/.well-known/void")}>; rel="describedby"; type="text/turtle"',
        f'<{site.url("/catalog")}>; rel="describedby"; type="text/turtle"',
        f'<{site.url("/openapi.json")}>; rel="service-desc"; type="application/vnd.oai.openapi+json"',
    ])


async def query_ui(request: Request) -> Response:
    from vetgraph.server.pages import query_ui as render

    return render(request, request.app.state.site)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"nothing at {request.url.path}", 405: f"{request.method} is not allowed here"}.get(
        exc.status_code, str(exc.detail))
    return error(request, exc.status_code, message, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette answers unhandled errors outside the middleware: the security header is added here.
    return Response("the server failed to answer this request\n", status_code=500,
                    media_type="text/plain; charset=utf-8", headers={"X-Content-Type-Options": "nosniff"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/sparql", sparql.endpoint, methods=["GET", "POST"]),
        Route("/ui", query_ui, methods=["GET"]),
        Route("/queries", stored.list_queries, methods=["GET"]),
        Route("/queries.json", stored.list_queries, methods=["GET"]),
        Route("/queries/{name}", stored.run_query, methods=["GET"]),
        Route("/openapi.json", stored.openapi, methods=["GET"]),
        Route("/id/{path:path}", resources.resource, methods=["GET"]),
        Route("/graph/{path:path}", resources.named_graph, methods=["GET"]),
        Route("/profile/{token}", profiles.profile_document, methods=["GET"]),
        Route("/def", resources.ontology, methods=["GET"]),
        Route("/def.{ext}", resources.ontology, methods=["GET"]),
        Route("/dataset", lambda request: RedirectResponse(request.app.state.site.url("/catalog"), 303)),
        Route("/download", lambda request: RedirectResponse(request.app.state.site.url("/download/"), 301)),
        Route("/download/{path:path}", downloads.download, methods=["GET"]),
        Route("/.well-known/void", downloads.void, methods=["GET"]),
        Route("/catalog", downloads.catalog, methods=["GET"]),
        Route("/health", downloads.health, methods=["GET"]),
        # Browsers ask for /favicon.ico where a page (a JSON answer, say) names no icon.
        Route("/favicon.ico", lambda request: RedirectResponse(request.app.state.site.url("/static/favicon.svg"), 301)),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


def create_app(
    store: Store,
    *,
    base_url: str = "http://127.0.0.1:8000/",
    timeout: float = 10.0,
    catalogue: Mapping[str, StoredQuery] | None = None,
    dist_dir: Path | None = None,
    ontology: Graph | None = None,
    prefixes: Mapping[str, str] | None = None,
    workers: int = 2,
    worker_memory: int | None = None,
    max_body_bytes: int = 2**20,
    max_result_bytes: int = 16 * 2**20,
    cache_bytes: int = 64 * 2**20,
    engine: Engine | None = None,
    last_modified: datetime | None = None,
    redirect: bool = False,
    store_path: Path | None = None,
    bounded_in_process: bool = False,
) -> Starlette:
    """The vetgraph linked-data server over `store`.

    `base_url` is where the server is reached; the data's IRI base maps onto it. `timeout` (seconds) holds
    for every query; `workers` worker processes run queries on an Oxigraph store (`worker_memory` bytes of
    address space each, None: unlimited); with `store_path` (the folder of the finished on-disk store that
    `store` reads, see vetgraph.server.persisted) they open it read-only instead of each loading a copy.
    `cache_bytes` = 0 turns the page and result caches off. `redirect`: /id/... answers 303 See Other to its
    document instead of 200. `bounded_in_process`: bounded queries on small data run in this process (see
    workers.IN_PROCESS_UP_TO; for `serve --processes N`)."""
    if engine is None:
        if isinstance(store, OxigraphStore):
            import pyoxigraph as ox

            data = store_path or written(store.store.dump(format=ox.RdfFormat.N_QUADS))
            engine = WorkerPool(data, size=workers, max_result_bytes=max_result_bytes, memory_limit=worker_memory,
                                in_process_up_to=IN_PROCESS_UP_TO if bounded_in_process else 0)
        else:
            engine = ThreadEngine(store, max_result_bytes=max_result_bytes)
    site = Site(
        store=store,
        engine=engine,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=timeout,
        catalogue=dict(catalogue or {}),
        dist_dir=dist_dir,
        ontology=ontology,
        vocabulary=Vocabulary.from_ontology(ontology),
        prefixes=dict(prefixes or DEFAULT_PREFIXES),
        templates=environment(),
        last_modified=(last_modified or datetime.now(timezone.utc)).replace(microsecond=0),
        max_body_bytes=max_body_bytes,
        max_result_bytes=max_result_bytes,
        pages=ByteBudgetCache(cache_bytes // 2),
        results=ByteBudgetCache(cache_bytes // 2),
        redirect=redirect,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from vetgraph.progress import current

        with current().step("starting the query workers"):  # they load the data: seconds on large data
            await site.engine.start()
        if site.triples is None:
            with contextlib.suppress(Exception):  # a remote store may not answer yet; /health shows None
                rows = (await asyncio.to_thread(site.store.query, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")).rows
                site.triples = int(str(rows[0][0]))
        try:
            yield
        finally:
            await site.engine.close()

    route_list = routes()
    if site.prefix:
        route_list = [Mount(site.prefix, routes=route_list)]
    app = VetgraphApp(
        routes=route_list,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, limit=max_body_bytes),
            Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                       allow_headers=["*"], expose_headers=["Link", "ETag", "Content-Location", "Vary",
                                                            "Content-Profile"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.site = site
    app.sparql_path = site.url("/sparql")
    app.max_body_bytes = max_body_bytes
    return app


class VetgraphApp(Starlette):
    """Starlette, with a direct way to /sparql for the requests that need nothing of its middleware but the
    security headers: no CORS (no Origin header), no body to limit on the way in (none, or a Content-Length
    within the limit, which the HTTP server holds the body to). They skip the router and five middleware
    layers, 72-77 -> 58 us a query in the app (docs/performance.md), and get what those layers would add
    (CORS's `Vary: Origin`, the security headers, a 500 for a defect): tests/test_server_direct_sparql.py
    checks their answers against the whole stack's."""

    sparql_path: str = "/sparql"
    max_body_bytes: int = 2**20

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.sparql_path and self._plain(scope):
            scope["app"] = self
            await self._sparql(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def _plain(self, scope: Scope) -> bool:
        if scope["method"] not in ("GET", "POST"):
            return False
        for name, value in scope["headers"]:
            if name == b"origin" or name == b"transfer-encoding":
                return False
            if name == b"content-length" and not announced_within(value, self.max_body_bytes):
                return False
        return True

    async def _sparql(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What Starlette's ServerErrorMiddleware does: a 500 if nothing was sent yet, and the error re-raised
        # for the server to log.
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = with_security_headers(_varying_by_origin(message))
            await send(message)

        try:
            await sparql.endpoint(scope, receive, send_secured)
        except Exception as failure:
            if not started:
                await (await _server_error(Request(scope), failure))(scope, receive, send)
            raise


def _varying_by_origin(start: Message) -> Message:
    # What CORSMiddleware adds to an answer to a request without Origin: that answer differs from one with it.
    headers = start.get("headers", [])
    vary = [value.decode("latin-1") for name, value in headers if name.lower() == b"vary"]
    return {**start, "headers": [*((n, v) for n, v in headers if n.lower() != b"vary"),
                                 (b"vary", ", ".join([*vary, "Origin"]).encode("latin-1"))]}
