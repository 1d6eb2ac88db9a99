"""One definition of completeness (the stored query `completeness`, read through vetgraph.completeness):
`vetgraph stats`, the home page, its overview and the SHACL completeness warnings give the same numbers, on
the real data and on the curation fixtures (a Lighthouse project is a good practice: vet:LighthouseProject is
a subclass of vet:GoodPractice)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.helpers.project import data_with_curation
from tests.helpers.servers import app_client
from vetgraph.completeness import Aspect, completeness
from vetgraph.config import ID_BASE, Paths

REPORT = ID_BASE + "report/innovation-digitalisation-2020"


def _project(tmp_path: Path, fixture: str | None) -> Paths:
    """The real data, or a copy of it with a curation fixture's spreadsheets."""
    return Paths() if fixture is None else Paths(data_dir=data_with_curation(tmp_path, fixture))


def _home_page(loaded) -> tuple[dict[str, tuple[str, int]], list[str], str]:
    """The completeness table (what -> (declared, described)), the title cells of the evidence map and the
    overview's caption, read from the rendered home page."""
    with app_client(loaded.store(), ontology=loaded.ontology, workers=1) as client:
        page = client.get("/", headers={"Accept": "text/html"}).text
    table = page.split('<table class="completeness">', 1)[1].split("</table>", 1)[0]
    rows = {}
    for what, declared, described in re.findall(r"<tr[^>]*>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>(\d+)</td>",
                                                table):
        rows[html.unescape(what)] = (declared, int(described))
    titles = re.findall(r"<title>Insight \d+, title: ([^<]*)</title>", page)
    caption = re.search(r"(\d+ of \d+ insights have a title, \d+ of them[^<]*)</p>", page)
    return rows, titles, caption.group(1) if caption else ""


@pytest.mark.parametrize("fixture", [None, "valid", "insight"], ids=["real data", "valid", "insight"])
def test_stats_home_overview_and_shacl_agree(fixture, tmp_path, vocab_dir, monkeypatch):
    from vetgraph.loading import load_project
    from vetgraph.stats import compute_stats
    from vetgraph.validation import validate

    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
    loaded = load_project(_project(tmp_path, fixture))
    aspects = {a.name: a for a in completeness(loaded.store(), REPORT)}
    assert list(aspects) == ["insights", "insight titles", "confirmed insight titles", "viewpoints",
                             "mandate topics", "Lighthouse projects", "good practices"]

    # vetgraph stats
    stats = compute_stats(loaded)
    (report,) = [c for c in stats.completeness if c.report == REPORT]
    assert {a.name: a for a in report.aspects} == aspects

    # the home page and its overview
    rows, titles, caption = _home_page(loaded)
    for name in ("insights", "viewpoints", "mandate topics", "Lighthouse projects", "good practices"):
        declared = aspects[name].declared
        assert rows[name] == ("–" if declared is None else str(declared), aspects[name].described), name
    assert len(titles) == aspects["insights"].described
    assert sum(t != "not yet recorded" for t in titles) == aspects["insight titles"].described
    assert sum(t not in ("not yet recorded", "unconfirmed (no source states it directly)") for t in titles) \
        == aspects["confirmed insight titles"].described
    assert caption.startswith(f"{aspects['insight titles'].described} of {aspects['insights'].declared} insights "
                              f"have a title, {aspects['confirmed insight titles'].described} of them")

    # the SHACL completeness warnings
    warnings = [f.message for f in validate(loaded).results if f.severity == "Warning"]
    _agrees(warnings, aspects["Lighthouse projects"], r"The report declares (\d+) Lighthouse projects; (\d+) are")
    _agrees(warnings, aspects["insights"], r"The report declares (\d+) insights; (\d+) are in the graph")
    untitled = sum(m.startswith("This insight has no title yet") for m in warnings)
    assert untitled == aspects["insights"].described - aspects["insight titles"].described


def _agrees(warnings: list[str], aspect: Aspect, pattern: str) -> None:
    """The shape warns exactly when fewer are described than declared, with the same two numbers."""
    found = [re.match(pattern, m) for m in warnings]
    numbers = [(int(m.group(1)), int(m.group(2))) for m in found if m]
    assert aspect.declared is not None and aspect.missing is not None
    expected = [(aspect.declared, aspect.described)] if aspect.missing > 0 else []
    assert numbers == expected, aspect.name


def test_a_lighthouse_project_counts_as_a_good_practice(tmp_path, vocab_dir, monkeypatch):
    """The valid fixture describes three Lighthouse projects: three good practices, in every view."""
    from vetgraph.loading import load_project
    from vetgraph.stats import compute_stats, format_summary

    monkeypatch.setenv("VETGRAPH_VOCAB", str(vocab_dir))
    loaded = load_project(_project(tmp_path, "valid"))
    summary = format_summary(compute_stats(loaded))
    assert "Lighthouse projects 3/12, good practices 3" in summary
    rows, _, _ = _home_page(loaded)
    assert rows["good practices"] == ("–", 3)
