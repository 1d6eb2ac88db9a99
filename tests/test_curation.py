"""Curation spreadsheets: fixture rows become the expected RDF, bad rows give curator messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SKOS, Dataset, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF

from tests.helpers.project import data_with_curation
from vetgraph.config import ID_BASE, PROJECT_ROOT, UNCONFIRMED_GRAPH, VET_NS, Paths
from vetgraph.curation import (
    CurationError,
    apply_curated,
    load_curated,
    read_curated,
)

CURATION = Path(__file__).resolve().parent / "data" / "curation"
VET = lambda name: URIRef(VET_NS + name)  # noqa: E731
ID = lambda path: URIRef(ID_BASE + path)  # noqa: E731
COUNTRY = lambda code: URIRef("http://publications.europa.eu/resource/authority/country/" + code)  # noqa: E731
PAGINATION = URIRef("https://schema.org/pagination")
REPORT = ID("report/innovation-digitalisation-2020")
SOURCE = URIRef("https://example.org/fixture-source")


def triples_of(datasets: list[tuple[Path, Dataset]], subject: URIRef) -> set[tuple]:
    return {(p, o, g) for _, ds in datasets for s, p, o, g in ds.quads((subject, None, None, None))}


def default(g) -> bool:
    return g is None or str(g).startswith("urn:x-rdflib:default")


@pytest.fixture(scope="module")
def valid(tmp_path_factory, vocab_dir) -> tuple[Path, list[tuple[Path, Dataset]]]:
    data = data_with_curation(tmp_path_factory.mktemp("valid"), "valid")
    return data, load_curated(data, vocab_dir)


def test_three_projects_convert_into_the_expected_triples(valid):
    _, datasets = valid
    alpha = {(p, o) for p, o, g in triples_of(datasets, ID("project/fixture-alpha")) if default(g)}
    assert alpha == {
        (RDF.type, VET("LighthouseProject")),
        (RDFS.label, Literal("Fixture project Alpha (fictional test row)", lang="en")),
        (DCTERMS.description, Literal("A made-up project that only the tests use.", lang="en")),
        (VET("country"), COUNTRY("DEU")),
        (VET("country"), COUNTRY("FIN")),
        (VET("illustratesInsight"), ID("insight/1")),
        (VET("illustratesInsight"), ID("insight/3")),
        (VET("addressesTopic"), ID("topic/2")),
        (VET("coordinatedBy"), ID("agent/cedefop")),
        (VET("presentedIn"), REPORT),
        (DCTERMS.source, SOURCE),
        (PAGINATION, Literal("10")),
    }
    beta = {(p, o) for p, o, _ in triples_of(datasets, ID("project/fixture-beta"))}
    assert (FOAF.homepage, URIRef("https://example.org/fixture-beta")) in beta
    assert (VET("coordinatedBy"), ID("agent/fixture-college")) in beta
    assert (PAGINATION, Literal("11-12")) in beta
    college = {(p, o) for p, o, _ in triples_of(datasets, ID("agent/fixture-college"))}
    assert (RDF.type, URIRef("http://www.w3.org/ns/org#Organization")) in college
    assert (VET("country"), COUNTRY("NLD")) in college


def test_unconfirmed_rows_go_to_the_unconfirmed_graph_only(valid):
    _, datasets = valid
    gamma = triples_of(datasets, ID("project/fixture-gamma"))
    assert gamma, "the unconfirmed project is converted"
    assert {str(g) for _, _, g in gamma} == {UNCONFIRMED_GRAPH}
    assert (VET("evidence"), VET("Unconfirmed"), URIRef(UNCONFIRMED_GRAPH)) in gamma
    alpha = triples_of(datasets, ID("project/fixture-alpha"))
    assert all(default(g) for _, _, g in alpha)


def test_links_point_to_known_country_and_insight_resources(valid, loaded, vocab_dir):
    _, datasets = valid
    from vetgraph.loading import load_graph

    countries = load_graph(vocab_dir / "country.ttl")
    insights = set(loaded.dataset.subjects(RDF.type, VET("Insight")))
    topics = set(loaded.dataset.subjects(RDF.type, VET("MandateTopic")))
    linked = [(p, o) for _, ds in datasets for _, p, o, _ in ds.quads((None, None, None, None))]
    assert {o for p, o in linked if p == VET("country")} == {COUNTRY(c) for c in ("DEU", "FIN", "NLD", "FRA")}
    for p, o in linked:
        if p == VET("country"):
            assert (o, SKOS.prefLabel, None) in countries, o
        elif p == VET("illustratesInsight"):
            assert o in insights, o
        elif p == VET("addressesTopic"):
            assert o in topics, o
    # one prefLabel per language: pick the English one, never "the" prefLabel
    english = {o for o in countries.objects(COUNTRY("DEU"), SKOS.prefLabel) if o.language == "en"}
    assert english == {Literal("Germany", lang="en")}


def test_converted_fixture_passes_shacl(valid, vocab_dir, monkeypatch):
    from vetgraph.loading import load_project
    from vetgraph.validation import validate

    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))  # where the loading hook reads the country table
    data, _ = valid
    loaded = load_project(Paths(data_dir=data))  # the curation spreadsheets are one of its sources
    assert (ID("project/fixture-alpha"), RDF.type, VET("LighthouseProject")) in loaded.union()
    outcome = validate(loaded)
    curated = {ID("project/fixture-alpha"), ID("project/fixture-beta"), ID("project/fixture-gamma"),
               ID("agent/fixture-college")}
    about_curated = [f for f in outcome.results if f.focus in curated]
    assert [f for f in about_curated if f.severity == "Violation"] == []
    assert outcome.conforms, [(f.focus, f.message) for f in outcome.results if f.severity == "Violation"]


def test_iris_are_minted_from_slugs_so_rerunning_never_duplicates(valid, vocab_dir):
    data, first = valid
    second = load_curated(data, vocab_dir)
    as_set = lambda parts: {q for _, ds in parts for q in ds.quads((None, None, None, None))}  # noqa: E731
    assert as_set(first) == as_set(second)
    merged = Dataset()
    apply_curated(merged, first)
    apply_curated(merged, second)
    projects = {s for s, _, _, _ in merged.quads((None, RDF.type, VET("LighthouseProject"), None))}
    assert projects == {ID("project/fixture-alpha"), ID("project/fixture-beta"), ID("project/fixture-gamma")}
    assert len(list(merged.quads((None, None, None, None)))) == len(as_set(first))


# ---- errors a curator understands -------------------------------------------------------------------

ERROR_CASES = {
    "wrong-country": ['lighthouse-projects.csv:3: column country: "GER" is not an EU country code (did you mean DEU?)'],
    "unknown-insight": ['lighthouse-projects.csv:2: column insight: "9" is not an insight number from 1 to 8'],
    "missing-source": [
        "lighthouse-projects.csv:2: column source: no source: every row needs the URL of the document that "
        "states it (for the report itself: https://doi.org/10.2767/25307)"
    ],
    # Trailing empty cells (row 2) are what spreadsheets leave; a filled one (row 3) would be lost.
    "extra-cells": [
        'lighthouse-projects.csv:3: 1 cell(s) under no column of the header row: "see page 12" (a cell that '
        "holds the separator needs quotes; otherwise move or remove the extra cells)"
    ],
    "duplicate-slug": [
        'lighthouse-projects.csv:4: column slug: "fixture-alpha" is already used by row 2 (merge the two rows '
        "if they describe the same thing, or give this one another slug)"
    ],
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_each_error_names_file_row_column_and_suggestion(case, tmp_path, vocab_dir):
    data = data_with_curation(tmp_path, case)
    with pytest.raises(CurationError) as caught:
        load_curated(data, vocab_dir)
    assert [str(issue) for issue in caught.value.issues] == ERROR_CASES[case]
    issue = caught.value.issues[0]
    assert issue.file == "lighthouse-projects.csv" and issue.row and (issue.column or case == "extra-cells")


@pytest.mark.parametrize("case", ["semicolon", "tab"])
def test_a_spreadsheet_saved_with_another_separator_reads_as_the_comma_one(case, valid, tmp_path, vocab_dir):
    """Spreadsheets in most EU locales save "CSV" with ';' (decimal comma), some with tabs: same rows, same RDF."""
    _, expected = valid
    datasets = load_curated(data_with_curation(tmp_path, case), vocab_dir)
    assert [p.name for p, _ in datasets] == [p.name for p, _ in expected]
    for (_, got), (_, want) in zip(datasets, expected, strict=True):
        assert set(got.quads((None, None, None, None))) == set(want.quads((None, None, None, None)))


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_validate_exits_1_and_prints_the_curator_message(case, tmp_path, vocab_dir, monkeypatch, capsys):
    from vetgraph.cli import main

    monkeypatch.setenv("VETGRAPH_DATA", str(data_with_curation(tmp_path, case)))
    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert ERROR_CASES[case][0] in err
    assert "Traceback" not in err


def _issues_with_projects_header(tmp_path: Path, vocab_dir: Path, header: str) -> list[str]:
    folder = tmp_path / "data" / "curation"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lighthouse-projects.csv").write_text(
        header + "\n"
        "Fixture Delta,Fixture Delta (fictional),DEU,Insight 3,0,Cedefop,www.example.org/x,p. 7,Confirmed\n",
        encoding="utf-8",
    )
    (folder / "good-practices.csv").write_text(
        "slug,name,country,insight,coordinator,source,page,evidence\n"
        "fixture-e,Fixture E (fictional),el;Germany,2,CEDEFOP,10.2767/25307,8,confirmed\n",
        encoding="utf-8",
    )
    _, _, issues = read_curated(tmp_path / "data", vocab_dir, data=_project_graph())
    return [str(i) for i in issues]


def test_a_misspelt_column_is_reported_with_the_right_name(tmp_path, vocab_dir):
    found = _issues_with_projects_header(
        tmp_path, vocab_dir, "slug,name,contry,insight,topic,coordinator,source,page,evidence"
    )
    assert "lighthouse-projects.csv:1: column contry: is not a column of this template (did you mean country?)" in found


def test_more_mistakes_get_suggestions(tmp_path, vocab_dir):
    found = _issues_with_projects_header(
        tmp_path, vocab_dir, "slug,name,country,insight,topic,coordinator,source,page,evidence"
    )
    assert found == [
        'lighthouse-projects.csv:2: column slug: "Fixture Delta" is not a slug: use lower-case letters, digits '
        "and hyphens (did you mean fixture-delta?)",
        'lighthouse-projects.csv:2: column insight: "Insight 3" is not an insight number from 1 to 8 '
        "(did you mean 3?)",
        'lighthouse-projects.csv:2: column topic: "0" is not a mandate topic number from 1 to 8',
        'lighthouse-projects.csv:2: column coordinator: "Cedefop" is not an actor: use the slug of a row of '
        "actors.csv or of an agent in the data (did you mean cedefop?)",
        'lighthouse-projects.csv:2: column source: "www.example.org/x" is not a web address '
        "(did you mean https://www.example.org/x?)",
        'lighthouse-projects.csv:2: column page: "p. 7" is not a page number: write the number printed on the '
        "page, or a range like 23-24 (did you mean 7?)",
        'lighthouse-projects.csv:2: column evidence: "Confirmed" is not an evidence level: write confirmed or '
        "unconfirmed (did you mean confirmed?)",
        'good-practices.csv:2: column country: "el" is not an EU country code (did you mean GRC?)',
        'good-practices.csv:2: column country: "Germany" is not an EU country code (did you mean DEU?)',
        'good-practices.csv:2: column coordinator: "CEDEFOP" is not an actor: use the slug of a row of '
        "actors.csv or of an agent in the data (did you mean cedefop?)",
        'good-practices.csv:2: column source: "10.2767/25307" is a DOI, not a URL '
        "(did you mean https://doi.org/10.2767/25307?)",
    ]


def test_a_project_in_both_tables_is_reported(tmp_path, vocab_dir):
    data = data_with_curation(tmp_path, "valid")
    shutil.copy(data / "curation" / "lighthouse-projects.csv", data / "curation" / "good-practices.csv")
    _, _, issues = read_curated(data, vocab_dir)
    assert [str(i) for i in issues][0] == (
        'good-practices.csv:2: column slug: "fixture-alpha" is also in lighthouse-projects.csv, row 2 '
        "(a Lighthouse project is a good practice already: keep it in lighthouse-projects.csv only)"
    )


def test_without_the_snapshot_unknown_codes_get_a_clear_message(tmp_path):
    from vetgraph.curation import COUNTRY_NS, collect_codes

    linked = collect_codes(_project_graph(), None).countries
    assert linked.get("DEU") == "Germany"  # data/links.ttl keeps the labels of the countries it links to
    unlinked = "FIN"  # the data below links to DEU only
    data = tmp_path / "data"
    (data / "curation").mkdir(parents=True)
    (data / "links.ttl").write_text(f"<https://example.org/x> <{VET_NS}country> <{COUNTRY_NS}DEU> .\n", "utf-8")
    (data / "curation" / "actors.csv").write_text(
        "slug,name,country,source,evidence\n"
        f"fixture-x,Fixture X (fictional),DEU,https://example.org/s,confirmed\n"
        f"fixture-y,Fixture Y (fictional),{unlinked},https://example.org/s,confirmed\n",
        encoding="utf-8",
    )
    _, _, issues = read_curated(data, vocab_dir=tmp_path / "no-snapshot")
    assert [str(i) for i in issues] == [
        f'actors.csv:3: column country: "{unlinked}" cannot be checked: it is not a country the data links '
        "to, and the EU country table snapshot is absent (set VETGRAPH_VOCAB to the folder holding country.ttl)"
    ]


def test_empty_templates_give_no_statements_and_no_issues(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "curation", data / "curation")
    datasets, _, issues = read_curated(data)
    assert (datasets, issues) == ([], [])
    (data / "curation" / "insights.csv").write_text("number,title\n", encoding="utf-8")
    _, _, issues = read_curated(data)
    assert [str(i) for i in issues] == [
        f"insights.csv:1: column {name}: is missing from the header row (copy the header row from the template)"
        for name in ("source", "page", "evidence")
    ]


# ---- insights.csv replaces what the data records -------------------------------------------------------


def test_an_insight_row_replaces_the_not_recorded_title_and_passes_shacl(tmp_path, loaded):
    from vetgraph.loading import load_project
    from vetgraph.validation import validate

    seven = ID("insight/7")
    assert (seven, VET("titleEvidence"), VET("NotRecorded")) in loaded.dataset  # the real data
    data = data_with_curation(tmp_path, "insight")
    loaded = load_project(Paths(data_dir=data))
    union = loaded.union()
    title = Literal("Fixture title of insight seven (fictional)", lang="en")
    assert set(union.objects(seven, DCTERMS.title)) == {title}
    assert set(union.objects(seven, VET("titleEvidence"))) == {VET("AsPrinted")}
    assert set(union.objects(seven, SKOS.editorialNote)) == set()
    assert set(union.objects(seven, PAGINATION)) == {Literal("42")}
    assert (seven, RDFS.label, Literal("Insight 7", lang="en")) in union  # the data's label stays
    outcome = validate(loaded)
    assert [f.message for f in outcome.results if f.focus == seven and f.severity == "Violation"] == []


def test_shacl_violations_on_curated_rows_point_to_the_cell(tmp_path):
    from vetgraph.loading import load_project
    from vetgraph.validation import validate

    data = data_with_curation(tmp_path, "insight-conflict")
    loaded = load_project(Paths(data_dir=data))
    outcome = validate(loaded)
    located = [f.location for f in outcome.results if f.severity == "Violation"]
    assert "insights.csv:2: column viewpoint" in located
    assert loaded.locate(ID("insight/1"), VET("viewpoint")) == "insights.csv:2: column viewpoint"
    assert loaded.locate(ID("insight/1"), RDFS.label) is None  # the data's own statements are not the row's


# ---- nothing of the fixtures or of the README example reaches the real data ------------------------------


def _project_graph():
    from vetgraph.loading import load_data, rdf_files

    dataset, _ = load_data(rdf_files(Paths().data_dir))
    return dataset


def test_real_curation_rows_are_sourced_and_fixtures_never_reach_the_data(loaded):
    real = Paths().data_dir / "curation"
    datasets, _, issues = read_curated(Paths().data_dir)
    assert issues == []
    for path in real.glob("*.csv"):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip(", ")]
        # No source names a project, practice or printed insight title yet: the templates hold no rows.
        assert lines == [], f"{path.name} has rows: each must be sourced (source + page) and this test updated"
    labels = {str(o) for o in loaded.union().objects(None, RDFS.label)}
    fixture_names = {
        line.split(",")[1]
        for path in CURATION.rglob("*.csv")
        for line in path.read_text(encoding="utf-8").splitlines()[1:]
        if "," in line
    }
    assert fixture_names and not fixture_names & labels
    assert not [s for s in loaded.union().subjects() if "fixture" in str(s) or "example" in str(s)]


def test_readme_documents_every_column_and_its_example_is_never_parsed():
    import json

    folder = PROJECT_ROOT / "data" / "curation"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    metadata = json.loads((folder / "curation-metadata.json").read_text(encoding="utf-8"))
    for table in metadata["tables"]:
        assert f"`{table['url']}`" in readme
        for column in table["tableSchema"]["columns"]:
            if not column.get("virtual"):
                assert f"`{column['name']}`" in readme, (table["url"], column["name"])
    assert "EXAMPLE" in readme
    example_slug = "example-do-not-publish"
    assert example_slug in readme
    for path in folder.glob("*"):
        if path.name != "README.md":
            assert example_slug not in path.read_text(encoding="utf-8"), path


def test_build_publishes_nothing_when_a_row_has_a_problem(tmp_path, vocab_dir, monkeypatch, capsys):
    from vetgraph.cli import main

    monkeypatch.setenv("VETGRAPH_DATA", str(data_with_curation(tmp_path, "wrong-country")))
    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
    out = tmp_path / "release"
    assert main(["build", "--out", str(out), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert ERROR_CASES["wrong-country"][0] in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no release, no temporary folder


def test_curated_iris_follow_a_moved_base_like_the_data(tmp_path, vocab_dir):
    import os
    import subprocess
    import sys

    data = data_with_curation(tmp_path, "valid")
    shutil.copy(CURATION / "insight" / "curation" / "insights.csv", data / "curation")
    env = dict(os.environ, VETGRAPH_DATA=str(data), VETGRAPH_VOCAB=str(vocab_dir),
               VETGRAPH_BASE_IRI="http://localhost:8000/")
    script = (
        "from vetgraph.loading import load_project; from vetgraph.validation import validate\n"
        "loaded = load_project(); union = loaded.union()\n"
        "print(sorted({str(s) for s in union.subjects() if 'fixture' in str(s)}))\n"
        "from rdflib import URIRef\n"
        "for n in (7, 8): print([str(o) for o in union.objects(URIRef(f'http://localhost:8000/id/insight/{n}'),"
        " URIRef('https://w3id.org/vetgraph/def#titleEvidence'))])\n"
        "print(validate(loaded).violations)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    subjects, seven, eight, violations = result.stdout.splitlines()
    assert subjects == str(sorted(f"http://localhost:8000/id/{p}" for p in (
        "agent/fixture-college", "project/fixture-alpha", "project/fixture-beta", "project/fixture-gamma")))
    assert seven == str([VET_NS + "AsPrinted"])  # the curated row replaced the data's mark
    assert eight == str([VET_NS + "NotRecorded"])
    assert violations == "0"


# ---- loading the curated rows with the project -----------------------------------------------------------


def test_load_project_checks_codes_against_the_vocab_dir_it_is_given(tmp_path, vocab_dir, monkeypatch):
    from vetgraph.loading import load_project

    # FIN, NLD and FRA are in the EU country table but not in the data: only the snapshot can confirm them
    monkeypatch.setenv("VETGRAPH_VOCAB", str(tmp_path / "no-snapshot"))
    data = data_with_curation(tmp_path, "valid")
    loaded = load_project(Paths(data_dir=data, vocab_dir=vocab_dir))
    assert (ID("project/fixture-gamma"), VET("country"), COUNTRY("FRA")) in loaded.union()


def test_load_project_parses_each_data_file_once_with_curated_rows(tmp_path, vocab_dir, monkeypatch) -> None:
    from collections import Counter

    from vetgraph import loading

    data = data_with_curation(tmp_path, "valid")
    parsed: Counter[Path] = Counter()
    parse_file = loading.parse_file

    def counting(path, *args, **kwargs):
        parsed[Path(path)] += 1
        return parse_file(path, *args, **kwargs)

    monkeypatch.setattr(loading, "parse_file", counting)
    loaded = loading.load_project(Paths(data_dir=data, vocab_dir=vocab_dir))
    data_files = loading.rdf_files(data)
    assert (ID("project/fixture-alpha"), RDF.type, VET("LighthouseProject")) in loaded.union()  # rows were read
    assert data_files and {path: parsed[path] for path in data_files} == dict.fromkeys(data_files, 1)
