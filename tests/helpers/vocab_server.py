"""A stand-in for the EU vocabulary hosts and doi.org on loopback: `vetgraph links --online` and `--refresh` are
tested against it with `--resolve HOST=URL`, so no test reaches the internet.

It answers for every host at once (the client keeps the real Host header): an IRI's description is the triples
about it in a vocabulary graph, by conneg (Turtle, RDF/XML, JSON-LD), with an ETag it revalidates. Special local
names trigger the failure modes: `gone404`, `gone410`, `flaky500` (500 once, then the description of
`flaky500`), `busy429` (429 with Retry-After: 1 once), `slow` (answers after the client's timeout),
`loop` (redirects to itself), `html` (text/html), `huge` (larger than any cap the tests set), `broken`
(malformed Turtle) and `moved` (303 to the IRI without the `moved/` segment, the linked-data way).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rdflib import Graph, URIRef

from tests.helpers.servers import LoopbackHTTPServer

SLOW_SECONDS = 3.0
HUGE_BYTES = 300_000


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gives up (timeout, size cap) closes the socket: expected, not worth a traceback


class VocabServer(LoopbackHTTPServer):
    """Start with `with VocabServer(graph) as server:`; `server.resolve` gives the --resolve arguments."""

    HOSTS = ("publications.europa.eu", "eurovoc.europa.eu", "data.europa.eu", "doi.org")

    def __init__(self, graph: Graph):
        self.graph = graph
        self.requests: Counter = Counter()
        self.statuses: list[tuple[str, int]] = []
        self.user_agents: set[str] = set()
        self.once: set[str] = set()
        self.lock = threading.Lock()
        self.start(self._handler(), _QuietServer)

    @property
    def resolve(self) -> list[str]:
        return [arg for host in self.HOSTS for arg in ("--resolve", f"{host}={self.base}")]

    def first_time(self, key: str) -> bool:
        with self.lock:
            if key in self.once:
                return False
            self.once.add(key)
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                host = (self.headers.get("Host") or "").split(":")[0]
                scheme = "https" if host == "doi.org" else "http"
                iri = f"{scheme}://{host}{self.path}"
                with server.lock:
                    server.requests[iri] += 1
                    server.user_agents.add(self.headers.get("User-Agent", ""))
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                if name == "gone404":
                    return self.send(404, b"not found", "text/plain")
                if name == "gone410":
                    return self.send(410, b"gone", "text/plain")
                if name == "flaky500" and server.first_time(iri):
                    return self.send(500, b"oops", "text/plain")
                if name == "busy429" and server.first_time(iri):
                    return self.send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                if name == "slow":
                    time.sleep(SLOW_SECONDS)
                    return self.send(200, b"", "text/turtle")
                if name == "loop":
                    return self.send(302, b"", "text/plain", {"Location": iri})
                if name == "html":
                    return self.send(200, b"<html><body>a page</body></html>", "text/html")
                if name == "huge":
                    return self.send(200, b"# padding\n" * (HUGE_BYTES // 10), "text/turtle")
                if name == "broken":
                    return self.send(200, b"<a> <b> \"unterminated .\n", "text/turtle")
                if "/moved/" in self.path:
                    return self.send(303, b"", "text/plain", {"Location": iri.replace("/moved/", "/")})
                return self.describe(iri)

            def describe(self, iri: str) -> None:
                part = Graph(bind_namespaces="none")
                for triple in server.graph.triples((URIRef(iri), None, None)):
                    part.add(triple)
                if not len(part):
                    return self.send(404, b"unknown", "text/plain")
                accept = self.headers.get("Accept", "")
                if "text/turtle" in accept:
                    media, fmt = "text/turtle", "turtle"
                elif "application/rdf+xml" in accept:
                    media, fmt = "application/rdf+xml", "xml"
                else:
                    media, fmt = "application/ld+json", "json-ld"
                body = part.serialize(format=fmt).encode()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, b"", media, {"ETag": etag})
                self.send(200, body, media, {"ETag": etag, "Cache-Control": "no-cache"})

            def send(self, status: int, body: bytes, media: str, headers: dict[str, str] | None = None) -> None:
                with server.lock:
                    server.statuses.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler
