"""What each stored query answers on the real data, derived from the fact sheet (../shared/report/facts.yaml)
or from the stated facts of the project brief, never pasted from a run; and the same answers on both engines.
"""

from __future__ import annotations

import shlex
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

from vetgraph.config import ID_BASE, PROJECT_ROOT, UNCONFIRMED_GRAPH, VET_NS
from vetgraph.loading import load_project
from vetgraph.queries import load_catalogue, run_stored
from vetgraph.stores import OxigraphStore, QueryResult, RdflibStore

DCT = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
REPORT = URIRef(ID_BASE + "report/innovation-digitalisation-2020")
CATALOGUE = load_catalogue()
FIXTURE_DATA = Path(__file__).resolve().parent / "data" / "queries" / "projects.trig"


def iri(path: str) -> URIRef:
    return URIRef(ID_BASE + path)


def vet(name: str) -> URIRef:
    return URIRef(VET_NS + name)


def ask(store, name: str, **values: str) -> QueryResult:
    return run_stored(store, CATALOGUE[name], values)


def constructed(store, name: str, **values: str) -> Graph:
    """The graph a CONSTRUCT/DESCRIBE query answers."""
    graph = ask(store, name, **values).graph
    assert graph is not None, name
    return graph


def table(store, name: str, **values: str) -> list[dict]:
    return ask(store, name, **values).as_dicts()


def words(text: str) -> str:
    return " ".join(str(text).split())


@pytest.fixture(params=["oxigraph", "rdflib"])
def store(request, oxigraph_store, rdflib_store):
    """Every answer test runs on both engines."""
    return oxigraph_store if request.param == "oxigraph" else rdflib_store


# --- the same answers on Oxigraph and on rdflib ----------------------------------------------------------


def example_values(query) -> list[dict[str, str]]:
    """The documented example, and no parameters at all where none is required."""
    words_ = shlex.split(query.example)
    example = dict(w.split("=", 1) for w in words_[4::2] if "=" in w)
    cases = [example]
    if not any(p.required for p in query.params) and example:
        cases.append({})
    return cases


def comparable(result: QueryResult):
    if result.kind == "graph":
        assert result.graph is not None
        return "graph", frozenset(result.graph)
    if result.kind == "ask":
        return "ask", result.boolean
    return "select", tuple(result.variables), Counter(result.rows)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_both_engines_give_the_same_answer(name: str, oxigraph_store, rdflib_store) -> None:
    query = CATALOGUE[name]
    for values in example_values(query):
        on_oxigraph = run_stored(oxigraph_store, query, values)
        on_rdflib = run_stored(rdflib_store, query, values)
        assert comparable(on_oxigraph) == comparable(on_rdflib), f"{name} {values}"


# --- one test per stored query, expected answers from the fact sheet ---------------------------------


def test_insights(store, facts) -> None:
    rows = table(store, "insights")
    assert [int(r["number"]) for r in rows] == [i["number"] for i in facts["insights"]]
    for row, fact in zip(rows, facts["insights"], strict=True):
        if fact["title"] is None:
            assert str(row["title"]) == "not yet recorded" and row["evidence"] == vet("NotRecorded")
        elif fact.get("unconfirmed"):  # insight 6: only the start of the heading is visible
            assert str(row["title"]).startswith(fact["title"].split("...")[0].strip())
            assert row["evidence"] == vet("Unconfirmed") and row["titleUnconfirmed"].toPython() is True
        else:
            assert str(row["title"]) == fact["title"]
            expected = "AsPrinted" if fact.get("title_as_printed_confirmed") else "SecondaryWording"
            assert row["evidence"] == vet(expected) and row["titleUnconfirmed"].toPython() is False
    grouped = {n: vp["title"] for vp in facts["viewpoints"]["items"] for n in vp["insights_grouped_here"]["confirmed"]}
    for row in rows:
        label = grouped.get(int(row["number"]))
        assert (str(row["viewpointLabel"]) if "viewpointLabel" in row else None) == label


def test_insight(store, facts) -> None:
    fact = next(i for i in facts["insights"] if i["number"] == 3)
    rows = table(store, "insight", number="3")
    out = {(str(r["property"]), str(r["value"])) for r in rows if str(r["direction"]) == "out"}
    assert (DCT + "title", fact["title"]) in out
    assert (DCT + "description", words(fact["gist"])) in out
    assert {v for p, v in out if p == VET_NS + "example"} == set(fact["sub_points"])
    sources = fact["source"] if isinstance(fact["source"], list) else [fact["source"]]
    assert {(DCT + "source", s) for s in sources} <= out
    assert any(str(r["direction"]) == "in" and str(r["property"]) == SKOS + "hasTopConcept" for r in rows)
    # insight 7: the fact sheet has no title, the graph says so
    seven = {(str(r["property"]), r["value"]) for r in table(store, "insight", number="7")}
    assert not any(p == DCT + "title" for p, _ in seven)
    assert (VET_NS + "titleEvidence", vet("NotRecorded")) in seven
    assert table(store, "insight", number=str(len(facts["insights"]) + 1)) == []
    # the insights are the report's: the CoVE mapping report has none recorded
    assert table(store, "insight", number="3", report="report/mapping-coves-2019") == []


def test_topics(store, facts) -> None:
    rows = table(store, "topics")
    assert {int(r["number"]): str(r["label"]) for r in rows} == {t["number"]: t["title"] for t in facts["topics"]}
    # EuroVoc matches: whatever data/links.ttl states (read here with rdflib, not SPARQL), if it exists
    links = Graph()
    links_file = PROJECT_ROOT / "data" / "links.ttl"
    if links_file.exists():
        links.parse(links_file)
    mappings = {SKOS + m for m in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")}
    expected = {
        (s, p, o) for s, p, o in links
        if str(p) in mappings and str(o).startswith("http://eurovoc.europa.eu/")
        and str(s).startswith(ID_BASE + "topic/")
    }
    found = {(r["topic"], r["match"], r["eurovoc"]) for r in rows if "eurovoc" in r}
    assert found == expected
    assert all("eurovocLabel" in r for r in rows if "eurovoc" in r) or not found


def test_viewpoints(store, facts) -> None:
    rows = table(store, "viewpoints")
    items = facts["viewpoints"]["items"]
    assert [str(r["label"]) for r in rows] == [vp["title"] for vp in items]
    confirmed = [len(vp["insights_grouped_here"]["confirmed"]) for vp in items]
    assert [int(r["confirmedInsights"]) for r in rows] == confirmed


def test_vision(store, facts) -> None:
    rows = table(store, "vision")
    assert {str(r["title"]) for r in rows} == {facts["vision"]["title"]["value"]}
    assert [words(r["pointText"]) for r in rows] == [words(p["gist"]) for p in facts["vision"]["main_points"]]
    assert {str(r["statement"]) for r in rows} == {facts["vision"]["premise"]}


def test_projects_on_the_real_data(store, facts) -> None:
    # no source names a Lighthouse project or a good practice: nothing to list, with or without filters
    assert facts["lighthouse_projects"]["items"] == [] and facts["good_practices"]["items"] == []
    assert table(store, "projects") == []
    assert table(store, "projects", country="NLD", topic="2", insight="3") == []


@pytest.fixture(scope="module", params=["oxigraph", "rdflib"])
def fixture_store(request):
    """Made-up projects (test fixture only) to check that the optional filters filter, on both engines."""
    loaded = load_project(data_files=[FIXTURE_DATA])
    return OxigraphStore.from_dataset(loaded.dataset) if request.param == "oxigraph" else RdflibStore(loaded.dataset)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"lighthouse-a": "LighthouseProject", "practice-b": "GoodPractice", "practice-c": "GoodPractice"}),
        ({"country": "fin"}, {"lighthouse-a": "LighthouseProject"}),
        ({"country": "NLD"}, {"lighthouse-a": "LighthouseProject", "practice-b": "GoodPractice"}),
        ({"topic": "2"}, {"practice-b": "GoodPractice"}),
        ({"insight": "3"}, {"lighthouse-a": "LighthouseProject", "practice-b": "GoodPractice"}),
        ({"insight": "3", "country": "FIN"}, {"lighthouse-a": "LighthouseProject"}),
        ({"topic": "5"}, {}),
    ],
)
def test_projects_filters(fixture_store, values, expected) -> None:
    rows = table(fixture_store, "projects", report="http://example.org/test/report", **values)
    assert {str(r["project"]).rsplit("/", 1)[1]: str(r["kind"]).rsplit("#", 1)[1] for r in rows} == expected
    if values.get("country", "").upper() == "FIN":
        assert {str(r["countryCode"]) for r in rows} >= {"FIN"}


def test_projects_of_another_report(fixture_store) -> None:
    rows = table(fixture_store, "projects", report="http://example.org/test/other-report", country="FIN")
    assert [str(r["project"]) for r in rows] == ["http://example.org/test/practice-d"]


def test_actors(store, facts) -> None:
    persons = {a["name"] for a in facts["actors"] if a["type"] == "person"}
    rows = table(store, "actors", kind="person")
    assert {str(r["label"]) for r in rows} == persons
    assert all(str(r["actorKind"]) == "person" for r in rows)
    # the report's author is the working group (facts: author_body)
    authors = table(store, "actors", role="author")
    assert {str(r["label"]) for r in authors} == {facts["report"]["author_body"]["name"]}
    assert [str(r["context"]) for r in authors] == [str(REPORT)]
    # DG EMPL as the report's responsible DG is unconfirmed in the fact sheet
    assert facts["report"]["responsible_directorate_general"]["unconfirmed"] is True
    dg = [r for r in table(store, "actors") if r["actor"] == iri("agent/dg-empl") and "actorRole" in r]
    assert dg and all(r["unconfirmed"].toPython() is True for r in dg if r["context"] == REPORT)
    # Stefano Tirati represented EfVET (facts: known_stakeholder_members)
    tirati = [r for r in rows if str(r["label"]) == "Stefano Tirati"]
    assert [str(r["roleLabel"]) for r in tirati] == ["stakeholder representative"]
    by_label = table(store, "actors", role="Stakeholder Representative")
    by_name = table(store, "actors", role="stakeholder-representative")
    assert [r["actor"] for r in by_label] == [r["actor"] for r in by_name] and len(by_name) == 2


def test_report(store, facts) -> None:
    record: dict[str, list[str]] = {}
    for row in table(store, "report"):
        record.setdefault(str(row["field"]), []).append(str(row["value"]))
    report = facts["report"]
    assert record["title"] == [report["full_title"]]
    assert record["subtitle"] == [report["subtitle"]]
    assert record["DOI"] == [report["doi"]]
    assert record["DOI link"] == [report["doi_resolver_url"]]
    assert record["ISBN"] == [report["isbn_pdf"]]
    assert record["publisher"] == [report["publisher"]]
    assert record["place of publication"] == [report["place_of_publication"]]
    assert record["published"] == [str(report["publication_year"])]
    assert record["pages"] == [str(report["page_count"]["value"])]
    assert record["author"] == [report["author_body"]["name"]]
    licence = [r for r in table(store, "report") if str(r["field"]) == "licence"]
    assert [r["valueIri"] for r in licence] == [
        URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")]  # stated in the brief
    mapping = {str(r["field"]): str(r["value"]) for r in table(store, "report", report="report/mapping-coves-2019")}
    coves = facts["working_group"]["other_outputs_of_same_group"][0]
    assert mapping["title"] == coves["title"]


def test_report_card(store, facts) -> None:
    graph = constructed(store, "report-card")
    report = facts["report"]
    assert (REPORT, vet("doi"), Literal(report["doi"])) in graph
    assert (REPORT, URIRef("https://schema.org/isbn"), Literal(report["isbn_pdf"])) in graph
    publishers = set(graph.objects(REPORT, URIRef(DCT + "publisher")))
    assert [str(label) for p in publishers for label in graph.objects(p, URIRef(
        "http://www.w3.org/2000/01/rdf-schema#label"))] == [report["publisher"]]
    assert {s for s in graph.subjects()} <= {REPORT} | publishers | set(graph.objects(REPORT, None))


def test_policy_instruments(store, facts) -> None:
    rows = table(store, "policy-instruments")
    celex = {
        i["identifiers"]["celex"]: i for i in facts["policy_instruments"]
        if isinstance(i.get("identifiers", {}).get("celex"), str)
    }
    found = {str(r["identifier"]): r for r in rows if str(r.get("identifierType")) == "CELEX"}
    assert set(found) == set(celex)
    for number, fact in celex.items():  # the relation is unconfirmed exactly where the fact sheet says so
        row = found[number]
        if "relation" in row:
            assert row["relationUnconfirmed"].toPython() is bool(fact.get("relation_unconfirmed")), number
    oj = {str(r["identifier"]) for r in rows if str(r.get("identifierType")) == "Official Journal"}
    assert {i["identifiers"]["oj_reference"] for i in facts["policy_instruments"]
            if isinstance(i.get("identifiers", {}).get("oj_reference"), str)} <= oj


def test_completeness(store, facts) -> None:
    rows = {str(r["aspect"]): r for r in table(store, "completeness")}
    counts = facts["report"]["structure_counts"]
    insights = facts["insights"]

    def check(aspect: str, declared: int, described: int) -> None:
        row = rows[aspect]
        assert (int(row["declared"]), int(row["described"]), int(row["missing"])) == (
            declared, described, declared - described), aspect

    check("insights", counts["insights"], len(insights))
    check("insight titles", counts["insights"], sum(1 for i in insights if i["title"]))
    check("confirmed insight titles", counts["insights"],
          sum(1 for i in insights if i["title"] and not i.get("unconfirmed")))
    check("viewpoints", counts["viewpoints"], len(facts["viewpoints"]["items"]))
    check("Lighthouse projects", counts["lighthouse_projects"], len(facts["lighthouse_projects"]["items"]))


def test_unconfirmed(store, facts, loaded) -> None:
    rows = table(store, "unconfirmed")
    statements = {(r["subject"], r["predicate"], r["object"]) for r in rows}
    unconfirmed_graph = set(loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH)))
    assert statements == unconfirmed_graph
    # facts: the unit's running of the group is an inference; insight 6's title is a partial reading
    assert facts["working_group"]["run_by"]["responsible_unit"]["unconfirmed"] is True
    assert (iri("group/et2020-wg-vet-2018-2020"), vet("runBy"), iri("agent/dg-empl-unit-e3")) in statements
    six = table(store, "unconfirmed", subject="insight/6")
    assert any(str(r["predicate"]) == DCT + "title" for r in six)
    assert all(r["subject"] == iri("insight/6") for r in six)
    # insight 1's printed title is confirmed, so it is not listed
    assert not any(r["subject"] == iri("insight/1") and str(r["predicate"]) == DCT + "title" for r in rows)


def test_sources(store, facts) -> None:
    rows = table(store, "sources", resource="report/innovation-digitalisation-2020")
    report_sources = {str(r["sourceUrl"]) for r in rows}
    assert set(facts["report"]["source"]) <= report_sources
    efvet = {r["resource"] for r in table(store, "sources", source="EFVET.org/et-2020-working-group")}
    tirati = next(a for a in facts["actors"] if a["name"] == "Stefano Tirati")
    assert any("efvet.org/et-2020-working-group" in s for s in tirati["source"])
    assert iri("person/stefano-tirati") in efvet


def test_describe(store, facts) -> None:
    graph = constructed(store, "describe", resource="insight/1")
    one = iri("insight/1")
    assert (one, URIRef(DCT + "title"), Literal(facts["insights"][0]["title"], lang="en")) in graph
    assert (one, vet("viewpoint"), iri("viewpoint/1")) in graph
    assert (iri("scheme/insights"), URIRef(SKOS + "hasTopConcept"), one) in graph  # what points to it
    assert len(constructed(store, "describe", resource="insight/99")) == 0


def test_search(store, facts) -> None:
    # the fact sheet's naming note: Cedefop misspells the Commissioner's name as "Schmitt"
    assert "Schmitt" in facts["report"]["naming_note"]
    assert {r["resource"] for r in table(store, "search", text="Schmitt")} == {iri("person/nicolas-schmit")}
    selfie = {r["resource"] for r in table(store, "search", text="selfie")}
    assert {iri("instrument/selfie"), iri("instrument/selfie-wbl")} <= selfie
    def found(text: str) -> list[tuple]:
        return [(r["resource"], r["property"], r["match"]) for r in table(store, "search", text=text)]

    assert found("SELFIE") == found("selfie")
    assert table(store, "search", text="no such words anywhere") == []


def test_statistics(store, facts) -> None:
    rows = table(store, "statistics")
    classes = {r["term"]: int(r["count"]) for r in rows if str(r["kind"]) == "class"}
    properties = {r["term"]: int(r["count"]) for r in rows if str(r["kind"]) == "property"}
    assert classes[vet("Insight")] == len(facts["insights"])
    assert classes[vet("MandateTopic")] == len(facts["topics"])
    assert classes[vet("Viewpoint")] == len(facts["viewpoints"]["items"])
    persons = sum(1 for a in facts["actors"] if a["type"] == "person")
    assert classes[URIRef("http://xmlns.com/foaf/0.1/Person")] == persons
    assert vet("LighthouseProject") not in classes
    numbered = len(facts["topics"]) + len(facts["insights"]) + len(facts["viewpoints"]["items"]) + len(
        facts["vision"]["main_points"])
    assert properties[vet("number")] == numbered
    assert properties[RDF_TYPE] >= sum(classes.values())


def test_timeline(store, facts) -> None:
    rows = table(store, "timeline")
    kick_off = next(m for m in facts["working_group"]["meetings_and_activities"] if m["event"] == "Kick-off meeting")
    assert (kick_off["date"], iri("event/kick-off-2018-10-05")) in {(str(r["date"]), r["resource"]) for r in rows}
    dates = [str(r["date"]) for r in rows]
    assert dates == sorted(dates)
    unconfirmed = {str(r["date"]) for r in rows if r["unconfirmed"].toPython()}
    related = facts["working_group"]["related_commission_events_not_confirmed_as_wg_activities"]
    assert {e["date"] for e in related} <= unconfirmed


def test_publications(store, facts) -> None:
    rows = table(store, "publications")
    coves = facts["working_group"]["other_outputs_of_same_group"][0]
    dois = {str(r["doi"]) for r in rows if "doi" in r}
    assert dois == {facts["report"]["doi"], coves["pdf_doi"], coves["print_doi"]}
    titles = {str(r["title"]) for r in rows}
    assert facts["report"]["full_title"] in titles and coves["title"] in titles


def test_exists(store, facts) -> None:
    last = len(facts["insights"])
    assert ask(store, "exists", resource=f"insight/{last}").boolean is True
    assert ask(store, "exists", resource=f"insight/{last + 1}").boolean is False
