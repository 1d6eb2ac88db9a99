"""Dereferencing (W3C "Cool URIs for the Semantic Web"): `/id/...` answers with the description of the
resource `https://w3id.org/vetgraph/id/...`, `/graph/...` with the named graph of that IRI (the unconfirmed
statements), and `/def` with the ontology, by content negotiation.

    /id/insight/1          Accept picks HTML, Turtle, JSON-LD, N-Triples or RDF/XML (Vary: Accept)
    /id/insight/1.ttl      one format, named by its extension (also .jsonld .nt .rdf .html)
    ?format=ttl            the same by parameter;  ?_profile=cbd / Accept-Profile  a narrower view

Every answer carries `Link` headers to the other formats (rel="alternate") and to the profile, an ETag
and Last-Modified, and a 304 when the client's copy is current. Unknown IRIs get a 404 page.
"""

from __future__ import annotations

import asyncio
import re

from rdflib import URIRef
from starlette.requests import Request
from starlette.responses import Response

from vetgraph.config import GRAPH_BASE, ID_BASE
from vetgraph.server.conneg import (
    HTML_OFFER,
    RESOURCE_OFFERS,
    Offer,
    Profile,
    by_extension,
    by_name,
    choose_profile,
    negotiate,
)
from vetgraph.server.describe import Description, GraphContents, describe, describe_graph
from vetgraph.server.site import Rendered, Site, error, send
from vetgraph.store import serialize_triples

PROFILES: tuple[Profile, ...] = (
    Profile("description", "https://w3id.org/vetgraph/profile/description", "full description",
            "The resource's statements, the statements that point to it, and the labels of every IRI mentioned."),
    Profile("cbd", "https://w3id.org/vetgraph/profile/cbd", "concise bounded description",
            "Only the resource's own statements and those of the blank nodes they lead to."),
)
# What the path may hold: IRI characters, no spaces or quotes (anything else cannot be one of our IRIs).
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._~:@!$&'()*+,;=/%-]+$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # in an IRI, "%" starts a percent-encoding (RFC 3987)


def _pick_format(request: Request, path: str) -> tuple[str, Offer | None]:
    """The document path without extension and the format asked for (None: not acceptable): by `?format=`,
    else by the path's extension, else by Accept."""
    stem, offer = by_extension(path, RESOURCE_OFFERS)
    format_name = request.query_params.get("format")
    if format_name:
        offer = by_name(format_name, RESOURCE_OFFERS)
    elif offer is None:
        offer = negotiate(request.headers.get("accept"), RESOURCE_OFFERS)
    return stem, offer


def _pick(request: Request, path: str) -> tuple[str, Offer | None, Profile | None]:
    """The resource path without extension, the format asked for (None: not acceptable) and the profile."""
    stem, offer = _pick_format(request, path)
    profile = choose_profile(request.query_params.get("_profile"), request.headers.get("accept-profile"), PROFILES)
    return stem, offer, profile


def _not_acceptable(request: Request, what: str) -> Response:
    types = ", ".join(o.media_type for o in RESOURCE_OFFERS)
    return error(request, 406, f"{what} is available as: {types}", headers={"Vary": "Accept"})


def _alternates(site: Site, path: str, current: Offer) -> list[str]:
    """Link values for the other formats of the document at `path` (rel=alternate), by extension."""
    return [f'<{site.url(path)}.{offer.extension}>; rel="alternate"; type="{offer.media_type}"'
            for offer in RESOURCE_OFFERS if offer is not current and offer.extension]


def link_header(site: Site, path: str, current: Offer, profile: Profile) -> str:
    """Link: the other formats of this resource (rel=alternate) and the profile it conforms to."""
    return ", ".join([*_alternates(site, path, current), f'<{profile.iri}>; rel="profile"'])


async def resource(request: Request) -> Response:
    site: Site = request.app.state.site
    raw_path = request.path_params["path"]
    if not raw_path or not _SAFE_PATH.match(raw_path):
        return error(request, 404, f"no resource at /id/{raw_path}")
    if _BAD_PERCENT.search(raw_path):
        return error(request, 400, f"/id/{raw_path} is not an IRI path: '%' must be followed by two hex digits "
                                   "(write '%25' for a percent sign)")
    stem, offer, profile = _pick(request, raw_path)
    iri = URIRef(ID_BASE + stem)
    description = await _description(site, iri)
    if not description.exists and stem != raw_path:  # an IRI that itself ends in ".ttl" etc.
        stem, iri = raw_path, URIRef(ID_BASE + raw_path)
        description = await _description(site, iri)
    if not description.exists:
        return error(request, 404, f"vetgraph has no resource {iri}", title="No such resource", iri=str(iri))
    if profile is None:
        known = ", ".join(p.token for p in PROFILES)
        return error(request, 400, f"unknown profile; this resource has: {known}")
    if offer is None:
        return _not_acceptable(request, "this resource")
    path = "/id/" + stem
    key = ("resource", str(iri), offer.name, profile.token)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(_render, site, description, offer, profile, path)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"{path}.{offer.extension}")})


async def _description(site: Site, iri: URIRef) -> Description:
    key = ("description", str(iri))
    cached = site.pages.get(key)
    if cached is not None:
        return cached
    description = await asyncio.to_thread(describe, site.store, iri, site.vocabulary)
    site.pages.put(key, description, 256 * (len(description.triples) + len(description.incoming)) + 256)
    return description


def _render(site: Site, description: Description, offer: Offer, profile: Profile, path: str) -> Rendered:
    headers = {
        "Vary": "Accept, Accept-Profile",
        "Link": link_header(site, path, offer, profile),
        "Content-Profile": f"<{profile.iri}>",
    }
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_resource

        return Rendered.of(render_resource(site, description, path, PROFILES, profile).encode("utf-8"),
                           offer.media_type, headers)
    triples = description.graph() if profile.token == "description" else description.triples
    # The resource first, then the others, each subject's statements together (readable Turtle).
    ordered = sorted(triples, key=lambda t: (t[0] != description.iri, str(t[0]), str(t[1]), str(t[2])))
    return Rendered.of(serialize_triples(ordered, offer.name, site.prefixes), offer.media_type, headers)


# ---------------------------------------------------------------------------------------------------
# Named graphs at /graph/... (the graph of unconfirmed statements): a page, or the graph in an RDF syntax

async def named_graph(request: Request) -> Response:
    site: Site = request.app.state.site
    raw_path = request.path_params["path"]
    if not raw_path or not _SAFE_PATH.match(raw_path):
        return error(request, 404, f"no graph at /graph/{raw_path}")
    stem, offer = _pick_format(request, raw_path)
    iri = URIRef(GRAPH_BASE + stem)
    contents: GraphContents | None = site.pages.get(("graph-contents", str(iri)))
    if contents is None:
        contents = await asyncio.to_thread(describe_graph, site.store, iri, site.vocabulary)
        site.pages.put(("graph-contents", str(iri)), contents, 512 * len(contents.triples) + 256)
    if not contents.exists:
        return error(request, 404, f"vetgraph has no named graph {iri}", title="No such graph", iri=str(iri))
    if offer is None:
        return _not_acceptable(request, "this graph")
    path = "/graph/" + stem
    key = ("graph", str(iri), offer.name)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(_render_graph, site, contents, offer, path)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"{path}.{offer.extension}")})


def _render_graph(site: Site, contents: GraphContents, offer: Offer, path: str) -> Rendered:
    headers = {"Vary": "Accept", "Link": ", ".join(_alternates(site, path, offer))}
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_graph

        return Rendered.of(render_graph(site, contents, path).encode("utf-8"), offer.media_type, headers)
    # Exactly the graph's statements (no labels added): what the vetgraph-unconfirmed.* downloads hold.
    ordered = sorted(contents.triples, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    return Rendered.of(serialize_triples(ordered, offer.name, site.prefixes), offer.media_type, headers)


# ---------------------------------------------------------------------------------------------------
# The ontology at /def (hash IRIs: /def#Insight is a term of the document /def)

async def ontology(request: Request) -> Response:
    site: Site = request.app.state.site
    if site.ontology is None:
        return error(request, 404, "this server was started without the ontology")
    suffix = request.path_params.get("ext")
    if suffix:
        _, offer = by_extension("def." + suffix, RESOURCE_OFFERS)
        if offer is None:
            return error(request, 404, f"no ontology format .{suffix}")
    elif request.query_params.get("format"):
        offer = by_name(request.query_params["format"], RESOURCE_OFFERS)
    else:
        offer = negotiate(request.headers.get("accept"), RESOURCE_OFFERS)
    if offer is None:
        return _not_acceptable(request, "the ontology")
    key = ("ontology", offer.name)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(_render_ontology, site, offer)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"/def.{offer.extension}")})


def _render_ontology(site: Site, offer: Offer) -> Rendered:
    assert site.ontology is not None
    headers = {"Vary": "Accept", "Link": ", ".join(_alternates(site, "/def", offer))}
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_ontology

        return Rendered.of(render_ontology(site).encode("utf-8"), offer.media_type, headers)
    prefixes = {p: str(n) for p, n in site.ontology.namespaces() if p}
    return Rendered.of(serialize_triples(site.ontology, offer.name, prefixes), offer.media_type, headers)

