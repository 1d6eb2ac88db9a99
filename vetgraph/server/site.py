"""What every handler of the server shares (`Site`), and the HTTP plumbing they all use: cached
representations with ETag/Last-Modified and 304 revalidation, and error answers in the client's format."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from vetgraph.config import BASE_IRI
from vetgraph.server.cache import ByteBudgetCache
from vetgraph.server.conneg import HTML_OFFER, Offer, negotiate
from vetgraph.server.vocabulary import Vocabulary
from vetgraph.server.workers import Answer, Engine
from vetgraph.stores import Store

if TYPE_CHECKING:
    from jinja2 import Environment
    from rdflib import Graph

    from vetgraph.queries import StoredQuery

TEXT_OFFER = Offer("text", "text/plain")
_TEXTUAL = ("text/", "application/sparql-results+xml", "application/rdf+xml", "application/xml")


@dataclass(frozen=True)
class Rendered:
    """A representation ready to send (and to keep in the page cache)."""

    body: bytes
    media_type: str
    etag: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, body: bytes, media_type: str, headers: Mapping[str, str] | None = None) -> Rendered:
        return cls(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', dict(headers or {}))


@dataclass
class Site:
    store: Store
    engine: Engine
    base_url: str
    timeout: float
    catalogue: dict[str, StoredQuery]
    dist_dir: Path | None
    ontology: Graph | None
    vocabulary: Vocabulary
    prefixes: dict[str, str]
    templates: Environment
    last_modified: datetime
    max_body_bytes: int
    max_result_bytes: int
    pages: ByteBudgetCache[Any]  # rendered representations and resource descriptions
    results: ByteBudgetCache[Answer]
    triples: int | None = None
    redirect: bool = False  # /id/... answers 303 See Other to its document (`serve --redirect 303`)
    #: False for the static site (vetgraph.site): no SPARQL endpoint, stored-query API or health of its own
    live: bool = True
    #: the SPARQL endpoint the static site's pages link to (None: no link)
    endpoint: str | None = None

    @property
    def sparql(self) -> str | None:
        """Where the pages send SPARQL queries: this server's endpoint, else the configured one, else nowhere."""
        return self.url("/sparql") if self.live else self.endpoint

    @property
    def prefix(self) -> str:
        """The path under which the site lives ("" at the root of its host)."""
        return urlsplit(self.base_url).path.rstrip("/")

    def url(self, path: str) -> str:
        """A site path ("/id/x") as a link that works under the base URL's path."""
        return self.prefix + path

    def absolute(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def local(self, iri: str) -> str:
        """Where a browser looks at an IRI: vetgraph IRIs map to this server, others stay as they are."""
        if iri.startswith(BASE_IRI):
            return self.url("/" + iri[len(BASE_IRI):])
        return iri


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=True)


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        wanted = etag.removeprefix("W/")
        return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
    since = request.headers.get("if-modified-since")
    if since and last_modified is not None:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def send(request: Request, site: Site, rendered: Rendered, extra: Mapping[str, str] | None = None) -> Response:
    """The representation, or 304 when the client's copy is current."""
    headers = {"ETag": rendered.etag, "Last-Modified": http_date(site.last_modified), **rendered.headers}
    if extra:
        headers.update(extra)
    if not_modified(request, rendered.etag, site.last_modified):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=with_charset(rendered.media_type), headers=headers)


def with_charset(media_type: str) -> str:
    if "charset" not in media_type and (media_type.startswith(_TEXTUAL) or media_type == "application/ld+json"):
        return media_type + "; charset=utf-8"
    return media_type


def wants_html(request: Request) -> bool:
    """Whether the client prefers an HTML page to plain text (browsers do, API clients do not)."""
    return negotiate(request.headers.get("accept"), (TEXT_OFFER, HTML_OFFER)) is HTML_OFFER


def error(
    request: Request, status: int, message: str, *, title: str | None = None, headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """An error answer: an HTML page for browsers, the message as plain text for everyone else."""
    site: Site = request.app.state.site
    title = title or _TITLES.get(status, "Error")
    if wants_html(request):
        html = site.templates.get_template("error.html").render(
            site=site, status=status, title=title, message=message, request_path=request.url.path, **context
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=dict(headers or {}))
    return Response(message.rstrip("\n") + "\n", status_code=status, media_type="text/plain; charset=utf-8",
                    headers=dict(headers or {}))


_TITLES = {
    400: "Bad request",
    403: "Refused",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Request too large",
    415: "Unsupported media type",
    500: "Server error",
    503: "Service unavailable",
}
