"""Downloads and discovery: the build outputs of `vetgraph build --out dist/` under /download/, VoID at
/.well-known/void, the DCAT-AP catalogue at /catalog, and /health.

Paths are checked before the file system is touched: no `..`, no absolute paths, no hidden files, and the
resolved file must lie inside the dist folder (so a symlink cannot lead out of it either).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from vetgraph.contents import describe
from vetgraph.dumps import FORMATS
from vetgraph.server.conneg import HTML_OFFER, RESOURCE_OFFERS, Offer, by_name, negotiate
from vetgraph.server.site import Rendered, Site, error, http_date, not_modified, send, with_charset
from vetgraph.stores import serialize_triples

#: By file extension: the dumps' media types as the catalogue declares them, then the other build outputs.
MEDIA_TYPES = {
    **{"." + extension: fmt.media_type for extension, fmt in FORMATS.items()},
    ".gz": "application/gzip",
    ".zip": "application/zip",
    ".html": "text/html",
    ".css": "text/css",
    ".csv": "text/csv",
    ".json": "application/json",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".rq": "application/sparql-query",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_NO_DIST = "the data downloads have not been built: run `vetgraph build --out dist/` and restart the server"


def media_type(path: Path) -> str:
    if path.name == "SHA256SUMS":
        return "text/plain"
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def safe_file(root: Path, relative: str) -> Path | None:
    """The file `relative` inside `root`, or None when the path tries to leave it or names no file."""
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    base = root.resolve()
    try:  # a name the file system cannot hold (e.g. over 255 bytes) names no file either
        candidate = (base / relative).resolve()
        if not candidate.is_relative_to(base) or not candidate.is_file():
            return None
    except (OSError, ValueError):
        return None
    return candidate


def _file(request: Request, site: Site, path: Path) -> Response:
    stat = path.stat()
    etag = '"' + hashlib.sha256(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:32] + '"'
    modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)
    headers = {"ETag": etag, "Last-Modified": http_date(modified)}
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    kind = media_type(path)
    if kind == "application/gzip":
        headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return FileResponse(path, media_type=with_charset(kind), headers=headers)


async def download(request: Request) -> Response:
    site: Site = request.app.state.site
    relative = request.path_params.get("path", "")
    if site.dist_dir is None or not site.dist_dir.is_dir():
        return error(request, 404, _NO_DIST)
    if relative == "":
        return Response(listing_html(site), media_type="text/html; charset=utf-8")
    path = safe_file(site.dist_dir, relative)
    if path is None:
        return error(request, 404, f"no download named {relative!r}; see {site.url('/download/')}")
    return _file(request, site, path)


#: Folders of a release that are publications of their own (the static site, the w3id.org rules), not downloads.
NOT_LISTED = ("site", "w3id")


def listing_html(site: Site, sums: dict[str, str] | None = None) -> str:
    """The downloads page (the server's /download/ and the static site's download/index.html); `sums` (name:
    SHA-256) when the release's SHA256SUMS is not written yet."""
    assert site.dist_dir is not None
    root = site.dist_dir.resolve()
    sums = dict(sums or {})
    sums_file = root / "SHA256SUMS"
    if not sums and sums_file.is_file():
        for line in sums_file.read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            if name:
                sums[name.strip().lstrip("*")] = digest.strip()
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        parts = relative.split("/")
        if path.is_file() and not any(part.startswith(".") for part in parts) and parts[0] not in NOT_LISTED:
            files.append({"name": relative, "size": path.stat().st_size, "type": media_type(path),
                          "sha256": sums.get(relative), "holds": describe(relative)})
    return site.templates.get_template("downloads.html").render(site=site, files=files, release=_release_index(root))


@dataclass(frozen=True)
class ReleaseIndex:
    """What the release's own index.html says besides its files, read back from the release: title, version,
    licence from catalog.ttl; the citation of the report from the confirmed statements (vetgraph.ttl), the
    same function the build uses."""

    title: str
    description: str
    version: str
    modified: str
    licence: str
    licence_url: str
    dataset_citation: str
    report_citation: str | None
    doi: str | None


@lru_cache(maxsize=4)
def _read_index(catalog: Path, data: Path, _stamp: tuple[int, ...]) -> ReleaseIndex | None:
    from rdflib import Dataset, Graph, URIRef
    from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

    from vetgraph.catalog import DCAT_VERSION
    from vetgraph.config import DATASET_IRI
    from vetgraph.namespaces import SCHEMA
    from vetgraph.release_docs import citation, cite_dataset

    graph = Graph().parse(catalog, format="turtle")
    dataset = URIRef(DATASET_IRI)
    title, version, modified = (graph.value(dataset, p) for p in (DCTERMS.title, DCAT_VERSION, DCTERMS.modified))
    licence = graph.value(dataset, DCTERMS.license)
    if title is None or version is None or modified is None or licence is None:
        return None
    publisher = graph.value(graph.value(dataset, DCTERMS.publisher), FOAF.name)
    landing = graph.value(dataset, DCAT.landingPage)
    doi = graph.value(dataset, DCTERMS.relation)
    report = None
    if doi is not None and data.is_file():
        confirmed = Dataset()
        confirmed.default_graph.parse(data, format="turtle")  # vetgraph.ttl: the confirmed statements only
        about = next(iter(sorted(confirmed.default_graph.subjects(SCHEMA.sameAs, doi))), None)
        report = citation(confirmed, str(about)) if about is not None else None
    return ReleaseIndex(
        title=str(title), description=str(graph.value(dataset, DCTERMS.description) or ""), version=str(version),
        modified=str(modified), licence=str(graph.value(licence, SKOS.prefLabel) or licence), licence_url=str(licence),
        dataset_citation=cite_dataset(str(publisher or ""), int(str(modified)[:4]), str(version), str(landing or "")),
        report_citation=report.text() if report else None, doi=report.doi if report else None)


def _release_index(root: Path) -> ReleaseIndex | None:
    catalog, data = root / "catalog.ttl", root / "vetgraph.ttl"
    if not catalog.is_file():
        return None
    stamp = tuple(s for f in (catalog, data) if f.is_file() for s in (f.stat().st_mtime_ns, f.stat().st_size))
    try:
        return _read_index(catalog, data, stamp)
    except Exception:  # noqa: BLE001 - a hand-made or broken release folder still gets its file list
        return None


async def void(request: Request) -> Response:
    return await _dist_document(request, "void", "VoID description")


async def catalog(request: Request) -> Response:
    return await _dist_document(request, "catalog", "DCAT-AP catalogue")


async def _dist_document(request: Request, stem: str, what: str) -> Response:
    """A description the build wrote (`<stem>.ttl`, maybe also `.rdf`/`.jsonld`) in the format the client asks
    for (Turtle, RDF/XML, JSON-LD, N-Triples or HTML; `?format=` overrides Accept), 406 for anything else.
    A file the build wrote is sent as it is; the other syntaxes and the page are made from the Turtle."""
    site: Site = request.app.state.site
    source = site.dist_dir / f"{stem}.ttl" if site.dist_dir is not None else None
    if source is None or not source.is_file():
        return error(request, 404, f"no {what} yet: {_NO_DIST}")
    format_name = request.query_params.get("format")
    offer = by_name(format_name, RESOURCE_OFFERS) if format_name else negotiate(
        request.headers.get("accept"), RESOURCE_OFFERS)
    if offer is None:
        types = ", ".join(o.media_type for o in RESOURCE_OFFERS)
        return error(request, 406, f"the {what} is available as: {types}", headers={"Vary": "Accept"})
    links = ", ".join(f'<{request.url.path}?format={o.name}>; rel="alternate"; '
                      f'type="{o.media_type}"' for o in RESOURCE_OFFERS if o is not offer)
    headers = {"Vary": "Accept"}
    if offer.name != "jsonld":  # pyld's document loader fails on a JSON-LD answer with more than one rel=alternate
        headers["Link"] = links
    written = site.dist_dir / f"{stem}.{offer.extension}" if site.dist_dir is not None else None
    if offer is not HTML_OFFER and written is not None and written.is_file():
        response = _file(request, site, written)
        response.headers.update({**headers, "Content-Location": site.url(f"/download/{written.name}")})
        return response
    stat = source.stat()
    key = ("dist-document", stem, offer.name, stat.st_mtime_ns, stat.st_size)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(_render_document, site, source, offer, what)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, headers)


def _render_document(site: Site, source: Path, offer: Offer, what: str) -> Rendered:
    from rdflib import Graph

    graph = Graph().parse(source, format="turtle")
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_document

        return Rendered.of(render_document(site, graph, what).encode("utf-8"), offer.media_type)
    prefixes = {p: str(n) for p, n in graph.namespaces() if p}
    return Rendered.of(serialize_triples(graph, offer.name, prefixes), offer.media_type)


async def health(request: Request) -> Response:
    site: Site = request.app.state.site
    capacity = site.engine.capacity
    body = {
        "status": "ok" if capacity > 0 else "degraded",
        "triples": site.triples,
        "query_workers": capacity,
        "workers_replaced": getattr(site.engine, "replaced", 0),
        "long_queries": getattr(site.engine, "long_running", 0),
        "queries_in_process": getattr(site.engine, "ran_here", 0),
        "process": os.getpid(),
        "timeout_s": site.timeout,
        "cache": {"pages": len(site.pages), "results": len(site.results),
                  "result_hits": site.results.hits, "result_misses": site.results.misses},
        "downloads": bool(site.dist_dir and site.dist_dir.is_dir()),
    }
    return JSONResponse(body, status_code=200 if capacity > 0 else 503, headers={"Cache-Control": "no-store"})
