"""HTML pages, rendered on the server with Jinja2 (autoescaping on: every literal from the data is
escaped, so a label `<script>` shows as text). No JavaScript except in the query UI, no external CDN.

This module turns RDF into small view objects (`TermView`, `PropertyView`) that the templates show;
the templates live in `templates/`, the style sheet in `static/`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from vetgraph import __version__
from vetgraph import namespaces as ns
from vetgraph.config import BASE_IRI, ONTOLOGY_IRI, UNCONFIRMED_GRAPH
from vetgraph.namespaces import SCHEMA, VET
from vetgraph.server.conneg import RESOURCE_OFFERS, Profile
from vetgraph.server.describe import Description, GraphContents
from vetgraph.server.vocabulary import local_name, source_of

if TYPE_CHECKING:
    from rdflib import Graph

    from vetgraph.server.home import Component, HomeData
    from vetgraph.server.site import Site

TEMPLATES = Path(__file__).resolve().parent / "templates"
RDF_TYPE = str(ns.RDF.type)
DCT, SKOS, RDFS, XSD = str(ns.DCT), str(ns.SKOS), str(ns.RDFS), str(ns.XSD)
#: Predicates shown first on a resource page, in this order; the rest follow by label.
_FIRST = (DCT + "title", DCT + "alternative", str(VET.number), DCT + "description", DCT + "abstract",
          SKOS + "definition", SKOS + "scopeNote", str(VET.example))
#: Shown in the page header or in their own sections, not in the property table.
_APART = (RDF_TYPE, DCT + "source", str(VET.titleEvidence), str(VET.evidence))
#: Never shown on a page: SKOS hidden labels (a known misspelling, say) are for text search, not for display.
#: The RDF representations and the stored queries keep them.
NOT_DISPLAYED = frozenset({SKOS + "hiddenLabel"})


def markdown(text: str | None) -> Markup:
    """Markdown (CommonMark) of a stored query's description as HTML. Raw HTML in the text is escaped, not
    passed through, and markdown-it refuses javascript:, vbscript:, file: and data: links, so the result is as
    safe as autoescaped text."""
    from markdown_it import MarkdownIt

    return Markup(MarkdownIt("commonmark", {"html": False}).render(text or ""))  # noqa: S704 - escaped by markdown-it


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["unconfirmed_graph"] = UNCONFIRMED_GRAPH  # follows a moved IRI base (VETGRAPH_BASE_IRI)
    env.filters["tojson_attr"] = lambda value: json.dumps(value)
    env.filters["markdown"] = markdown
    return env


@dataclass
class TermView:
    """An RDF term as a page shows it."""

    kind: str  # iri / literal / bnode
    text: str
    iri: str | None = None
    href: str | None = None
    external: bool = False
    badge: str | None = None  # EuroVoc, ESCO, ... for links to known vocabularies
    lang: str | None = None
    datatype: str | None = None
    comment: str | None = None
    unconfirmed: bool = False
    children: list[PropertyView] = field(default_factory=list)  # for blank nodes


@dataclass
class PropertyView:
    predicate: TermView
    values: list[TermView]


class Views:
    """Builds TermViews with labels from a description/home page and the ontology."""

    def __init__(self, site: Site, labels: dict[URIRef, Literal], lang: str = "en"):
        from vetgraph.reference import linked_labels

        self.site = site
        self.labels = labels
        self.lang = lang
        # linked EU concepts in the reader's language (the snapshot's); everything else stays English
        self.translated = linked_labels(lang) if lang != "en" else {}

    def label(self, iri: Identifier) -> str:
        if isinstance(iri, URIRef) and str(iri) in self.translated:
            return self.translated[str(iri)]
        label = self.labels.get(iri) if isinstance(iri, URIRef) else None
        if label is not None:
            return str(label)
        return self.site.vocabulary.label(str(iri))

    def term(self, term: Identifier | None, *, unconfirmed: bool = False) -> TermView:
        if term is None:
            return TermView("literal", "")
        if isinstance(term, URIRef):
            iri = str(term)
            ours = iri.startswith(BASE_IRI)
            return TermView("iri", self.label(term), iri=iri, href=self.site.local(iri), external=not ours,
                            badge=source_of(iri), comment=self.site.vocabulary.comment(iri), unconfirmed=unconfirmed,
                            lang=self.lang if iri in self.translated else None)
        if isinstance(term, BNode):
            return TermView("bnode", "(anonymous resource)", unconfirmed=unconfirmed)
        assert isinstance(term, Literal)
        datatype = None
        if term.datatype is not None and not term.language:
            dt = str(term.datatype)
            datatype = dt[len(XSD):] if dt.startswith(XSD) else self.site.vocabulary.label(dt)
        return TermView("literal", str(term), lang=term.language, datatype=datatype, unconfirmed=unconfirmed)

    def predicate(self, iri: Identifier) -> TermView:
        return self.term(iri)


def source_view(views: Views, source: Identifier, *, unconfirmed: bool = False) -> TermView:
    """A source as a page lists it: by the title the graph gives it, with its web address's host beside it;
    by its address when the graph has no title for it (most sources are plain URLs)."""
    view = views.term(source, unconfirmed=unconfirmed)
    if view.iri is not None and source not in views.labels:
        view.text = view.iri  # the vocabulary's fallback (a local name) would hide where the source is
        view.comment = None
    elif view.iri is not None:
        view.comment = urlsplit(view.iri).netloc or view.iri
    return view


def _sort_key(predicate: str, label: str) -> tuple[int, str]:
    return (_FIRST.index(predicate) if predicate in _FIRST else len(_FIRST), label.lower())


def properties(views: Views, triples: Iterable[tuple], subject: Identifier,
               unconfirmed: set[tuple[Identifier, Identifier]], skip: Sequence[str] = _APART) -> list[PropertyView]:
    """The statements of `subject` grouped by predicate, in reading order; blank-node values nested."""
    triples = list(triples)
    grouped: dict[Identifier, list[Identifier]] = defaultdict(list)
    for s, p, o in triples:
        if s == subject and str(p) not in skip and str(p) not in NOT_DISPLAYED:
            grouped[p].append(o)
    result = []
    for predicate, values in grouped.items():
        views_of_values = []
        for value in sorted(values, key=lambda v: (views.label(v) if isinstance(v, URIRef) else str(v)).lower()):
            view = views.term(value, unconfirmed=(predicate, value) in unconfirmed)
            if isinstance(value, BNode):
                view.children = properties(views, triples, value, set(), skip=())
            views_of_values.append(view)
        result.append(PropertyView(views.predicate(predicate), views_of_values))
    result.sort(key=lambda pv: _sort_key(pv.predicate.iri or "", pv.predicate.text))
    return result


def title_of(views: Views, description: Description) -> str:
    for predicate in (RDFS + "label", SKOS + "prefLabel", DCT + "title"):
        for s, p, o in description.triples:
            if s == description.iri and str(p) == predicate and isinstance(o, Literal):
                label = description.labels.get(description.iri)
                return str(label) if label is not None else str(o)
    return local_name(str(description.iri))


def breadcrumbs(site: Site, path: str) -> list[tuple[str, str | None]]:
    """(text, link) up the path of a page (`/id/insight/1`, `/id/insight/`): home, each folder, the page."""
    parts = [part for part in path.strip("/").split("/") if part]
    crumbs: list[tuple[str, str | None]] = [("home", site.url("/"))]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        folder = "/" + "/".join(parts[: index + 1]) + "/"
        crumbs.append((part, None if last else site.url(folder)))
    return crumbs


def alternate_links(site: Site, path: str) -> list[tuple[str, str, str]]:
    """(format name, media type, URL) of the RDF forms of the document at `path`, for its page."""
    return [(o.name, o.media_type, site.url(f"{path}.{o.extension}")) for o in RESOURCE_OFFERS if o.name != "html"]


def language_context(lang: str) -> dict[str, Any]:
    """What base.html needs for its language switch and its note on which language the page shows."""
    from vetgraph.server.languages import LANGUAGES

    return {"page_lang": lang, "languages": LANGUAGES}


def render_resource(site: Site, description: Description, path: str, profiles: Sequence[Profile],
                    profile: Profile, lang: str = "en") -> str:
    views = Views(site, description.labels, lang)
    iri = description.iri
    own = [(s, p, o) for s, p, o in description.triples if s == iri]
    types = [views.term(o) for _, p, o in own if str(p) == RDF_TYPE]
    evidence = [(views.predicate(p), views.term(o)) for _, p, o in own
                if str(p) in (str(VET.titleEvidence), str(VET.evidence))]
    # Sorted, not in the store's order: the page must not depend on how the data were loaded (the static
    # site and the server load them separately).
    sources = sorted((source_view(views, o, unconfirmed=(p, o) in description.unconfirmed) for _, p, o in own
                      if str(p) == DCT + "source"), key=lambda t: (t.text.lower(), t.iri or "", t.text))
    referenced_by = sorted(((views.term(s), views.predicate(p)) for s, p, _ in description.incoming),
                           key=lambda pair: (pair[1].text.lower(), pair[0].text.lower()))
    alternates = alternate_links(site, path)
    title = title_of(views, description)
    formal = [str(o) for _, p, o in own if str(p) == DCT + "title" and str(o) != title]
    # Labels that only repeat the heading, and the title shown under it, are left out of the table.
    subtitle = formal[0] if formal else None
    shown = [(s, p, o) for s, p, o in description.triples
             if not (s == iri and str(p) in (RDFS + "label", SKOS + "prefLabel") and str(o) == title)
             and not (s == iri and str(p) == DCT + "title" and str(o) == subtitle)]
    return site.templates.get_template("resource.html").render(
        site=site, title=title, subtitle=subtitle, iri=str(iri), types=types,
        subtitle_unconfirmed=any(str(p) == DCT + "title" and str(o) == subtitle for p, o in description.unconfirmed),
        evidence_levels=evidence, properties=properties(views, shown, iri, description.unconfirmed),
        sources=sources, referenced_by=referenced_by, truncated=description.incoming_truncated,
        has_unconfirmed=bool(description.unconfirmed), alternates=alternates, profiles=profiles,
        profile=profile, path=path, crumbs=breadcrumbs(site, path), **language_context(lang),
    )


def render_graph(site: Site, contents: GraphContents, path: str, lang: str = "en") -> str:
    """A named graph's page: its statements grouped by subject, each subject with the sources it names."""
    from vetgraph.contents import UNCONFIRMED

    views = Views(site, contents.labels, lang)
    objects = {o for _, _, o in contents.triples}
    # Blank nodes that hang off a subject are shown nested in its table, not as subjects of their own.
    subjects = sorted({s for s, _, _ in contents.triples if not (isinstance(s, BNode) and s in objects)},
                      key=lambda s: (views.label(s) if isinstance(s, URIRef) else str(s)).lower())
    in_graph = set(contents.triples)
    groups = []
    for subject in subjects:
        sources = [source_view(views, o, unconfirmed=(subject, URIRef(DCT + "source"), o) in in_graph)
                   for o in contents.sources.get(subject, [])]
        groups.append({"subject": views.term(subject), "sources": sources,
                       "properties": properties(views, contents.triples, subject, set(), skip=(DCT + "source",))})
    unconfirmed = str(contents.iri) == UNCONFIRMED_GRAPH
    alternates = alternate_links(site, path)
    return site.templates.get_template("graph.html").render(
        site=site, iri=str(contents.iri), title="Unconfirmed statements" if unconfirmed else "Named graph",
        holds=UNCONFIRMED.holds if unconfirmed else None, count=len(contents.triples), groups=groups,
        alternates=alternates, **language_context(lang))


def render_document(site: Site, graph: Graph, what: str) -> str:
    """A description the build wrote (the catalogue, VoID) as a page: its statements grouped by subject, each
    IRI shown by the title or label the document itself gives it."""
    names = (DCT + "title", SKOS + "prefLabel", str(ns.FOAF.name), RDFS + "label")
    labels: dict[URIRef, Literal] = {}
    for name in reversed(names):  # the first of `names` wins
        for s, o in graph.subject_objects(URIRef(name)):
            if isinstance(s, URIRef) and isinstance(o, Literal) and len(o) <= 120:  # a name, not a paragraph
                labels[s] = o
    # The catalogue and the dataset first, then the service, the distributions, the linksets, the rest.
    first = [str(ns.DCAT.Catalog), str(ns.DCAT.Dataset), str(ns.VOID.Dataset), str(ns.DCAT.DataService),
             str(ns.DCAT.Distribution), str(ns.VOID.Linkset)]
    rank = {s: min((first.index(str(t)) for t in graph.objects(s, ns.RDF.type) if str(t) in first),
                   default=len(first)) for s in graph.subjects()}
    views = Views(site, labels)
    triples: list[tuple[Identifier, Identifier, Identifier]] = sorted(
        graph, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))  # type: ignore[arg-type]  # a Graph yields terms
    objects = {o for _, _, o in triples}
    subjects = sorted({s for s, _, _ in triples if not (isinstance(s, BNode) and s in objects)},
                      key=lambda s: (rank.get(s, len(first)), s not in labels,
                                     views.label(s).lower() if isinstance(s, URIRef) else str(s)))
    groups = [{"subject": views.term(subject), "properties": properties(views, triples, subject, set(), skip=())}
              for subject in subjects]
    alternates = [(o.name, o.media_type, f"?format={o.name}") for o in RESOURCE_OFFERS if o.name != "html"]
    return site.templates.get_template("document.html").render(
        site=site, title=what, count=len(triples), groups=groups, alternates=alternates)


def render_home(site: Site, data: HomeData, lang: str = "en") -> str:
    from vetgraph.server.home import DCT as H_DCT

    views = Views(site, data.labels, lang)
    context: dict[str, Any] = {"site": site, "data": data, **language_context(lang)}
    if data.record is not None and data.report is not None:
        record_order = (H_DCT + "title", H_DCT + "alternative", str(VET.coverBrand), H_DCT + "creator",
                        H_DCT + "publisher", str(VET.placeOfPublication), H_DCT + "issued", H_DCT + "created",
                        str(SCHEMA.isbn), str(VET.doi), str(VET.catalogueNumber), H_DCT + "license",
                        H_DCT + "language", H_DCT + "format", str(SCHEMA.numberOfPages), H_DCT + "rights")
        own = [(s, p, o) for s, p, o in data.record.triples if s == data.report]
        record = []
        for predicate in record_order:
            values = [views.term(o, unconfirmed=(p, o) in data.record.unconfirmed)
                      for _, p, o in own if str(p) == predicate]
            if values:
                record.append(PropertyView(views.predicate(URIRef(predicate)), values))
        context["record"] = record
        context["report_label"] = views.label(data.report)
        context["report_href"] = site.local(str(data.report))
        abstract = [o for _, p, o in own if str(p) == H_DCT + "abstract"]
        context["abstract"] = str(abstract[0]) if abstract else None
        context["doi"] = next((str(o) for _, p, o in own if str(p) == str(VET.doi)), None)
    vision = data.of_type("Vision")
    context["vision"] = [_component_view(views, c) for c in vision]
    context["vision_points"] = [_component_view(views, c) for c in data.of_type("VisionPoint")]
    context["viewpoints"] = [_component_view(views, c) for c in data.of_type("Viewpoint")]
    context["insights"] = [_component_view(views, c) for c in data.of_type("Insight")]
    context["topics"] = [_component_view(views, c) for c in data.of_type("MandateTopic")]
    actors: dict[str, list[TermView]] = defaultdict(list)
    for type_iri, actor in data.actors:
        actors[site.vocabulary.label(type_iri)].append(views.term(actor))
    context["actors"] = list(actors.items())
    context["instruments"] = [(views.term(i), date) for i, date in data.instruments]
    from vetgraph.server.overview import evidence_map, topic_matrix

    context["evidence_map"] = evidence_map(site, data)
    context["matrix"] = topic_matrix(site, data)
    return site.templates.get_template("home.html").render(**context)


def _component_view(views: Views, component: Component) -> dict[str, Any]:
    from vetgraph.server.home import DCT as H_DCT

    title = component.first(H_DCT + "title")
    evidence = component.first(str(VET.titleEvidence))
    return {
        "term": views.term(component.iri),
        "number": component.number if component.number < 10**6 else None,
        "title": str(title) if title is not None else None,
        "title_unconfirmed": component.unconfirmed(H_DCT + "title"),
        "evidence": views.term(evidence) if evidence is not None else None,
        "evidence_key": str(evidence).rsplit("#", 1)[-1] if evidence is not None else None,
        "description": str(component.first(H_DCT + "description") or "") or None,
        "viewpoint": views.term(component.first(str(VET.viewpoint))) if component.first(str(VET.viewpoint)) else None,
        "viewpoint_unconfirmed": component.unconfirmed(str(VET.viewpoint)),
    }


def render_ontology(site: Site) -> str:
    """A page of the ontology's terms (hash IRIs: /def#Insight lands on its entry). The pyLODE documentation
    of `vetgraph build` is linked when the downloads hold it."""
    from rdflib import OWL, RDF
    from rdflib import RDFS as RDFS_NS

    assert site.ontology is not None
    views = Views(site, {})
    ontology = site.ontology
    header = ontology.value(URIRef(ONTOLOGY_IRI), URIRef(DCT + "description"))
    sections = []
    for title, kinds in (("Classes", (OWL.Class,)), ("Object properties", (OWL.ObjectProperty,)),
                         ("Datatype properties", (OWL.DatatypeProperty,)),
                         ("Individuals", (OWL.NamedIndividual,))):
        terms = sorted({s for kind in kinds for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef)},
                       key=lambda t: site.vocabulary.label(str(t)).lower())
        entries = []
        for term in terms:
            extra = []
            for predicate in (RDFS_NS.subClassOf, RDFS_NS.subPropertyOf, RDFS_NS.domain, RDFS_NS.range):
                objects = sorted(ontology.objects(term, predicate), key=str)  # not rdflib's hash order
                values = [views.term(o) for o in objects if isinstance(o, URIRef)]
                if values:
                    extra.append(PropertyView(views.predicate(predicate), values))
            entries.append({"anchor": str(term).rsplit("#", 1)[-1], "iri": str(term),
                            "label": site.vocabulary.label(str(term)),
                            "comment": site.vocabulary.comment(str(term)), "extra": extra})
        sections.append((title, entries))
    built = site.dist_dir is not None and (site.dist_dir / "ontology" / "index.html").is_file()
    return site.templates.get_template("ontology.html").render(
        site=site, description=str(header) if header else None, sections=sections, iri=ONTOLOGY_IRI,
        pylode=site.url("/download/ontology/index.html") if built else None)


def query_ui(request: Request, site: Site) -> Response:
    """YASGUI, served from the package, with the stored queries as tabs."""
    queries = list(site.catalogue.values())
    # The first tab is one that runs as it is (no required parameter), preferably the insights list.
    queries.sort(key=lambda q: (q.name != "insights", any(p.required for p in q.params)))
    tabs = [{"name": q.name, "query": _ui_text(q), "summary": q.summary} for q in queries]
    html = site.templates.get_template("sparql.html").render(site=site, tabs=tabs, base_iri=BASE_IRI)
    return HTMLResponse(html, headers={"Vary": "Accept"})


def _ui_text(query: Any) -> str:
    """The query as the UI shows it: its text, with a note on the parameters the API binds."""
    if not query.params:
        return query.text.strip() + "\n"
    notes = [f"#   ?{p.name}: {p.type}{' (required)' if p.required else ''} {p.description}".rstrip()
             for p in query.params]
    return ("# Parameters (bound as RDF terms by the stored-query API, e.g. /queries/" + query.name + "?"
            + "&".join(f"{p.name}=..." for p in query.params) + "):\n" + "\n".join(notes) + "\n"
            + query.text.strip() + "\n")
