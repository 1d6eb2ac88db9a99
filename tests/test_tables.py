"""Terminal tables (`vetgraph query`): wrap only at spaces, give width to long text, keep columns aligned,
one line per row when piped, records when no table fits."""

from __future__ import annotations

import os
import re
import shutil
import sys

import pytest
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from vetgraph import tables
from vetgraph.config import ID_BASE
from vetgraph.queries import load_catalogue, run_stored
from vetgraph.tables import cell_text, format_result, format_table

COUNT = re.compile(r"^\(\d+ rows?\)$")
LONG_TEXT = ("Choose priorities, reforms and investments that let vocational education and training anticipate "
             "innovation and digitalisation better and build them into teaching, governance and funding")


@pytest.fixture(scope="module")
def insights(oxigraph_store):
    return run_stored(oxigraph_store, load_catalogue()["insights"], {})


def expected(result, hide=frozenset()) -> tuple[list[str], list[list[str]]]:
    shown = [i for i, v in enumerate(result.variables) if v not in hide]
    return [result.variables[i] for i in shown], [[cell_text(row[i]) for i in shown] for row in result.rows]


def body_and_footer(out: str) -> tuple[list[str], list[str]]:
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if COUNT.match(line))
    return lines[:end], lines[end:]


def spans(rule: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"-+", rule)]


def parse_table(out: str) -> tuple[list[str], list[list[str]]]:
    """Headers and cells read back from a table, each cell's lines joined with one space."""
    body, _ = body_and_footer(out)
    r = next(i for i, line in enumerate(body) if line and set(line) <= {"-", " "})
    columns = spans(body[r])

    def cells(lines: list[str]) -> list[str]:
        return [" ".join(p for line in lines if (p := line.ljust(len(body[r]))[a:b].strip())) for a, b in columns]

    rows = body[r + 1:]
    groups: list[list[str]] = [[]]
    if "" in rows:  # wrapped rows are set apart by a blank line
        for line in rows:
            groups.append([]) if line == "" else groups[-1].append(line)
    else:
        groups = [[line] for line in rows]
    return ["".join(cells([h])[c] for h in body[:r]) for c in range(len(columns))], \
        [cells(g) for g in groups if g]


def parse_records(out: str) -> tuple[list[str], list[list[str]]]:
    body, _ = body_and_footer(out)
    headers: list[str] = []
    rows: list[list[str]] = []
    for line in body:
        if line.startswith("-[ row "):
            rows.append([])
            continue
        name, bar, value = line.partition(" | ") if " | " in line else (line[:-2], "|", "")
        assert bar, line
        if name.strip():
            rows[-1].append(value)
            if len(rows) == 1:
                headers.append(name.strip())
        else:
            rows[-1][-1] += " " + value
    return headers, rows


def is_records(out: str) -> bool:
    return out.startswith("-[ row 1 ]")


@pytest.mark.parametrize("width", [80, 100, 120])
def test_no_token_of_the_insights_is_split(insights, width: int) -> None:
    out = format_result(insights, width=width, hide={"report"})
    headers, cells = expected(insights, {"report"})
    got_headers, got = (parse_records if is_records(out) else parse_table)(out)
    assert got == cells  # each cell's words, in order, none of them cut ("vet:AsPrinte" + "d" would differ)
    assert got_headers == headers
    assert all(len(line) <= width for line in body_and_footer(out)[0])
    tokens = {t for row in cells for text in row for t in text.split()}
    assert "vet:AsPrinted" in out and "id:viewpoint/1" in out and "digitalisation" in tokens


def test_the_insights_table_at_120_wraps_text_and_headers_not_terms(insights) -> None:
    out = format_result(insights, width=120, hide={"report"})
    assert not is_records(out)
    lines = out.splitlines()
    assert lines[0].split() == ["number", "insight", "title", "evidence", "viewpoint", "viewpointLabel",
                                "title", "viewpoint"]
    assert lines[1].split() == ["Unconfirmed", "Unconfirmed"]  # headers break between camelCase words
    assert "vet:SecondaryWording" in out


def test_too_narrow_for_any_table_prints_records(insights) -> None:
    out = format_result(insights, width=80, hide={"report"})
    assert is_records(out)
    first = out.splitlines()[:4]
    assert first[1] == "number               | 1" and first[2] == "insight              | id:insight/1"
    assert out.count("-[ row ") == 8
    assert out.splitlines()[-2:] == ["(8 rows)", "prefixes: id: <https://w3id.org/vetgraph/id/>, vet: "
                                     "<https://w3id.org/vetgraph/def#>"]


def check_aligned(out: str) -> None:
    """Every column starts where its rule starts; the gaps between columns are blank on every line."""
    body, _ = body_and_footer(out)
    r = next(i for i, line in enumerate(body) if line and set(line) <= {"-", " "})
    columns = spans(body[r])
    for line in body:
        line = line.ljust(len(body[r]))
        assert len(line) == len(body[r]), line
        for (_, end), (start, _) in zip(columns, columns[1:], strict=False):
            assert line[end:start].strip() == "", line
    header = body[0].ljust(len(body[r]))
    assert all(header[a] != " " for a, _ in columns)  # each header starts at its column


@pytest.mark.parametrize("width", [0, 120, 160, 200])
def test_column_separators_line_up(insights, width: int) -> None:
    out = format_result(insights, width=width, hide={"report"})
    check_aligned(out)
    body, _ = body_and_footer(out)
    rule = next(line for line in body if set(line) <= {"-", " "})
    number = spans(rule)[0]
    values = [line[number[0]:number[1]] for line in body if re.match(r"^ *\d+ ", line)]
    assert [v.strip() for v in values] == [str(n) for n in range(1, 9)]
    assert all(v == v.rjust(number[1] - number[0]) for v in values)  # numbers are right-aligned


def row(*values: str | int) -> list[Identifier]:
    return [Literal(v) if not (isinstance(v, str) and v.startswith("iri:")) else URIRef(ID_BASE + v[4:])
            for v in values]


SYNTHETIC = (["resource", "rank", "label", "description", "note"], [
    row("iri:instrument/vet-recommendation-2020", 1, "VET Recommendation", LONG_TEXT, "short note here"),
    row("iri:instrument/selfie", 22, "SELFIE", LONG_TEXT[:90], "another note"),
    row("iri:topic/3", 333, "Topic 3", "Use of modern learning technologies in VET", ""),
])


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_lines_fit_the_width_and_nothing_is_lost(width: int) -> None:
    variables, rows = SYNTHETIC
    out = format_table(variables, rows, width=width)
    body, footer = body_and_footer(out)
    assert all(len(line) <= width for line in body)
    headers, cells = (parse_records if is_records(out) else parse_table)(out)
    assert cells == [[cell_text(t) for t in r] for r in rows]
    assert footer == ["(3 rows)", f"prefixes: id: <{ID_BASE}>"]
    if not is_records(out):
        check_aligned(out)


def test_short_columns_keep_their_width_long_text_shares_the_rest() -> None:
    variables, rows = SYNTHETIC
    out = format_table(variables, rows, width=140)
    widths = [b - a for a, b in spans(out.splitlines()[1])]
    natural = [max(len(h), *(len(cell_text(r[c])) for r in rows)) for c, h in enumerate(variables)]
    assert widths[:3] == natural[:3]  # CURIE, number and label untouched
    assert widths[4] == natural[4]  # a 15-character note is short too
    assert sum(widths) + 2 * 4 == 140  # the description takes all the rest
    assert widths[3] < natural[3]


def test_two_long_columns_share_in_proportion() -> None:
    rows = [row("iri:insight/1", LONG_TEXT, LONG_TEXT[:100])]
    out = format_table(["insight", "long", "half"], rows, width=100)
    widths = [b - a for a, b in spans(out.splitlines()[1])]
    assert widths[0] == len("id:insight/1")
    assert abs(widths[1] / widths[2] - len(LONG_TEXT) / 100) < 0.1
    assert sum(widths) + 4 == 100


def test_an_over_long_token_is_cut_only_as_a_last_resort_after_a_slash() -> None:
    iri = URIRef("http://example.org/" + "/".join(["segment-of-a-very-long-path"] * 4))
    rows = [[iri, Literal("a label with words")]]
    out = format_table(["iri", "label"], rows, width=60)
    body, _ = body_and_footer(out)
    assert all(len(line) <= 60 for line in body)
    pieces = [line[:line.find("  ")].strip() if "  " in line else line for line in body[2:]]
    assert "".join(pieces) == str(iri)
    assert all(p.endswith(("/", "-")) for p in pieces[:-1])  # cut at its separators, not mid-word
    assert sum(p.endswith("/") for p in pieces) >= 2  # path separators first
    assert "a label with words" in out  # the short column stays whole


def test_wide_enough_means_no_wrapping() -> None:
    variables, rows = SYNTHETIC
    out = format_table(variables, rows, width=1000)
    assert len(body_and_footer(out)[0]) == 2 + 3


def test_piped_output_is_one_line_per_row(insights, monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", open(os.devnull, "w"))  # noqa: SIM115 - not a terminal
    try:
        assert tables.terminal_width() is None
        out = format_result(insights, hide={"report"})
    finally:
        sys.stdout.close()
    lines = out.splitlines()
    assert len(lines) == 1 + 1 + 8 + 2  # header, rule, one line per insight, row count, prefixes
    assert lines[0].split()[-1] == "viewpointUnconfirmed" and COUNT.match(lines[-2])
    assert len(lines[2]) > 150  # the whole first title on its line
    check_aligned(out)


def test_columns_asks_for_wrapping_even_when_piped(insights, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert tables.terminal_width() == 120
    out = format_result(insights, hide={"report"})
    assert all(len(line) <= 120 for line in out.splitlines()[:-1])
    assert len(out.splitlines()) > 12


def test_a_terminal_uses_its_own_width(monkeypatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", Terminal())
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): os.terminal_size((97, 24)))
    assert tables.terminal_width() == 97
    monkeypatch.setenv("COLUMNS", "not-a-number")
    assert tables.terminal_width() == 97


def test_empty_result_keeps_header_and_count() -> None:
    out = format_table(["a", "b"], [], width=40)
    assert out.splitlines() == ["a  b", "-  -", "(0 rows)"]
