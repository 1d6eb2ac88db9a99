"""catalog.ttl (DCAT-AP 3) and void.ttl: conformance to the official DCAT-AP 3.0.1 shapes, and that what
they say about the release (sizes, checksums, URLs, dates, counts) is true."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from tests.helpers.build import BASE_URL
from tests.helpers.rdf import literal_value
from tests.helpers.shared import require_shared
from vetgraph.catalog import DCAT_VERSION, SPDX
from vetgraph.config import DATASET_IRI
from vetgraph.contents import dump_files
from vetgraph.dumps import FORMATS, sha256_hex
from vetgraph.reference import eu_labels, scheme_titles

# Plain Namespaces: pytest probes module attributes, and rdflib's closed namespaces warn on unknown names.
SH = Namespace("http://www.w3.org/ns/shacl#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
VOID = Namespace("http://rdfs.org/ns/void#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
AUTHORITY = "http://publications.europa.eu/resource/authority/"
DCAT_AP_SHAPES = ("shapes.ttl", "range.ttl", "mdr-vocabularies.shape.ttl", "shapes_recommended.ttl",
                  "deprecateduris.ttl")
#: The one defect of the official 3.0.1 shapes that a correct catalogue meets: mdr-vocabularies.shape.ttl asks
#: the checksum algorithm IRI to match "^https://spdx.org/rdf/terms", but the SPDX namespace that DCAT 3 and
#: DCAT-AP 3 use is http://spdx.org/rdf/terms# (the 3.0.1 "SHACL template" dcat-ap-SHACL.ttl agrees: it only
#: asks for sh:class spdx:ChecksumAlgorithm). We keep the correct IRI; see docs/publication.md.
SPDX_PATTERN_DEFECT = (URIRef("http://data.europa.eu/r5r#ChecksumAlgorithmRestriction"), SH.pattern,
                       Literal("^https://spdx.org/rdf/terms"))
DATASET = URIRef(DATASET_IRI)
#: The class DCAT-AP 3 gives as the range of each property that points to an EU vocabulary IRI.
DCAT_AP_RANGE: dict[Node, URIRef] = {
    DCTERMS.license: DCTERMS.LicenseDocument, DCTERMS.language: DCTERMS.LinguisticSystem,
    DCTERMS.spatial: DCTERMS.Location, DCAT.theme: SKOS.Concept, DCTERMS.accessRights: DCTERMS.RightsStatement,
    DCTERMS.accrualPeriodicity: DCTERMS.Frequency, DCTERMS["format"]: DCTERMS.MediaTypeOrExtent,
    DCTERMS.type: SKOS.Concept, DCATAP.availability: SKOS.Concept,
}
QUAD_FORMATS = [ext for ext, fmt in FORMATS.items() if fmt.named_graphs]


def dcat_ap_violations(
    catalog: Path, vocab_dir: Path, without_defect: bool = False, severity: URIRef = SH.Violation
) -> list[tuple]:
    """Top-level results (Violations, or `severity`) of catalog.ttl against the DCAT-AP 3.0.1 html-shacl set,
    with the EU vocabulary subsets in the data graph as ../shared/vocab/dcat-ap/README.txt prescribes."""
    from pyshacl import validate

    folder = require_shared("vocab", "dcat-ap", "3.0.1", "html-shacl")
    shapes = Graph()
    for name in DCAT_AP_SHAPES:
        shapes.parse(folder / name, format="turtle")
    if without_defect:
        assert SPDX_PATTERN_DEFECT in shapes
        shapes.remove(SPDX_PATTERN_DEFECT)
    data = Graph().parse(catalog, format="turtle")
    for subset in sorted(vocab_dir.glob("*.ttl")):
        data.parse(subset, format="turtle")
    _conforms, report, _text = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    nested = set(report.objects(None, SH.detail))
    return sorted(
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath), report.value(r, SH.value))
        for r in report.subjects(SH.resultSeverity, severity)
        if r not in nested
    )


@pytest.mark.parametrize("which", ["project_release", "fixture_release"])
def test_catalog_conforms_to_dcat_ap_3(which: str, request: pytest.FixtureRequest, vocab_dir: Path) -> None:
    catalog = request.getfixturevalue(which) / "catalog.ttl"
    violations = dcat_ap_violations(catalog, vocab_dir)
    checksums = set(Graph().parse(catalog).subjects(RDF.type, SPDX.Checksum))
    # The only Violations are the shapes' own SPDX namespace defect, once per checksum ...
    assert violations == sorted((c, SPDX.algorithm, SPDX.checksumAlgorithm_sha256) for c in checksums)
    # ... and with that one pattern removed from the shapes, there is none at all.
    assert dcat_ap_violations(catalog, vocab_dir, without_defect=True) == []


def test_every_remaining_warning_is_one_docs_publication_md_explains(project_release: Path, vocab_dir: Path) -> None:
    catalog_file = project_release / "catalog.ttl"
    warnings = dcat_ap_violations(catalog_file, vocab_dir, severity=SH.Warning)
    catalog = Graph().parse(catalog_file)
    eur = URIRef(AUTHORITY + "country/EUR")
    service, catalogue = URIRef(DATASET_IRI + "#sparql-service"), URIRef(DATASET_IRI.rsplit("/", 1)[0] + "/catalog")
    publisher = catalog.value(DATASET, DCTERMS.publisher)
    eurovoc = [t for t in catalog.objects(DATASET, DCAT.theme) if str(t).startswith("http://eurovoc.europa.eu/")]
    expected = {
        (eur, DCAT.bbox, None), (eur, DCAT.centroid, None),  # no geometry of the EU in the data or the tables
        *((node, DCTERMS.publisher, publisher) for node in (catalogue, DATASET, service)),  # not an EU body
        *((node, DCAT.theme, theme) for node in (DATASET, service) for theme in eurovoc),  # EuroVoc, not data-theme
    }
    assert len(eurovoc) == 5
    assert set(warnings) == expected
    documented = " ".join((Path(__file__).parents[1] / "docs" / "publication.md").read_text(encoding="utf-8").split())
    for phrase in ("dcat:bbox", "dcat:centroid", "corporate-body table", "EuroVoc themes"):
        assert phrase in documented


def test_distributions_carry_availability_and_the_publisher_its_type(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    stable = URIRef(AUTHORITY + "planned-availability/STABLE")  # the fixture's release.toml
    distributions = set(catalog.objects(DATASET, DCAT.distribution))
    assert {catalog.value(d, DCATAP.availability) for d in distributions} == {stable}
    publisher = catalog.value(DATASET, DCTERMS.publisher)
    assert catalog.value(publisher, DCTERMS.type) == URIRef("http://purl.org/adms/publishertype/NonProfitOrganisation")
    assert catalog.value(DATASET, DCTERMS.identifier) == Literal(DATASET_IRI)
    assert catalog.value(DATASET, DCAT.landingPage) == URIRef(BASE_URL)


def test_the_endpoint_ontology_and_shapes_are_distributions(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    endpoint = URIRef(DATASET_IRI + "#sparql")
    assert endpoint in set(catalog.objects(DATASET, DCAT.distribution))
    assert catalog.value(endpoint, DCAT.accessURL) == URIRef(BASE_URL + "sparql")
    service = catalog.value(endpoint, DCAT.accessService)
    assert (service, RDF.type, DCAT.DataService) in catalog
    for name in ("ontology/vet.ttl", "ontology/vet.jsonld", "ontology/vet.rdf", "ontology/shapes.ttl"):
        node = URIRef(f"{DATASET_IRI}#{name}")
        assert node in set(catalog.objects(DATASET, DCAT.distribution)), name
        assert catalog.value(node, DCAT.downloadURL) == URIRef(BASE_URL + "download/" + name)
        checksum = catalog.value(node, SPDX.checksum)
        assert str(catalog.value(checksum, SPDX.checksumValue)) == sha256_hex((fixture_release / name).read_bytes())


def test_catalog_rdf_and_jsonld_say_what_catalog_ttl_says(fixture_release: Path) -> None:
    import json

    from pyld import jsonld
    from rdflib.compare import isomorphic

    turtle = Graph().parse(fixture_release / "catalog.ttl", format="turtle")
    # Debian's rapper reads the RDF/XML as harvesters do; its N-Triples must give the same graph.
    rapper = subprocess.run(["rapper", "-q", "-i", "rdfxml", "-o", "ntriples", str(fixture_release / "catalog.rdf")],
                            capture_output=True, check=True)
    assert isomorphic(Graph().parse(data=rapper.stdout, format="nt"), turtle)
    document = json.loads((fixture_release / "catalog.jsonld").read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    assert isomorphic(Graph().parse(data=nquads, format="nt"), turtle)


EU_LABELS, SCHEME_TITLES = eu_labels("en"), scheme_titles("en")


def test_eu_labels_are_those_of_the_eu_tables(vocab_dir: Path) -> None:
    snapshot = Graph()
    for subset in sorted(vocab_dir.glob("*.ttl")):
        snapshot.parse(subset, format="turtle")
    for iri, label in EU_LABELS.items():
        assert Literal(label, lang="en") in set(snapshot.objects(URIRef(iri), SKOS.prefLabel)), iri
    for iri, title in SCHEME_TITLES.items():
        assert Literal(title, lang="en") in set(snapshot.objects(URIRef(iri), DCTERMS["title"])), iri


def test_catalog_states_types_and_labels_of_the_eu_iris_it_uses(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    used = {o for o in catalog.objects() if isinstance(o, URIRef) and str(o).startswith((AUTHORITY, "http://eurovoc"))}
    used -= set(map(URIRef, SCHEME_TITLES))
    assert used and used <= set(map(URIRef, EU_LABELS))
    for iri in used:
        assert catalog.value(iri, SKOS.prefLabel) == Literal(EU_LABELS[str(iri)], lang="en")
        ranges = {DCAT_AP_RANGE[p] for p in catalog.predicates(None, iri)}
        assert set(catalog.objects(iri, RDF.type)) == ranges, iri
    assert (URIRef(AUTHORITY + "language/ENG"), RDF.type, DCTERMS.LinguisticSystem) in catalog


def test_one_distribution_per_dump_with_true_size_checksum_and_url(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    distributions = list(catalog.objects(DATASET, DCAT.distribution))
    files = [d for d in distributions if "vetgraph" in str(catalog.value(d, DCAT.downloadURL)).rsplit("/", 1)[-1]]
    assert len(files) == len(dump_files())  # each dump and its gzip copy
    names = set()
    for node in files:
        url = str(catalog.value(node, DCAT.downloadURL))
        assert url.startswith(BASE_URL + "download/vetgraph")
        name = url.rsplit("/", 1)[1]
        names.add(name)
        data = (fixture_release / name).read_bytes()
        assert catalog.value(node, DCAT.byteSize) == Literal(str(len(data)), datatype=XSD.nonNegativeInteger)
        checksum = catalog.value(node, SPDX.checksum)
        assert catalog.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(catalog.value(checksum, SPDX.checksumValue)) == sha256_hex(data)
        fmt = FORMATS[name.split(".")[1]]
        assert fmt.file_type is not None
        assert catalog.value(node, DCTERMS["format"]) == URIRef(AUTHORITY + "file-type/" + fmt.file_type)
        media_type = URIRef("http://www.iana.org/assignments/media-types/" + fmt.media_type)
        assert catalog.value(node, DCAT.mediaType) == media_type
        assert (catalog.value(node, DCAT.compressFormat) is not None) == name.endswith(".gz")
    assert names == {dump.name for dump in dump_files()}


def test_dataset_metadata_comes_from_the_release_settings(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    assert catalog.value(DATASET, DCTERMS.issued) == Literal("2020-01-02", datatype=XSD.date)
    assert catalog.value(DATASET, DCTERMS.modified) == Literal("2021-03-04", datatype=XSD.date)
    assert catalog.value(DATASET, DCAT_VERSION) == Literal("9.9.9")
    assert catalog.value(DATASET, DCTERMS.relation) == URIRef("https://doi.org/10.0000/fixture")
    period = catalog.value(DATASET, DCTERMS.temporal)
    assert catalog.value(period, DCAT.startDate) == Literal("2019-01-01", datatype=XSD.date)
    assert catalog.value(period, DCAT.endDate) == Literal("2020", datatype=XSD.gYear)
    contact = catalog.value(DATASET, DCAT.contactPoint)
    assert (contact, VCARD.hasEmail, URIRef("mailto:contact@example.org")) in catalog
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    assert catalog.value(service, DCAT.endpointURL) == URIRef(BASE_URL + "sparql")
    assert catalog.value(service, DCAT.servesDataset) == DATASET
    assert (URIRef(AUTHORITY + "data-theme/EDUC"), RDF.type, SKOS.Concept) in catalog


def test_void_counts_are_those_of_the_union_graph(fixture_release: Path) -> None:
    void = Graph().parse(fixture_release / "void.ttl")
    union = Graph()
    for s, p, o, _ in Dataset().parse(fixture_release / "vetgraph.nq", format="nquads").quads():
        union.add((s, p, o))
    assert literal_value(void, DATASET, VOID.triples) == len(union)
    assert literal_value(void, DATASET, VOID.distinctSubjects) == len(set(union.subjects()))
    assert literal_value(void, DATASET, VOID.distinctObjects) == len(set(union.objects()))
    predicates = Counter(union.predicates())
    assert literal_value(void, DATASET, VOID.properties) == len(predicates)
    for partition in void.objects(DATASET, VOID.propertyPartition):
        prop = void.value(partition, VOID.property)
        assert prop is not None
        assert literal_value(void, partition, VOID.triples) == predicates[prop]
    classes = {o for o in union.objects(None, RDF.type)}
    assert literal_value(void, DATASET, VOID.classes) == len(classes)
    for partition in void.objects(DATASET, VOID.classPartition):
        cls = void.value(partition, VOID["class"])
        assert literal_value(void, partition, VOID.entities) == len(set(union.subjects(RDF.type, cls)))
    subset = URIRef(DATASET_IRI + "#unconfirmed")
    assert subset in set(void.objects(DATASET, VOID.subset))
    assert literal_value(void, subset, VOID.triples) == 3  # the fixture's graph of unconfirmed statements


def test_void_access_points_examples_and_vocabularies(fixture_release: Path) -> None:
    void = Graph().parse(fixture_release / "void.ttl")
    assert void.value(DATASET, VOID.uriSpace) == Literal("https://w3id.org/vetgraph/id/")
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef(BASE_URL + "sparql")
    dumps = {str(d) for d in void.objects(DATASET, VOID.dataDump)}
    assert BASE_URL + "download/vetgraph.nq" in dumps and len(dumps) == 2 * len(QUAD_FORMATS)
    examples = set(void.objects(DATASET, VOID.exampleResource))
    fixture = "https://w3id.org/vetgraph/id/fixture/"
    assert examples == {URIRef(fixture + "report"), URIRef(fixture + "insight-1")}  # "absent" is not in the data
    vocabularies = set(void.objects(DATASET, VOID.vocabulary))
    assert URIRef("https://w3id.org/vetgraph/def#") in vocabularies and URIRef(str(DCTERMS)) in vocabularies


def test_project_release_describes_the_real_report(project_release: Path) -> None:
    catalog = Graph().parse(project_release / "catalog.ttl")
    assert catalog.value(DATASET, DCTERMS.relation) == URIRef("https://doi.org/10.2767/25307")
    void = Graph().parse(project_release / "void.ttl")
    report = URIRef("https://w3id.org/vetgraph/id/report/innovation-digitalisation-2020")
    assert report in set(void.objects(DATASET, VOID.exampleResource))
    readme = " ".join((project_release / "README.txt").read_text(encoding="utf-8").split())
    assert "https://doi.org/10.2767/25307" in readme and "Publications Office of the European Union" in readme


def test_void_has_a_linkset_per_target_vocabulary_counted_from_the_links(project_release: Path) -> None:
    """Counted independently here: every statement of data/links.ttl (and the rest of the data) whose object is
    an EuroVoc, ESCO, EU authority-table, DOI or CELEX IRI is in exactly one linkset with its predicate."""
    void = Graph().parse(project_release / "void.ttl")
    union = Graph()
    for s, p, o, _ in Dataset().parse(project_release / "vetgraph.nq", format="nquads").quads():
        union.add((s, p, o))
    targets = {"EuroVoc": ("http://eurovoc.europa.eu/",), "ESCO": ("http://data.europa.eu/esco/",),
               "DOI": ("https://doi.org/",), "CELEX": ("http://publications.europa.eu/resource/celex/",)}
    expected: Counter[tuple[str, Node]] = Counter()
    for s, p, o in union:
        if p == RDF.type or not isinstance(o, URIRef) or not str(s).startswith("https://w3id.org/vetgraph/id/"):
            continue
        name = next((n for n, spaces in targets.items() if str(o).startswith(spaces)), None)
        if name is None and str(o).startswith(AUTHORITY):
            name = "authority/" + str(o)[len(AUTHORITY):].split("/")[0]
        if name:
            expected[(name, p)] += 1
    links = Graph().parse(Path(__file__).parents[1] / "data" / "links.ttl")
    assert {(s, p) for s, p, o in links if isinstance(o, URIRef) and (s, p, o) in union} <= {
        (s, p) for s, p, o in union if any(str(o).startswith(t) for ts in targets.values() for t in ts)
        or str(o).startswith(AUTHORITY)} | {(s, p) for s, p, o in links if not str(o).startswith(("http", "https"))}
    found: Counter[tuple[str, Node]] = Counter()
    top = [ls for ls in void.objects(DATASET, VOID.subset) if (ls, RDF.type, VOID.Linkset) in void]
    for linkset in top:
        name = str(void.value(void.value(linkset, VOID.objectsTarget), DCTERMS.title))
        predicates = set(void.objects(linkset, VOID.linkPredicate))
        parts = list(void.objects(linkset, VOID.subset)) or [linkset]
        assert sum(literal_value(void, part, VOID.triples) for part in parts) == \
            literal_value(void, linkset, VOID.triples)
        for part in parts:
            (predicate,) = void.objects(part, VOID.linkPredicate)
            assert predicate in predicates
            found[(name, predicate)] += literal_value(void, part, VOID.triples)
    assert found == expected
    names = {name for name, _ in found}
    assert {"EuroVoc", "ESCO", "DOI", "CELEX", "authority/corporate-body", "authority/country"} <= names
