"""Dereferencing (W3C "Cool URIs for the Semantic Web"): `/id/...` answers with the description of the
resource `https://w3id.org/vetgraph/id/...`, `/graph/...` with the named graph of that IRI (the unconfirmed
statements), and `/def` with the ontology, by content negotiation.

    /id/insight/1          Accept picks HTML, Turtle, JSON-LD, N-Triples or RDF/XML (Vary: Accept)
    /id/insight/1.ttl      one format, named by its extension (also .jsonld .nt .rdf .html)
    ?format=ttl            the same by parameter (or ?_mediatype=text/turtle)
    ?_profile=cbd          a narrower view, also by Accept-Profile; ?_profile=alt lists every representation
    Accept: application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"   with the release's context

Every answer carries `Link` headers to the other representations (rel="alternate", with type and profile)
and to its profile, a Content-Location naming the representation served, an ETag and Last-Modified, and a
304 when the client's copy is current. Unknown IRIs get a 404 page. With `serve --redirect 303`, /id/...
without an extension answers 303 See Other to the document (Pubby/LodView style).
"""

from __future__ import annotations

import asyncio
import re

from rdflib import URIRef
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from vetgraph.config import GRAPH_BASE, ID_BASE
from vetgraph.namespaces import prefixes
from vetgraph.server.conneg import (
    HTML_OFFER,
    RESOURCE_OFFERS,
    Offer,
    Profile,
    by_extension,
    by_names,
    choose_profile,
    format_names,
    negotiate,
    range_profiles,
)
from vetgraph.server.describe import Description, GraphContents, describe, describe_graph
from vetgraph.server.languages import DEFAULT as DEFAULT_LANGUAGE
from vetgraph.server.languages import from_request
from vetgraph.server.profiles import ALT, PROFILES, alternates_graph, alternates_rows, link_header, representation_url
from vetgraph.server.site import Rendered, Site, error, send
from vetgraph.stores import serialize_triples

#: JSON-LD 1.1's profile IRI for compacted documents (the `profile` parameter of application/ld+json)
COMPACTED = "http://www.w3.org/ns/json-ld#compacted"

# What the path may hold: IRI characters, no spaces or quotes (anything else cannot be one of our IRIs).
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._~:@!$&'()*+,;=/%-]+$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # in an IRI, "%" starts a percent-encoding (RFC 3987)


def _pick_format(request: Request, path: str) -> tuple[str, Offer | None]:
    """The document path without extension and the format asked for (None: not acceptable): by `?format=`
    or `?_mediatype=` (Content Negotiation by Profile's query-string form), else by the path's extension,
    else by Accept."""
    stem, offer = by_extension(path, RESOURCE_OFFERS)
    names = format_names([v for k, v in request.query_params.multi_items() if k in ("format", "_mediatype")])
    if names:
        offer = by_names(names, RESOURCE_OFFERS)
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


def _wants_compacted(request: Request, offer: Offer) -> bool:
    return offer.name == "jsonld" and COMPACTED in range_profiles(request.headers.get("accept"), offer.media_type)


async def resource(request: Request) -> Response:
    site: Site = request.app.state.site
    raw_path = request.path_params["path"]
    if raw_path == "" or (raw_path.endswith("/") and _SAFE_PATH.match(raw_path)):
        from vetgraph.server.listing import listing

        return await listing(request, raw_path)
    if not _SAFE_PATH.match(raw_path):
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
    if site.redirect and stem == raw_path and not any(
            k in ("format", "_mediatype") for k in request.query_params):
        # The IRI names the thing, not a document: See Other, the document in the format asked for
        return RedirectResponse(representation_url(site, path, offer, profile), 303,
                                headers={"Vary": "Accept, Accept-Profile"})
    compacted = _wants_compacted(request, offer)
    lang = from_request(request) if offer is HTML_OFFER else DEFAULT_LANGUAGE
    key = ("resource", str(iri), offer.name, profile.token, compacted, lang)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(render_resource_representation, site, description, offer, profile,
                                           path, compacted, lang)
        site.pages.put(key, rendered, len(rendered.body))
    location = {} if compacted else {"Content-Location": representation_url(site, path, offer, profile)}
    return send(request, site, rendered, location)


async def _description(site: Site, iri: URIRef) -> Description:
    key = ("description", str(iri))
    cached = site.pages.get(key)
    if cached is not None:
        return cached
    description = await asyncio.to_thread(describe, site.store, iri, site.vocabulary)
    site.pages.put(key, description, 256 * (len(description.triples) + len(description.incoming)) + 256)
    return description


def render_resource_representation(site: Site, description: Description, offer: Offer, profile: Profile,
                                   path: str, compacted: bool = False, lang: str = DEFAULT_LANGUAGE) -> Rendered:
    """One representation of a resource: what /id/... answers, and what the static site (vetgraph.site) writes.
    `lang` is the language of the linked EU concepts' labels on the HTML page (RDF never changes with it)."""
    headers = {
        "Vary": "Accept, Accept-Profile, Accept-Language",
        "Link": link_header(site, path, offer, profile),
        "Content-Profile": f"<{profile.iri}>",
    }
    if profile is ALT:
        return _render_alternates(site, description, offer, path, headers)
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_resource

        return Rendered.of(render_resource(site, description, path, PROFILES, profile, lang).encode("utf-8"),
                           offer.media_type, headers)
    triples = description.graph() if profile.token == "description" else description.triples
    # The resource first, then the others, each subject's statements together (readable Turtle).
    ordered = sorted(triples, key=lambda t: (t[0] != description.iri, str(t[0]), str(t[1]), str(t[2])))
    if compacted:
        body, context_url = _compacted_json_ld(site, ordered)
        if context_url:
            headers["Link"] += f', <{context_url}>; rel="http://www.w3.org/ns/json-ld#context"'
        return Rendered.of(body, f'{offer.media_type}; profile="{COMPACTED}"', headers)
    return Rendered.of(serialize_triples(ordered, offer.name, site.prefixes), offer.media_type, headers)


def _render_alternates(site: Site, description: Description, offer: Offer, path: str,
                       headers: dict[str, str]) -> Rendered:
    if offer is HTML_OFFER:
        from vetgraph.server.pages import Views, title_of

        html = site.templates.get_template("alternates.html").render(
            site=site, iri=str(description.iri), title=title_of(Views(site, description.labels), description),
            rows=alternates_rows(site, path), path=path)
        return Rendered.of(html.encode("utf-8"), offer.media_type, headers)
    ordered = sorted(alternates_graph(site, description.iri, path), key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    return Rendered.of(serialize_triples(ordered, offer.name, prefixes("altr", "dct", "prof", "rdfs", "xsd")),
                       offer.media_type, headers)


def _compacted_json_ld(site: Site, triples: list[tuple]) -> tuple[bytes, str | None]:
    """Compacted JSON-LD with the release's context: its `@context` is the URL of the release's
    context.jsonld when the downloads hold it (a client can fetch it there), else the same context inline."""
    import json

    import pyoxigraph as ox

    from vetgraph.dumps import json_ld, json_ld_context
    from vetgraph.terms import to_oxigraph

    context_file = site.dist_dir / "context.jsonld" if site.dist_dir else None
    if context_file is not None and context_file.is_file():
        context = json.loads(context_file.read_text(encoding="utf-8"))["@context"]
        url: str | None = site.absolute("/download/context.jsonld")
    else:
        context, url = json_ld_context(site.prefixes), None
    quads = sorted((ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in triples),
                   key=lambda q: (str(q.subject), str(q.predicate), str(q.object)))
    body = json_ld(quads, context)
    if url is None:
        return body, None
    document = json.loads(body)
    document["@context"] = url
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8"), url


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
    lang = from_request(request) if offer is HTML_OFFER else DEFAULT_LANGUAGE
    key = ("graph", str(iri), offer.name, lang)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(render_graph_representation, site, contents, offer, path, lang)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"{path}.{offer.extension}")})


def render_graph_representation(site: Site, contents: GraphContents, offer: Offer, path: str,
                                lang: str = DEFAULT_LANGUAGE) -> Rendered:
    headers = {"Vary": "Accept, Accept-Language", "Link": ", ".join(_alternates(site, path, offer))}
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_graph

        return Rendered.of(render_graph(site, contents, path, lang).encode("utf-8"), offer.media_type, headers)
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
    else:
        _, offer = _pick_format(request, "def")
    if offer is None:
        return _not_acceptable(request, "the ontology")
    key = ("ontology", offer.name)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(render_ontology_representation, site, offer)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"/def.{offer.extension}")})


def render_ontology_representation(site: Site, offer: Offer) -> Rendered:
    assert site.ontology is not None
    headers = {"Vary": "Accept", "Link": ", ".join(_alternates(site, "/def", offer))}
    if offer is HTML_OFFER:
        from vetgraph.server.pages import render_ontology

        return Rendered.of(render_ontology(site).encode("utf-8"), offer.media_type, headers)
    prefixes = {p: str(n) for p, n in site.ontology.namespaces() if p}
    # Sorted: an rdflib graph iterates in hash order, which differs from one process to the next.
    ordered = sorted(site.ontology, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
    return Rendered.of(serialize_triples(ordered, offer.name, prefixes), offer.media_type, headers)

