"""The one registry of the formats vetgraph reads and writes: RDF syntaxes and SPARQL result formats.

Built on pyoxigraph's `RdfFormat` and `QueryResultsFormat`, which carry each format's name, IANA media type,
file extension, W3C format IRI and whether it holds named graphs. Added here only what they lack: the EU
file-type code (the catalogue's `dct:format`), the short names the CLI's `--format` and the server's
`?format=` accept, and the other media types clients really send.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One format: `name` is its short name (`ttl`, `json` ...), `native` the pyoxigraph format."""

    name: str
    native: ox.RdfFormat | ox.QueryResultsFormat
    #: EU file-type code (http://publications.europa.eu/resource/authority/file-type/...), for dumps
    file_type: str | None = None
    #: other media types clients ask for it by, or stores answer with (application/x-turtle ...)
    media_aliases: tuple[str, ...] = ()
    #: other `?format=` names clients send (SPARQLWrapper: turtle, json-ld ...)
    synonyms: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return self.native.name

    @property
    def media_type(self) -> str:
        """The IANA media type, without parameters (Oxigraph adds `; charset=utf-8` to CSV and TSV)."""
        return self.native.media_type.split(";")[0].strip()

    @property
    def extension(self) -> str:
        return self.native.file_extension

    @property
    def is_rdf(self) -> bool:
        return isinstance(self.native, ox.RdfFormat)

    @property
    def rdf(self) -> ox.RdfFormat:
        """The pyoxigraph RDF syntax (parsers and serializers take it); TypeError for a results format."""
        if not isinstance(self.native, ox.RdfFormat):
            raise TypeError(f"{self.name} is a query-results format, not an RDF syntax")
        return self.native

    @property
    def results(self) -> ox.QueryResultsFormat:
        """The pyoxigraph query-results format; TypeError for an RDF syntax."""
        if not isinstance(self.native, ox.QueryResultsFormat):
            raise TypeError(f"{self.name} is an RDF syntax, not a query-results format")
        return self.native

    @property
    def named_graphs(self) -> bool:
        """Whether the syntax can hold named graphs (TriG, N-Quads, JSON-LD)."""
        return isinstance(self.native, ox.RdfFormat) and self.native.supports_datasets

    @property
    def w3c_iri(self) -> str:
        """The format's IRI in the W3C registry http://www.w3.org/ns/formats/ (pyoxigraph 0.5 gives JSON-LD
        another IRI, https://www.w3.org/ns/formats/data/JSON-LD, which the registry does not list)."""
        from vetgraph.namespaces import W3C_FORMATS  # lazily: rdflib is not needed to pick a format

        return str(W3C_FORMATS["JSON-LD"]) if self.native == ox.RdfFormat.JSON_LD else self.native.iri

    @property
    def file_type_iri(self) -> str:
        from vetgraph.namespaces import AUTHORITY

        return f"{AUTHORITY}file-type/{self.file_type}"


#: SELECT/ASK result formats, in the server's order of preference.
RESULT_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("json", ox.QueryResultsFormat.JSON, media_aliases=("application/json",)),
        Format("xml", ox.QueryResultsFormat.XML, media_aliases=("application/xml", "text/xml")),
        Format("csv", ox.QueryResultsFormat.CSV),
        Format("tsv", ox.QueryResultsFormat.TSV, synonyms=("text",)),
    )
}
#: RDF syntaxes, in the order dumps are written and listed; the first four also answer CONSTRUCT/DESCRIBE.
#: For a graph answer "json" and "xml" (what SPARQLWrapper sends for any query form) mean JSON-LD and RDF/XML.
RDF_FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", ox.RdfFormat.TURTLE, "RDF_TURTLE", ("application/x-turtle", "text/n3", "text/rdf+n3"),
               ("turtle", "n3")),
        Format("nt", ox.RdfFormat.N_TRIPLES, "RDF_N_TRIPLES", ("text/plain", "text/ntriples"),
               ("ntriples", "n-triples")),
        Format("jsonld", ox.RdfFormat.JSON_LD, "JSON_LD", ("application/json",), ("json-ld", "json")),
        Format("rdf", ox.RdfFormat.RDF_XML, "RDF_XML", ("application/xml", "text/xml"), ("rdf+xml", "rdfxml", "xml")),
        Format("trig", ox.RdfFormat.TRIG, "RDF_TRIG"),
        Format("nq", ox.RdfFormat.N_QUADS, "RDF_N_QUADS"),
    )
}
#: The RDF syntaxes of a CONSTRUCT/DESCRIBE answer (a graph: no named graphs).
GRAPH_FORMATS: dict[str, Format] = {name: RDF_FORMATS[name] for name in ("ttl", "nt", "jsonld", "rdf")}


def by_extension(suffix: str) -> Format | None:
    """The RDF syntax of a file suffix (`.ttl`), or None."""
    return next((f for f in RDF_FORMATS.values() if "." + f.extension == suffix), None)


def rdf_by_media_type(media_type: str) -> Format | None:
    """The RDF syntax of a Content-Type (parameters ignored), its aliases included, or None."""
    wanted = media_type.split(";")[0].strip().lower()
    return next((f for f in RDF_FORMATS.values() if wanted in (f.media_type, *f.media_aliases)), None)
