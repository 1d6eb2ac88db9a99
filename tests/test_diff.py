"""`vetgraph diff`: statements added and removed, grouped by resource, between releases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, URIRef

from vetgraph.cli import main
from vetgraph.config import ID_BASE, UNCONFIRMED_GRAPH, Paths
from vetgraph.diff import changes_markdown, compare, format_text, load_dump

CURATION = Path(__file__).resolve().parent / "data" / "curation"
PREFIXES = """@prefix ex: <https://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_diff(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


# ---- two builds that differ by one project ----------------------------------------------------------------


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory, vocab_dir):
    """`vetgraph build` of the data with the fixture projects but alpha, then with all three (same folder)."""
    from vetgraph.publication import BuildOptions, build

    root = tmp_path_factory.mktemp("builds")
    data = root / "data"
    data.mkdir()
    for path in Paths().data_dir.iterdir():
        if path.is_file():
            shutil.copy(path, data)
    shutil.copytree(CURATION / "valid" / "curation", data / "curation")
    projects = data / "curation" / "lighthouse-projects.csv"
    full = projects.read_text(encoding="utf-8")
    projects.write_text("".join(line for line in full.splitlines(True) if "fixture-alpha" not in line), "utf-8")
    paths = Paths(data_dir=data, vocab_dir=vocab_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
        out = root / "release"
        build(BuildOptions(out=out, paths=paths))
        old = root / "old.nq"
        shutil.copy(out / "vetgraph.nq", old)
        projects.write_text(full, encoding="utf-8")
        build(BuildOptions(out=out, paths=paths))
    from vetgraph.curation import read_curated

    datasets, _, issues = read_curated(data, vocab_dir)
    assert issues == []
    alpha = URIRef(ID_BASE + "project/fixture-alpha")
    expected = {(p, o) for _, ds in datasets for _, p, o, _ in ds.quads((alpha, None, None, None))}
    return old, out, alpha, expected


def test_diff_of_two_builds_lists_exactly_the_added_project(two_builds, capsys):
    old, out, alpha, expected = two_builds
    code, text, _ = run_diff(capsys, str(old), str(out / "vetgraph.nq"), "--format", "json")
    assert code == 1
    result = json.loads(text)
    assert [r["subject"]["value"] for r in result["resources"]] == [str(alpha)]
    change = result["resources"][0]
    assert change["status"] == "added" and change["removed"] == []
    assert change["label"] == "Fixture project Alpha (fictional test row)"
    assert result["added"] == len(expected) == 12 and result["removed"] == 0
    assert {(s["predicate"]["value"], s["object"]["value"]) for s in change["added"]} == {
        (str(p), str(o)) for p, o in expected
    }
    assert all(s["graph"] is None for s in change["added"])


def test_the_second_build_writes_changes_md_with_that_project(two_builds):
    _, out, alpha, expected = two_builds
    changes = (out / "CHANGES.md").read_text(encoding="utf-8")
    assert "### Fixture project Alpha (fictional test row)" in changes
    assert f"<{alpha}>" in changes
    assert changes.count("\n+ ") == len(expected) and "\n- " not in changes
    assert "fixture-beta" not in changes and "fixture-gamma" not in changes


def test_a_dump_equals_itself_in_every_format(two_builds, capsys):
    _, out, _, _ = two_builds
    assert run_diff(capsys, str(out / "vetgraph.trig"), str(out / "vetgraph.nq"))[:2] == (0, "no changes\n")
    assert run_diff(capsys, str(out / "vetgraph.nq"), str(out / "vetgraph.jsonld"))[:2] == (0, "no changes\n")
    # The triple syntaxes hold the confirmed statements only: the same in each of them.
    code, text, err = run_diff(capsys, str(out / "vetgraph.ttl"), str(out / "vetgraph.rdf"))
    assert (code, text) == (0, "no changes\n")
    assert "vetgraph.ttl, " in err and "holds a single graph" in err
    assert run_diff(capsys, str(out / "vetgraph.nt"), str(out / "vetgraph.ttl"))[:2] == (0, "no changes\n")


# ---- comparison rules ------------------------------------------------------------------------------------


def test_changed_values_read_as_pairs_grouped_by_resource_with_labels(tmp_path, capsys):
    old = write(tmp_path / "old.ttl", PREFIXES + 'ex:a rdfs:label "A"@en ; ex:n 1 .\nex:b rdfs:label "B"@en .\n')
    new = write(tmp_path / "new.ttl", PREFIXES + 'ex:a rdfs:label "A"@en ; ex:n 2 .\nex:c rdfs:label "C"@en .\n')
    code, text, _ = run_diff(capsys, str(old), str(new))
    assert code == 1
    assert text.splitlines() == [
        'ex:a "A"',
        "  - ex:n 1",
        "  + ex:n 2",
        "",
        'ex:b "B" (removed)',
        '  - rdfs:label "B"@en',
        "",
        'ex:c "C" (new)',
        '  + rdfs:label "C"@en',
        "",
        "2 statements added, 2 removed, in 3 resources (1 added, 1 changed, 1 removed)",
    ]


def test_blank_nodes_are_compared_by_structure(tmp_path, capsys):
    text = PREFIXES + 'ex:a ex:part [ rdfs:label "x"@en ; ex:n 1 ] .\n'
    first, second = write(tmp_path / "one.ttl", text), write(tmp_path / "two.ttl", text)
    assert run_diff(capsys, str(first), str(second))[:2] == (0, "no changes\n")


def test_moving_a_statement_to_the_unconfirmed_graph_is_a_change(tmp_path, capsys):
    statement = '<https://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "A"@en'
    old = write(tmp_path / "old.nq", f"{statement} .\n")
    new = write(tmp_path / "new.nq", f"{statement} <{UNCONFIRMED_GRAPH}> .\n")
    code, text, _ = run_diff(capsys, str(old), str(new))
    assert code == 1
    assert '+ rdfs:label "A"@en  [graph graph:unconfirmed]' in text
    assert '- rdfs:label "A"@en\n' in text
    assert run_diff(capsys, str(old), str(new), "--triples")[:2] == (0, "no changes\n")


def test_json_terms_follow_the_sparql_results_format(tmp_path):
    old = Dataset()
    new = Dataset()
    new.parse(data=PREFIXES + 'ex:a rdfs:label "A"@en ; ex:n 2 ; ex:see ex:b .\n', format="turtle")
    from vetgraph.diff import to_json

    result = to_json(compare(old, new))
    objects = sorted((s["object"] for s in result["resources"][0]["added"]), key=lambda o: o["value"])
    assert objects == [
        {"type": "literal", "value": "2", "datatype": "http://www.w3.org/2001/XMLSchema#integer"},
        {"type": "literal", "value": "A", "xml:lang": "en"},
        {"type": "uri", "value": "https://example.org/b"},
    ]


def test_changes_markdown_of_equal_data_says_so():
    data = Dataset()
    data.parse(data=PREFIXES + 'ex:a rdfs:label "A"@en .\n', format="turtle")
    assert changes_markdown(data, data) == "# Changes\n\nNo changes: the data is the same as in the previous release.\n"
    assert "no changes" in format_text(compare(data, data))


def test_new_omitted_means_the_current_data(tmp_path, capsys, loaded):
    dump = tmp_path / "current.nq"
    loaded.dataset.serialize(dump, format="nquads")
    assert load_dump(dump)  # a real dump of the current data
    assert run_diff(capsys, str(dump))[:2] == (0, "no changes\n")
    assert run_diff(capsys, str(dump), "-")[:2] == (0, "no changes\n")


def test_unreadable_input_exits_2_naming_file_and_line(tmp_path, capsys):
    good = write(tmp_path / "good.ttl", PREFIXES + "ex:a ex:b ex:c .\n")
    bad = write(tmp_path / "bad.ttl", PREFIXES + "ex:a ex:b .\n")
    code, _, err = run_diff(capsys, str(good), str(bad))
    assert code == 2 and f"{bad}:3:" in err and "Traceback" not in err
    code, _, err = run_diff(capsys, str(tmp_path / "missing.nq"), str(good))
    assert code == 2 and "missing.nq: no such file" in err


def test_markdown_format_groups_resources_by_what_happened(tmp_path, capsys):
    old = write(tmp_path / "old.ttl", PREFIXES + 'ex:a rdfs:label "A"@en ; ex:n 1 .\nex:b rdfs:label "B"@en .\n')
    new = write(tmp_path / "new.ttl", PREFIXES + 'ex:a rdfs:label "A"@en ; ex:n 2 .\nex:c rdfs:label "C"@en .\n')
    code, text, _ = run_diff(capsys, str(old), str(new), "--format", "markdown")
    assert code == 1
    assert text.index("## New resources\n\n### C\n") < text.index("## Changed resources\n\n### A\n") < text.index(
        "## Removed resources\n\n### B\n")
    assert "<https://example.org/a>\n\n```diff\n- ex:n 1\n+ ex:n 2\n```" in text


def test_a_blank_node_shared_by_two_graphs_is_one_node(tmp_path, capsys):
    # The same statements per graph, but in OLD one blank node links the two graphs and in NEW two nodes do
    # not: canonicalising each graph on its own (as before) called them equal.
    graph = "<https://example.org/g>"
    shared = f"<https://example.org/s> <https://example.org/p> _:x .\n_:x <https://example.org/n> \"1\" {graph} .\n"
    split = f"<https://example.org/s> <https://example.org/p> _:x .\n_:y <https://example.org/n> \"1\" {graph} .\n"
    old, new = write(tmp_path / "old.nq", shared), write(tmp_path / "new.nq", split)
    assert run_diff(capsys, str(old), str(new))[0] == 1
    assert run_diff(capsys, str(old), str(old))[:2] == (0, "no changes\n")
