"""What the files of a release hold: the triple-syntax dumps only confirmed statements, the unconfirmed files
exactly the graph of unconfirmed statements, the named-graph syntaxes both graphs; and every file is described
by the same sentence in catalog.ttl, void.ttl, README.txt and index.html."""

from __future__ import annotations

import gzip
import html
from pathlib import Path

import pytest
from rdflib import RDF, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from tests.helpers.build import BASE_URL, fixture_paths
from tests.helpers.rdf import RDFLIB_FORMATS, graphs_of, literal_value
from vetgraph.catalog import SCHEMA_FILES
from vetgraph.config import DATASET_IRI, UNCONFIRMED_GRAPH
from vetgraph.contents import UNCONFIRMED, describe, dump_files
from vetgraph.loading import load_project

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VOID = Namespace("http://rdfs.org/ns/void#")
RELEASES = ["fixture_release", "project_release"]
TRIPLE_DUMPS = [d for d in dump_files() if not d.format.named_graphs]
QUAD_DUMPS = [d for d in dump_files() if d.format.named_graphs]


@pytest.fixture(scope="module")
def sources(loaded) -> dict[str, Dataset]:
    """The data each release was built from."""
    return {"fixture_release": load_project(fixture_paths()).dataset, "project_release": loaded.dataset}


def parse(path: Path, extension: str) -> Dataset:
    """A dump file (gzip copies unpacked) parsed by rdflib."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    dataset = Dataset()
    dataset.parse(data=data, format=RDFLIB_FORMATS[extension])
    return dataset


def ground(statements) -> set[tuple]:
    return {tuple(t[:3]) for t in statements if not any(isinstance(x, BNode) for x in t[:3])}


def unconfirmed_only(source: Dataset) -> set[tuple]:
    """The statements of the unconfirmed graph that the default graph does not hold as well."""
    return ground(source.graph(URIRef(UNCONFIRMED_GRAPH))) - ground(source.default_graph)


@pytest.mark.parametrize("which", RELEASES)
@pytest.mark.parametrize("dump", [d for d in TRIPLE_DUMPS if d.part is not UNCONFIRMED], ids=lambda d: d.name)
def test_triple_dumps_hold_no_unconfirmed_statement(which, dump, sources, request) -> None:
    release: Path = request.getfixturevalue(which)
    source = sources[which]
    leaked = unconfirmed_only(source)
    assert leaked  # each release's data has statements that only the unconfirmed graph holds
    parsed = parse(release / dump.name, dump.format.extension)
    assert not leaked & ground(parsed), f"{dump.name} holds unconfirmed statements"
    assert isomorphic(parsed.default_graph, source.default_graph)  # and all confirmed ones


@pytest.mark.parametrize("which", RELEASES)
@pytest.mark.parametrize("dump", [d for d in TRIPLE_DUMPS if d.part is UNCONFIRMED], ids=lambda d: d.name)
def test_unconfirmed_files_hold_exactly_the_unconfirmed_graph(which, dump, sources, request) -> None:
    parsed = parse(request.getfixturevalue(which) / dump.name, dump.format.extension)
    expected = sources[which].graph(URIRef(UNCONFIRMED_GRAPH))
    assert len(expected) > 0 and isomorphic(parsed.default_graph, expected)


@pytest.mark.parametrize("which", RELEASES)
@pytest.mark.parametrize("dump", QUAD_DUMPS, ids=lambda d: d.name)
def test_named_graph_dumps_hold_both_graphs(which, dump, sources, request) -> None:
    parsed = graphs_of(parse(request.getfixturevalue(which) / dump.name, dump.format.extension))
    expected = graphs_of(sources[which])
    assert set(parsed) == {None, UNCONFIRMED_GRAPH} == set(expected)
    for name in expected:
        assert isomorphic(parsed[name], expected[name]), name


def released_files(release: Path) -> list[str]:
    return [line.split("  ", 1)[1] for line in (release / "SHA256SUMS").read_text().splitlines()] + ["SHA256SUMS"]


def test_every_file_has_one_sentence_that_readme_and_index_quote(fixture_release: Path) -> None:
    readme = " ".join((fixture_release / "README.txt").read_text(encoding="utf-8").split())
    index = html.unescape((fixture_release / "index.html").read_text(encoding="utf-8"))
    files = released_files(fixture_release)
    assert len(files) == len(set(files)) == 32
    for name in files:
        sentence = describe(name)
        assert sentence and sentence.endswith("."), name
        assert f"{name} " in readme and sentence in readme, name
        assert f'href="{name}"' in index and sentence in index, name
    assert "all graphs merged" not in readme


def test_catalog_and_void_describe_each_dump_with_the_same_sentence(fixture_release: Path) -> None:
    catalog = Graph().parse(fixture_release / "catalog.ttl")
    void = Graph().parse(fixture_release / "void.ttl")
    dataset = URIRef(DATASET_IRI)
    files = [d for d in catalog.objects(dataset, DCAT.distribution) if catalog.value(d, DCAT.downloadURL)]
    dumps = {d.name for d in dump_files()}
    assert len(files) == len(dumps) + len(SCHEMA_FILES)  # and the SPARQL endpoint, which is no file
    for node in files:
        url = catalog.value(node, DCAT.downloadURL)
        name = str(url).removeprefix(BASE_URL + "download/")
        assert catalog.value(node, DCTERMS.description) == Literal(describe(name), lang="en"), name
        if name in dumps:
            assert void.value(url, DCTERMS.description) == Literal(describe(name), lang="en"), name
    # The dataset's own dumps are those that hold every graph; each triple-syntax part is a subset.
    whole = {str(u).rsplit("/", 1)[1] for u in void.objects(dataset, VOID.dataDump)}
    assert whole == {d.name for d in QUAD_DUMPS}
    subsets = {str(s).rsplit("#", 1)[1]: s for s in void.objects(dataset, VOID.subset)
               if (s, RDF.type, VOID.Linkset) not in void}
    assert set(subsets) == {"confirmed", "unconfirmed"}
    for key, size in (("confirmed", len(Graph().parse(fixture_release / "vetgraph.nt"))),
                      ("unconfirmed", len(Graph().parse(fixture_release / "vetgraph-unconfirmed.nt")))):
        assert literal_value(void, subsets[key], VOID.triples) == size
        dumps = {str(u).rsplit("/", 1)[1] for u in void.objects(subsets[key], VOID.dataDump)}
        assert dumps == {d.name for d in TRIPLE_DUMPS if d.part.key == key}
