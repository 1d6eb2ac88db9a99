"""The data of the home page, read from the store with a few SPARQL queries: the report's bibliographic
record, its vision, viewpoints and insights (with how well each statement is evidenced), the mandate
topics, the actors, the policy instruments, and how complete the graph is against what the report
declares ("12 Lighthouse projects declared, 0 described"). Nothing here is written into the code: a
fact missing from the data shows as missing on the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.term import Identifier

from vetgraph.completeness import Aspect, completeness
from vetgraph.config import ID_BASE, UNCONFIRMED_GRAPH, VET_NS
from vetgraph.namespaces import DCTERMS, FOAF, ORG, RDF, VET, prefixes
from vetgraph.server.describe import Description, describe, labels_of
from vetgraph.stores import Store

DCT = str(DCTERMS)
RDF_TYPE = str(RDF.type)
#: The report this project publishes; another report with declared counts stands in when it is absent
#: (test fixtures).
REPORT_IRI = ID_BASE + "report/innovation-digitalisation-2020"

_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes("vet", "dct", "org", "foaf").items())
_REPORT = _PREFIXES + """SELECT ?report ?preferred WHERE {
  ?report a vet:Report ; vet:declaredInsightCount ?n .
  BIND(STR(?report) = ?preferred AS ?first)
} ORDER BY DESC(?first) ?report LIMIT 1"""
_COMPONENTS = _PREFIXES + f"""SELECT DISTINCT ?report ?c ?p ?o ?unconfirmed WHERE {{
  ?c vet:partOfReport ?report . ?c ?p ?o .
  OPTIONAL {{ GRAPH <{UNCONFIRMED_GRAPH}> {{ ?c ?p ?o }} BIND(true AS ?unconfirmed) }}
}}"""
_ACTOR_TYPES = ("vet:WorkingGroup", "vet:EUAgency", "vet:SocialPartner", "vet:StakeholderOrganisation",
                "org:OrganizationalUnit", "org:Organization", "foaf:Person", "vet:Audience", "foaf:Group")
_ACTORS = _PREFIXES + f"""SELECT DISTINCT ?a ?type WHERE {{
  VALUES ?type {{ {' '.join(_ACTOR_TYPES)} }} ?a a ?type . FILTER(isIRI(?a))
}}"""
_INSTRUMENTS = _PREFIXES + """SELECT ?i (MIN(STR(?d)) AS ?date) WHERE {
  ?i a vet:PolicyInstrument . OPTIONAL { ?i dct:issued|dct:date|dct:dateAccepted ?d }
} GROUP BY ?i"""
_COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
_COUNT_UNCONFIRMED = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{UNCONFIRMED_GRAPH}> {{ ?s ?p ?o }} }}"


@dataclass
class Component:
    """A part of the report's argument (topic, viewpoint, vision, vision point, insight)."""

    iri: URIRef
    types: set[str] = field(default_factory=set)
    values: dict[str, list[tuple[Identifier, bool]]] = field(default_factory=lambda: defaultdict(list))

    def first(self, predicate: str) -> Identifier | None:
        values = self.values.get(predicate, [])
        confirmed = [v for v, unconfirmed in values if not unconfirmed]
        anything = [v for v, _ in values]
        return (confirmed or anything)[0] if anything else None

    def unconfirmed(self, predicate: str) -> bool:
        entries = self.values.get(predicate, [])
        return bool(entries) and all(unconfirmed for _, unconfirmed in entries)

    def all(self, predicate: str) -> list[Identifier]:
        return [v for v, _ in self.values.get(predicate, [])]

    @property
    def number(self) -> int:
        value = self.first(str(VET.number))
        try:
            return int(value) if value is not None else 10**6
        except ValueError:
            return 10**6


@dataclass
class Completeness:
    what: str
    declared: int | None
    described: int
    note: str = ""


@dataclass
class HomeData:
    report: URIRef | None
    record: Description | None
    components: dict[URIRef, Component]
    actors: list[tuple[str, URIRef]]  # (type IRI, actor)
    instruments: list[tuple[URIRef, str | None]]
    labels: dict[URIRef, Literal]
    completeness: list[Completeness]
    triples: int
    unconfirmed_statements: int
    #: the rows of the completeness query (vetgraph.completeness), which `completeness` presents
    aspects: list[Aspect] = field(default_factory=list)

    def of_type(self, local: str) -> list[Component]:
        wanted = str(VET[local])
        return sorted((c for c in self.components.values() if wanted in c.types), key=lambda c: (c.number, c.iri))


def _int(value: Identifier | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def load(store: Store) -> HomeData:
    rows = store.query(_REPORT, {"preferred": Literal(REPORT_IRI)}).rows
    triples = _int(store.query(_COUNT_ALL).rows[0][0]) or 0
    unconfirmed = _int(store.query(_COUNT_UNCONFIRMED).rows[0][0]) or 0
    if not rows:
        return HomeData(None, None, {}, [], [], {}, [], triples, unconfirmed)
    report = rows[0][0]
    assert isinstance(report, URIRef)
    record = describe(store, report)
    components: dict[URIRef, Component] = {}
    for _, c, p, o, flag in store.query(_COMPONENTS, {"report": report}).rows:
        if not isinstance(c, URIRef) or o is None:  # bound by the pattern; c is an IRI of the data
            continue
        component = components.setdefault(c, Component(c))
        component.values[str(p)].append((o, flag is not None))
        if str(p) == RDF_TYPE:
            component.types.add(str(o))
    actors = _most_specific([(str(t), a) for a, t in store.query(_ACTORS).rows if isinstance(a, URIRef)])
    instruments = sorted(((i, str(d) if d is not None else None) for i, d in store.query(_INSTRUMENTS).rows
                          if isinstance(i, URIRef)), key=lambda item: (item[1] or "9999", str(item[0])))
    mentioned = {*components, *(a for _, a in actors), *(i for i, _ in instruments)}
    for component in components.values():
        mentioned.update(v for values in component.values.values() for v, _ in values if isinstance(v, URIRef))
    labels = {**record.labels, **labels_of(store, mentioned)}
    data = HomeData(report, record, components, actors, instruments, labels, [], triples, unconfirmed,
                    completeness(store, report))
    data.completeness = _completeness(data)
    return data


def _most_specific(actors: list[tuple[str, URIRef]]) -> list[tuple[str, URIRef]]:
    """One entry per actor, under the first of its types in _ACTOR_TYPES' order (most specific first)."""
    order = {t.replace("vet:", VET_NS).replace("org:", str(ORG)).replace("foaf:", str(FOAF)): i
             for i, t in enumerate(_ACTOR_TYPES)}
    best: dict[URIRef, str] = {}
    for type_iri, actor in actors:
        if actor not in best or order[type_iri] < order[best[actor]]:
            best[actor] = type_iri
    return sorted(((t, a) for a, t in best.items()), key=lambda item: (order[item[0]], str(item[1])))


def _completeness(data: HomeData) -> list[Completeness]:
    """The completeness table: the counts are the completeness query's; the insights lacking a title are
    named from the components (the same statements the query counts)."""
    aspects = {a.name: a for a in data.aspects}
    insights, titles = aspects["insights"], aspects["insight titles"]
    unconfirmed = titles.described - aspects["confirmed insight titles"].described
    note = f"{titles.described} with a recorded title"
    if unconfirmed:
        note += f" ({unconfirmed} of them unconfirmed)"
    untitled = [i for i in data.of_type("Insight") if i.first(DCT + "title") is None]
    if untitled:
        note += f"; title not yet recorded for insight{'s' if len(untitled) > 1 else ''} " + _numbers(untitled)
    rows = [Completeness("insights", insights.declared, insights.described, note)]
    for name in ("viewpoints", "mandate topics", "Lighthouse projects"):
        rows.append(Completeness(name, aspects[name].declared, aspects[name].described))
    practices = aspects["good practices"]
    rows.append(Completeness("good practices", practices.declared, practices.described,
                             "Lighthouse projects included" if practices.described else ""))
    return rows


def _numbers(components: list[Component]) -> str:
    """"7-8" or "2, 5" for a list of numbered components."""
    numbers = sorted(c.number for c in components)
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(str(n) for n in numbers)
