"""What validates must release (vetgraph.release_checks), and data that cannot be read safely is refused
(vetgraph.loading): each finding a Violation naming the statement, the data file and its line, and `build`
refusing such data as it refuses any violation (exit 1, nothing written), never failing late on a dump."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.build import BUILD_FIXTURES as FIXTURES
from tests.helpers.build import RELEASE
from tests.helpers.progress import without_progress
from vetgraph import cli

HEAD = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix fx: <https://w3id.org/vetgraph/id/fixture/> .

"""


def fixture_data_with(tmp_path: Path, name: str, text: str) -> Path:
    """The build fixture's data plus one more file."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "data", data)
    (data / name).write_text(text, encoding="utf-8")
    return data


def run(capsys, monkeypatch, data: Path, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("VETGRAPH_ONTOLOGY", str(FIXTURES / "ontology"))
    monkeypatch.setenv("VETGRAPH_DATA", str(data))
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def assert_validate_and_build_refuse(capsys, monkeypatch, tmp_path: Path, data: Path, expected: list[str]) -> str:
    """validate exits 1 with the expected lines; build exits 1 (refused as for any violation) and writes nothing."""
    code, out, _ = run(capsys, monkeypatch, data, "validate")
    assert code == 1, out
    for text in expected:
        assert text in out, out
    out_dir = tmp_path / "dist"
    code, _, err = run(capsys, monkeypatch, data, "build", "--out", str(out_dir), "--release", str(RELEASE))
    assert code == 1, err
    assert "nothing was written" in err and not out_dir.exists()
    return out


def test_a_predicate_rdfxml_cannot_write_is_a_violation(tmp_path: Path, capsys, monkeypatch) -> None:
    data = fixture_data_with(tmp_path, "extra.ttl", HEAD + 'fx:report\n    <https://example.org/p/1> "one" .\n')
    out = assert_validate_and_build_refuse(capsys, monkeypatch, tmp_path, data, [
        "Violation: fx:report \"Fixture report\" <https://example.org/p/1>",
        "the predicate <https://example.org/p/1> cannot be written in RDF/XML",
        f"at {data / 'extra.ttl'}:6",
    ])
    assert "1 violation," in out


def test_a_nul_in_a_literal_is_a_violation(tmp_path: Path, capsys, monkeypatch) -> None:
    data = fixture_data_with(tmp_path, "extra.ttl", HEAD + 'fx:report dct:alternative "a\\u0000b"@en .\n')
    assert_validate_and_build_refuse(capsys, monkeypatch, tmp_path, data, [
        "the literal holds the character U+0000, which XML 1.0 (the release's RDF/XML dump) cannot carry",
        f"at {data / 'extra.ttl'}:5",
    ])


def test_a_nul_in_a_curation_cell_is_a_violation_naming_the_row(tmp_path: Path, vocab_dir: Path) -> None:
    from tests.helpers.project import data_with_curation
    from vetgraph.config import Paths
    from vetgraph.loading import load_project
    from vetgraph.validation import validate

    data = data_with_curation(tmp_path, "valid")
    table = data / "curation" / "lighthouse-projects.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("only the tests use.", "only the\x00tests use."),
                     encoding="utf-8")
    paths = Paths(data_dir=data, vocab_dir=vocab_dir)
    outcome = validate(load_project(paths), jobs=1)
    found = [f for f in outcome.results if "U+0000" in f.message]
    assert len(found) == 1 and found[0].severity == "Violation"
    assert found[0].location is not None and found[0].location.startswith("lighthouse-projects.csv:2"), found[0]


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ('"twenty"^^xsd:gYear', '"twenty" is not a valid xsd:gYear'),
        ('"2020-13"^^xsd:gYearMonth', '"2020-13" is not a valid xsd:gYearMonth'),
        ('"2020-02-30"^^xsd:date', '"2020-02-30" is not a valid xsd:date'),
        ('"1.5"^^xsd:integer', '"1.5" is not a valid xsd:integer'),
        ('"yes"^^xsd:boolean', '"yes" is not a valid xsd:boolean'),
        ('"-1"^^xsd:nonNegativeInteger', '"-1" is not a valid xsd:nonNegativeInteger'),
    ],
    ids=["gYear", "gYearMonth", "date", "integer", "boolean", "nonNegativeInteger"],
)
def test_an_ill_typed_literal_is_a_violation_with_file_and_line(
    tmp_path: Path, capsys, monkeypatch, literal: str, message: str
) -> None:
    data = fixture_data_with(tmp_path, "extra.ttl", HEAD + f"fx:report\n    dct:modified {literal} .\n")
    assert_validate_and_build_refuse(capsys, monkeypatch, tmp_path, data, [message, f"at {data / 'extra.ttl'}:6"])


def test_ill_typed_literals_of_the_malformed_fixtures_are_violations_with_their_line(capsys) -> None:
    from tests.helpers.shared import FIXTURES as TEST_DATA
    from vetgraph.config import PROJECT_ROOT

    # The second file has the same lexical form earlier as a valid plain literal: the typed one is meant.
    for name, line, message in (("wrong-datatype.ttl", 7, '"abc" is not a valid xsd:integer'),
                                ("wrong-datatype-repeated-value.ttl", 8, '"2020" is not a valid xsd:date')):
        path = TEST_DATA / "malformed" / name
        code = cli.main(["validate", "--data", str(path)])
        out = capsys.readouterr().out
        assert code == 1 and message in out and "1 violation, 0 warnings" in out, out
        assert f"at {path.relative_to(PROJECT_ROOT)}:{line}\n" in out, out


def test_well_typed_literals_of_every_checked_type_pass(tmp_path: Path) -> None:
    from rdflib import Dataset, Literal, URIRef

    from vetgraph.release_checks import OXIGRAPH_CASTS, find_problems

    samples = {"boolean": "true", "double": "1e3", "float": "1.5", "decimal": "-1.50", "integer": "012",
               "dateTime": "2020-01-01T00:00:00Z", "date": "2020-02-29", "time": "12:00:00", "gYear": "2020",
               "gYearMonth": "2020-12", "gMonth": "--12", "gDay": "---31", "duration": "P1Y2M",
               "yearMonthDuration": "P1Y", "dayTimeDuration": "PT1S"}
    assert {"http://www.w3.org/2001/XMLSchema#" + t for t in samples} == OXIGRAPH_CASTS
    dataset = Dataset()
    for name, lexical in samples.items():
        datatype = URIRef("http://www.w3.org/2001/XMLSchema#" + name)
        dataset.add((URIRef("https://example.org/s"), URIRef("https://example.org/" + name),
                     Literal(lexical, datatype=datatype)))
    assert list(find_problems(dataset)) == []


def billion_laughs(levels: int) -> str:
    """The classic entity bomb, `levels` deep (10**levels copies of "lol"; small here, gigabytes at 9)."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1)
    ]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "\n]>\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="https://example.org/">\n'
            f'<rdf:Description rdf:about="https://example.org/a"><ex:p>&lol{levels};</ex:p></rdf:Description>\n'
            "</rdf:RDF>\n")


def test_billion_laughs_rdfxml_in_data_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    # 4 levels (10,000 copies) so that the unprotected parser, which accepts it, stays harmless in this test.
    data = fixture_data_with(tmp_path, "bomb.rdf", billion_laughs(4))
    code, out, err = run(capsys, monkeypatch, data, "validate")
    assert (code, out) == (2, "")
    assert f"{data / 'bomb.rdf'}:3: declares the XML entity \"lol0\"" in err and "not accepted" in err
    assert len(without_progress(err).strip().splitlines()) == 1


def test_a_literal_over_the_cap_is_refused_naming_the_file(tmp_path: Path, capsys, monkeypatch) -> None:
    from vetgraph.loading import MAX_LITERAL_CHARS

    big = "x" * (MAX_LITERAL_CHARS + 1)
    data = fixture_data_with(tmp_path, "big.ttl", HEAD + f'fx:report dct:description "{big}" .\n')
    code, out, err = run(capsys, monkeypatch, data, "validate")
    assert (code, out) == (2, "")
    assert str(data / "big.ttl") in err and f"a literal of {MAX_LITERAL_CHARS + 1:,} characters" in err
    assert len(err) < 500  # the message quotes the start of the literal, not all of it
