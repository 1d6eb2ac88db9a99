"""The profiles of W3C Content Negotiation by Profile that resources are served in, their dereferenceable
descriptions at /profile/{token}, and the alternates view (`_profile=alt`): every profile in every media type.

    /id/insight/1?_profile=cbd                 or  Accept-Profile: <https://w3id.org/vetgraph/profile/cbd>
    /id/insight/1?_profile=alt                 or  Accept-Profile: <http://www.w3.org/ns/dx/conneg/altr>
    /profile/cbd                               the profile itself (HTML or RDF: a prof:Profile)
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from rdflib import Graph, Literal, URIRef
from starlette.requests import Request
from starlette.responses import Response

from vetgraph.config import BASE_IRI
from vetgraph.namespaces import ALTR, DCT, PROF, RDF, RDFS, XSD, prefixes
from vetgraph.server.conneg import RESOURCE_OFFERS, Offer, Profile, by_extension, by_names, format_names, negotiate
from vetgraph.server.site import Rendered, Site, error, send
from vetgraph.stores import serialize_triples

PROFILE_BASE = BASE_IRI + "profile/"
DESCRIPTION = Profile(
    "description", PROFILE_BASE + "description", "full description",
    "The resource's statements (with the blank nodes they lead to), the statements that point to it (up to "
    "1,000), and the label of every IRI mentioned.")
CBD = Profile(
    "cbd", PROFILE_BASE + "cbd", "concise bounded description",
    "Only the resource's own statements and those of the blank nodes they lead to.")
#: The alternates view of the W3C specification (token `alt`); Prez names it by another IRI.
ALT = Profile(
    "alt", str(ALTR).rstrip("#"), "alternate representations",
    "Every representation of the resource: each profile in each media type, with its URL.",
    aliases=("http://www.w3.org/ns/dx/conneg/altr-ext#alt-profile",))
#: What /id/ resources are served in; the first is the default.
PROFILES: tuple[Profile, ...] = (DESCRIPTION, CBD, ALT)
#: The profiles this server defines (and serves at /profile/{token}).
OWN = (DESCRIPTION, CBD)
_SEE_ALSO = {"cbd": "https://www.w3.org/Submission/CBD/"}


def representation(path: str, offer: Offer, profile: Profile) -> str:
    """The site path of one representation of the document at `path`: the extension names the media type,
    the query the profile (none for the default)."""
    document = f"{path}.{offer.extension}"
    return document if profile is PROFILES[0] else f"{document}?{urlencode({'_profile': profile.token})}"


def representation_url(site: Site, path: str, offer: Offer, profile: Profile) -> str:
    return site.url(representation(path, offer, profile))


def link_header(site: Site, path: str, current: Offer, profile: Profile) -> str:
    """Link: every other representation (rel=alternate, with its media type and profile) and the profile
    this one conforms to (rel=profile)."""
    links = [f'<{representation_url(site, path, offer, other)}>; rel="alternate"; type="{offer.media_type}"; '
             f'profile="{other.iri}"'
             for other in PROFILES for offer in RESOURCE_OFFERS
             if offer.extension and (offer, other) != (current, profile)]
    return ", ".join([*links, f'<{profile.iri}>; rel="profile"'])


def alternates_graph(site: Site, iri: URIRef, path: str) -> Graph:
    """The alternates view in RDF (W3C Alternate Representations data model): the resource, each of its
    representations with profile (dct:conformsTo) and media type (dct:format), and the profiles."""
    graph = Graph()
    for profile in PROFILES:
        for offer in RESOURCE_OFFERS:
            url = URIRef(site.absolute(representation(path, offer, profile)))
            graph.add((iri, ALTR.hasRepresentation, url))
            if profile is PROFILES[0] and offer is RESOURCE_OFFERS[0]:
                graph.add((iri, ALTR.hasDefaultRepresentation, url))
            graph.add((url, RDF.type, ALTR.Representation))
            graph.add((url, DCT.conformsTo, URIRef(profile.iri)))
            graph.add((url, URIRef(DCT + "format"), Literal(offer.media_type)))  # DCT.format is str.format
        _describe_profile(graph, profile)
    return graph


def alternates_rows(site: Site, path: str) -> list[tuple[Profile, str, list[tuple[str, str, str]]]]:
    """(profile, its local link, [(format name, media type, URL)]) for the alternates page."""
    return [(p, site.local(p.iri), [(o.name, o.media_type, representation_url(site, path, o, p))
                                    for o in RESOURCE_OFFERS]) for p in PROFILES]


def _describe_profile(graph: Graph, profile: Profile) -> None:
    node = URIRef(profile.iri)
    graph.add((node, RDF.type, PROF.Profile))
    graph.add((node, DCT.title, Literal(profile.label, lang="en")))
    graph.add((node, RDFS.label, Literal(profile.label, lang="en")))
    graph.add((node, DCT.description, Literal(profile.comment, lang="en")))
    graph.add((node, PROF.hasToken, Literal(profile.token, datatype=XSD.token)))
    if profile.token in _SEE_ALSO:
        graph.add((node, RDFS.seeAlso, URIRef(_SEE_ALSO[profile.token])))


PROFILE_PREFIXES = prefixes("prof", "dct", "rdfs", "xsd", "altr")


async def profile_document(request: Request) -> Response:
    """/profile/{token}: a profile of this server, as a page or in any RDF syntax."""
    site: Site = request.app.state.site
    token, offer = by_extension(request.path_params["token"], RESOURCE_OFFERS)
    names = format_names([v for k, v in request.query_params.multi_items() if k in ("_mediatype", "format")])
    if names:
        offer = by_names(names, RESOURCE_OFFERS)
    elif offer is None:
        offer = negotiate(request.headers.get("accept"), RESOURCE_OFFERS)
    profile = next((p for p in OWN if p.token == token), None)
    if profile is None:
        return error(request, 404, f"no profile {token!r}; this server has: {', '.join(p.token for p in OWN)}")
    if offer is None:
        return error(request, 406, "a profile is available as: " + ", ".join(o.media_type for o in RESOURCE_OFFERS),
                     headers={"Vary": "Accept"})
    key = ("profile", token, offer.name)
    rendered: Rendered | None = site.pages.get(key)
    if rendered is None:
        rendered = await asyncio.to_thread(_render_profile, site, profile, offer)
        site.pages.put(key, rendered, len(rendered.body))
    return send(request, site, rendered, {"Content-Location": site.url(f"/profile/{token}.{offer.extension}")})


def _render_profile(site: Site, profile: Profile, offer: Offer) -> Rendered:
    path = "/profile/" + profile.token
    headers = {"Vary": "Accept", "Link": ", ".join(
        f'<{site.url(path)}.{o.extension}>; rel="alternate"; type="{o.media_type}"'
        for o in RESOURCE_OFFERS if o is not offer)}
    if offer.name == "html":
        html = site.templates.get_template("profile.html").render(
            site=site, profile=profile, see_also=_SEE_ALSO.get(profile.token),
            alternates=[(o.name, o.media_type, f"{site.url(path)}.{o.extension}")
                        for o in RESOURCE_OFFERS if o.name != "html"])
        return Rendered.of(html.encode("utf-8"), offer.media_type, headers)
    graph = Graph()
    _describe_profile(graph, profile)
    return Rendered.of(serialize_triples(graph, offer.name, PROFILE_PREFIXES), offer.media_type, headers)
