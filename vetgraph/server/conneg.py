"""Content negotiation (RFC 9110 section 12): Accept with q-values and wildcards, `?format=` overrides,
file extensions, and negotiation by profile (W3C "Content Negotiation by Profile": `Accept-Profile` or
`?_profile=`).

Each answer offers a list of `Offer`s in the server's order of preference; the client's Accept header
picks among them. The most specific matching range gives an offer its q-value (`text/turtle;q=0` beats
`*/*`), ties go to the server's order, q=0 excludes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from vetgraph.formats import GRAPH_FORMATS, RESULT_FORMATS, Format


@dataclass(frozen=True)
class Offer:
    """A representation the server can produce."""

    name: str  # short format name: json, ttl, html ...
    media_type: str  # what Content-Type says
    aliases: tuple[str, ...] = field(default=())  # other media types a client may ask for it by
    extension: str | None = None  # the file extension that selects it (`.ttl`)
    synonyms: tuple[str, ...] = ()  # other `?format=` names clients send (SPARQLWrapper: turtle, json-ld ...)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: tuple[tuple[str, str], ...] = ()

    def specificity(self, media_type: str) -> int:
        """-1 when the range does not match `media_type`, else 0 (*/*), 1 (type/*) or 2 (exact)."""
        mtype, _, msub = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != mtype:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == msub else -1


@functools.lru_cache(maxsize=512)  # clients send the same few headers on every request
def parse_accept(header: str | None) -> tuple[MediaRange, ...]:
    """The media ranges of an Accept header; malformed parts are ignored, a bad q counts as 1."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        main = pieces[0].lower()
        if "/" not in main:
            continue
        mtype, _, msub = main.partition("/")
        if not mtype or not msub or (mtype == "*" and msub != "*"):
            continue
        q = 1.0
        params = []
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 1.0
            elif key:
                params.append((key, value))
        ranges.append(MediaRange(mtype, msub, q, tuple(params)))
    return tuple(ranges)


def negotiate(accept: str | None, offers: Sequence[Offer]) -> Offer | None:
    """The best offer for an Accept header; the first offer when there is no header; None when nothing fits."""
    if not offers:
        return None
    ranges = parse_accept(accept)
    if not ranges:  # no header, or none that parses (e.g. "foo"): treated as absent, like most servers
        return offers[0]
    best: tuple[float, int] | None = None
    chosen: Offer | None = None
    for index, offer in enumerate(offers):
        q = _quality(ranges, offer)
        if q <= 0:
            continue
        key = (q, -index)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


def range_profiles(accept: str | None, media_type: str) -> set[str]:
    """The `profile` IRIs an Accept header gives for exactly `media_type` (JSON-LD's `profile` parameter is
    a space-separated list: `application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"`)."""
    return {iri for r in parse_accept(accept) if r.q > 0 and r.specificity(media_type) == 2
            for key, value in r.params if key == "profile" for iri in value.split()}


def _quality(ranges: Sequence[MediaRange], offer: Offer) -> float:
    """The q of the most specific range matching any of the offer's media types."""
    best_spec, best_q = -1, 0.0
    for media_type in (offer.media_type, *offer.aliases):
        canonical = media_type == offer.media_type
        for media_range in ranges:
            spec = media_range.specificity(media_type)
            if not canonical and spec < 2:
                continue  # aliases answer only to an exact request (text/* does not mean text/xml results)
            if spec == 2 and canonical:
                spec = 3  # an exact match on the canonical type beats one on an alias
            if spec > best_spec:
                best_spec, best_q = spec, media_range.q
    return best_q if best_spec >= 0 else 0.0


def by_name(name: str, offers: Sequence[Offer]) -> Offer | None:
    """The offer a `?format=` value names: a short name (`ttl`), an extension or a media type (its
    parameters, `; charset=utf-8`, ignored)."""
    wanted = name.split(";")[0].strip().lower()
    for offer in offers:
        if wanted in (offer.name, offer.media_type, *offer.aliases, *offer.synonyms) or wanted == offer.extension:
            return offer
    return None


def format_names(values: Sequence[str]) -> list[str]:
    """The format names in `?format=` values, in order: clients repeat the parameter and send comma lists
    (SPARQLWrapper: `format=json-ld&format=application/ld+json,application/x-json+ld`); empty parts dropped."""
    return [part.strip() for value in values for part in value.split(",") if part.split(";")[0].strip()]


def by_names(names: Sequence[str], offers: Sequence[Offer]) -> Offer | None:
    """The offer named first among `names` (see `format_names`); names of no offer are passed over."""
    return next((offer for name in names if (offer := by_name(name, offers)) is not None), None)


def prefers(accept: str | None, offer: Offer, others: Sequence[Offer]) -> bool:
    """Whether Accept names `offer` itself (not by a wildcard) with a q at least that of the best of
    `others`: a browser ranking text/html above application/xml, or tied with it, gets HTML; `*/*` does not."""
    ranges = parse_accept(accept)
    explicit = max((r.q for r in ranges for media_type in (offer.media_type, *offer.aliases)
                    if r.specificity(media_type) == 2), default=0.0)
    return explicit > 0 and all(explicit >= _quality(ranges, other) for other in others)


def by_extension(path: str, offers: Sequence[Offer]) -> tuple[str, Offer | None]:
    """Split `insight/1.ttl` into (`insight/1`, the Turtle offer); (path, None) when no offer's extension ends it."""
    for offer in offers:
        if offer.extension and path.endswith("." + offer.extension):
            return path[: -len(offer.extension) - 1], offer
    return path, None


def _offer(fmt: Format) -> Offer:
    """The offer of a registry format: its media type, the aliases clients send, extension and synonyms."""
    return Offer(fmt.name, fmt.media_type, fmt.media_aliases, fmt.extension, fmt.synonyms)


TABULAR_OFFERS: tuple[Offer, ...] = tuple(_offer(f) for f in RESULT_FORMATS.values())
GRAPH_OFFERS: tuple[Offer, ...] = tuple(_offer(f) for f in GRAPH_FORMATS.values())
HTML_OFFER = Offer("html", "text/html", ("application/xhtml+xml",), "html")
#: A resource description: Turtle first, so that clients without a preference (curl, */*) get data;
#: browsers ask for text/html explicitly and get the page.
RESOURCE_OFFERS: tuple[Offer, ...] = (GRAPH_OFFERS[0], HTML_OFFER, *GRAPH_OFFERS[1:])


@dataclass(frozen=True)
class Profile:
    """A view of a resource (W3C Conneg by Profile)."""

    token: str
    iri: str
    label: str
    comment: str
    aliases: tuple[str, ...] = ()  # other IRIs clients name it by


def choose_profile(requested: str | None, accept_profile: str | None, profiles: Sequence[Profile]) -> Profile | None:
    """The profile asked for by `?_profile=` (token or IRI) or `Accept-Profile` (<IRI> list with q).

    The first profile is the default, also when Accept-Profile names none the server has (the spec lets a
    server answer with its default); None only when `?_profile=` names an unknown profile."""
    if requested:
        return next((p for p in profiles if requested in (p.token, p.iri, *p.aliases)), None)
    if not accept_profile:
        return profiles[0]
    candidates: list[tuple[float, int, Profile]] = []
    for part in accept_profile.split(","):
        pieces = [p.strip() for p in part.split(";")]
        iri = pieces[0].strip("<>")
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 1.0
        for index, profile in enumerate(profiles):
            if iri in (profile.iri, profile.token, *profile.aliases) and q > 0:
                candidates.append((q, -index, profile))
    if not candidates:
        return profiles[0]
    return max(candidates, key=lambda c: (c[0], c[1]))[2]
