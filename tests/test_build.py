"""`vetgraph build` end to end, on the fixture project in tests/data/build/: outputs, reproducibility,
checksums, refusal on violations, atomic replacement, progress and CHANGES.md."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.build import BASE_URL, EXPECTED, RELEASE, build_fixture, cli_env, fixture_paths, snapshot
from tests.helpers.build import BUILD_FIXTURES as FIXTURES
from tests.helpers.rdf import RDFLIB_FORMATS, assert_same_data, oxigraph_dataset, rdflib_dataset
from tests.helpers.shared import require_shared
from vetgraph import cli, publication
from vetgraph.config import PROJECT_ROOT
from vetgraph.contents import dump_files
from vetgraph.loading import load_data, rdf_files
from vetgraph.publication import BuildError, BuildOptions, Refused, build


def changed_data(tmp_path: Path) -> Path:
    """The fixture data with one statement more."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", data)
    with (data / "fixture.trig").open("a", encoding="utf-8") as handle:
        handle.write('\nfx:insight-2 rdfs:label "Fixture insight two"@en .\n')
    return data


@pytest.fixture(scope="module")
def source():
    return load_data(rdf_files(FIXTURES / "data"))[0]


def test_release_has_every_output(fixture_release: Path) -> None:
    assert set(snapshot(fixture_release)) == EXPECTED


@pytest.mark.parametrize("dump", [d for d in dump_files() if not d.compressed], ids=lambda d: d.name)
def test_each_dump_and_its_gzip_copy_parse_back_to_its_part_of_the_source(fixture_release: Path, source, dump) -> None:
    path = fixture_release / dump.name
    assert gzip.decompress((fixture_release / f"{dump.name}.gz").read_bytes()) == path.read_bytes()
    fmt = dump.format.extension
    if dump.format.named_graphs:
        assert_same_data(rdflib_dataset(path, fmt), source, named_graphs=True)
        assert_same_data(oxigraph_dataset(path), source, named_graphs=True)
    else:
        from rdflib import URIRef

        graph = source.default_graph if dump.part.graph is None else source.graph(URIRef(dump.part.graph))
        assert_same_data(rdflib_dataset(path, fmt), graph, named_graphs=False)
        assert_same_data(oxigraph_dataset(path), graph, named_graphs=False)


def test_ontology_files_parse_to_the_same_graph(fixture_release: Path) -> None:
    from rdflib import Graph
    from rdflib.compare import isomorphic

    original = Graph().parse(FIXTURES / "ontology" / "vet.ttl")
    for name, fmt in (("vet.jsonld", "jsonld"), ("vet.rdf", "rdf")):
        parsed = Graph().parse(fixture_release / "ontology" / name, format=RDFLIB_FORMATS[fmt])
        assert isomorphic(parsed, original), name
    html = (fixture_release / "ontology" / "index.html").read_text(encoding="utf-8")
    assert "Fixture ontology" in html and "insight" in html
    shapes = FIXTURES / "ontology" / "shapes.ttl"
    assert (fixture_release / "ontology" / "shapes.ttl").read_bytes() == shapes.read_bytes()


def test_two_builds_are_byte_identical(fixture_release: Path, tmp_path: Path) -> None:
    # The second build runs the CLI in another process with another hash seed: no set order may leak out.
    out = tmp_path / "again"
    command = [sys.executable, "-m", "vetgraph", "build", "--out", str(out), "--release", str(RELEASE),
               "--base-url", BASE_URL, "--quiet"]
    done = subprocess.run(command, env=cli_env(seed="12345"), capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "SHA256SUMS").read_bytes() == (fixture_release / "SHA256SUMS").read_bytes()
    assert snapshot(out) == snapshot(fixture_release)


def test_parallel_validation_gives_the_same_release(fixture_release: Path, tmp_path: Path) -> None:
    build_fixture(tmp_path / "dist", jobs=2)
    assert snapshot(tmp_path / "dist") == snapshot(fixture_release)
    with pytest.raises(Refused):
        build_fixture(tmp_path / "refused", data=FIXTURES / "violation", jobs=2)


def test_sha256sum_accepts_the_checksums(fixture_release: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (GNU coreutils) is not installed")
    command = ["sha256sum", "--strict", "-c", "SHA256SUMS"]
    done = subprocess.run(command, cwd=fixture_release, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {line.split("  ", 1)[1] for line in (fixture_release / "SHA256SUMS").read_text().splitlines()}
    assert listed == EXPECTED - {"SHA256SUMS", publication.MARKER}


def test_context_jsonld_is_the_context_of_the_dump(fixture_release: Path) -> None:
    context = json.loads((fixture_release / "context.jsonld").read_text(encoding="utf-8"))
    dump = json.loads((fixture_release / "vetgraph.jsonld").read_text(encoding="utf-8"))
    assert context == {"@context": dump["@context"]}


def test_readme_cites_the_report_from_confirmed_statements_only(fixture_release: Path) -> None:
    readme = (fixture_release / "README.txt").read_text(encoding="utf-8")
    assert "Fixture working group (2021). Fixture report:" in readme
    assert "https://doi.org/10.0000/fixture" in readme
    assert "Unconfirmed publisher" not in readme  # stated only in the graph of unconfirmed statements
    assert "Creative Commons Attribution 4.0" in readme
    index = (fixture_release / "index.html").read_text(encoding="utf-8")
    assert 'href="vetgraph.ttl"' in index and "Fixture report: a &#34;quoted&#34; title" in index


def test_violations_exit_1_and_leave_the_previous_release(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "dist"
    build_fixture(out)
    before = snapshot(out)
    monkeypatch.setenv("VETGRAPH_ONTOLOGY", str(FIXTURES / "ontology"))
    monkeypatch.setenv("VETGRAPH_DATA", str(FIXTURES / "violation"))
    code = cli.main(["build", "--out", str(out), "--release", str(RELEASE)])
    assert code == 1
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]  # no temporary folder left
    err = capsys.readouterr().err
    assert "fx:insight-9" in err and "nothing was written" in err


def test_violations_write_nothing_where_there_was_nothing(tmp_path: Path) -> None:
    with pytest.raises(Refused):
        build_fixture(tmp_path / "dist", data=FIXTURES / "violation")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("previous", [True, False], ids=["over-a-release", "fresh"])
def test_interrupted_build_leaves_no_partial_output(tmp_path: Path, monkeypatch, previous: bool) -> None:
    out = tmp_path / "dist"
    if previous:
        build_fixture(out)
    before = snapshot(out) if previous else None
    real_write = publication.write_file
    written: list[Path] = []

    def write_then_fail(path: Path, data: bytes) -> None:
        if written:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the first file
        real_write(path, data)
        written.append(path)

    monkeypatch.setattr(publication, "write_file", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        build_fixture(out)
    assert len(written) == 1 and not written[0].exists()
    if previous:
        assert snapshot(out) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
    else:
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_replacing_a_release_leaves_only_the_new_one(tmp_path: Path, monkeypatch, exchange: bool) -> None:
    out = tmp_path / "dist"
    build_fixture(out, data=changed_data(tmp_path))  # a previous release with one more statement
    if not exchange:  # the portable path, for systems without renameat2(RENAME_EXCHANGE)
        monkeypatch.setattr(publication, "_exchange", lambda a, b: False)
    build_fixture(out)
    assert set(snapshot(out)) == EXPECTED
    assert b"Fixture insight two" not in (out / "vetgraph.nq").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "dist"]  # no temporary folder left


def test_refuses_to_replace_a_folder_that_is_not_a_release(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    monkeypatch.setenv("VETGRAPH_ONTOLOGY", str(FIXTURES / "ontology"))
    monkeypatch.setenv("VETGRAPH_DATA", str(FIXTURES / "data"))
    assert cli.main(["build", "--out", str(out), "--release", str(RELEASE), "--quiet"]) == 2
    assert snapshot(out) == {"mine.txt": b"keep me"}
    assert "not a vetgraph release" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("modified = 2021-03-04", 'modified = "2021-13-04"'), "[release] modified: '2021-13-04' is not an ISO"),
        (("modified = 2021-03-04", "modified = 2021-13-04"), "syntax: "),
        (('version = "9.9.9"\n', ""), "[release] version: missing"),
        (('"http://eurovoc.europa.eu/795"', '"http://eurovoc.europa.eu/999999"'), "has no English label"),
        (("[urls]", "[urls"), "syntax"),
        (("publishertype/NonProfitOrganisation", "publishertype/Charity"), "[publisher] type: "),
        (("planned-availability/STABLE", "planned-availability/FOREVER"), "[release] availability: "),
    ],
)
def test_bad_release_settings_name_file_and_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    settings = tmp_path / "release.toml"
    settings.write_text(RELEASE.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        build(BuildOptions(out=tmp_path / "dist", release_file=settings, paths=fixture_paths()))
    assert str(settings) in str(raised.value) and message in str(raised.value)
    assert not (tmp_path / "dist").exists()


def test_progress_lines_only_when_asked(tmp_path: Path, capsys) -> None:
    build_fixture(tmp_path / "quiet")
    assert capsys.readouterr().err == ""
    build_fixture(tmp_path / "loud", progress=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if ": done" not in line]
    total = len(lines)
    assert lines[0].startswith(f"[1/{total}] loading") and lines[-1].startswith(f"[{total}/{total}] replacing")


def test_cli_progress_goes_to_stderr_and_quiet_silences_it(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("VETGRAPH_ONTOLOGY", str(FIXTURES / "ontology"))
    monkeypatch.setenv("VETGRAPH_DATA", str(FIXTURES / "data"))
    assert cli.main(["build", "--out", str(tmp_path / "a"), "--release", str(RELEASE)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("[1/") and "] replacing" in captured.err  # plain lines: stderr is no terminal
    assert captured.out.startswith(f"wrote {len(EXPECTED - {publication.MARKER})} files")
    assert len(captured.out.splitlines()) == 1
    assert cli.main(["build", "--out", str(tmp_path / "b"), "--release", str(RELEASE), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_rebuild_in_place_is_identical_and_changes_list_new_statements(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build_fixture(out)
    first = snapshot(out)
    assert b"First release" in first["CHANGES.md"]
    build_fixture(out)
    assert snapshot(out) == first  # same version, same data: CHANGES.md is kept, nothing changes

    build_fixture(out, data=changed_data(tmp_path))
    changes = (out / "CHANGES.md").read_text(encoding="utf-8")
    assert "Compared with the previous build of vetgraph 9.9.9: 1 statements added, 0 removed" in changes
    assert '"Fixture insight two"@en' in changes


def test_changes_since_an_explicit_dump(tmp_path: Path, fixture_release: Path) -> None:
    build_fixture(tmp_path / "dist", changes_since=fixture_release / "vetgraph.nq")
    assert (tmp_path / "dist" / "CHANGES.md").read_text(encoding="utf-8").startswith(
        "# Changes in vetgraph 9.9.9\n\nNo changes"
    )


def test_with_labels_adds_english_labels_of_linked_eu_concepts(tmp_path: Path) -> None:
    require_shared("vocab", "language.ttl")
    build_fixture(tmp_path / "dist", with_labels=True)
    nt = (tmp_path / "dist" / "vetgraph.nt").read_text(encoding="utf-8")
    assert ('<http://publications.europa.eu/resource/authority/language/ENG> '
            '<http://www.w3.org/2004/02/skos/core#prefLabel> "English"@en .') in nt


def test_default_output_folder_is_dist_in_the_checkout() -> None:
    assert publication.DEFAULT_OUT == PROJECT_ROOT / "dist"
    assert publication.DEFAULT_RELEASE.is_file()
