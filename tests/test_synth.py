"""The synthetic benchmark corpus: deterministic, shaped like the real data, valid against the shapes, and never
to be confused with real data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, SH

from vetgraph import synth
from vetgraph.config import UNCONFIRMED_GRAPH, VET_NS

VET = VET_NS


def test_same_seed_same_corpus_other_seed_other_corpus():
    first = list(synth.iter_quads(3, seed=0))
    assert first == list(synth.iter_quads(3, seed=0))
    assert first != list(synth.iter_quads(3, seed=1))


def test_report_n_is_the_same_in_every_size():
    """The 10x corpus contains the 1x corpus: report n comes from its own random stream."""
    small = set(synth.iter_quads(1))
    assert small <= set(synth.iter_quads(10))


def test_scale_must_be_positive():
    with pytest.raises(ValueError, match="scale must be a positive number"):
        list(synth.iter_quads(0))


def test_shaped_like_the_report():
    dataset = synth.generate(2)
    union = synth.generate_union(2)
    types = Counter(o for o in union.objects(None, RDF.type))
    per_report = {
        VET + "Report": 1,
        VET + "Insight": 8,
        VET + "MandateTopic": 8,
        VET + "Viewpoint": 2,
        VET + "Vision": 1,
        VET + "VisionPoint": 2,
        VET + "WorkingGroup": 1,
        VET + "LighthouseProject": synth.LIGHTHOUSE_PROJECTS,
        VET + "GoodPractice": synth.GOOD_PRACTICES,
    }
    for cls, count in per_report.items():
        assert types[URIRef(cls)] == 2 * count, cls
    # Statements in the graph of unconfirmed statements, as in the real data.
    unconfirmed = dataset.graph(URIRef(UNCONFIRMED_GRAPH))
    assert len(unconfirmed) > 10
    assert (None, URIRef(VET + "titleEvidence"), URIRef(VET + "Unconfirmed")) in unconfirmed
    # Countries only from the EU country table.
    countries = set(union.objects(None, URIRef(VET + "country")))
    assert countries and all(str(c).startswith(synth.COUNTRY) for c in countries)


def test_every_resource_is_labelled_synthetic_and_sourced():
    union = synth.generate_union(2)
    subjects = set(union.subjects())
    assert subjects
    for subject in subjects:
        assert str(subject).startswith((synth.SYNTH_BASE, synth.SOURCE_BASE)), subject
        label = union.value(subject, RDFS.label)
        if label is not None:  # a subject without label only carries a statement about a labelled resource
            assert str(label).lower().startswith("synthetic"), (subject, label)
            assert union.value(subject, DCTERMS.source) is not None, subject
    assert all(union.value(s, RDFS.label) is not None for s in union.subjects(RDF.type, None))


def test_1x_is_about_the_size_of_the_real_graph(loaded):
    real = len(loaded.union())
    assert 0.5 * real < len(synth.generate_union(1)) < 2.5 * real


def test_1x_conforms_to_the_shapes(loaded):
    """Valid against ontology/shapes.ttl: only the completeness warnings that the real data also has."""
    import pyshacl

    conforms, report, _ = pyshacl.validate(
        synth.generate_union(1),
        shacl_graph=loaded.shapes,
        ont_graph=loaded.ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    severities = Counter(report.objects(None, SH.resultSeverity))
    assert conforms
    assert severities[SH.Violation] == 0
    focus = {str(report.value(r, SH.focusNode)) for r in report.objects(None, SH.result)}
    assert focus == {synth.SYNTH_BASE + "1/insight/7", synth.SYNTH_BASE + "1/insight/8"}


def test_corpus_path_writes_once_and_reuses(tmp_path, monkeypatch):
    import pyoxigraph as ox

    monkeypatch.setattr(synth, "CACHE_DIR", tmp_path / "cache")
    path = synth.corpus_path(2)
    assert path.parent == tmp_path / "cache" and path.suffix == ".nq"
    modified = path.stat().st_mtime_ns
    assert synth.corpus_path(2) == path and path.stat().st_mtime_ns == modified
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == len(list(synth.iter_quads(2)))
    assert any(q.graph_name == ox.NamedNode(UNCONFIRMED_GRAPH) for q in quads)


@pytest.mark.parametrize("suffix", [".trig", ".ttl", ".nt"])
def test_cli_writes_each_format(tmp_path, suffix, capsys):
    from rdflib import Dataset

    out = tmp_path / f"corpus{suffix}"
    assert synth.main(["--scale", "1", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    parsed = Dataset()
    parsed.parse(out, format={".trig": "trig", ".ttl": "turtle", ".nt": "nt"}[suffix])
    quads = list(parsed.quads((None, None, None, None)))
    # Turtle and N-Triples hold triples only: the unconfirmed statements are merged into the default graph.
    assert len({q[:3] for q in quads}) == len(synth.generate_union(1))
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        synth.main(["--scale", "1", "--out", str(tmp_path / "corpus.xml")])
    assert exit_info.value.code == 2
    assert "unknown suffix '.xml'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synth.main(["--scale", "0", "--out", str(tmp_path / "corpus.nq")])
    assert "--scale must be at least 1" in capsys.readouterr().err
    assert not Path(tmp_path / "corpus.nq").exists()


def test_literals_are_typed_as_the_shapes_ask():
    union = synth.generate_union(1)
    numbers = list(union.objects(None, URIRef(VET + "number")))
    assert numbers and all(isinstance(n, Literal) and n.datatype == URIRef(str(synth.XSD) + "integer") for n in numbers)
