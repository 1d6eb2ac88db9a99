"""data/links.ttl: every component docs/links.md names is linked, with the property policy of docs/links.md."""

from __future__ import annotations

from rdflib import OWL, SKOS, URIRef

from vetgraph.config import ID_BASE, VET_NS

SCHEMA_SAME_AS = URIRef("https://schema.org/sameAs")
SCHEMA_SUBJECT_OF = URIRef("https://schema.org/subjectOf")
MAPPINGS = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
EUROVOC = "http://eurovoc.europa.eu/"
BODY = "http://publications.europa.eu/resource/authority/corporate-body/"
CELEX = "http://publications.europa.eu/resource/celex/"


def mapped(graph, resource: str, namespace: str) -> set[str]:
    return {str(o) for p in MAPPINGS for o in graph.objects(URIRef(ID_BASE + resource), p)
            if str(o).startswith(namespace)}


def test_topics_viewpoints_and_insights_1_to_6_map_to_eurovoc(loaded):
    graph = loaded.union()
    linked = [f"topic/{n}" for n in range(1, 9)] + ["viewpoint/1", "viewpoint/2"]
    linked += [f"insight/{n}" for n in range(1, 7)]
    assert [r for r in linked if not mapped(graph, r, EUROVOC)] == []


def test_insights_7_and_8_have_no_links(loaded):
    # nothing is known about them, so nothing can be true about their subject
    graph = loaded.union()
    for n in (7, 8):
        assert not [p for p in MAPPINGS if list(graph.objects(URIRef(f"{ID_BASE}insight/{n}"), p))]


def test_teacher_topic_and_insight_relate_to_the_esco_vocational_teacher(loaded):
    graph = loaded.union()
    teacher = URIRef("http://data.europa.eu/esco/occupation/81f8d141-3f67-4fb0-a349-db0147ef7b3a")
    for resource in ("topic/1", "insight/2"):
        # related, not close: a topic or an insight is not interchangeable with an occupation
        assert (URIRef(ID_BASE + resource), SKOS.relatedMatch, teacher) in graph
        assert (URIRef(ID_BASE + resource), SKOS.closeMatch, teacher) not in graph


def test_no_exact_match_and_no_owl_same_as_in_the_data(loaded):
    # report components are statements about a field, never the same as a thesaurus descriptor
    graph = loaded.union()
    assert list(graph.triples((None, SKOS.exactMatch, None))) == []
    assert list(graph.triples((None, OWL.sameAs, None))) == []


def test_organisations_link_to_their_corporate_body_with_schema_same_as(loaded):
    graph = loaded.union()
    expected = {"european-commission": "COM", "dg-empl": "EMPL", "dg-eac": "EAC", "cedefop": "CEDEFOP",
                "etf": "ETF", "publications-office": "PUBL", "jrc": "JRC"}
    for agent, code in expected.items():
        agent_iri = URIRef(f"{ID_BASE}agent/{agent}")
        assert set(graph.objects(agent_iri, SCHEMA_SAME_AS)) == {URIRef(BODY + code)}, agent
        assert not [p for p in MAPPINGS if list(graph.objects(agent_iri, p))], agent


def test_every_celex_number_of_the_fact_sheet_is_linked(loaded, facts):
    graph = loaded.union()
    from_facts = {i["identifiers"]["celex"] for i in facts["policy_instruments"]
                  if isinstance(i.get("identifiers"), dict) and i["identifiers"].get("celex")}
    stated = {}
    for instrument, celex in graph.subject_objects(URIRef(VET_NS + "celex")):
        stated[str(celex)] = instrument
    assert set(stated) == from_facts
    for number, instrument in stated.items():
        targets = set(graph.objects(instrument, SCHEMA_SAME_AS)) | set(graph.objects(instrument, SCHEMA_SUBJECT_OF))
        assert URIRef(CELEX + number) in targets, number


def test_the_report_keeps_exactly_its_doi(loaded, facts):
    graph = loaded.union()
    report = URIRef(ID_BASE + "report/innovation-digitalisation-2020")
    dois = {str(o) for o in graph.objects(report, SCHEMA_SAME_AS) if str(o).startswith("https://doi.org/")}
    assert dois == {facts["report"]["doi_resolver_url"]}
