"""vetgraph.dumps: deterministic serializations that parse back to the same graph."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from tests.helpers.rdf import RDFLIB_FORMATS, assert_same_data, oxigraph_dataset, rdflib_dataset
from vetgraph import dumps
from vetgraph.config import UNCONFIRMED_GRAPH as UNCONFIRMED
from vetgraph.loading import load_data

FIXTURE = Path(__file__).parent / "data" / "build" / "data" / "fixture.trig"
PREFIX_EX = "@prefix ex: <https://example.org/> .\n"


def _fixture() -> Dataset:
    return load_data([FIXTURE])[0]


def _one_graph_if_needed(prepared: dumps.Prepared, fmt: str) -> dumps.Prepared:
    """A triple format is written from one graph: here the default graph."""
    return prepared if dumps.FORMATS[fmt].named_graphs else prepared.graph(None)


@pytest.mark.parametrize("fmt", list(dumps.FORMATS))
def test_each_format_parses_back_with_rdflib_and_oxigraph(fmt: str, tmp_path: Path) -> None:
    source = _fixture()
    path = tmp_path / f"dump.{fmt}"
    path.write_bytes(_one_graph_if_needed(dumps.prepare(source), fmt).serialize(fmt))
    named = dumps.FORMATS[fmt].named_graphs
    expected = source if named else source.default_graph
    assert_same_data(rdflib_dataset(path, fmt), expected, named)
    assert_same_data(oxigraph_dataset(path), expected, named)


@pytest.mark.parametrize("fmt", [f for f, spec in dumps.FORMATS.items() if not spec.named_graphs])
def test_triple_formats_refuse_to_merge_graphs_and_take_one(fmt: str) -> None:
    prepared = dumps.prepare(_fixture())
    with pytest.raises(ValueError, match="cannot keep graphs apart"):
        prepared.serialize(fmt)
    unconfirmed = prepared.graph(UNCONFIRMED)
    assert not unconfirmed.named_graphs and len(unconfirmed.quads) == 3  # the fixture's unconfirmed statements
    parsed = Graph().parse(data=unconfirmed.serialize(fmt), format=RDFLIB_FORMATS[fmt])
    assert isomorphic(parsed, _fixture().graph(URIRef(UNCONFIRMED)))
    assert "vet" not in unconfirmed.prefixes and "rdfs" in unconfirmed.prefixes  # only the prefixes it uses
    assert len(prepared.graph(None).quads) + 3 == len(prepared.quads)


@pytest.mark.parametrize("fmt", list(dumps.FORMATS))
def test_blank_node_labels_do_not_depend_on_parse_order(fmt: str) -> None:
    # Each load gives the blank nodes new random labels; the output must not change.
    first, second = dumps.prepare(_fixture()), dumps.prepare(_fixture())
    first, second = _one_graph_if_needed(first, fmt), _one_graph_if_needed(second, fmt)
    assert first.serialize(fmt) == second.serialize(fmt)


def test_symmetric_blank_nodes_keep_distinct_labels() -> None:
    graph = Graph()
    subject, p = URIRef("https://example.org/s"), URIRef("https://example.org/p")
    for _ in range(3):  # three indistinguishable blank nodes
        node = BNode()
        graph.add((subject, p, node))
        graph.add((node, p, Literal("same")))
    prepared = dumps.prepare(graph)
    labels = {q.object.value for q in prepared.quads if isinstance(q.object, ox.BlankNode)}
    assert labels == {"c14n0", "c14n1", "c14n2"}  # RDFC-1.0's canonical labels
    assert prepared.serialize("nt") == dumps.prepare(graph).serialize("nt")


def test_blank_node_labels_are_the_w3c_canonical_ones() -> None:
    # RDFC-1.0 (https://www.w3.org/TR/rdf-canon/, 4.6 "Hash First Degree Quads") labels blank nodes in the
    # order of the SHA-256 of their quads with the node as _:a: 982c86... for the node with 1, f0564c... for
    # the one with 2 (computed by hand from the spec), so the node with 1 is c14n0 whatever the input order.
    text = PREFIX_EX + "ex:s ex:p [ ex:n 2 ] , [ ex:n 1 ] .\n"
    integer = "^^<http://www.w3.org/2001/XMLSchema#integer>"
    assert dumps.prepare(Graph().parse(data=text, format="turtle")).serialize("nt").decode().splitlines() == [
        "<https://example.org/s> <https://example.org/p> _:c14n0 .",
        "<https://example.org/s> <https://example.org/p> _:c14n1 .",
        f'_:c14n0 <https://example.org/n> "1"{integer} .',
        f'_:c14n1 <https://example.org/n> "2"{integer} .',
    ]


def test_dumps_are_byte_identical_across_processes_and_hash_seeds() -> None:
    # Each process gives the fixture's nested blank nodes new labels and its sets a new order.
    script = (
        "import sys; from pathlib import Path; from vetgraph import contents, dumps; "
        "from vetgraph.loading import load_data; p = dumps.prepare(load_data([Path(sys.argv[1])])[0]); "
        "sys.stdout.buffer.write(b''.join(part.select(p).serialize(f.name) for part, f in contents.dump_parts()))"
    )
    outputs = set()
    for seed in ("1", "4242"):
        done = subprocess.run([sys.executable, "-c", script, str(FIXTURE)], capture_output=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1 and b"_:c14n" in next(iter(outputs))


def test_ntriples_and_nquads_lines_are_sorted() -> None:
    prepared = dumps.prepare(_fixture())
    for fmt in ("nt", "nq"):
        lines = _one_graph_if_needed(prepared, fmt).serialize(fmt).splitlines()
        assert lines == sorted(lines) and len(lines) == len(set(lines))


def test_turtle_uses_prefixes_and_groups_subjects() -> None:
    text = dumps.prepare(_fixture()).graph(None).serialize("ttl").decode()
    header = [line for line in text.splitlines() if line.startswith("@prefix")]
    assert header == sorted(header) and "@prefix vet: <https://w3id.org/vetgraph/def#> ." in header
    assert "fx:report a vet:Report ;" in text
    assert sum(line.startswith("fx:report ") for line in text.splitlines()) == 1  # one block per subject


def test_only_used_prefixes_are_declared() -> None:
    dataset = _fixture()
    dataset.bind("unused", "https://example.org/never-used/")
    assert "unused" not in dumps.prepare(dataset).prefixes


def test_json_ld_is_compact_with_named_graph() -> None:
    document = json.loads(dumps.prepare(_fixture()).serialize("jsonld"))
    assert document["@context"]["vet"] == "https://w3id.org/vetgraph/def#"
    nodes = {node["@id"]: node for node in document["@graph"]}
    assert nodes["fx:report"]["@type"] == "vet:Report"
    assert nodes["fx:report"]["vet:doi"] == "10.0000/fixture"
    assert nodes["fx:insight-1"]["vet:number"] == {"@value": "1", "@type": "xsd:integer"}
    unconfirmed = nodes["graph:unconfirmed"]["@graph"]
    assert {node["@id"] for node in unconfirmed} == {"fx:insight-2", "fx:report", "fx:unconfirmed-publisher"}


def test_check_refuses_a_dump_that_does_not_parse_back() -> None:
    graph = Graph()
    # An IRI that cannot be split into an XML namespace and a local name: Oxigraph's RDF/XML writer emits
    # an element without a local name, which no parser accepts.
    graph.add((URIRef("https://example.org/s"), URIRef("https://example.org/p/1"), Literal("x")))
    prepared = dumps.prepare(graph)
    prepared.check("ttl", prepared.serialize("ttl"))
    with pytest.raises(ValueError, match="RDF/XML dump does not parse back"):
        prepared.check("rdf", prepared.serialize("rdf"))
    with pytest.raises(ValueError, match="parses back to 0 statements, not 1"):
        prepared.check("nt", b"")


def test_gzip_copy_is_reproducible() -> None:
    data = b"<https://example.org/s> <https://example.org/p> \"o\" .\n"
    assert dumps.gzip_bytes(data) == dumps.gzip_bytes(data)
    assert gzip.decompress(dumps.gzip_bytes(data)) == data


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dump format"):
        dumps.prepare(_fixture()).serialize("n3")
