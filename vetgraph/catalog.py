"""Machine-readable descriptions of a release: the DCAT-AP 3 catalogue (catalog.ttl) and VoID (void.ttl).

The settings (version, dates, title, keywords, themes, URLs) come from `release.toml`, never from the clock.
The catalogue states, for every EU vocabulary IRI it uses, the class DCAT-AP's range shapes expect (e.g.
`language/ENG a dct:LinguisticSystem`) and the concept's English label as the EU table gives it
(the reference file `vetgraph/reference/eu-concepts.ttl`, checked against the vocabulary snapshots by the
tests), so a harvester without those tables still sees what the IRIs mean.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from vetgraph import namespaces as ns
from vetgraph.config import DATASET_IRI, ID_BASE, ONTOLOGY_IRI, UNCONFIRMED_GRAPH
from vetgraph.contents import ALL_GRAPHS, DumpFile, Part, describe, dump_parts
from vetgraph.dumps import FORMATS, RDF_TYPE, Prepared
from vetgraph.formats import Format
from vetgraph.namespaces import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, SPDX, VCARD, VOID, XSD
from vetgraph.reference import eu_labels, scheme_titles

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as the tomli package
    import tomli as tomllib  # type: ignore[no-redef]

AUTHORITY = str(ns.AUTHORITY)
IANA = str(ns.IANA_MEDIA_TYPES)
GZIP_MEDIA_TYPE = "application/gzip"
DCAT_VERSION = URIRef(str(DCAT) + "version")  # DCAT 3; rdflib's DCAT namespace predates it
LICENCE = URIRef(AUTHORITY + "licence/CC_BY_4_0")
LANGUAGE = URIRef(AUTHORITY + "language/ENG")
ACCESS_RIGHTS = URIRef(AUTHORITY + "access-right/PUBLIC")
FREQUENCY = URIRef(AUTHORITY + "frequency/IRREG")
LICENCE_TYPE = ns.ADMS_VOCABULARIES["licencetype/Attribution"]
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
PUBLISHER_TYPES = str(ns.ADMS_VOCABULARIES) + "publishertype/"
AVAILABILITY = AUTHORITY + "planned-availability/"
SPARQL_FILE_TYPE = AUTHORITY + "file-type/SPARQLQ"
DCATAP_AVAILABILITY = ns.DCATAP.availability
#: The syntaxes the catalogue is written in (catalog.<extension>), by format registry name.
CATALOG_FORMATS = ("ttl", "rdf", "jsonld")
#: The release files other than the dumps that are distributions of the dataset too: its ontology (the schema
#: its statements use) and the SHACL shapes it is checked against, by format registry name.
SCHEMA_FILES = {"ontology/vet.ttl": "ttl", "ontology/vet.jsonld": "jsonld", "ontology/vet.rdf": "rdf",
                "ontology/shapes.ttl": "ttl"}

NAMESPACES: dict[str, str] = {
    **ns.prefixes("adms", "dcat", "dcatap", "dct", "foaf", "rdfs", "skos", "spdx", "vcard", "void", "xsd", "access",
                  "country", "filetype", "frequency", "language", "licence", "theme", "eurovoc"),
    "this": DATASET_IRI + "#",  # the distributions, checksums, partitions... described here
}  # no prefix for IANA media types: "iana:application\/ld\+json" would need escapes


class ReleaseError(Exception):
    """A release setting that is missing or malformed: names the file and the key."""

    def __init__(self, path: Path, key: str, message: str):
        self.path, self.key, self.message = path, key, message
        super().__init__(f"{path}: {key}: {message}")


@dataclass(frozen=True)
class Release:
    """The release settings of `release.toml`."""

    version: str
    issued: date
    modified: date
    downloads: str
    sparql: str
    title: str
    description: str
    about: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    spatial: tuple[str, ...]
    temporal_start: Literal  # xsd:gYear or xsd:date
    temporal_end: Literal
    publisher_name: str
    publisher_url: str
    contact_name: str
    contact_url: str
    publisher_type: str  # an IRI of the ADMS publisher-type table
    availability: str  # an IRI of the EU planned-availability table: how long the download URLs are meant to hold
    contact_email: str | None = None

    @classmethod
    def load(cls, path: Path) -> Release:
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as error:
            raise ReleaseError(path, "file", error.strerror or str(error)) from None
        except tomllib.TOMLDecodeError as error:
            raise ReleaseError(path, "syntax", str(error)) from None
        settings = _Settings(path, data)
        release = cls(
            version=settings.text("release", "version"),
            issued=settings.date("release", "issued"),
            modified=settings.date("release", "modified"),
            downloads=settings.text("urls", "downloads"),
            sparql=settings.text("urls", "sparql"),
            title=settings.text("dataset", "title"),
            description=settings.text("dataset", "description"),
            about=settings.text("dataset", "about"),
            examples=settings.texts("dataset", "examples", required=False),
            keywords=settings.texts("dataset", "keywords"),
            themes=settings.texts("dataset", "themes"),
            spatial=settings.texts("dataset", "spatial"),
            temporal_start=settings.period("dataset", "temporal_start"),
            temporal_end=settings.period("dataset", "temporal_end"),
            publisher_name=settings.text("publisher", "name"),
            publisher_url=settings.text("publisher", "url"),
            publisher_type=settings.text("publisher", "type"),
            availability=settings.text("release", "availability"),
            contact_name=settings.text("contact", "name"),
            contact_url=settings.text("contact", "url"),
            contact_email=settings.text("contact", "email", required=False) or None,
        )
        for key, prefix, value in (("[publisher] type", PUBLISHER_TYPES, release.publisher_type),
                                   ("[release] availability", AVAILABILITY, release.availability)):
            if not value.startswith(prefix) or value not in eu_labels("en"):
                raise ReleaseError(path, key, f"{value!r} is not an IRI of {prefix}... known to "
                                              "vetgraph/reference/eu-concepts.ttl")
        for key, values in (("themes", release.themes), ("spatial", release.spatial)):
            for iri in values:
                if iri not in eu_labels("en"):
                    message = f"{iri} has no English label in vetgraph/reference/eu-concepts.ttl"
                    raise ReleaseError(path, f"[dataset] {key}", message)
        if not any(iri.startswith(AUTHORITY + "data-theme/") for iri in release.themes):
            raise ReleaseError(path, "[dataset] themes", "DCAT-AP needs at least one EU data theme (data-theme/...)")
        if release.modified < release.issued:
            raise ReleaseError(path, "[release] modified", "is earlier than issued")
        return release


class _Settings:
    """Typed access to the TOML tables, with errors that name the key."""

    def __init__(self, path: Path, data: dict):
        self.path, self.data = path, data

    def _get(self, table: str, key: str, required: bool) -> object:
        value = self.data.get(table, {}).get(key)
        if value is None and required:
            raise ReleaseError(self.path, f"[{table}] {key}", "missing")
        return value

    def text(self, table: str, key: str, required: bool = True) -> str:
        value = self._get(table, key, required)
        if value is None:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise ReleaseError(self.path, f"[{table}] {key}", "must be a non-empty string")
        return value

    def texts(self, table: str, key: str, required: bool = True) -> tuple[str, ...]:
        value = self._get(table, key, required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or (required and not value):
            raise ReleaseError(self.path, f"[{table}] {key}", "must be a list of non-empty strings")
        return tuple(value)

    def date(self, table: str, key: str) -> date:
        value = self._get(table, key, True)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            message = f"{value!r} is not an ISO 8601 date (YYYY-MM-DD)"
            raise ReleaseError(self.path, f"[{table}] {key}", message) from None

    def period(self, table: str, key: str) -> Literal:
        value = str(self._get(table, key, True))
        literal = _period_literal(value)
        if literal is None:
            message = f"{value!r} is neither a year (YYYY) nor a date (YYYY-MM-DD)"
            raise ReleaseError(self.path, f"[{table}] {key}", message)
        return literal


def _period_literal(value: str) -> Literal | None:
    if len(value) == 4 and value.isdigit():
        return Literal(value, datatype=XSD.gYear)
    try:
        date.fromisoformat(value)
    except ValueError:
        return None
    return Literal(value, datatype=XSD.date)


@dataclass(frozen=True)
class PublishedFile:
    """A file of the release: path relative to the release folder, size and SHA-256."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Dump:
    """A published data dump: its file, and what it is (part of the data, RDF syntax, gzip copy or not)."""

    file: PublishedFile
    kind: DumpFile

    @property
    def format(self) -> Format:
        return self.kind.format

    @property
    def compressed(self) -> bool:
        return self.kind.compressed

    @property
    def part(self) -> Part:
        return self.kind.part


def download_url(release: Release, base_url: str, name: str) -> str:
    return base_url + release.downloads + name


def endpoint_url(release: Release, base_url: str) -> str:
    return base_url + release.sparql


def _new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in NAMESPACES.items():
        graph.bind(prefix, namespace)
    return graph


class _Describer:
    """Adds EU concepts to a graph with the type DCAT-AP expects and their English label, once each."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def concept(self, iri: str, *types: URIRef) -> URIRef:
        node = URIRef(iri)
        for cls in types:
            self.graph.add((node, RDF.type, cls))
        self.graph.add((node, SKOS.prefLabel, Literal(eu_labels("en")[iri], lang="en")))
        return node

    def media_type(self, media_type: str) -> URIRef:
        node = URIRef(IANA + media_type)
        self.graph.add((node, RDF.type, DCTERMS.MediaType))
        return node


def catalog_graph(
    release: Release, base_url: str, dumps: Sequence[Dump], cites: str | None = None,
    schema_files: Sequence[PublishedFile] = (),
) -> Graph:
    """The DCAT-AP 3 description of the release: catalogue, dataset, one distribution per dump and per
    ontology/shapes file (`schema_files`, those of SCHEMA_FILES), one for the SPARQL endpoint, the service.

    `cites`: an IRI of the report the data describes (its DOI IRI), given as dct:relation of the dataset."""
    g = _new_graph()
    eu = _Describer(g)
    catalog, dataset = URIRef(_catalog_iri()), URIRef(DATASET_IRI)
    service = URIRef(DATASET_IRI + "#sparql-service")
    publisher, contact = URIRef(DATASET_IRI + "#publisher"), URIRef(DATASET_IRI + "#contact")
    issued, modified = Literal(release.issued), Literal(release.modified)
    licence = eu.concept(str(LICENCE), DCTERMS.LicenseDocument)
    g.add((licence, DCTERMS.type, eu.concept(str(LICENCE_TYPE), SKOS.Concept)))
    language = eu.concept(str(LANGUAGE), DCTERMS.LinguisticSystem)
    spatial = [eu.concept(iri, DCTERMS.Location) for iri in release.spatial]
    themes = [eu.concept(iri, SKOS.Concept) for iri in release.themes]

    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(release.publisher_name, lang="en")))
    g.add((publisher, FOAF.homepage, _document(g, release.publisher_url)))
    g.add((publisher, DCTERMS.type, eu.concept(release.publisher_type, SKOS.Concept)))
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, VCARD.fn, Literal(release.contact_name, lang="en")))
    g.add((contact, VCARD.hasURL, URIRef(release.contact_url)))
    if release.contact_email:
        g.add((contact, VCARD.hasEmail, URIRef("mailto:" + release.contact_email)))

    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("vetgraph catalogue", lang="en")))
    g.add((catalog, DCTERMS.description, Literal(
        "Catalogue of the vetgraph releases: the dataset, its downloads and its SPARQL endpoint.", lang="en")))
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, FOAF.homepage, _document(g, base_url)))
    for triple in ((DCTERMS.issued, issued), (DCTERMS.modified, modified), (DCTERMS.language, language),
                   (DCTERMS.license, licence), (DCAT.dataset, dataset), (DCAT.service, service)):
        g.add((catalog, *triple))
    for node in spatial:
        g.add((catalog, DCTERMS.spatial, node))
    for scheme, title in scheme_titles("en").items():
        if any(theme.startswith(scheme.rsplit("/", 1)[0]) for theme in release.themes):
            g.add((catalog, DCAT.themeTaxonomy, URIRef(scheme)))
            g.add((URIRef(scheme), RDF.type, SKOS.ConceptScheme))
            g.add((URIRef(scheme), DCTERMS.title, Literal(title, lang="en")))

    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal(release.title, lang="en")))
    g.add((dataset, DCTERMS.description, Literal(release.description, lang="en")))
    g.add((dataset, DCTERMS.publisher, publisher))
    g.add((dataset, DCAT.contactPoint, contact))
    g.add((dataset, DCAT_VERSION, Literal(release.version)))
    g.add((dataset, DCAT.landingPage, _document(g, base_url)))
    g.add((dataset, DCTERMS.identifier, Literal(DATASET_IRI)))
    for keyword in release.keywords:
        g.add((dataset, DCAT.keyword, Literal(keyword, lang="en")))
    for node in themes:
        g.add((dataset, DCAT.theme, node))
    for node in spatial:
        g.add((dataset, DCTERMS.spatial, node))
    period = URIRef(DATASET_IRI + "#temporal")
    g.add((period, RDF.type, DCTERMS.PeriodOfTime))
    g.add((period, DCAT.startDate, release.temporal_start))
    g.add((period, DCAT.endDate, release.temporal_end))
    g.add((dataset, DCTERMS.temporal, period))
    for triple in ((DCTERMS.issued, issued), (DCTERMS.modified, modified), (DCTERMS.license, licence),
                   (DCTERMS.language, language)):
        g.add((dataset, *triple))
    g.add((dataset, DCTERMS.accessRights, eu.concept(str(ACCESS_RIGHTS), DCTERMS.RightsStatement)))
    g.add((dataset, DCTERMS.accrualPeriodicity, eu.concept(str(FREQUENCY), DCTERMS.Frequency)))
    ontology = URIRef(ONTOLOGY_IRI)
    g.add((ontology, RDF.type, DCTERMS.Standard))
    g.add((ontology, DCTERMS.title, Literal("vetgraph ontology", lang="en")))
    g.add((dataset, DCTERMS.conformsTo, ontology))
    provenance = URIRef(DATASET_IRI + "#provenance")
    g.add((provenance, RDF.type, DCTERMS.ProvenanceStatement))
    g.add((provenance, RDFS.label, Literal(
        "Curated by hand from public sources; every resource names its sources with dct:source. Statements "
        f"that no retrieved source states directly are in the named graph <{UNCONFIRMED_GRAPH}>. Each release is "
        "checked against the project's SHACL shapes before it is published.", lang="en")))
    g.add((dataset, DCTERMS.provenance, provenance))
    if cites:
        g.add((dataset, DCTERMS.relation, URIRef(cites)))

    availability = eu.concept(release.availability, SKOS.Concept)
    files = [(dump.file, dump.format, dump.compressed, f"{dump.part.title} in {dump.format.title}", dump.kind.sentence)
             for dump in dumps]
    for file in schema_files:
        fmt = FORMATS[SCHEMA_FILES[file.name]]
        what = "SHACL shapes" if "shapes" in file.name else "Ontology"
        files.append((file, fmt, False, f"{what} in {fmt.title}", describe(file.name) or ""))
    for file, fmt, compressed, title, sentence in files:
        node = URIRef(f"{DATASET_IRI}#{file.name}")
        g.add((dataset, DCAT.distribution, node))
        _distribution(g, eu, node, file, fmt, compressed, title, sentence,
                      download_url(release, base_url, file.name), licence, issued, modified)
        g.add((node, DCATAP_AVAILABILITY, availability))

    # The endpoint as a distribution too: harvesters list a dataset's access points from its distributions.
    endpoint = URIRef(DATASET_IRI + "#sparql")
    g.add((dataset, DCAT.distribution, endpoint))
    g.add((endpoint, RDF.type, DCAT.Distribution))
    g.add((endpoint, DCTERMS.title, Literal("SPARQL endpoint", lang="en")))
    g.add((endpoint, DCTERMS.description, Literal(
        "Query the whole dataset (all graphs) with SPARQL 1.1; results as JSON, XML, CSV, TSV or RDF.", lang="en")))
    g.add((endpoint, DCAT.accessURL, URIRef(endpoint_url(release, base_url))))
    g.add((endpoint, DCAT.accessService, service))
    g.add((endpoint, DCTERMS.format, eu.concept(SPARQL_FILE_TYPE, DCTERMS.MediaTypeOrExtent)))
    g.add((endpoint, DCAT.mediaType, eu.media_type("application/sparql-results+json")))
    g.add((endpoint, DCTERMS.license, licence))
    g.add((endpoint, DCATAP_AVAILABILITY, availability))
    g.add((endpoint, DCTERMS.issued, issued))
    g.add((endpoint, DCTERMS.modified, modified))

    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCTERMS.title, Literal("vetgraph SPARQL endpoint", lang="en")))
    g.add((service, DCTERMS.description, Literal(
        "SPARQL 1.1 endpoint over the same data; the default graph of a query is the union of all graphs.",
        lang="en")))
    g.add((service, DCAT.endpointURL, URIRef(endpoint_url(release, base_url))))
    # A SPARQL 1.1 endpoint answers a GET without query with its Service Description.
    g.add((service, DCAT.endpointDescription, URIRef(endpoint_url(release, base_url))))
    g.add((service, DCAT.servesDataset, dataset))
    g.add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    g.add((SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard))
    g.add((SPARQL_PROTOCOL, DCTERMS.title, Literal("SPARQL 1.1 Protocol", lang="en")))
    g.add((service, DCTERMS.publisher, publisher))
    g.add((service, DCAT.contactPoint, contact))
    g.add((service, DCTERMS.license, licence))
    g.add((service, DCTERMS.accessRights, URIRef(ACCESS_RIGHTS)))
    for keyword in ("SPARQL", "linked open data"):
        g.add((service, DCAT.keyword, Literal(keyword, lang="en")))
    for node in themes:
        g.add((service, DCAT.theme, node))
    return g


def _catalog_iri() -> str:
    return DATASET_IRI.rsplit("/", 1)[0] + "/catalog"


def _document(g: Graph, url: str) -> URIRef:
    node = URIRef(url)
    g.add((node, RDF.type, FOAF.Document))
    return node


def _distribution(
    g: Graph, eu: _Describer, node: URIRef, file: PublishedFile, fmt: Format, compressed: bool, title: str,
    sentence: str, url: str, licence: URIRef, issued: Literal, modified: Literal,
) -> None:
    packed = ", gzip-compressed" if compressed else ""
    g.add((node, RDF.type, DCAT.Distribution))
    g.add((node, DCTERMS.title, Literal(f"{title}{packed} ({file.name})", lang="en")))
    g.add((node, DCTERMS.description, Literal(sentence, lang="en")))
    g.add((node, DCTERMS.format, eu.concept(fmt.file_type_iri, DCTERMS.MediaTypeOrExtent)))
    g.add((node, DCAT.mediaType, eu.media_type(fmt.media_type)))
    if compressed:
        g.add((node, DCAT.compressFormat, eu.media_type(GZIP_MEDIA_TYPE)))
    g.add((node, DCAT.byteSize, Literal(str(file.size), datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(f"{node}-sha256")
    g.add((node, SPDX.checksum, checksum))
    g.add((checksum, RDF.type, SPDX.Checksum))
    g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    g.add((checksum, SPDX.checksumValue, Literal(file.sha256, datatype=XSD.hexBinary)))
    g.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    g.add((node, DCAT.downloadURL, URIRef(url)))
    g.add((node, DCAT.accessURL, URIRef(url)))
    g.add((node, DCTERMS.license, licence))
    g.add((node, DCTERMS.issued, issued))
    g.add((node, DCTERMS.modified, modified))


def void_graph(
    release: Release, base_url: str, prepared: Prepared, dumps: Sequence[Dump], examples: Iterable[str]
) -> Graph:
    """The VoID description of the data: statistics, partitions, URI space, vocabularies, access points.

    The statistics are those of the whole dataset (all graphs), whose dumps are those of the syntaxes with
    named graphs; the parts published in triple syntaxes (confirmed, unconfirmed) are subsets with their own
    counts and dumps. Each dump says what it holds, in the words of `vetgraph.contents`."""
    g = _new_graph()
    dataset = URIRef(DATASET_IRI)
    triples = prepared.triples()
    subjects = {t.subject for t in triples}
    objects = {t.object for t in triples}
    predicates = Counter(t.predicate.value for t in triples)
    instances: dict[str, set[object]] = defaultdict(set)
    for t in triples:
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            instances[t.object.value].add(t.subject)
    entities = {s for s in subjects if isinstance(s, ox.NamedNode) and s.value.startswith(ID_BASE)}

    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, DCTERMS.title, Literal(release.title, lang="en")))
    g.add((dataset, DCTERMS.license, LICENCE))
    g.add((dataset, DCTERMS.modified, Literal(release.modified)))
    g.add((dataset, VOID.uriSpace, Literal(ID_BASE)))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint_url(release, base_url))))
    for dump in dumps:
        url = URIRef(download_url(release, base_url, dump.file.name))
        g.add((url, DCTERMS.description, Literal(dump.kind.sentence, lang="en")))
        if dump.part.graph == ALL_GRAPHS:
            g.add((dataset, VOID.dataDump, url))
    for fmt in FORMATS.values():
        g.add((dataset, VOID.feature, URIRef(fmt.w3c_iri)))
    for example in examples:
        g.add((dataset, VOID.exampleResource, URIRef(example)))
    for name, value in (("triples", len(triples)), ("entities", len(entities)), ("classes", len(instances)),
                        ("properties", len(predicates)), ("distinctSubjects", len(subjects)),
                        ("distinctObjects", len(objects))):
        g.add((dataset, VOID[name], Literal(value)))
    for vocabulary in sorted({_namespace(iri) for iri in [*predicates, *instances]}):
        g.add((dataset, VOID.vocabulary, URIRef(vocabulary)))
    for cls in sorted(instances):
        partition = URIRef(f"{DATASET_IRI}#class-{_fragment(cls, prepared.prefixes)}")
        g.add((dataset, VOID.classPartition, partition))
        g.add((partition, VOID["class"], URIRef(cls)))
        g.add((partition, VOID.entities, Literal(len(instances[cls]))))
    for prop in sorted(predicates):
        partition = URIRef(f"{DATASET_IRI}#property-{_fragment(prop, prepared.prefixes)}")
        g.add((dataset, VOID.propertyPartition, partition))
        g.add((partition, VOID.property, URIRef(prop)))
        g.add((partition, VOID.triples, Literal(predicates[prop])))
    _linksets(g, dataset, triples, prepared.prefixes)
    sizes = Counter(key[0] for key in prepared.keys)  # statements per graph ("": the default graph)
    for part in dict.fromkeys(part for part, _ in dump_parts() if part.graph != ALL_GRAPHS):
        subset = URIRef(f"{DATASET_IRI}#{part.key}")
        g.add((dataset, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, DCTERMS.title, Literal(part.title, lang="en")))
        g.add((subset, DCTERMS.description, Literal(part.holds[0].upper() + part.holds[1:] + ".", lang="en")))
        g.add((subset, VOID.triples, Literal(sizes["" if part.graph is None else f"<{part.graph}>"])))
        for dump in dumps:
            if dump.part == part:
                g.add((subset, VOID.dataDump, URIRef(download_url(release, base_url, dump.file.name))))
    return g


def _linksets(g: Graph, dataset: URIRef, triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> None:
    """One void:Linkset per target vocabulary (EuroVoc, ESCO, each EU authority table, DOI, CELEX), counted from
    the data's statements whose object is an IRI of that vocabulary (`vetgraph.links.vocabulary_of`, the same
    classification `vetgraph links` checks), with one void:subset per link predicate when there are several."""
    from vetgraph.links import SYNTAX_CHECKED, is_external, vocabulary_of

    links: dict[str, Counter[str]] = defaultdict(Counter)
    spaces: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        if t.predicate.value == RDF_TYPE or not isinstance(t.object, ox.NamedNode):
            continue
        if not isinstance(t.subject, ox.NamedNode) or not t.subject.value.startswith(ID_BASE):
            continue
        target = t.object.value
        if not is_external(URIRef(target)):
            continue
        vocabulary, known = vocabulary_of(target)
        if known or vocabulary in SYNTAX_CHECKED:  # EU vocabularies with a snapshot, and CELEX and DOI
            links[vocabulary][t.predicate.value] += 1
            spaces[vocabulary].add(_namespace(target) if vocabulary != "DOI" else target.split("10.", 1)[0])
    for vocabulary in sorted(links):
        key = "".join(c if c.isalnum() else "-" for c in vocabulary.lower())
        linkset, target_node = URIRef(f"{DATASET_IRI}#links-{key}"), URIRef(f"{DATASET_IRI}#target-{key}")
        g.add((dataset, VOID.subset, linkset))
        g.add((linkset, RDF.type, VOID.Linkset))
        g.add((linkset, DCTERMS.title, Literal(f"Links to {vocabulary}", lang="en")))
        g.add((linkset, VOID.subjectsTarget, dataset))
        g.add((linkset, VOID.objectsTarget, target_node))
        g.add((target_node, RDF.type, VOID.Dataset))
        g.add((target_node, DCTERMS.title, Literal(vocabulary, lang="en")))
        for space in sorted(spaces[vocabulary]):
            g.add((target_node, VOID.uriSpace, Literal(space)))
        g.add((linkset, VOID.triples, Literal(sum(links[vocabulary].values()))))
        for predicate, count in sorted(links[vocabulary].items()):
            g.add((linkset, VOID.linkPredicate, URIRef(predicate)))
            if len(links[vocabulary]) > 1:
                part = URIRef(f"{linkset}-{_fragment(predicate, prefixes)}")
                g.add((linkset, VOID.subset, part))
                g.add((part, RDF.type, VOID.Linkset))
                g.add((part, VOID.subjectsTarget, dataset))
                g.add((part, VOID.objectsTarget, target_node))
                g.add((part, VOID.linkPredicate, URIRef(predicate)))
                g.add((part, VOID.triples, Literal(count)))


def _namespace(iri: str) -> str:
    """The vocabulary namespace of a term: everything up to the last '#' or '/'."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def _fragment(iri: str, prefixes: dict[str, str]) -> str:
    """A readable, stable fragment for a partition: prefix-local when a prefix fits, else the escaped IRI."""
    for prefix, namespace in sorted(prefixes.items(), key=lambda item: -len(item[1])):
        if iri.startswith(namespace) and iri[len(namespace):].replace("-", "").replace("_", "").isalnum():
            return f"{prefix}-{iri[len(namespace):]}"
    return "".join(c if c.isalnum() else "_" for c in iri)
