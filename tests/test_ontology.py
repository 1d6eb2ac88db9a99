"""The ontology passes its own checks: every vet: term labelled, defined and attributed to the ontology; the
ontology carries its metadata; and no term used in data/ (or referenced by the shapes) is undefined.

"Defined" means: declared by ontology/vet.ttl (a vet: term), or a term of a reused vocabulary as rdflib knows
it. rdflib's closed namespaces (DefinedNamespace) list every term of DCTERMS, SKOS, ORG, FOAF, PROV, DCAT,
schema.org and the W3C core vocabularies, so a misspelling such as dct:tittle is caught, not just an unknown
namespace.
"""

from __future__ import annotations

import importlib.metadata

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib import namespace as rdflib_ns
from rdflib.collection import Collection
from rdflib.term import Node

from tests.helpers.shared import FIXTURES
from vetgraph.config import ONTOLOGY_IRI, VET_NS
from vetgraph.loading import load_graph

ONTOLOGY = URIRef(ONTOLOGY_IRI)
SH = Namespace("http://www.w3.org/ns/shacl#")
# By name: rdflib's closed namespaces stay out of module globals, which pytest's collection probes.
REUSED_VOCABULARIES = [
    "RDF",
    "RDFS",
    "OWL",
    "XSD",
    "DCTERMS",
    "SKOS",
    "ORG",
    "FOAF",
    "PROV",
    "DCAT",
    "SDO",
    "VANN",
]
OWL_NS = "http://www.w3.org/2002/07/owl#"
DCT_NS = "http://purl.org/dc/terms/"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
VANN_NS = "http://purl.org/vocab/vann/"
CLASS_TYPES = {URIRef(OWL_NS + "Class"), RDFS.Class}
PROPERTY_TYPES = {
    URIRef(OWL_NS + t)
    for t in ("ObjectProperty", "DatatypeProperty", "AnnotationProperty", "SymmetricProperty")
} | {RDF.Property}
CC_BY_4 = {
    URIRef("https://creativecommons.org/licenses/by/4.0/"),
    URIRef("http://creativecommons.org/licenses/by/4.0/"),
    URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0"),
}


def vet_terms(ontology: Graph) -> set[URIRef]:
    return {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(VET_NS)}


def reused_vocabulary(term: URIRef):
    """The rdflib closed namespace whose IRI the term starts with, or None."""
    for name in REUSED_VOCABULARIES:
        vocabulary = getattr(rdflib_ns, name)
        if term.startswith(str(vocabulary)):
            return vocabulary
    return None


def undefined_terms(ontology: Graph, used: dict[URIRef, str]) -> dict[str, str]:
    """{term: why} for the used terms (term -> 'class' / 'property' / 'term') that nothing defines."""
    problems = {}
    for term, use in used.items():
        if term.startswith(VET_NS):
            types = set(ontology.objects(term, RDF.type))
            if not types:
                problems[str(term)] = "not defined in ontology/vet.ttl"
            elif use == "class" and not types & CLASS_TYPES:
                problems[str(term)] = "used as a class but not declared one"
            elif use == "property" and not types & PROPERTY_TYPES:
                problems[str(term)] = "used as a property but not declared one"
            continue
        vocabulary = reused_vocabulary(term)
        if vocabulary is None:
            problems[str(term)] = "in no known vocabulary"
        elif term not in vocabulary:
            problems[str(term)] = f"not a term of {vocabulary.__name__}"
    return problems


def terms_used_in_data(data: Graph) -> dict[URIRef, str]:
    """Predicates, classes (objects of rdf:type) and any other vet: IRI of the data."""
    used: dict[URIRef, str] = {}
    for s, p, o in data:
        used[p] = "property"  # type: ignore[index]
        if p == RDF.type and isinstance(o, URIRef):
            used[o] = "class"
        for node in (s, o):
            if isinstance(node, URIRef) and node.startswith(VET_NS):
                used.setdefault(node, "term")
    return used


def terms_referenced_by_shapes(shapes: Graph) -> dict[URIRef, str]:
    """Classes and properties the shapes target or constrain: a misspelt target silently checks nothing."""
    used: dict[URIRef, str] = {}
    for cls in list(shapes.objects(None, SH.targetClass)) + list(shapes.objects(None, SH["class"])):
        used[cls] = "class"  # type: ignore[index]
    for prop in shapes.objects(None, SH.targetSubjectsOf):
        used[prop] = "property"  # type: ignore[index]
    for path in shapes.objects(None, SH.path):
        alternatives = shapes.value(path, SH.alternativePath)
        for prop in Collection(shapes, alternatives) if alternatives is not None else [path]:
            used[prop] = "property"  # type: ignore[index]
    for values in shapes.objects(None, SH["in"]):
        for value in Collection(shapes, values):
            if isinstance(value, URIRef):
                used.setdefault(value, "term")
    return used


def english(graph: Graph, subject: Node, predicate: URIRef) -> list[Literal]:
    return [o for o in graph.objects(subject, predicate) if isinstance(o, Literal) and o.language == "en"]


# --- every vet: term ------------------------------------------------------------------------------------


def test_the_ontology_defines_the_expected_kinds_of_terms(loaded) -> None:
    terms = vet_terms(loaded.ontology)
    classes = {t for t in terms if set(loaded.ontology.objects(t, RDF.type)) & CLASS_TYPES}
    properties = {t for t in terms if set(loaded.ontology.objects(t, RDF.type)) & PROPERTY_TYPES}
    assert len(classes) >= 12 and len(properties) >= 12  # the main classes and the properties joining them


def test_every_vet_term_has_an_english_label_a_definition_and_is_defined_by_the_ontology(loaded) -> None:
    ontology = loaded.ontology
    problems = {}
    for term in sorted(vet_terms(ontology)):
        missing = []
        if len(english(ontology, term, RDFS.label)) != 1:
            missing.append("one English rdfs:label")
        if not english(ontology, term, RDFS.comment) + english(
            ontology, term, URIRef(SKOS_NS + "definition")
        ):
            missing.append("an English rdfs:comment or skos:definition")
        if list(ontology.objects(term, RDFS.isDefinedBy)) != [ONTOLOGY]:
            missing.append(f"rdfs:isDefinedBy <{ONTOLOGY}>")
        if missing:
            problems[str(term)] = missing
    assert problems == {}


def test_the_ontology_has_its_metadata(loaded) -> None:
    ontology = loaded.ontology
    assert (ONTOLOGY, RDF.type, URIRef(OWL_NS + "Ontology")) in ontology
    for prop in ("title", "description"):
        assert english(ontology, ONTOLOGY, URIRef(DCT_NS + prop)), prop
    version = ontology.value(ONTOLOGY, URIRef(OWL_NS + "versionInfo"))
    assert version and str(ontology.value(ONTOLOGY, URIRef(OWL_NS + "versionIRI"))).endswith(
        "/" + str(version)
    )
    assert set(ontology.objects(ONTOLOGY, URIRef(DCT_NS + "license"))) & CC_BY_4, "licence CC BY 4.0"
    # the same creator as the package's metadata (pyproject's authors)
    creator = Literal(importlib.metadata.metadata("vetgraph")["Author"], lang="en")
    assert list(ontology.objects(ONTOLOGY, URIRef(DCT_NS + "creator"))) == [creator]
    for prop in ("created", "modified"):
        date = ontology.value(ONTOLOGY, URIRef(DCT_NS + prop))
        assert isinstance(date, Literal) and date.datatype == URIRef(
            "http://www.w3.org/2001/XMLSchema#date"
        ), prop
    assert ontology.value(ONTOLOGY, URIRef(VANN_NS + "preferredNamespacePrefix")) == Literal("vet")
    assert ontology.value(ONTOLOGY, URIRef(VANN_NS + "preferredNamespaceUri")) == Literal(VET_NS)


def test_own_terms_are_aligned_to_reused_vocabularies(loaded) -> None:
    """The ontology's own terms are aligned (subClassOf / subPropertyOf) where they fit:
    at least the main classes."""
    ontology = loaded.ontology
    unaligned = [
        str(t)
        for t in vet_terms(ontology)
        if set(ontology.objects(t, RDF.type)) & CLASS_TYPES and not list(ontology.objects(t, RDFS.subClassOf))
    ]
    assert unaligned == []


# --- no undefined term ---------------------------------------------------------------------------------


def test_no_term_used_in_the_data_is_undefined(loaded) -> None:
    assert undefined_terms(loaded.ontology, terms_used_in_data(loaded.union())) == {}


def test_the_ontology_refers_only_to_defined_terms(loaded) -> None:
    """Superclasses, superproperties, domains and ranges exist (schema:Report, not schema:report)."""
    ontology = loaded.ontology
    used: dict[URIRef, str] = {}
    for prop, use in ((RDFS.subClassOf, "class"), (RDFS.domain, "class"), (RDFS.range, "class")):
        for o in ontology.objects(None, prop):
            if isinstance(o, URIRef):
                used[o] = use
    for o in ontology.objects(None, RDFS.subPropertyOf):
        used[o] = "property"
    used.update({p: "property" for p in ontology.predicates()})
    assert undefined_terms(ontology, used) == {}


def test_the_shapes_refer_only_to_defined_terms(loaded) -> None:
    assert undefined_terms(loaded.ontology, terms_referenced_by_shapes(loaded.shapes)) == {}


def test_every_class_with_instances_in_the_data_has_a_shape(loaded) -> None:
    """SHACL shapes for every class: each vet: class instantiated in data/ is a target of a node shape,
    directly or through a superclass."""
    data, ontology, shapes = loaded.union(), loaded.ontology, loaded.shapes
    targeted = set(shapes.objects(None, SH.targetClass))
    untargeted = sorted(
        str(cls)
        for cls in set(data.objects(None, RDF.type))
        if isinstance(cls, URIRef)
        and cls.startswith(VET_NS)
        and not set(ontology.transitive_objects(cls, RDFS.subClassOf)) & targeted
    )
    assert untargeted == []


def test_the_term_check_catches_undefined_terms(loaded) -> None:
    """The checks above can fail: a fixture with misspelt and unknown terms is caught, term by term."""
    fixture = load_graph(FIXTURES / "ontology" / "undefined-terms.ttl")
    problems = undefined_terms(loaded.ontology, terms_used_in_data(fixture))
    assert problems == {
        VET_NS + "Reprot": "not defined in ontology/vet.ttl",
        VET_NS + "insightCount": "not defined in ontology/vet.ttl",
        DCT_NS + "tittle": "not a term of DCTERMS",
        "http://xmlns.com/foaf/0.1/Persn": "not a term of FOAF",
        "https://example.org/test-vocab#rating": "in no known vocabulary",
    }


@pytest.mark.parametrize(
    ("term", "use", "why"),
    [
        (VET_NS + "AsPrinted", "class", "used as a class but not declared one"),
        (VET_NS + "Report", "property", "used as a property but not declared one"),
    ],
)
def test_the_term_check_catches_a_vet_term_used_as_the_wrong_kind(
    loaded, term: str, use: str, why: str
) -> None:
    assert undefined_terms(loaded.ontology, {URIRef(term): use}) == {term: why}
