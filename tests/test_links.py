"""`vetgraph links`: the real links pass; each kind of broken link is reported with its severity and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from vetgraph.cli import main
from vetgraph.config import Paths
from vetgraph.links import ERROR, WARNING, VocabularyError, check_links, label_triples, load_snapshot
from vetgraph.loading import load_project, rdf_files

LINKS = Path(__file__).resolve().parent / "data" / "links"
AUTHORITY = "http://publications.europa.eu/resource/authority/"


def run_links(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["links", "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def findings(report: dict, code: str | None = None) -> list[dict]:
    return [f for f in report["findings"] if code is None or f["code"] == code]


def check_fixture(name: str, vocab: Path):
    return check_links(load_project(data_files=[LINKS / name]), load_snapshot(vocab))


# --- the real data --------------------------------------------------------------------------------------------


def test_every_link_of_the_real_data_passes(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir))
    problems = [f"{f['severity']} {f['code']} {f['iri']}: {f['message']}" for f in report["findings"]]
    assert problems == []
    assert code == 0
    checked = {v["vocabulary"]: v for v in report["vocabularies"]}
    # the EU vocabularies the project links to are all linked, and every IRI in them is ok
    # (counted here from the data files as pyoxigraph reads them: distinct IRIs under each namespace)
    store = ox.Store()
    for path in rdf_files(Paths().data_dir):
        store.bulk_load(path=str(path))
    iris = {t.value for quad in store for t in quad.triple if isinstance(t, ox.NamedNode)}
    namespaces = {"EuroVoc": "http://eurovoc.europa.eu/", "ESCO": "http://data.europa.eu/esco/",
                  "CELEX": "http://publications.europa.eu/resource/celex/", "DOI": "https://doi.org/",
                  **{f"authority/{t}": f"{AUTHORITY}{t}/"
                     for t in ("corporate-body", "country", "language", "licence", "file-type")}}
    for name, namespace in namespaces.items():
        expected = len({iri for iri in iris if iri.startswith(namespace)})
        assert expected > 0, f"the data links to {name}"
        assert checked[name]["iris"] == checked[name]["ok"] == expected, name


def test_text_output_has_a_table_per_vocabulary(capsys, vocab_dir):
    assert main(["links", "--vocab", str(vocab_dir)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("vocabulary"))
    assert header.split() == ["vocabulary", "version", "IRIs", "links", "ok", "errors", "warnings"]
    assert any(line.startswith("authority/country") and "20220928-0" in line for line in out.splitlines())
    assert "Not checked (no snapshot for these namespaces):" in out  # source pages are listed, not judged
    assert out.rstrip().endswith("0 errors, 0 warnings")


# --- broken links, each with its severity and exit code ----------------------------------------------------


def test_wrong_eurovoc_id_is_an_error(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "wrong-eurovoc.ttl"))
    assert code == 1
    [finding] = findings(report)
    assert (finding["severity"], finding["code"]) == (ERROR, "unknown-concept")
    assert finding["iri"] == "http://eurovoc.europa.eu/10711"
    assert "did you mean 1071" in finding["message"]  # found from the label we stored, "teacher training"
    assert finding["files"] == ["tests/data/links/wrong-eurovoc.ttl"]


def test_deprecated_licence_is_an_error_against_the_real_snapshot(capsys, vocab_dir):
    # the real snapshot leaves deprecated codes out and carries no deprecation marker: absent = error
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "deprecated-licence.ttl"))
    assert code == 1
    errors = {f["iri"]: f for f in findings(report) if f["severity"] == ERROR}
    assert set(errors) == {AUTHORITY + "licence/CC_BY", AUTHORITY + "corporate-body/EC"}
    assert all(f["code"] == "unknown-concept" for f in errors.values())
    assert "CC_BY_4_0" in errors[AUTHORITY + "licence/CC_BY"]["message"]


def test_deprecation_markers_of_the_eu_sources_are_errors(capsys):
    # vocab/ carries the markers: at:deprecated "true" (skos-ap-act), euvoc:status, owl:deprecated, isReplacedBy
    code, report = run_links(capsys, "--vocab", str(LINKS / "vocab"), "--data", str(LINKS / "deprecated-licence.ttl"))
    assert code == 1
    by_iri = {f["iri"]: f for f in findings(report)}
    licence, body = by_iri[AUTHORITY + "licence/CC_BY"], by_iri[AUTHORITY + "corporate-body/EC"]
    assert (licence["severity"], licence["code"]) == (ERROR, "deprecated")
    assert "at:deprecated true" in licence["message"]
    assert (body["severity"], body["code"]) == (ERROR, "deprecated")
    assert "euvoc:status DEPRECATED" in body["message"] and "owl:deprecated true" in body["message"]
    assert f"replaced by <{AUTHORITY}corporate-body/COM>" in body["message"]


def test_at_deprecated_false_is_not_deprecated():
    snapshot = load_snapshot(LINKS / "vocab")
    assert snapshot.deprecation(AUTHORITY + "licence/CC_BY_4_0") is None
    # the skos-ap-act table also states the end of use (at:end.use), which the report names
    assert snapshot.deprecation(AUTHORITY + "licence/CC_BY") == "at:deprecated true; in use until 2013-11-26"


def test_misspelt_country_code_is_an_error(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "misspelt-country.ttl"))
    assert code == 1
    [finding] = findings(report)
    assert (finding["severity"], finding["code"], finding["iri"]) == (ERROR, "unknown-concept",
                                                                       AUTHORITY + "country/GER")
    assert "did you mean DEU" in finding["message"]
    country = next(v for v in report["vocabularies"] if v["vocabulary"] == "authority/country")
    assert (country["iris"], country["ok"], country["errors"]) == (2, 1, 1)  # FRA is fine


def test_label_mismatch_is_a_warning_and_exits_0(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "label-mismatch.ttl"))
    assert code == 0
    assert all(f["severity"] == WARNING for f in findings(report))
    mismatches = {f["iri"]: f["message"] for f in findings(report, "label-mismatch")}
    assert set(mismatches) == {AUTHORITY + "licence/CC_BY_4_0", AUTHORITY + "country/DEU",
                               "http://eurovoc.europa.eu/1071"}
    assert "is an altLabel" in mismatches[AUTHORITY + "licence/CC_BY_4_0"]
    assert '"Germany"' in mismatches[AUTHORITY + "country/DEU"]
    assert [f["iri"] for f in findings(report, "no-label")] == [AUTHORITY + "language/ENG"]


# --- mapping consistency -------------------------------------------------------------------------------------


def test_owl_sameas_to_a_skos_concept_is_rejected(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "sameas-concept.ttl"))
    assert code == 1
    rejected = findings(report, "sameas-concept")
    # a thing owl:sameAs an authority-table concept, and one of our concepts (a topic) owl:sameAs anything
    assert {f["iri"] for f in rejected} == {AUTHORITY + "corporate-body/COM", "http://example.org/not-a-concept"}
    assert all(f["severity"] == ERROR for f in rejected)
    # schema:sameAs to an authority IRI (the form data/links.ttl uses for organisations) is accepted
    assert not [f for f in findings(report) if f["iri"] == AUTHORITY + "corporate-body/EMPL"]


def test_exact_match_chain_merging_two_topics_is_rejected(capsys, vocab_dir):
    code, report = run_links(capsys, "--vocab", str(vocab_dir), "--data", str(LINKS / "exactmatch-merge.ttl"))
    assert code == 1
    merges = findings(report, "exactmatch-merge")
    topic = "https://w3id.org/vetgraph/id/topic/"
    assert sorted(f["iri"] for f in merges) == [topic + "2", topic + "4"]
    long_chain = next(f["message"] for f in merges if f["iri"] == topic + "4")
    assert f"<{topic}3> = <http://example.org/x> = <http://example.org/y> = <{topic}4>" in long_chain
    [clash] = findings(report, "mapping-clash")
    assert clash["severity"] == ERROR and clash["iri"] == "http://eurovoc.europa.eu/1439"


def test_skos_mapping_from_an_organisation_is_a_warning(tmp_path, vocab_dir):
    data = tmp_path / "org.ttl"
    data.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://w3id.org/vetgraph/id/agent/x> a <http://www.w3.org/ns/org#Organization> ;\n"
        f"  skos:exactMatch <{AUTHORITY}corporate-body/COM> .\n"
        f'<{AUTHORITY}corporate-body/COM> skos:prefLabel "European Commission"@en .\n',
        encoding="utf-8",
    )
    report = check_links(load_project(data_files=[data]), load_snapshot(vocab_dir))
    [finding] = report.findings
    assert (finding.severity, finding.code) == (WARNING, "mapping-not-concept")
    assert report.exit_code == 0


# --- identifiers without a snapshot: syntax and agreement ------------------------------------------------------


def test_celex_and_doi_iris_are_syntax_checked(vocab_dir):
    report = check_fixture("identifiers.ttl", vocab_dir)
    got = {(f.code, f.iri.rsplit("/", 1)[-1]) for f in report.findings}
    assert got == {
        ("celex-syntax", "32020H1202%2801%29"),
        ("celex-syntax", "COM-2020-274"),
        ("identifier-mismatch", "52020DC0624"),
        ("identifier-mismatch", "99999"),
        ("doi-syntax", "25307"),
        ("doi-form", "25307"),  # http://dx.doi.org/10.2767/25307: a warning
    }
    assert report.exit_code == 1
    listed = report.vocabularies["https://creativecommons.org/"]
    assert (listed.checked, listed.iris, listed.errors) == (False, 1, 0)  # unknown namespace: listed only


# --- cannot run ----------------------------------------------------------------------------------------------


def test_missing_snapshot_folder_exits_2_and_says_how_to_point_to_one(capsys, tmp_path):
    assert main(["links", "--vocab", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "--vocab" in err and "project's snapshot" in err and "nowhere" in err


def test_an_empty_vocabulary_folder_exits_2(capsys, tmp_path):
    assert main(["links", "--vocab", str(tmp_path)]) == 2
    assert f"{tmp_path} holds no Turtle snapshot" in capsys.readouterr().err


def test_unparsable_snapshot_exits_2_with_file_and_line(capsys, tmp_path):
    (tmp_path / "broken.ttl").write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n<a> skos:x .\n")
    assert main(["links", "--vocab", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "broken.ttl:2" in err and "Traceback" not in err


def test_unreadable_data_file_exits_2(capsys, vocab_dir, tmp_path):
    assert main(["links", "--vocab", str(vocab_dir), "--data", str(tmp_path / "missing.ttl")]) == 2
    assert "missing.ttl" in capsys.readouterr().err


# --- labels for `vetgraph build --with-labels` ----------------------------------------------------------------


def test_label_triples_give_english_labels_and_schemes(loaded, vocab_dir):
    from rdflib import RDFS, SKOS, Literal, URIRef

    graph = label_triples(loaded.dataset, vocab_dir)
    deu = URIRef(AUTHORITY + "country/DEU")
    assert (deu, RDFS.label, Literal("Germany", lang="en")) in graph
    assert (deu, SKOS.prefLabel, Literal("Germany", lang="en")) in graph
    assert (deu, SKOS.notation, Literal("DEU")) in graph
    assert (deu, SKOS.inScheme, URIRef(AUTHORITY + "country")) in graph
    assert (URIRef(AUTHORITY + "country"), RDFS.label, Literal("Country", lang="en")) in graph
    assert (URIRef("http://eurovoc.europa.eu/1071"), RDFS.label, Literal("teacher training", lang="en")) in graph
    # only linked concepts: a country the data does not use gets nothing
    assert not list(graph.triples((URIRef(AUTHORITY + "country/AUT"), None, None)))
    # nothing about our own resources or about source pages
    assert all(not str(s).startswith("https://w3id.org/vetgraph/") for s in graph.subjects())


def test_label_triples_without_snapshots_raise_a_clear_error(loaded, tmp_path):
    with pytest.raises(VocabularyError, match="--vocab"):
        label_triples(loaded.dataset, tmp_path / "nowhere")
