"""The human-readable face of a release: README.txt and index.html (what is there, licence, how to cite).

The citation of the report is read from the graph, from confirmed statements only (the default graph): title,
subtitle, author, year, place, publisher and DOI. Whatever the data does not state is left out, not guessed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import Dataset, URIRef
from rdflib.namespace import DCTERMS, RDFS
from rdflib.term import Node

from vetgraph.catalog import Dump, Release, download_url, endpoint_url
from vetgraph.contents import describe
from vetgraph.namespaces import VET

LICENCE_NAME = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
WIDTH = 100  # README.txt line width


@dataclass(frozen=True)
class Citation:
    """A bibliographic reference assembled from the graph."""

    title: str
    subtitle: str | None = None
    author: str | None = None
    year: str | None = None
    place: str | None = None
    publisher: str | None = None
    doi: str | None = None

    def text(self) -> str:
        title = self.title.rstrip(".")
        if self.subtitle and self.subtitle not in self.title:
            title += f" – {self.subtitle.rstrip('.')}"
        year = f" ({self.year})" if self.year else ""
        parts = [f"{self.author}{year}. {title}." if self.author else f"{title}{year}."]
        imprint = ": ".join(p for p in (self.place, self.publisher) if p)
        if imprint:
            parts.append(imprint + ".")
        if self.doi:
            parts.append(f"https://doi.org/{self.doi}")
        return " ".join(parts)


def citation(dataset: Dataset, about: str) -> Citation | None:
    """The citation of `about` from the confirmed statements, or None when the data has no title for it."""
    graph = dataset.default_graph
    subject = URIRef(about)

    def value(node: Node, predicate: URIRef) -> str | None:
        found = sorted(str(o) for o in graph.objects(node, predicate))
        return found[0] if found else None

    def label_of(predicate: URIRef) -> str | None:
        targets = sorted(graph.objects(subject, predicate))
        labels = sorted(str(label) for t in targets for label in graph.objects(t, RDFS.label))
        return labels[0] if labels else None

    title = value(subject, DCTERMS.title)
    if title is None:
        return None
    issued = value(subject, DCTERMS.issued)
    return Citation(
        title=title,
        subtitle=value(subject, DCTERMS.alternative),
        author=label_of(DCTERMS.creator),
        year=issued[:4] if issued else None,
        place=value(subject, VET.placeOfPublication),
        publisher=label_of(DCTERMS.publisher),
        doi=value(subject, VET.doi),
    )


def dataset_citation(release: Release, base_url: str) -> str:
    return cite_dataset(release.publisher_name, release.modified.year, release.version, base_url)


def cite_dataset(publisher: str, year: int, version: str, url: str) -> str:
    """How to cite a release of the dataset (README, index.html, the server's /download/ page)."""
    return f"{publisher} ({year}). vetgraph, version {version} [data set]. {url}"


@dataclass(frozen=True)
class Contents:
    """What a release folder holds, for its README and index page (each file described by vetgraph.contents)."""

    dumps: Sequence[Dump]
    extra: Sequence[str]  # the names of the other files


def readme_text(release: Release, base_url: str, contents: Contents, cite: Citation | None) -> str:
    """README.txt: plain text, wrapped by hand so it reads well in a terminal."""
    lines = [
        f"vetgraph {release.version} ({release.modified.isoformat()})",
        "=" * len(f"vetgraph {release.version} ({release.modified.isoformat()})"),
        "",
        *textwrap.wrap(release.title, WIDTH),
        "",
        *textwrap.wrap(release.description, WIDTH),
        "",
        "Files",
        "-----",
    ]
    width = max(len(d.file.name) for d in contents.dumps) if contents.dumps else 20
    width = max([width, *(len(name) for name in contents.extra)])
    rows = [(d.file.name, _size(d.file.size), d.kind.sentence) for d in contents.dumps]
    rows += [(name, "", describe(name) or "") for name in contents.extra]
    indent = " " * (width + 13)
    for name, size, text in rows:
        lines += textwrap.wrap(text, WIDTH, initial_indent=f"{name:<{width}}  {size:>9}  ", subsequent_indent=indent)
    lines += [
        "",
        "Check the downloads with: sha256sum -c SHA256SUMS",
        f"Download base: {download_url(release, base_url, '')}",
        f"SPARQL endpoint: {endpoint_url(release, base_url)}",
        "",
        "Licence",
        "-------",
        *textwrap.wrap(f"The data is published under the {LICENCE_NAME}: {LICENCE_URL}", WIDTH),
        "",
        "How to cite",
        "-----------",
    ]
    if cite is not None:
        lines += ["The report:", *textwrap.wrap(cite.text(), WIDTH, initial_indent="  ", subsequent_indent="  "), ""]
    lines += ["This dataset:", "  " + dataset_citation(release, base_url), ""]
    return "\n".join(lines)


def index_html(release: Release, base_url: str, contents: Contents, cite: Citation | None) -> str:
    """index.html: the same content as README.txt, as a small self-contained page."""
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_INDEX_TEMPLATE)
    return template.render(
        release=release,
        dumps=[(d.file.name, d.kind.sentence, _size(d.file.size), d.file.sha256) for d in contents.dumps],
        extra=[(name, describe(name)) for name in contents.extra],
        endpoint=endpoint_url(release, base_url),
        licence_name=LICENCE_NAME,
        licence_url=LICENCE_URL,
        cite=cite.text() if cite else None,
        doi=cite.doi if cite else None,
        dataset_cite=dataset_citation(release, base_url),
    ) + "\n"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = size / 1024
    for unit in ("KiB", "MiB"):
        if scaled < 1024:
            return f"{scaled:.1f} {unit}"
        scaled /= 1024
    return f"{scaled:.1f} GiB"


_INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vetgraph {{ release.version }}</title>
<link rel="alternate" type="text/turtle" href="catalog.ttl" title="DCAT-AP catalogue">
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table { border-collapse: collapse; } td, th { padding: .2rem .8rem .2rem 0; text-align: left; vertical-align: top; }
code { font-size: .85em; word-break: break-all; }
</style>
</head>
<body>
<h1>vetgraph {{ release.version }} <small>({{ release.modified.isoformat() }})</small></h1>
<p><strong>{{ release.title }}</strong></p>
<p>{{ release.description }}</p>
<h2>Downloads</h2>
<table>
<tr><th>File</th><th>Content</th><th>Size</th><th>SHA-256</th></tr>
{% for name, text, size, sha in dumps %}
<tr><td><a href="{{ name }}">{{ name }}</a></td><td>{{ text }}</td><td>{{ size }}</td>
<td><code>{{ sha }}</code></td></tr>
{% endfor %}
</table>
<h2>Descriptions</h2>
<ul>
{% for name, text in extra %}
<li><a href="{{ name }}">{{ name }}</a>: {{ text }}</li>
{% endfor %}
</ul>
<p>Check the downloads with <code>sha256sum -c SHA256SUMS</code>.
SPARQL endpoint: <a href="{{ endpoint }}">{{ endpoint }}</a></p>
<h2>Licence</h2>
<p>The data is published under the <a href="{{ licence_url }}" rel="license">{{ licence_name }}</a>.</p>
<h2>How to cite</h2>
{% if cite %}
<p>The report: {{ cite }}{% if doi %} (<a href="https://doi.org/{{ doi }}">doi:{{ doi }}</a>){% endif %}</p>
{% endif %}
<p>This dataset: {{ dataset_cite }}</p>
</body>
</html>"""
