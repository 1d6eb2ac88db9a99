"""`vetgraph validate` as a user runs it: exit codes, messages that name file and line, output formats, and
never a Python traceback.

Exit codes follow pySHACL: 0 conforms (warnings allowed), 1 violations, 2 cannot run (bad input). Most runs
are in-process through `vetgraph.cli.main`; one goes through a real process (`python -m vetgraph`).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rdflib import RDF, Graph, Literal, Namespace

from tests.helpers.progress import without_progress
from tests.helpers.shared import FIXTURES
from vetgraph.cli import main
from vetgraph.config import PROJECT_ROOT

MALFORMED = FIXTURES / "malformed"
SH = Namespace("http://www.w3.org/ns/shacl#")
#: What the real data gives: no violation, three completeness warnings (insights 7 and 8 have no title; the
#: report declares 12 Lighthouse projects and none is described).
REAL_SUMMARY = "0 violations, 3 warnings"


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out
    return code, out, without_progress(err)  # the messages; progress is tested in test_progress


# --- input that cannot be loaded: exit 2, a message with file and line, nothing on stdout ----------------


@pytest.mark.parametrize(
    ("fixture", "line", "words"),
    [
        ("missing-dot.ttl", 7, ["dot is expected"]),
        ("unknown-prefix.ttl", 6, ["dcterms"]),
    ],
)
def test_unloadable_file_exits_2_naming_file_and_line(
    capsys: pytest.CaptureFixture[str], fixture: str, line: int, words: list[str]
) -> None:
    path = MALFORMED / fixture
    code, out, err = validate(capsys, "--data", str(path))
    assert code == 2
    assert out == "", "nothing half-written on stdout"
    message = err.strip()
    assert f"{path}:{line}:" in message, message
    for word in words:
        assert word in message, message
    assert len(message.splitlines()) == 1, message


@pytest.mark.parametrize("fmt", ["turtle", "json"])
def test_unloadable_file_writes_no_report_in_any_format(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = MALFORMED / "missing-dot.ttl"
    code, out, err = validate(capsys, "--data", str(path), "--format", fmt)
    assert (code, out) == (2, "")
    assert f"{path}:7:" in err


def test_missing_file_and_unknown_extension_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    missing = MALFORMED / "no-such-file.ttl"
    code, out, err = validate(capsys, "--data", str(missing))
    assert (code, out) == (2, "") and str(missing) in err
    not_rdf = MALFORMED / "README.md"
    code, out, err = validate(capsys, "--data", str(not_rdf))
    assert (code, out) == (2, "") and str(not_rdf) in err and ".md" in err


def test_bad_option_exits_2_with_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--format", "xml"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("vetgraph validate: argument --format: invalid choice: ") and "xml" in err
    assert err.endswith("(see vetgraph validate --help)\n") and err.count("\n") == 1


# --- a shape violation: exit 1 ----------------------------------------------------------------------


def test_shape_violation_exits_1_and_reports_it(capsys: pytest.CaptureFixture[str]) -> None:
    path = MALFORMED / "shape-violation.ttl"
    code, out, err = validate(capsys, "--data", str(path))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert "2 violations, 0 warnings" in lines
    violations = [line for line in lines if line.startswith("Violation: ")]
    assert len(violations) == 2 and all("test/agent/nameless" in line for line in violations)
    assert any("source" in line for line in violations) and any("rdfs:label" in line for line in violations)
    assert f"  in {path.relative_to(PROJECT_ROOT)}" in lines  # the file that describes the focus node


def test_shape_violation_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, "--data", str(MALFORMED / "shape-violation.ttl"), "--format", "json")
    payload = json.loads(out)
    assert code == 1
    assert (payload["conforms"], payload["violations"], payload["warnings"]) == (False, 2, 0)
    # The component is an N3 term: "sh:..." or "<http://www.w3.org/ns/shacl#...>" depending on the prefixes
    # the data files declare.
    components = {r["constraintComponent"].strip("<>").replace(str(SH), "sh:") for r in payload["results"]}
    assert components == {"sh:MinCountConstraintComponent"}


# --- the real data: exit 0 with the three completeness warnings -------------------------------------------


def test_real_data_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = validate(capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert REAL_SUMMARY in lines
    warnings = [line for line in lines if line.startswith("Warning: ")]
    assert len(warnings) == 3 and not [line for line in lines if line.startswith("Violation: ")]
    assert sum("insight/" in w or "insight:" in w for w in warnings) == 2


def test_real_data_quiet_prints_only_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, "--quiet")
    assert (code, out) == (0, REAL_SUMMARY + "\n")


def test_real_data_turtle_is_a_standard_validation_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, "--format", "turtle")
    assert code == 0
    report = Graph().parse(data=out, format="turtle")
    reports = list(report.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1
    assert report.value(reports[0], SH.conforms) == Literal(True)  # warnings do not break conformance
    results = list(report.objects(reports[0], SH.result))
    assert len(results) == 3
    assert {report.value(r, SH.resultSeverity) for r in results} == {SH.Warning}


def test_real_data_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = validate(capsys, "--format", "json")
    payload = json.loads(out)
    assert code == 0
    assert (payload["conforms"], payload["violations"], payload["warnings"]) == (True, 0, 3)
    assert len(payload["results"]) == 3
    for result in payload["results"]:
        assert result["severity"] == "Warning"
        assert result["focusNode"].startswith("https://w3id.org/vetgraph/id/")
        assert result["message"] and result["files"]


# --- a real process ------------------------------------------------------------------------------------


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vetgraph", "validate", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_process_exit_codes_and_messages() -> None:
    """The same behaviour through a real process: what a shell script or CI sees."""
    broken = MALFORMED / "missing-dot.ttl"
    process = run_process("--data", str(broken))
    assert process.returncode == 2 and process.stdout == ""
    assert f"{broken}:7:" in process.stderr and "Traceback" not in process.stderr
    process = run_process("--quiet")
    assert (process.returncode, process.stdout) == (0, REAL_SUMMARY + "\n")
    assert "Traceback" not in process.stderr
