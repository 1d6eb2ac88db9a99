"""`vetgraph links --online`: follow every link to the web and say what became of its target.

Each external IRI of a known EU vocabulary, and each CELEX and DOI IRI, is dereferenced the linked-data way (GET
with `Accept` for Turtle, RDF/XML and JSON-LD; CSL-JSON too for DOIs; redirects followed) and judged:
ok, gone (404/410), deprecated (the vocabulary's own marker), replaced (with the replacement), label changed
(against the project's snapshot, old and new), unreadable (an answer that is not the RDF asked for) or
unreachable (with the reason). `--refresh` without `--from` uses the same client to rebuild the snapshot.

A polite client, from well-kept parts: httpx, hishel's RFC 9111 cache on disk (it revalidates with ETag and
Last-Modified, so a second run costs a few 304s) and httpx-retries (backoff on 429/5xx, honouring Retry-After).
At most `PER_HOST` requests at once per host, a timeout per request and in total, a cap on body size, and a
User-Agent naming vetgraph. `--resolve HOST=URL` sends a host's requests to another base URL (the tests'
stand-in server on loopback); the IRIs, cache keys and report keep the real names.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from vetgraph import __version__
from vetgraph.errors import CannotRun, UsageError

if TYPE_CHECKING:
    from rdflib import Graph

    from vetgraph.links import Snapshot
    from vetgraph.loading import Loaded

USER_AGENT = f"vetgraph/{__version__} (link checker; https://w3id.org/vetgraph/)"
RDF_ACCEPT = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, application/n-triples;q=0.7"
DOI_ACCEPT = "application/vnd.citationstyles.csl+json, " + RDF_ACCEPT.replace("text/turtle", "text/turtle;q=0.95")
PER_HOST = 2
STATUSES = ("ok", "gone", "deprecated", "replaced", "label changed", "unreadable", "unreachable")


@dataclass
class ClientOptions:
    resolve: dict[str, str] = field(default_factory=dict)
    cache: Path | None = None
    timeout: float = 20.0
    total_timeout: float = 600.0
    max_bytes: int = 5_000_000
    retries: int = 3
    max_backoff: float = 30.0


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resolve", metavar="HOST=URL", action="append", default=[],
                        help="send requests for HOST to this base URL instead (a mirror or a local stand-in; "
                             "repeatable)")
    parser.add_argument("--cache", metavar="DIR", type=Path, default=None,
                        help="HTTP cache folder (default $XDG_CACHE_HOME/vetgraph or ~/.cache/vetgraph)")
    parser.add_argument("--timeout", metavar="SECONDS", type=float, default=20.0,
                        help="timeout of one request (default 20)")
    parser.add_argument("--total-timeout", metavar="SECONDS", type=float, default=600.0,
                        help="time limit of the whole online run (default 600)")
    parser.add_argument("--max-bytes", metavar="N", type=int, default=5_000_000,
                        help="largest answer read, in bytes (default 5000000)")


def client_options(args: argparse.Namespace) -> ClientOptions:
    import os

    resolve = {}
    for item in args.resolve:
        host, sep, base = item.partition("=")
        if not sep or not host or not urlsplit(base).netloc:
            raise UsageError(f"--resolve {item}: expected HOST=URL, e.g. eurovoc.europa.eu=http://127.0.0.1:8080")
        resolve[host.lower()] = base.rstrip("/")
    if args.timeout <= 0 or args.total_timeout <= 0 or args.max_bytes <= 0:
        raise UsageError("--timeout, --total-timeout and --max-bytes must be positive")
    cache = args.cache
    if cache is None:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vetgraph"
    return ClientOptions(resolve=resolve, cache=cache, timeout=args.timeout, total_timeout=args.total_timeout,
                         max_bytes=args.max_bytes)


# ------------------------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------------------------


class BodyTooLarge(Exception):
    """An answer larger than the cap (not retried: it would be as large again)."""


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, limit: int):
        self.inner, self.limit = inner, limit

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self.inner:
            seen += len(chunk)
            if seen > self.limit:
                raise BodyTooLarge(f"answer larger than {self.limit} bytes")
            yield chunk

    def close(self) -> None:
        if hasattr(self.inner, "close"):
            self.inner.close()


class _Network(httpx.BaseTransport):
    """The innermost transport: sends a mapped host's requests to its stand-in and caps the bodies. It sits below
    the cache and the retries, so both see the real URL and only capped bodies."""

    def __init__(self, options: ClientOptions):
        self.inner = httpx.HTTPTransport()
        self.resolve, self.limit = options.resolve, options.max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        base = self.resolve.get(request.url.host)
        if base is not None:
            target = urlsplit(base)
            port = target.port or (443 if target.scheme == "https" else 80)
            # the Host header keeps the real name: the stand-in answers per host
            request.url = request.url.copy_with(scheme=target.scheme, host=target.hostname, port=port)
        response = self.inner.handle_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            response.close()
            raise BodyTooLarge(f"answer of {length} bytes, larger than the cap of {self.limit}")
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_CappedStream(response.stream, self.limit), extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


def make_client(options: ClientOptions) -> httpx.Client:
    import hishel
    from hishel.httpx import CacheTransport
    from httpx_retries import Retry, RetryTransport

    retry = Retry(total=options.retries, backoff_factor=0.5, status_forcelist=[429, 500, 502, 503, 504],
                  respect_retry_after_header=True, max_backoff_wait=options.max_backoff,
                  retry_on_exceptions=[httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError])
    transport: httpx.BaseTransport = RetryTransport(transport=_Network(options), retry=retry)
    if options.cache is not None:
        try:
            options.cache.mkdir(parents=True, exist_ok=True)
            storage = hishel.SqliteStorage(database_path=options.cache / "http-cache.sqlite")
        except (OSError, sqlite3.Error) as error:
            raise CannotRun(f"--cache {options.cache}: cannot use it as an HTTP cache ({error})") from None
        transport = CacheTransport(next_transport=transport, storage=storage, rfc=True)
    return httpx.Client(transport=transport, follow_redirects=True, max_redirects=8,
                        timeout=options.timeout, headers={"User-Agent": USER_AGENT})


@dataclass
class Fetched:
    url: str
    status: int = 0
    media_type: str = ""
    body: bytes = b""
    #: why nothing usable came back (network error, timeout, redirect loop, too large), or ""
    failure: str = ""
    #: the host answered, but with nothing usable (a body over the cap)
    unusable: bool = False


def fetch(client: httpx.Client, iri: str, accept: str) -> Fetched:
    """GET one IRI; every failure becomes a reason string, never an exception."""
    try:
        response = client.get(iri, headers={"Accept": accept})
        response.read()
    except BodyTooLarge as error:
        return Fetched(iri, failure=str(error), unusable=True)
    except httpx.TooManyRedirects:
        return Fetched(iri, failure="too many redirects (a redirect loop?)")
    except httpx.TimeoutException as error:
        return Fetched(iri, failure=f"timed out ({type(error).__name__})")
    except httpx.ConnectError as error:
        return Fetched(iri, failure=f"cannot connect ({_reason(error)})")
    except httpx.HTTPError as error:
        return Fetched(iri, failure=f"{type(error).__name__}: {_reason(error)}")
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(str(response.url), response.status_code, media, response.content)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]


class HostLimiter:
    """At most PER_HOST requests at once to one host, and nothing new once the total time is spent."""

    def __init__(self, total: float):
        self.deadline = time.monotonic() + total
        self.lock = threading.Lock()
        self.slots: dict[str, threading.Semaphore] = {}

    def slot(self, iri: str) -> threading.Semaphore:
        with self.lock:
            return self.slots.setdefault(urlsplit(iri).netloc, threading.BoundedSemaphore(PER_HOST))

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def fetch_all(iris: Iterable[str], options: ClientOptions) -> dict[str, Fetched]:
    """Fetch every IRI, a few at a time per host, in parallel across hosts."""
    from vetgraph.links import vocabulary_of

    limiter = HostLimiter(options.total_timeout)
    ordered = sorted(set(iris))

    def one(client: httpx.Client, iri: str) -> Fetched:
        with limiter.slot(iri):
            if limiter.expired():
                return Fetched(iri, failure=f"not tried: the total time limit ({options.total_timeout:g} s) ran out")
            accept = DOI_ACCEPT if vocabulary_of(iri)[0] == "DOI" else RDF_ACCEPT
            return fetch(client, iri, accept)

    with make_client(options) as client:
        hosts = len({urlsplit(iri).netloc for iri in ordered}) or 1
        with ThreadPoolExecutor(max_workers=min(16, hosts * PER_HOST)) as pool:
            return dict(zip(ordered, pool.map(lambda iri: one(client, iri), ordered), strict=True))


# ------------------------------------------------------------------------------------------------------------
# Reading an answer
# ------------------------------------------------------------------------------------------------------------


def parse_answer(fetched: Fetched) -> tuple[Graph | None, str]:
    """(graph, "") for an RDF answer, (None, "") for CSL-JSON, (None, why) for anything unusable."""
    import pyoxigraph as ox
    from rdflib import Graph

    from vetgraph.formats import rdf_by_media_type

    if fetched.media_type == "application/vnd.citationstyles.csl+json":
        try:
            record = json.loads(fetched.body)
        except ValueError as error:
            return None, f"malformed CSL-JSON ({error})"
        if not isinstance(record, dict) or not (record.get("DOI") or record.get("title")):
            return None, "CSL-JSON without DOI or title"
        return None, ""
    fmt = rdf_by_media_type(fetched.media_type)
    if fmt is None:
        return None, f"answered {fetched.media_type or 'no content type'}, not RDF"
    try:
        quads = list(ox.parse(fetched.body, format=fmt.rdf, base_iri=fetched.url))
        ntriples = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads],
                                format=ox.RdfFormat.N_TRIPLES)
    except (SyntaxError, ValueError, OSError) as error:
        return None, f"malformed {fmt.title}: {_reason(error)}"
    graph = Graph(bind_namespaces="none")
    graph.parse(data=ntriples or b"", format="nt")
    return graph, ""


# ------------------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------------------


@dataclass
class OnlineResult:
    iri: str
    vocabulary: str
    status: str
    detail: str = ""
    replacement: list[str] = field(default_factory=list)
    old_label: str = ""
    new_label: str = ""

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"iri": self.iri, "vocabulary": self.vocabulary, "status": self.status,
                                 "detail": self.detail}
        if self.replacement:
            found["replacedBy"] = self.replacement
        if self.status == "label changed":
            found["oldLabel"], found["newLabel"] = self.old_label, self.new_label
        return found


@dataclass
class OnlineReport:
    results: list[OnlineResult]

    @property
    def exit_code(self) -> int:
        return 1 if any(r.status != "ok" for r in self.results) else 0

    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        counts = self.counts()
        return {"links": len(self.results), "counts": {s: counts[s] for s in STATUSES if counts[s]},
                "results": [r.as_dict() for r in self.results]}

    def to_text(self) -> str:
        width = max((len(r.status) for r in self.results), default=2)
        lines = [f"Links dereferenced on the web: {len(self.results)}", ""]
        for r in sorted(self.results, key=lambda r: (r.status == "ok", r.vocabulary, r.iri)):
            lines.append(f"{r.status.ljust(width)}  <{r.iri}>" + (f"  {r.detail}" if r.detail else ""))
        counts = self.counts()
        lines += ["", ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "no links"]
        return "\n".join(lines) + "\n"


def judge(iri: str, vocabulary: str, fetched: Fetched, snapshot: Snapshot) -> OnlineResult:
    from vetgraph.links import deprecation, labels_by_language, replaced_by
    from vetgraph.vocab_snapshot import described

    def result(status: str, detail: str = "") -> OnlineResult:
        return OnlineResult(iri, vocabulary, status, detail)

    if fetched.failure:
        return result("unreadable" if fetched.unusable else "unreachable", fetched.failure)
    if fetched.status in (404, 410):
        return result("gone", f"HTTP {fetched.status}")
    if not 200 <= fetched.status < 300:
        return result("unreachable", f"HTTP {fetched.status}" + (" after retries" if fetched.status >= 429 else ""))
    graph, why = parse_answer(fetched)
    if why:
        return result("unreadable", why)
    if graph is None:  # a DOI's CSL-JSON record
        return result("ok", "CSL-JSON record")
    if vocabulary in ("CELEX", "DOI"):
        if not len(graph):
            return result("unreadable", "empty RDF answer")
        return result("ok", f"{len(graph)} triple" + ("" if len(graph) == 1 else "s"))
    if not described(graph, iri):
        return result("unreadable", "the answer does not describe this IRI")
    replacements = replaced_by(graph, iri)
    if replacements:
        found = result("replaced", "replaced by " + ", ".join(f"<{r}>" for r in replacements))
        found.replacement = replacements
        return found
    deprecated = deprecation(graph, iri)
    if deprecated:
        return result("deprecated", deprecated)
    old, new = labels_by_language(snapshot.graph, iri), labels_by_language(graph, iri)
    changed = sorted(lang for lang in old if lang in new and old[lang] != new[lang])
    if changed:
        lang = "en" if "en" in changed else changed[0]
        found = result("label changed", f'{lang}: "{" / ".join(old[lang])}" -> "{" / ".join(new[lang])}"'
                       + (f" ({len(changed)} languages changed)" if len(changed) > 1 else ""))
        found.old_label, found.new_label = " / ".join(old[lang]), " / ".join(new[lang])
        return found
    return result("ok")


def online_targets(dataset: Any) -> list[str]:
    """What --online dereferences: the EU vocabulary links, and the CELEX and DOI IRIs."""
    from vetgraph.links import external_iris, vocabulary_of

    return sorted(iri for iri in external_iris(dataset)
                  if vocabulary_of(iri)[1] or vocabulary_of(iri)[0] in ("CELEX", "DOI"))


def check_online(loaded: Loaded, snapshot: Snapshot, options: ClientOptions) -> OnlineReport:
    from vetgraph.links import vocabulary_of

    targets = online_targets(loaded.dataset)
    fetched = fetch_all(targets, options)
    return OnlineReport([judge(iri, vocabulary_of(iri)[0], fetched[iri], snapshot) for iri in targets])


def refresh_online(targets: list[str], date: str, options: ClientOptions) -> tuple[str, list[str]]:
    """The snapshot text from the live vocabularies, and a line per target that could not be read."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import SKOS

    from vetgraph.vocab_snapshot import described, extract, parts_of, serialize

    fetched = fetch_all(targets, options)
    merged, origin, missing = Graph(), {}, []
    for iri in targets:
        graph, why = _usable(fetched[iri])
        if graph is None or not described(graph, iri):
            missing.append(f"<{iri}>: {why or 'the answer does not describe it'}")
            continue
        merged += extract([iri], graph)
        origin[iri] = f"dereferenced at {urlsplit(iri).scheme}://{urlsplit(iri).netloc}/"
    schemes = sorted({str(s) for s in merged.objects(None, SKOS.inScheme) if isinstance(s, URIRef)})
    for scheme, answer in fetch_all(schemes, options).items():
        graph, _ = _usable(answer)
        if graph is not None:
            merged += extract([scheme], graph)
    return serialize(merged, parts_of(merged, origin), date, "dereferenced on the web"), missing


def _usable(fetched: Fetched) -> tuple[Graph | None, str]:
    if fetched.failure:
        return None, fetched.failure
    if not 200 <= fetched.status < 300:
        return None, f"HTTP {fetched.status}"
    return parse_answer(fetched)
