"""The static linked-data site (`vetgraph build --site-url URL`): every page and RDF representation that
`vetgraph serve` answers for /id/..., /graph/... and /def, written as files, so that any plain web server or
static host can publish the data without a Python process; plus the Apache httpd rules for content
negotiation and the redirect rules for w3id.org.

The pages come from the server's own renderers (`vetgraph.server.resources`, `.pages`, `.downloads`,
`.stored`) on a `Site` with `live=False`: the two cannot drift. What only a live server has (the SPARQL
endpoint, the stored-query API, profiles other than the default) is left out of the pages, or links to
`--endpoint` when one is given.

Layout (`insight/3` stands for any resource path under /id/):

    id/insight/3.html .ttl .jsonld .nt .rdf   the representations, by extension
    id/insight/3.var                          Apache type map: Accept picks one of them
    graph/unconfirmed.*  def.*                the same for the named graph and the ontology
    index.html  queries.html  queries/NAME.html  404.html  search.json  static/
    download/                                  the release files, with catalog.ttl and void.ttl
    .htaccess                                  mod_rewrite + mod_negotiation rules (see docs/static-site.md)
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from vetgraph.config import BASE_IRI, GRAPH_BASE, ID_BASE

if TYPE_CHECKING:
    from vetgraph.loading import Loaded
    from vetgraph.queries import StoredQuery
    from vetgraph.server.site import Site

#: The site's files go through this (the release folder's writer: checksums, interrupt safety).
Write = Callable[[str, bytes], object]

#: Source quality of each representation in the type maps, in the server's order of preference
#: (vetgraph.server.conneg.RESOURCE_OFFERS). Close to 1 so that a client's q-values decide, as on the server.
_QS_STEP = 0.01


@dataclass(frozen=True)
class SiteOptions:
    #: where dist/site/ is published (its path is kept in links: https://host/vetgraph/ serves /vetgraph/id/...)
    site_url: str
    #: a live SPARQL endpoint the pages link to; None: no SPARQL links at all
    endpoint: str | None = None


def static_site(loaded: Loaded, options: SiteOptions, dist: Path | None,
                catalogue: Mapping[str, StoredQuery] | None = None) -> Site:
    """A server `Site` over the loaded data that renders for the static site (no engine runs on it)."""
    from vetgraph.server.app import DEFAULT_PREFIXES
    from vetgraph.server.cache import ByteBudgetCache
    from vetgraph.server.pages import environment
    from vetgraph.server.site import Site
    from vetgraph.server.vocabulary import Vocabulary
    from vetgraph.server.workers import ThreadEngine

    store = loaded.store()
    prefixes = {prefix: str(ns) for prefix, ns in loaded.dataset.namespaces() if prefix} or dict(DEFAULT_PREFIXES)
    site_url = options.site_url if options.site_url.endswith("/") else options.site_url + "/"
    return Site(
        store=store, engine=ThreadEngine(store, max_result_bytes=2**24), base_url=site_url, timeout=60.0,
        catalogue=dict(catalogue or {}), dist_dir=dist, ontology=loaded.ontology,
        vocabulary=Vocabulary.from_ontology(loaded.ontology), prefixes=prefixes, templates=environment(),
        last_modified=datetime(1970, 1, 1, tzinfo=timezone.utc), max_body_bytes=0, max_result_bytes=2**24,
        pages=ByteBudgetCache(0), results=ByteBudgetCache(0), live=False, endpoint=options.endpoint,
    )


def resource_paths(site: Site) -> list[str]:
    """The resource paths under /id/ the server answers for (subjects and objects of the data), sorted; hash
    IRIs belong to their document, and paths no file name can hold are left to the server."""
    query = f"""SELECT DISTINCT ?r WHERE {{
      {{ {{ ?r ?p ?o }} UNION {{ GRAPH ?g {{ ?r ?p ?o }} }} UNION {{ ?s ?p ?r }} UNION {{ GRAPH ?g {{ ?s ?p ?r }} }} }}
      FILTER(isIRI(?r) && STRSTARTS(STR(?r), "{ID_BASE}"))
    }}"""
    from vetgraph.server.resources import _SAFE_PATH

    paths = set()
    for (iri,) in site.store.query(query).rows:
        stem = str(iri)[len(ID_BASE):]
        if stem and "#" not in stem and _SAFE_PATH.match(stem) and _file_safe(unquote(stem)):
            paths.add(stem)
    return sorted(paths)


def _file_safe(stem: str) -> bool:
    parts = stem.split("/")
    return all(part and not part.startswith(".") and len(part.encode()) < 200 for part in parts)


def write_site(site: Site, write: Write) -> None:
    """Write the whole site through `write(relative name, bytes)`."""
    for name, data in _files(site):
        write(name, data)


def _files(site: Site) -> Iterator[tuple[str, bytes]]:
    from rdflib import URIRef

    from vetgraph.server.conneg import RESOURCE_OFFERS
    from vetgraph.server.describe import describe, describe_graph
    from vetgraph.server.profiles import PROFILES
    from vetgraph.server.resources import (
        render_graph_representation,
        render_ontology_representation,
        render_resource_representation,
    )

    search: list[dict[str, str]] = []
    for stem in resource_paths(site):
        description = describe(site.store, URIRef(ID_BASE + stem), site.vocabulary)
        if not description.exists:
            continue
        file_stem = "id/" + unquote(stem)
        for offer in RESOURCE_OFFERS:
            rendered = render_resource_representation(site, description, offer, PROFILES[0], "/id/" + stem)
            yield f"{file_stem}.{offer.extension}", rendered.body
        yield f"{file_stem}.var", type_map(file_stem.rsplit("/", 1)[-1])
        search.append(_search_entry(site, description, stem))
    graph_stems = sorted({str(g)[len(GRAPH_BASE):] for (g,) in site.store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows if str(g).startswith(GRAPH_BASE)})
    for stem in graph_stems:
        if not _file_safe(stem) or "#" in stem:
            continue
        contents = describe_graph(site.store, URIRef(GRAPH_BASE + stem), site.vocabulary)
        for offer in RESOURCE_OFFERS:
            yield f"graph/{stem}.{offer.extension}", render_graph_representation(
                site, contents, offer, "/graph/" + stem).body
        yield f"graph/{stem}.var", type_map(stem.rsplit("/", 1)[-1])
    if site.ontology is not None:
        for offer in RESOURCE_OFFERS:
            yield f"def.{offer.extension}", render_ontology_representation(site, offer).body
        yield "def.var", type_map("def")
    yield from _pages(site, search)
    yield from _static_files()
    yield ".htaccess", htaccess(site)


def _search_entry(site: Site, description, stem: str) -> dict[str, str]:
    from vetgraph.namespaces import DCTERMS, RDF
    from vetgraph.server.pages import Views, title_of

    views = Views(site, description.labels)
    types = sorted(views.label(o) for s, p, o in description.triples
                   if s == description.iri and p == RDF.type)
    label = title_of(views, description)
    # The formal title too (an insight is labelled "Insight 3" but titled with its statement).
    titles = sorted(str(o) for s, p, o in description.triples
                    if s == description.iri and p == DCTERMS.title and str(o) != label)
    return {"label": label, "type": types[0] if types else "", "path": "/id/" + stem,
            "title": titles[0] if titles else ""}


def _pages(site: Site, search: list[dict[str, str]]) -> Iterator[tuple[str, bytes]]:
    from vetgraph.server import home
    from vetgraph.server.pages import render_home
    from vetgraph.server.stored import queries_html

    yield "index.html", render_home(site, home.load(site.store)).encode("utf-8")
    yield "queries.html", queries_html(site).encode("utf-8")
    for query in site.catalogue.values():
        yield f"queries/{query.name}.html", query_page(site, query).encode("utf-8")
    if site.dist_dir is not None:
        from vetgraph.server.downloads import listing_html

        yield "download/index.html", listing_html(site).encode("utf-8")
    yield "404.html", site.templates.get_template("error.html").render(
        site=site, status=404, title="Not found", message="Nothing is published at this address.",
        request_path="").encode("utf-8")
    entries = sorted(search, key=lambda e: (e["label"].lower(), e["path"]))
    yield "search.json", (json.dumps(entries, ensure_ascii=False, sort_keys=True, indent=0) + "\n").encode("utf-8")
    groups: dict[str, list[dict[str, str]]] = {}
    for entry in entries:
        groups.setdefault(entry["type"], []).append(entry)
    yield "search.html", site.templates.get_template("search.html").render(
        site=site, groups=sorted(groups.items(), key=lambda g: (g[0] == "", g[0].lower())),
        count=len(entries)).encode("utf-8")


def example_values(query: StoredQuery) -> dict[str, str]:
    """The parameter values of a stored query's example command (`vetgraph query NAME --param k=v ...`)."""
    words = shlex.split(query.example) if query.example else []
    values = {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "--param" and "=" in value:
            key, _, given = value.partition("=")
            values[key] = given
    return values


def query_page(site: Site, query: StoredQuery) -> str:
    """A stored query's page: its text, its parameters and its answer for the example values (the server's
    template and result table; the run is the embedded store's, as `vetgraph query` runs it)."""
    from vetgraph.queries import ParameterError
    from vetgraph.server.stored import result_table

    values = example_values(query)
    table, message = None, None
    try:
        bindings = query.bind(values)
        graph = query.kind in ("construct", "describe")
        kind, body = site.store.native(query.text, "nt" if graph else "json", bindings)
        if kind == "graph":  # a graph has no order of its own: sorted, for the same bytes every build
            body = b"".join(sorted(body.splitlines(keepends=True)))
        table = result_table(site, kind, body)
    except ParameterError as failure:  # an example that needs values it does not give: no answer shown
        message = str(failure)
    return site.templates.get_template("query.html").render(
        site=site, query=query, values=values, table=table, message=message, formats=[])


def _static_files() -> Iterator[tuple[str, bytes]]:
    """The style sheet, the icon and the search script (the query UI needs a live endpoint and stays out)."""
    from vetgraph.server.app import STATIC

    for name in ("style.css", "favicon.svg", "search.js"):
        yield f"static/{name}", (STATIC / name).read_bytes()


def type_map(name: str) -> bytes:
    """An Apache type map (mod_negotiation) of the representations `name.*` beside it."""
    from vetgraph.server.conneg import RESOURCE_OFFERS

    lines = []
    for index, offer in enumerate(RESOURCE_OFFERS):
        qs = f"{1 - index * _QS_STEP:.2f}"
        lines.append(f"URI: {quote(name)}.{offer.extension}\nContent-Type: {offer.media_type}; qs={qs}\n")
    return "\n".join(lines).encode("ascii")


def media_types() -> list[tuple[str, str]]:
    """(extension, Content-Type with charset) of every representation the site holds."""
    from vetgraph.server.conneg import RESOURCE_OFFERS
    from vetgraph.server.site import with_charset

    pairs = [(o.extension or o.name, with_charset(o.media_type)) for o in RESOURCE_OFFERS]
    return [*pairs, ("json", "application/json; charset=utf-8"), ("css", "text/css; charset=utf-8"),
            ("js", "text/javascript; charset=utf-8")]


def htaccess(site: Site) -> bytes:
    """Rules for Apache httpd (AllowOverride All; mod_rewrite, mod_negotiation, mod_mime, mod_headers)."""
    from vetgraph.server.app import CSP
    prefix = site.prefix
    types = "\n".join(f'AddType "{media}" .{extension}' for extension, media in media_types())
    text = f"""# vetgraph static site for Apache httpd: content negotiation on the resources' IRIs.
# Needs AllowOverride All (or FileInfo Options Indexes) and mod_rewrite, mod_negotiation, mod_mime, mod_headers.
# /id/insight/3 is answered from the type map id/insight/3.var: Accept (with q-values) picks .ttl, .html,
# .jsonld, .nt or .rdf in the same order of preference as `vetgraph serve`; /id/insight/3.ttl is the file.
Options -Indexes -MultiViews
DirectorySlash Off
DirectoryIndex index.html
AddDefaultCharset utf-8
{types}
AddHandler type-map .var
ErrorDocument 404 {prefix}/404.html

RewriteEngine On
RewriteBase {prefix}/
# The type maps are the server's internal business: a request for one by name is not found.
RewriteCond %{{ENV:REDIRECT_STATUS}} ^$
RewriteRule \\.var$ - [R=404,L]
# An IRI of a resource, the named graph or the ontology: negotiate among its files.
RewriteCond %{{REQUEST_FILENAME}} !-f
RewriteCond %{{REQUEST_FILENAME}}.var -f
RewriteRule ^(.+)$ $1.var [L]
# The other pages at the server's addresses: /queries, /queries/NAME; /download as the server redirects it.
RewriteCond %{{REQUEST_FILENAME}} !-f
RewriteCond %{{REQUEST_FILENAME}}.html -f
RewriteRule ^(.+)$ $1.html [L]
RewriteRule ^download$ {prefix}/download/ [R=301,L]
# A folder that is not a resource (id/insight/ holds insight/3.*): not found rather than a listing.
RewriteCond %{{REQUEST_FILENAME}} -d
RewriteCond %{{REQUEST_FILENAME}}/index.html !-f
RewriteRule ^ - [R=404,L]
# The downloads' discovery documents at the server's addresses.
RewriteRule ^catalog$ download/catalog.ttl [L]
RewriteRule ^\\.well-known/void$ download/void.ttl [L]
RewriteRule ^dataset$ {prefix}/download/catalog.ttl [R=303,L]

<IfModule mod_headers.c>
  # As the server's pages: scripts, styles and fetches from this site only.
  <FilesMatch "\\.(html|var)$">
    Header set Content-Security-Policy "{CSP}"
  </FilesMatch>
  <FilesMatch "\\.var$">
    Header merge Vary Accept
  </FilesMatch>
  Header always set X-Content-Type-Options nosniff
</IfModule>
"""
    return text.encode("utf-8")


def w3id_htaccess(site_url: str) -> bytes:
    """The redirect rules for https://w3id.org/vetgraph/ (a pull request to perma-id/w3id.org adds this file
    as vetgraph/.htaccess): every IRI to its address on the published site, the Accept header kept."""
    target = site_url if site_url.endswith("/") else site_url + "/"
    w3id_path = urlsplit(BASE_IRI).path  # /vetgraph/
    text = f"""# w3id.org/vetgraph: permanent identifiers of the vetgraph linked open data
# (the ET 2020 Working Group on VET report "Innovation & Digitalisation", 2020).
# Maintainers: see the project's README (Publishing); the site is generated by `vetgraph build --site-url`.
# Served by {target}
# This file lives at {w3id_path}.htaccess in the w3id.org repository.

Options +FollowSymLinks
RewriteEngine on

# /id/... names things (an insight, an organisation), not documents: 303 See Other, as W3C "Cool URIs for
# the Semantic Web" and w3id.org's own examples answer for non-information resources. The target host
# negotiates by the Accept header, which the client sends again on the redirected request; Vary: Accept
# keeps caches from serving one representation for another.
<IfModule mod_headers.c>
  Header always append Vary Accept
</IfModule>
RewriteRule ^id/(.+)$ {target}id/$1 [R=303,L,NE]

# /def (the ontology, hash IRIs /def#Insight), /graph/... (named graphs) and the dataset's documents are
# documents themselves: a plain temporary redirect, 302, keeps the w3id.org IRI the one to cite.
RewriteRule ^def(\\.[a-z]+)?$ {target}def$1 [R=302,L]
RewriteRule ^graph/(.+)$ {target}graph/$1 [R=302,L,NE]
RewriteRule ^(dataset|catalog)$ {target}download/catalog.ttl [R=302,L]
RewriteRule ^\\.well-known/void$ {target}download/void.ttl [R=302,L]
RewriteRule ^download/(.*)$ {target}download/$1 [R=302,L,NE]
RewriteRule ^profile/(.*)$ {target} [R=302,L]
RewriteRule ^$ {target} [R=302,L]
"""
    return text.encode("utf-8")
