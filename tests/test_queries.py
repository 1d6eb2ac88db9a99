"""The stored-query catalogue: metadata, parameter binding and the `vetgraph query` command.

The answers of each stored query are checked against the fact sheet in test_queries_answers.py.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from vetgraph import queries
from vetgraph.cli import main
from vetgraph.config import ID_BASE, PROJECT_ROOT
from vetgraph.queries import (
    ParameterError,
    QueryFileError,
    StoredQuery,
    load_catalogue,
    parse_query_file,
    run_stored,
)
from vetgraph.stores import QueryResult, Store

QUERIES = Path(__file__).resolve().parent / "data" / "queries"
XSD = "http://www.w3.org/2001/XMLSchema#"
INJECTION = 'x" } ; DROP ALL ; #'
#: The queries the catalogue must have (it may have more).
REQUIRED = {
    "insights", "insight", "topics", "viewpoints", "vision", "projects", "actors", "report", "report-card",
    "policy-instruments", "completeness", "unconfirmed", "sources", "describe", "search", "statistics",
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, StoredQuery]:
    return load_catalogue()


@pytest.fixture(scope="module")
def typed() -> StoredQuery:
    return parse_query_file(QUERIES / "good" / "typed.rq")


# --- metadata ------------------------------------------------------------------------------------------


def test_catalogue_has_the_required_queries_sorted_by_name(catalogue) -> None:
    assert REQUIRED <= set(catalogue)
    assert list(catalogue) == sorted(catalogue)
    assert {p.stem for p in (PROJECT_ROOT / "queries").glob("*.rq")} == set(catalogue)


def test_every_query_file_has_summary_description_params_and_a_working_example(catalogue) -> None:
    for name, query in catalogue.items():
        assert query.summary and query.description, name
        assert query.kind in ("select", "ask", "construct", "describe"), name
        words = shlex.split(query.example)
        assert words[:3] == ["vetgraph", "query", name], f"{name}: example {query.example!r}"
        values = dict(w.split("=", 1) for w in words[4::2] if "=" in w)
        query.bind(values)  # the documented example is a valid call
        for param in query.params:
            assert param.type in queries.PARAM_TYPES and param.description, f"{name}.{param.name}"
            assert f"?{param.name}" in query.text, f"{name}.{param.name}"


def test_query_text_keeps_file_lines_for_error_positions(catalogue) -> None:
    for query in catalogue.values():
        lines = query.path.read_text(encoding="utf-8").splitlines()
        assert lines[query.first_line - 1].strip() == query.text.splitlines()[0].strip()
        assert not query.text.lstrip().startswith("#+")


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("no-metadata", 1, "no '#+' metadata header"),
        ("bad-yaml", 2, "bad '#+' metadata (YAML)"),
        ("no-summary", 1, "needs a non-empty 'summary'"),
        ("unknown-key", 2, "unknown metadata key 'parms'"),
        ("unknown-type", 2, "unknown type 'float'"),
        ("bad-default", 2, "expected an integer, got 'three'"),
        ("not-projected", 4, "SELECT projection"),
        ("undeclared-variable", 4, "no ?country variable"),
        ("syntax-error", 7, "SPARQL syntax error"),
        ("grlc-pagination", 2, "grlc's 'pagination' is not supported"),
        ("grlc-variable", 4, "?_country_iri looks like a grlc parameter variable"),
        ("grlc-defaults-undeclared", 2, "defaults: 'country' is not a parameter declared under 'params'"),
        ("grlc-enumerate-without-values", 4, "enumerate: 'country' needs its list of values"),
        ("grlc-default-twice", 4, "parameter 'country' has its default in 'params' already"),
    ],
)
def test_bad_query_files_fail_with_file_and_line(name: str, line: int, message: str) -> None:
    path = QUERIES / "bad" / f"{name}.rq"
    with pytest.raises(QueryFileError) as caught:
        parse_query_file(path)
    assert caught.value.path == path
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:")


def test_syntax_error_has_a_column(tmp_path: Path) -> None:
    with pytest.raises(QueryFileError) as caught:
        parse_query_file(QUERIES / "bad" / "syntax-error.rq")
    # The missing operand shows at the closing brace, line 7; Oxigraph's column points just past it.
    assert (caught.value.line, caught.value.column) == (7, 2)


def test_a_catalogue_with_one_file_without_metadata_fails_naming_it(tmp_path: Path) -> None:
    for source in (QUERIES / "good").glob("*.rq"):
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "plain.rq").write_text((QUERIES / "bad" / "no-metadata.rq").read_text())
    with pytest.raises(QueryFileError, match=r"plain\.rq:1: no '#\+' metadata"):
        load_catalogue(tmp_path)
    (tmp_path / "plain.rq").unlink()
    assert set(load_catalogue(tmp_path)) == {"minimal", "typed"}


def test_file_names_must_be_kebab_case(tmp_path: Path) -> None:
    (tmp_path / "My_Query.rq").write_text((QUERIES / "good" / "minimal.rq").read_text())
    with pytest.raises(QueryFileError, match="kebab-case"):
        load_catalogue(tmp_path)


def test_list_shows_names_summaries_and_params(capsys, catalogue) -> None:
    assert main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name, query in catalogue.items():
        assert f"{name} " in out and query.summary in out
        for param in query.params:
            assert f"--param {param.name}=<{param.type}>" in out
    assert "(required)" in out and "(optional" in out


def test_list_of_a_broken_catalogue_exits_2(capsys) -> None:
    assert main(["query", "--list", "--queries", str(QUERIES / "bad")]) == 2
    assert "bad-default.rq:2: parameter 'n'" in capsys.readouterr().err  # the first bad file, by name
    assert main(["query", "--list", "--queries", str(QUERIES / "good")]) == 0


# --- binding ---------------------------------------------------------------------------------------------


def test_values_become_typed_rdf_terms(typed) -> None:
    bindings = typed.bind({
        "resource": "insight/3", "number": "42", "label": "bonjour", "day": "2020-12-01", "flag": "yes",
        "colour": "red",
    })
    assert bindings["resource"] == URIRef(ID_BASE + "insight/3")
    assert bindings["number"] == Literal(42) and bindings["number"].datatype == URIRef(XSD + "integer")
    assert bindings["text"] == Literal("hello")  # the default
    assert bindings["label"] == Literal("bonjour", lang="fr")  # the parameter's default language
    assert bindings["day"] == Literal("2020-12-01", datatype=URIRef(XSD + "date"))
    assert bindings["flag"] == Literal(True)
    assert bindings["colour"] == Literal("red")
    assert typed.bind({"number": "1", "label": "hello@en-GB"})["label"] == Literal("hello", lang="en-gb")
    assert typed.bind({"number": "1", "resource": "https://example.org/x"})["resource"] == URIRef(
        "https://example.org/x")


def test_optional_parameters_without_value_stay_unbound(typed) -> None:
    assert set(typed.bind({"number": "1"})) == {"number", "text"}
    assert set(typed.bind({"number": "1", "resource": ""})) == {"number", "text"}  # empty = not given


@pytest.mark.parametrize(
    ("values", "param", "message"),
    [
        ({}, "number", "missing"),
        ({"number": ""}, "number", "missing"),
        ({"number": "3", "nmber": "4"}, "nmber", "unknown parameter"),
        ({"number": "three"}, "number", "expected an integer"),
        ({"number": "3.5"}, "number", "expected an integer"),
        ({"number": INJECTION}, "number", "expected an integer"),
        ({"number": "1", "resource": INJECTION}, "resource", "not a valid IRI"),
        ({"number": "1", "resource": "http://example.org/a b"}, "resource", "not a valid IRI"),
        ({"number": "1", "day": "2020-13-01"}, "day", "expected a date"),
        ({"number": "1", "flag": "maybe"}, "flag", "expected true or false"),
        ({"number": "1", "colour": "blue"}, "colour", "not one of: red, green"),
    ],
)
def test_bad_parameters_raise_parameter_error(typed, values, param, message) -> None:
    with pytest.raises(ParameterError) as caught:
        typed.bind(values)
    assert isinstance(caught.value, ValueError)
    assert caught.value.param == param
    assert message in str(caught.value) and repr(param) in str(caught.value)


class SpyStore(Store):
    """Records what reaches the engine."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def query(self, sparql, bindings=None, timeout=None) -> QueryResult:
        self.calls.append((sparql, dict(bindings or {})))
        return QueryResult("select", variables=["x"], rows=[])


def test_values_never_reach_the_query_text(catalogue) -> None:
    spy = SpyStore()
    run_stored(spy, catalogue["search"], {"text": INJECTION})
    sparql, bindings = spy.calls[0]
    assert sparql == catalogue["search"].text and INJECTION not in sparql
    assert bindings == {"text": Literal(INJECTION)}


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_injection_value_is_a_string_that_matches_nothing(engine, catalogue, request) -> None:
    store = request.getfixturevalue(f"{engine}_store")
    before = len(store.query("SELECT * WHERE { ?s ?p ?o }").rows)
    for name, param in [("search", "text"), ("sources", "source"), ("actors", "role"), ("projects", "country")]:
        result = run_stored(store, catalogue[name], {param: INJECTION})
        assert result.rows == [], name
    assert len(store.query("SELECT * WHERE { ?s ?p ?o }").rows) == before  # nothing was dropped


def test_injection_through_the_command_line(capsys, oxigraph_store, monkeypatch) -> None:
    monkeypatch.setattr(queries, "_make_store", lambda args: oxigraph_store)
    assert main(["query", "search", "--param", f"text={INJECTION}"]) == 0
    assert "(0 rows)" in capsys.readouterr().out
    assert main(["query", "describe", "--param", f"resource={INJECTION}"]) == 2
    assert "parameter 'resource'" in capsys.readouterr().err


# --- the command -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, oxigraph_store, capsysbinary):
    """Run `vetgraph query ...` in-process on the session's Oxigraph store; returns (exit code, out, err)."""
    monkeypatch.setattr(queries, "_make_store", lambda args: oxigraph_store)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["query", *args])
        captured = capsysbinary.readouterr()
        return code, captured.out.decode("utf-8"), captured.err.decode("utf-8")

    return run


def test_table_output_is_aligned(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # piped output: one line per row
    code, out, _ = cli("insights")
    assert code == 0
    lines = out.splitlines()
    header, rule = lines[0], lines[1]
    assert header.split()[:3] == ["number", "insight", "title"]
    assert set(rule.replace(" ", "")) == {"-"}
    # every column starts where its header starts
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    for line in lines[2:]:
        if line.startswith("("):
            break
        line = line.ljust(len(rule))
        for start in starts[1:]:
            assert line[start - 1] == " ", line
    assert "(8 rows)" in out and "prefixes: id: <https://w3id.org/vetgraph/id/>" in out


def test_w3c_result_formats(cli) -> None:
    code, out, _ = cli("insights", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["number"] for r in rows] == [str(n) for n in range(1, 9)]
    code, out, _ = cli("insights", "--format", "tsv")
    assert code == 0 and out.splitlines()[0].startswith("?number\t?insight")
    code, out, _ = cli("insights", "--format", "json")
    assert code == 0 and len(json.loads(out)["results"]["bindings"]) == 8
    code, out, _ = cli("insights", "--format", "xml")
    assert code == 0 and "http://www.w3.org/2005/sparql-results#" in out


def test_graph_queries_give_rdf(cli) -> None:
    code, out, _ = cli("describe", "--param", "resource=insight/1")
    graph = Graph().parse(data=out, format="turtle")
    assert code == 0 and (URIRef(ID_BASE + "insight/1"), None, None) in graph
    for fmt, parser in [("nt", "nt"), ("jsonld", "json-ld"), ("ttl", "turtle")]:
        code, out, _ = cli("report-card", "--format", fmt)
        assert code == 0 and len(Graph().parse(data=out, format=parser)) > 10, fmt
    code, _, err = cli("report-card", "--format", "csv")
    assert code == 2 and "CONSTRUCT" in err
    code, _, err = cli("insights", "--format", "ttl")
    assert code == 2 and "SELECT" in err


def test_ask_false_exits_1(cli) -> None:
    assert cli("exists", "--param", "resource=insight/8")[:2] == (0, "true\n")
    assert cli("exists", "--param", "resource=insight/9")[:2] == (1, "false\n")
    code, out, _ = cli("exists", "--param", "resource=insight/9", "--format", "json")
    assert code == 1 and json.loads(out)["boolean"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insight"], "parameter 'number': missing"),
        (["insight", "--param", "number=x"], "parameter 'number': expected an integer"),
        (["insight", "--param", "colour=red"], "parameter 'colour': unknown"),
        (["insight", "--param", "number"], "--param expects KEY=VALUE"),
        (["insigt"], "did you mean insight"),
        ([], "name a stored query"),
        (["insights", "--file", "x.rq"], "not both"),
    ],
)
def test_usage_errors_exit_2_with_a_message(cli, args, message) -> None:
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_adhoc_query_file(cli, tmp_path: Path) -> None:
    path = tmp_path / "mine.rq"
    path.write_text("PREFIX vet: <https://w3id.org/vetgraph/def#>\n"
                    "SELECT (COUNT(*) AS ?n) WHERE { ?i a vet:Insight }\n")
    code, out, _ = cli("--file", str(path), "--format", "csv")
    assert code == 0 and out.splitlines() == ["n", "8"]
    code, _, err = cli("--file", str(path), "--param", "n=1")
    assert code == 2 and "declares no parameters" in err


def test_grlc_decorators_keep_grlc_s_meaning(cli) -> None:
    """A file written for grlc (endpoint, method, tags, defaults, enumerate) runs as it is: grlc's defaults and
    enumerate become the parameter's default and allowed values; endpoint and method are grlc's own."""
    path = QUERIES / "grlc" / "decorated.rq"
    query = parse_query_file(path)
    assert query.tags == ["insights"]
    [number] = query.params
    assert (number.name, number.type, number.default, number.enum) == ("number", "integer", "3", ["1", "2", "3"])
    code, by_default, _ = cli("--file", str(path), "--format", "csv")
    assert (code, by_default) == (0, cli("--file", str(path), "--format", "csv", "-p", "number=3")[1])
    assert len(by_default.splitlines()) == 2  # header and insight 3
    code, out, err = cli("--file", str(path), "-p", "number=5")
    assert (code, out) == (2, "") and "parameter 'number': '5' is not one of: 1, 2, 3" in err


def test_adhoc_syntax_error_names_file_line_and_column(cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.rq"
    path.write_text("# my query\nSELECT ?s\nWHERE {\n  ?s ?p ?o .\n  ?s <http://example.org/p> \n}\n")
    code, _, err = cli("--file", str(path))
    assert code == 2
    location = err.split(": ", 2)[1]  # "vetgraph query: FILE:LINE:COL: message"
    file, line, column = location.rsplit(":", 2)
    # the closing brace on line 6, where the object of the last pattern is missing
    assert (file, int(line), int(column)) == (str(path), 6, 1)
    assert "syntax error" in err


def test_a_query_past_the_timeout_is_stopped(cli, tmp_path: Path) -> None:
    path = tmp_path / "slow.rq"  # a triple cartesian product: about 10^9 solutions on the real data
    path.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n")
    code, out, err = cli("--file", str(path), "--timeout", "0.5")
    assert code == 2 and out == ""
    assert "longer than 0.5 s and was stopped" in err


def test_rdflib_engine_from_the_command_line(capsys) -> None:
    """End to end, without any test double: the real data, the rdflib engine."""
    assert main(["query", "completeness", "--store", "rdflib", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["aspect"] for r in rows} >= {"insights", "Lighthouse projects"}


def test_module_entry_point_runs(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "vetgraph", "query", "vision", "--format", "csv"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("vision,title")
