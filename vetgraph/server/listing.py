"""Listing pages of the IRI space: `/id/` lists the kinds of resource (the first path segment: insight,
topic, agent, ...), `/id/insight/` the resources whose IRI starts with it, each by its label, in natural order
(insight 2 before insight 10). HTML only: the data itself is at /sparql and in the downloads."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass

from rdflib import Literal, URIRef
from starlette.requests import Request
from starlette.responses import Response

from vetgraph.config import ID_BASE
from vetgraph.server.conneg import HTML_OFFER, negotiate
from vetgraph.server.describe import labels_of
from vetgraph.server.site import Rendered, Site, error, send

#: Every IRI under a prefix (bound as a literal, never pasted into the query text).
_UNDER = "SELECT DISTINCT ?s ?prefix WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), STR(?prefix))) }"
_DIGITS = re.compile(r"(\d+)")
#: More entries than this on one page are cut (the rest is one SPARQL query away).
LIMIT = 2000


@dataclass(frozen=True)
class Entry:
    text: str
    href: str
    detail: str  # the IRI's local part, or "N resources" for a kind


def natural(text: str) -> list[object]:
    """Sort key that orders embedded numbers by value: insight/2 before insight/10."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(text)]


def _entries(site: Site, path: str) -> tuple[list[Entry], int]:
    prefix = ID_BASE + path
    rows = site.store.query(_UNDER, {"prefix": Literal(prefix)}).rows
    iris = sorted({str(row[0]) for row in rows if isinstance(row[0], URIRef)}, key=natural)
    rest = [iri[len(prefix):] for iri in iris]
    nested = Counter(part.split("/", 1)[0] for part in rest if "/" in part)
    direct = [iri for iri, part in zip(iris, rest, strict=True) if part and "/" not in part]
    entries = [Entry(name + "/", site.url(f"/id/{path}{name}/"), f"{count} resources")
               for name, count in sorted(nested.items(), key=lambda item: natural(item[0]))]
    labels = labels_of(site.store, [URIRef(iri) for iri in direct[:LIMIT]])
    for iri in direct[:LIMIT]:
        label = labels.get(URIRef(iri))
        entries.append(Entry(str(label) if label is not None else iri[len(prefix):], site.local(iri),
                             iri[len(prefix):]))
    return entries, len(direct)


async def listing(request: Request, path: str) -> Response:
    """The page of `/id/<path>` where path is "" or ends with "/"."""
    site: Site = request.app.state.site
    if negotiate(request.headers.get("accept"), (HTML_OFFER,)) is None:
        return error(request, 406, f"/id/{path} is a listing page, available as text/html only; "
                                   f"query {site.url('/sparql')} for data", headers={"Vary": "Accept"})
    key = ("listing", path)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        entries, total = await asyncio.to_thread(_entries, site, path)
        if not entries:
            return error(request, 404, f"vetgraph has no resources under {ID_BASE}{path}", title="Nothing here")
        from vetgraph.server.pages import breadcrumbs

        html = site.templates.get_template("listing.html").render(
            site=site, path=path, iri=ID_BASE + path, entries=entries, total=total, limit=LIMIT,
            crumbs=breadcrumbs(site, "/id/" + path))
        rendered = Rendered.of(html.encode("utf-8"), "text/html", {"Vary": "Accept"})
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered)
