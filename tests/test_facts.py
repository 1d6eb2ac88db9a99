"""Fact coverage: the graph holds what the fact sheet (../shared/report/facts.yaml, facts-2.yaml) says, in the
graph its evidence calls for, and nothing the fact sheet warns against.

Expected values are read from the fact sheet, never restated here, so a fact changed in data/ without the fact
sheet (or the reverse) fails. The fixed IRIs of the real data are the ones the project documents.
Confirmed statements are in the default graph; statements no source states directly are in the named graph
UNCONFIRMED_GRAPH and must not leak into the default graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, ORG, PROV, SKOS
from rdflib.term import Node

from vetgraph.config import ID_BASE, SHAPES_IRI, UNCONFIRMED_GRAPH, VET_NS

VET = Namespace(VET_NS)
VSH = Namespace(SHAPES_IRI + "#")
SH = Namespace("http://www.w3.org/ns/shacl#")
# Not rdflib's XSD namespace object: pytest probes module globals and that closed namespace warns.
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
SCHEMA = Namespace("https://schema.org/")
ID = Namespace(ID_BASE)
REPORT = ID["report/innovation-digitalisation-2020"]
GROUP = ID["group/et2020-wg-vet-2018-2020"]

#: facts.yaml actor type -> the class the resource must have (directly or through rdfs:subClassOf).
ACTOR_CLASSES = {
    "person": FOAF.Person,
    "organisation": ORG.Organization,
    "organisation_unit": ORG.OrganizationalUnit,
    "eu_agency": VET.EUAgency,
    "organisation_group": FOAF.Group,
    "stakeholder_association": VET.StakeholderOrganisation,
    "social_partner": VET.SocialPartner,
    "audience": VET.Audience,
}
#: Fact-sheet names that no label or alternative label of the data repeats verbatim, with the label used.
ACTOR_LABELS = {"Joint Research Centre (JRC), European Commission": "Joint Research Centre"}
#: What identifies each unconfirmed candidate of facts-2.yaml in a label (case-insensitive).
CANDIDATE_KEYS = {
    "Tknika": "tknika",
    "Lernfabriken": "lernfabrik",
    "DIHUB": "dihub",
    "Regional Centres of Competence": "centres of competence",
    "hybrid teachers": "hybrid",
    "Onderwijs in bedrijf": "onderwijs in bedrijf",
    "CoVE pilot platforms": "pilot platform",
}


@pytest.fixture(scope="module")
def default(loaded) -> Graph:
    return loaded.dataset.default_graph


@pytest.fixture(scope="module")
def unconfirmed(loaded) -> Graph:
    return loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH))


@pytest.fixture(scope="module")
def union(loaded) -> Graph:
    """All data plus the ontology, so that rdfs:subClassOf can be followed."""
    return loaded.union() + loaded.ontology


def names_of(graph: Graph, resource: Node) -> set[str]:
    """The names a resource goes by: labels, alternative labels and foaf:name (not hidden labels)."""
    return {
        str(o)
        for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel, FOAF.name)
        for o in graph.objects(resource, p)
    }


def name_forms(name: str) -> set[str]:
    """'Cedefop (European Centre ...)' may be stored as label 'Cedefop' plus altLabel 'European Centre...'."""
    forms = {name}
    match = re.fullmatch(r"(.+?) \((.+)\)", name)
    if match:
        forms |= {match.group(1), match.group(2)}
    return forms


def is_a(graph: Graph, resource: URIRef, cls: URIRef) -> bool:
    return any(
        cls in set(graph.transitive_objects(t, RDFS.subClassOf)) for t in graph.objects(resource, RDF.type)
    )


def instances(graph: Graph, cls: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef) and is_a(graph, s, cls)}


def find_by_name(graph: Graph, name: str, cls: URIRef) -> URIRef:
    """The one instance of `cls` named `name`, or whose label and alternative label are its two parts."""
    wanted = name_forms(name)
    hits = []
    for resource in instances(graph, cls):
        names = names_of(graph, resource)
        if name in names or (len(wanted) == 3 and wanted - {name} <= names):
            hits.append(resource)
    assert len(hits) == 1, f"{name!r}: {len(hits)} instances of {cls} go by this name: {hits}"
    return hits[0]


def only_unconfirmed(default: Graph, unconfirmed: Graph, triple: tuple) -> None:
    assert triple in unconfirmed, f"not in the unconfirmed graph: {triple}"
    assert triple not in default, f"unconfirmed statement in the default (confirmed) graph: {triple}"


def sources_of(item: dict, key: str = "source") -> list[str]:
    value = item.get(key) or []
    return [value] if isinstance(value, str) else list(value)


# --- the report --------------------------------------------------------------------------------------


def test_report_identifiers(facts, oxigraph_store, default: Graph) -> None:
    report = facts["report"]
    doi, doi_url = report["doi"], report["doi_resolver_url"]
    assert doi == "10.2767/25307" and doi_url == "https://doi.org/10.2767/25307"  # the fact sheet itself
    found = oxigraph_store.query(
        f"PREFIX vet: <{VET_NS}> PREFIX schema: <https://schema.org/> ASK {{ ?report a vet:Report ;"
        " vet:doi ?doi ; schema:sameAs ?url ; schema:isbn ?isbn ; vet:catalogueNumber ?catalogue }",
        bindings={
            "doi": Literal(doi),
            "url": URIRef(doi_url),
            "isbn": Literal(report["isbn_pdf"]),
            "catalogue": Literal(report["catalogue_number"]),
        },
    )
    assert found.boolean, "no vet:Report with the DOI, DOI URL, ISBN and catalogue number of the fact sheet"
    # ... and they are confirmed statements about the report IRI the project documents.
    assert (REPORT, VET.doi, Literal(doi)) in default
    assert (REPORT, SCHEMA.sameAs, URIRef(doi_url)) in default
    assert (REPORT, SCHEMA.isbn, Literal(report["isbn_pdf"])) in default
    assert (REPORT, VET.catalogueNumber, Literal(report["catalogue_number"])) in default


def test_report_title_and_declared_counts(facts, default: Graph) -> None:
    report = facts["report"]
    assert (REPORT, DCTERMS.title, Literal(report["full_title"], lang="en")) in default
    counts = report["structure_counts"]
    assert default.value(REPORT, VET.declaredInsightCount) == Literal(counts["insights"])
    assert default.value(REPORT, VET.declaredViewpointCount) == Literal(counts["viewpoints"])
    assert default.value(REPORT, VET.declaredLighthouseProjectCount) == Literal(counts["lighthouse_projects"])


# --- topics, viewpoints, insights ------------------------------------------------------------------------


def numbered(graph: Graph, cls: URIRef) -> dict[int, URIRef]:
    """The instances of `cls` that belong to the report, by their vet:number."""
    by_number: dict[int, URIRef] = {}
    for resource in graph.subjects(VET.partOfReport, REPORT):
        if (resource, RDF.type, cls) in graph:
            number = graph.value(resource, VET.number)
            assert isinstance(number, Literal), f"{resource}: number {number}"
            assert number is not None and int(number) not in by_number, f"{resource}: number {number}"
            by_number[int(number)] = resource  # type: ignore[assignment]
    return by_number


def test_mandate_topics_have_the_fact_sheet_numbers_and_titles(facts, default: Graph) -> None:
    expected = {t["number"]: t["title"] for t in facts["topics"]}
    topics = numbered(default, VET.MandateTopic)
    assert sorted(topics) == sorted(expected) == list(range(1, 9))
    for number, title in expected.items():
        assert (topics[number], RDFS.label, Literal(title, lang="en")) in default, number
        assert (topics[number], SKOS.prefLabel, Literal(title, lang="en")) in default, number
        assert (GROUP, VET.mandateTopic, topics[number]) in default, number


def test_viewpoints_have_the_fact_sheet_numbers_and_titles(facts, default: Graph) -> None:
    expected = {v["number"]: v["title"] for v in facts["viewpoints"]["items"]}
    viewpoints = numbered(default, VET.Viewpoint)
    assert sorted(viewpoints) == sorted(expected) == [1, 2]
    for number, title in expected.items():
        assert (viewpoints[number], RDFS.label, Literal(title, lang="en")) in default, number


def test_only_confirmed_insight_viewpoints_are_stated(facts, default: Graph, unconfirmed: Graph) -> None:
    viewpoints = numbered(default, VET.Viewpoint)
    insights = numbered(default, VET.Insight)
    expected = {
        (insights[n], VET.viewpoint, viewpoints[v["number"]])
        for v in facts["viewpoints"]["items"]
        for n in v["insights_grouped_here"]["confirmed"]
    }
    assert expected, "the fact sheet confirms insight 1 under viewpoint 1"
    assert set(default.triples((None, VET.viewpoint, None))) == expected
    # The insight's own record names the same viewpoint.
    first = next(i for i in facts["insights"] if i["number"] == 1)
    assert default.value(insights[1], VET.viewpoint) == find_by_name(
        default, first["viewpoint"], VET.Viewpoint
    )
    # Guesses (insight 7 "probably" under viewpoint 2) are at most notes, never vet:viewpoint links.
    assert set(unconfirmed.triples((None, VET.viewpoint, None))) == set()


def test_vision_title(facts, default: Graph) -> None:
    vision = ID["vision"]
    assert (vision, DCTERMS.title, Literal(facts["vision"]["title"]["value"], lang="en")) in default
    assert len(list(default.objects(vision, VET.hasVisionPoint))) == len(facts["vision"]["main_points"])


def test_insights_1_to_8_with_the_titles_the_fact_sheet_gives(
    facts, default: Graph, unconfirmed: Graph, union: Graph
) -> None:
    insights = numbered(default, VET.Insight)
    assert sorted(insights) == [i["number"] for i in facts["insights"]] == list(range(1, 9))
    for item in facts["insights"]:
        insight, title = insights[item["number"]], item["title"]
        label = f"insight {item['number']}"
        if title is None:
            assert list(union.objects(insight, DCTERMS.title)) == [], f"{label}: a title no source gives"
            assert default.value(insight, VET.titleEvidence) == VET.NotRecorded, label
        elif item.get("partial"):
            # Only the start of the heading is visible: kept, but only as an unconfirmed statement.
            assert list(default.objects(insight, DCTERMS.title)) == [], f"{label}: partial title confirmed"
            titles = [str(t) for t in unconfirmed.objects(insight, DCTERMS.title)]
            visible = title.split(" ...")[0]
            assert len(titles) == 1 and titles[0].startswith(visible + " ..."), (label, titles, visible)
            only_unconfirmed(default, unconfirmed, (insight, VET.titleEvidence, VET.Unconfirmed))
        else:
            assert list(default.objects(insight, DCTERMS.title)) == [Literal(title, lang="en")], label
            evidence = VET.AsPrinted if item["title_as_printed_confirmed"] else VET.SecondaryWording
            assert default.value(insight, VET.titleEvidence) == evidence, label


# --- actors and policy instruments ------------------------------------------------------------------


def test_every_actor_of_the_fact_sheet_is_present(facts, union: Graph) -> None:
    for actor in facts["actors"]:
        name = ACTOR_LABELS.get(actor["name"], actor["name"])
        find_by_name(union, name, ACTOR_CLASSES[actor["type"]])


def test_actor_label_mapping_is_still_needed(facts) -> None:
    """The explicit mapping covers only names that really differ, and only names the fact sheet has."""
    names = {a["name"] for a in facts["actors"]}
    assert set(ACTOR_LABELS) <= names


def test_every_policy_instrument_of_the_fact_sheet_is_present_with_its_identifiers(
    facts, union: Graph
) -> None:
    for item in facts["policy_instruments"]:
        # "Riga conclusions (2015) / Copenhagen process (2002)" are two instruments; "CoVEs / Platforms of
        # CoVEs (Erasmus+)" is one instrument with an alternative label.
        parts = [find_by_name(union, part, VET.PolicyInstrument) for part in item["name"].split(" / ")]
        ids = item.get("identifiers") or {}
        instrument = parts[0]
        if ids.get("celex"):
            assert list(union.objects(instrument, VET.celex)) == [Literal(ids["celex"])], item["name"]
        if ids.get("oj_reference"):
            assert (instrument, VET.ojReference, Literal(ids["oj_reference"])) in union, item["name"]
        if ids.get("date"):
            assert (instrument, DCTERMS.date, Literal(ids["date"], datatype=XSD_DATE)) in union, item["name"]
        numbers = {str(n) for n in union.objects(instrument, VET.documentNumber)}
        for key in ("document", "proposal", "staff_working_document"):
            if ids.get(key):  # e.g. "COM(2020) 274 final, Brussels 1.7.2020": the number, without date/place
                number = re.match(r"(?:COM|SWD|C)\(\d{4}\) \d+(?: final)?", ids[key])
                assert number and number.group(0) in numbers, (item["name"], key, numbers)


def test_the_commissioner_is_spelled_as_the_fact_sheet_says(facts, loaded, default: Graph) -> None:
    commissioner = next(a for a in facts["actors"] if a.get("spelling_note"))
    name = commissioner["name"]
    assert name == "Nicolas Schmit"
    assert "Schmitt" in commissioner["spelling_note"]
    person = ID["person/nicolas-schmit"]
    assert list(default.objects(person, FOAF.name)) == [Literal(name)]
    assert list(default.objects(person, RDFS.label)) == [Literal(name, lang="en")]
    # The misspelling only where it is meant to be found or explained, in every graph.
    quads = list(loaded.dataset.quads((None, None, None, None)))
    misspelt = [(s, p, o) for s, p, o, _ in quads if "schmitt" in str(o).lower()]
    assert misspelt and {p for _, p, _ in misspelt} <= {SKOS.hiddenLabel, SKOS.editorialNote}, misspelt
    assert not [q for q in quads if "schmitt" in str(q[0]).lower()]


# --- unconfirmed statements ---------------------------------------------------------------------------


def test_the_responsible_dg_of_the_report_is_unconfirmed(facts, default: Graph, unconfirmed: Graph) -> None:
    assert facts["report"]["responsible_directorate_general"]["unconfirmed"] is True
    dg = ID["agent/dg-empl"]
    attributions = [
        a
        for a in unconfirmed.objects(REPORT, PROV.qualifiedAttribution)
        if (a, PROV.agent, dg) in unconfirmed
    ]
    assert len(attributions) == 1
    only_unconfirmed(default, unconfirmed, (REPORT, PROV.qualifiedAttribution, attributions[0]))
    assert (None, None, attributions[0]) not in default and (attributions[0], None, None) not in default
    # DG EMPL is confirmed as running the working group (EfVET), not as responsible for the report.
    confirmed_agents = {
        default.value(a, PROV.agent) for a in default.objects(REPORT, PROV.qualifiedAttribution)
    }
    assert dg not in confirmed_agents
    assert (GROUP, VET.runBy, dg) in default


def test_unit_e3_running_the_group_is_unconfirmed(facts, default: Graph, unconfirmed: Graph) -> None:
    unit = facts["working_group"]["run_by"]["responsible_unit"]
    assert unit["unconfirmed"] is True
    e3 = find_by_name(default, unit["name"], ORG.OrganizationalUnit)
    only_unconfirmed(default, unconfirmed, (GROUP, VET.runBy, e3))


def test_the_s3_events_are_unconfirmed_only(facts, default: Graph, unconfirmed: Graph) -> None:
    events = facts["working_group"]["related_commission_events_not_confirmed_as_wg_activities"]
    assert len(events) == 2 and all(e["unconfirmed"] for e in events)
    for event in events:
        resource = find_by_name(unconfirmed, event["event"], VET.Activity)
        assert (resource, DCTERMS.date, Literal(event["date"], datatype=XSD_DATE)) in unconfirmed
        assert set(sources_of(event)) <= {str(s) for s in unconfirmed.objects(resource, DCTERMS.source)}
        assert (resource, None, None) not in default and (None, None, resource) not in default, event["event"]


def test_unconfirmed_actor_relations_stay_in_the_unconfirmed_graph(
    facts, default: Graph, unconfirmed: Graph, union: Graph
) -> None:
    flagged = [a for a in facts["actors"] if a.get("unconfirmed")]
    assert flagged
    for actor in flagged:
        resource = find_by_name(union, actor["name"], ACTOR_CLASSES[actor["type"]])
        assert list(unconfirmed.objects(resource, VET.relationToReport)), actor["name"]
        assert list(default.objects(resource, VET.relationToReport)) == [], actor["name"]
        # No confirmed membership or attribution ties them to the group or the report.
        assert (None, ORG.member, resource) not in default and (None, PROV.agent, resource) not in default


def test_instrument_relations_follow_the_fact_sheet_evidence(
    facts, default: Graph, unconfirmed: Graph
) -> None:
    """relation_unconfirmed instruments are tied to the report only in the unconfirmed graph; the others are
    tied to it by a confirmed statement (vet:drawsOn or vet:policyContext)."""
    links = (VET.drawsOn, VET.policyContext)
    for item in facts["policy_instruments"]:
        for part in item["name"].split(" / "):
            instrument = find_by_name(default, part, VET.PolicyInstrument)
            confirmed = [p for p in links if (REPORT, p, instrument) in default]
            if item.get("relation_unconfirmed"):
                assert confirmed == [], part
                only_unconfirmed(default, unconfirmed, (REPORT, VET.policyContext, instrument))
                assert list(default.objects(instrument, VET.relationToReport)) == [], part
            else:
                assert confirmed, part
                assert list(default.objects(instrument, VET.relationToReport)), part


def test_other_unconfirmed_items(facts, default: Graph, unconfirmed: Graph) -> None:
    heading = facts["viewpoints"]["heading"]
    assert heading["unconfirmed"] is True
    literal = Literal(heading["value"], lang="en")
    assert (None, None, literal) in unconfirmed and (None, None, literal) not in default
    inapp = [w for w in facts["report"]["where_published"] if w.get("unconfirmed")]
    assert len(inapp) == 1
    only_unconfirmed(default, unconfirmed, (REPORT, RDFS.seeAlso, URIRef(inapp[0]["url"])))
    related_tool = next(i for i in facts["insights"] if i.get("related_tool"))
    assert related_tool["number"] == 3
    only_unconfirmed(default, unconfirmed, (ID["insight/3"], DCTERMS.relation, ID["instrument/selfie-wbl"]))


# --- sources --------------------------------------------------------------------------------------------


def typed_subjects(graph: Graph) -> Iterator[URIRef]:
    for s in set(graph.subjects(RDF.type, None)):
        if isinstance(s, URIRef) and s.startswith(ID_BASE):
            yield s


def test_every_resource_names_its_source_in_its_own_graph(loaded, default: Graph, unconfirmed: Graph) -> None:
    """Each id/ resource described in a graph names a dct:source URL in that same graph, so the confirmed-only
    view is sourced by itself. Exempt: roles (org:Role) and concept schemes, vetgraph's own classifications,
    for which the shapes require no source either."""
    exempt = (ORG.Role, SKOS.ConceptScheme)
    shapes = loaded.shapes
    sourced_shapes = set(shapes.subjects(SH.property, VSH.Sourced))
    for cls in exempt:  # the exemption is the shapes' own rule
        targeting = set(shapes.subjects(SH.targetClass, cls))
        assert targeting and not targeting & sourced_shapes, cls
    missing = {
        name: sorted(
            str(s)
            for s in typed_subjects(graph)
            if (s, DCTERMS.source, None) not in graph and not any((s, RDF.type, c) in graph for c in exempt)
        )
        for name, graph in (("default", default), ("unconfirmed", unconfirmed))
    }
    assert missing == {"default": [], "unconfirmed": []}
    union = loaded.union()
    unsourced = sorted(
        str(s)
        for s in set(union.subjects())
        if isinstance(s, URIRef)
        and s.startswith(ID_BASE)
        and (s, DCTERMS.source, None) not in union
        and not any((s, RDF.type, c) in union for c in exempt)
    )
    assert unsourced == []


def test_sources_are_the_fact_sheet_urls(facts, facts2, loaded) -> None:
    """Every dct:source URL appears in the fact sheet: no source is invented."""
    sheet = "\n".join(str(v) for v in _walk(facts)) + "\n" + "\n".join(str(v) for v in _walk(facts2))
    sources = {str(o) for o in loaded.union().objects(None, DCTERMS.source)}
    assert sources and sorted(s for s in sources if s not in sheet) == []


def _walk(value) -> Iterator[object]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    elif value is not None:
        yield value


# --- what must not be there -----------------------------------------------------------------------------


def test_no_lighthouse_project_or_good_practice_is_described(facts, facts2, union: Graph) -> None:
    """No source names any of the 12 Lighthouse projects or any good practice, so the graph has none."""
    assert facts["lighthouse_projects"]["items"] == [] and facts2["lighthouse_projects"]["items"] == []
    assert facts["good_practices"]["items"] == [] and facts2["good_practices"]["items"] == []
    assert sorted(instances(union, VET.GoodPractice)) == []  # Lighthouse projects are good practices too
    for prop in (VET.presentedIn, VET.illustratesInsight, VET.coordinatedBy, VET.country):
        assert list(union.triples((None, prop, None))) == [], prop


def test_no_unconfirmed_candidate_is_published_as_a_practice(facts2, union: Graph) -> None:
    candidates = facts2["candidates_not_confirmed"]
    for candidate in candidates:  # every candidate has a key to look for
        assert any(key in candidate["name"] for key in CANDIDATE_KEYS), candidate["name"]
    practices = instances(union, VET.GoodPractice) | instances(union, VET.LighthouseProject)
    for resource in practices | set(union.subjects(VET.presentedIn, None)):
        names = " ".join(names_of(union, resource)).lower()
        assert not [k for k in CANDIDATE_KEYS.values() if k in names], resource
    # Nor does any resource carry a candidate's name as its own name.
    named = {s: " ".join(names_of(union, s)).lower() for s in set(union.subjects()) if isinstance(s, URIRef)}
    hits = {str(s): k for s, n in named.items() for k in CANDIDATE_KEYS.values() if k in n}
    assert hits == {}
