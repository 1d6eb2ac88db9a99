"""The loader: what goes where, and errors that point to file and line."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import URIRef

from vetgraph import config
from vetgraph.loading import LoadError, load_data, load_project, rdf_files

INSIGHT_7 = URIRef("https://w3id.org/vetgraph/id/insight/7")
UNCONFIRMED = URIRef(config.UNCONFIRMED_GRAPH)


def test_confirmed_statements_in_default_graph_unconfirmed_in_their_own(loaded) -> None:
    graphs = {str(g.identifier): len(g) for g in loaded.dataset.graphs()}
    # pyoxigraph alone reads the data files: the same statements in the unconfirmed graph
    unconfirmed = ox.Store()
    for path in rdf_files(config.Paths().data_dir):
        unconfirmed.bulk_load(path=str(path), to_graph=None)
    named = ox.NamedNode(config.UNCONFIRMED_GRAPH)
    assert graphs[config.UNCONFIRMED_GRAPH] == sum(1 for _ in unconfirmed.quads_for_pattern(None, None, None, named))
    assert len(loaded.dataset.default_graph) > graphs[config.UNCONFIRMED_GRAPH]
    assert len(loaded.union()) == sum(graphs.values())


def test_subject_files_point_to_the_file_that_describes_a_resource(loaded) -> None:
    files = {p.name for p in loaded.subject_files[INSIGHT_7]}
    assert "structure.trig" in files


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.ttl", "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c\nex:d ex:e ex:f .\n")
    with pytest.raises(LoadError) as error:
        load_data([path])
    assert error.value.path == path and error.value.line == 3
    assert str(error.value).startswith(f"{path}:3:")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unknown RDF file extension"):
        load_data([_write(tmp_path, "data.txt", "")])


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such folder"):
        load_project(config.Paths(data_dir=tmp_path / "absent"))


def test_the_base_iri_can_move_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "BASE_IRI", "http://localhost:9999/vg/")
    moved = load_project()
    subjects = {str(s) for s in moved.union().subjects()}
    assert "http://localhost:9999/vg/id/insight/7" in subjects
    assert not any(s.startswith("https://w3id.org/vetgraph/id/") for s in subjects)
    assert "http://localhost:9999/vg/graph/unconfirmed" in {str(g.identifier) for g in moved.dataset.graphs()}
    # the vocabulary does not move with a deployment
    assert any(str(p).startswith(config.VET_NS) for p in moved.union().predicates())
