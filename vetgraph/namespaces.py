"""Every namespace the package names, in one module, and the one table of prefixes.

The reused W3C/DCMI vocabularies are rdflib's closed namespaces (a misspelt term raises AttributeError);
`VET` is our own ontology as a closed `DefinedNamespace`, checked against ontology/vet.ttl by a test, so a
typo in a term fails loudly instead of silently matching nothing. The EU vocabularies and identifier schemes
are open namespaces: their terms are codes (country/DEU, eurovoc/795) that no class could list.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROF,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VANN,
    VOID,
    XSD,
    DefinedNamespace,
)

from vetgraph.config import BASE_IRI, ID_BASE, VET_NS

DCT = DCTERMS
SCHEMA = SDO  # https://schema.org/, as the data and the ontology write it
SCHEMA_HTTP = Namespace("http://schema.org/")  # the older form, still in use elsewhere


class VET(DefinedNamespace):
    """The vetgraph ontology (ontology/vet.ttl); tests/test_namespaces.py keeps the two equal."""

    _NS = Namespace(VET_NS)
    _fail = True

    Activity: URIRef  # activity
    AsPrinted: URIRef  # as printed
    Audience: URIRef  # audience
    EUAgency: URIRef  # EU agency
    EvidenceLevel: URIRef  # evidence level
    EvidenceLevels: URIRef  # evidence levels
    GoodPractice: URIRef  # good practice
    Insight: URIRef  # insight
    LighthouseProject: URIRef  # Lighthouse project
    MandateTopic: URIRef  # mandate topic
    Meeting: URIRef  # meeting
    NotRecorded: URIRef  # not yet recorded
    PolicyInstrument: URIRef  # policy instrument
    Publication: URIRef  # publication
    Report: URIRef  # report
    ReportComponent: URIRef  # report component
    SecondaryWording: URIRef  # secondary wording
    SocialPartner: URIRef  # social partner
    StakeholderOrganisation: URIRef  # stakeholder organisation
    Unconfirmed: URIRef  # unconfirmed
    Viewpoint: URIRef  # viewpoint
    Vision: URIRef  # vision
    VisionPoint: URIRef  # vision point
    WorkingGroup: URIRef  # working group
    addressesTopic: URIRef  # addresses topic
    catalogueNumber: URIRef  # catalogue number
    celex: URIRef  # CELEX number
    companionDocument: URIRef  # companion document
    coordinatedBy: URIRef  # coordinated by
    country: URIRef  # country
    coverBrand: URIRef  # cover brand
    declaredInsightCount: URIRef  # declared insight count
    declaredLighthouseProjectCount: URIRef  # declared Lighthouse project count
    declaredViewpointCount: URIRef  # declared viewpoint count
    documentNumber: URIRef  # document number
    doi: URIRef  # DOI
    drawsOn: URIRef  # draws on
    evidence: URIRef  # evidence
    example: URIRef  # example
    hasVisionPoint: URIRef  # has vision point
    illustratesInsight: URIRef  # illustrates insight
    mandateTopic: URIRef  # mandate topic
    meetingOf: URIRef  # activity of
    number: URIRef  # number
    ojReference: URIRef  # Official Journal reference
    partOfReport: URIRef  # part of report
    placeOfPublication: URIRef  # place of publication
    policyContext: URIRef  # policy context
    predecessor: URIRef  # predecessor
    presentedIn: URIRef  # presented in
    relationToReport: URIRef  # relation to report
    runBy: URIRef  # run by
    setUpUnder: URIRef  # set up under
    siblingGroup: URIRef  # sibling group
    titleEvidence: URIRef  # title evidence
    viewpoint: URIRef  # viewpoint


# Vocabularies rdflib does not ship.
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
W3C_FORMATS = Namespace("http://www.w3.org/ns/formats/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DC = Namespace("http://purl.org/dc/elements/1.1/")
LOCN = Namespace("http://www.w3.org/ns/locn#")
# EU vocabularies and identifier schemes (open: their terms are codes).
AUTHORITY = Namespace("http://publications.europa.eu/resource/authority/")
AUTHORITY_ONTOLOGY = Namespace("http://publications.europa.eu/ontology/authority/")
EUVOC = Namespace("http://publications.europa.eu/ontology/euvoc#")
EUROVOC = Namespace("http://eurovoc.europa.eu/")
ESCO = Namespace("http://data.europa.eu/esco/")
ELI = Namespace("http://data.europa.eu/eli/")
CELEX = Namespace("http://publications.europa.eu/resource/celex/")
ADMS_VOCABULARIES = Namespace("http://purl.org/adms/")
DOI = Namespace("https://doi.org/")
#: W3C Content Negotiation by Profile: the Alternate Representations data model (the `_profile=alt` view)
ALTR = Namespace("http://www.w3.org/ns/dx/conneg/altr#")
IANA_MEDIA_TYPES = Namespace("http://www.iana.org/assignments/media-types/")
# Our own resources (they move with VETGRAPH_BASE_IRI; the ontology does not).
ID = Namespace(ID_BASE)
GRAPH = Namespace(BASE_IRI + "graph/")

#: The one prefix table: prefix -> namespace. Each output declares the subset it needs (`prefixes(...)`), and
#: Turtle/JSON-LD dumps declare only the prefixes their IRIs use.
PREFIXES: dict[str, str] = {
    "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD), "skos": str(SKOS), "dct": str(DCT),
    "foaf": str(FOAF), "org": str(ORG), "prov": str(PROV), "schema": str(SCHEMA), "dcat": str(DCAT),
    "void": str(VOID), "sh": str(SH), "sd": str(SD), "formats": str(W3C_FORMATS), "spdx": str(SPDX),
    "vcard": str(VCARD), "adms": str(ADMS), "dcatap": str(DCATAP), "vet": VET_NS,
    "eurovoc": str(EUROVOC), "esco": str(ESCO), "authority": str(AUTHORITY), "at": str(AUTHORITY_ONTOLOGY),
    "euvoc": str(EUVOC),
    "access": f"{AUTHORITY}access-right/", "country": f"{AUTHORITY}country/",
    "corporatebody": f"{AUTHORITY}corporate-body/", "filetype": f"{AUTHORITY}file-type/",
    "frequency": f"{AUTHORITY}frequency/", "language": f"{AUTHORITY}language/", "licence": f"{AUTHORITY}licence/",
    "theme": f"{AUTHORITY}data-theme/",
    "id": ID_BASE, "agent": ID_BASE + "agent/", "project": ID_BASE + "project/", "practice": ID_BASE + "practice/",
    "insight": ID_BASE + "insight/", "topic": ID_BASE + "topic/", "report": ID_BASE + "report/",
    "graph": str(GRAPH), "prof": str(PROF), "altr": str(ALTR),
}


def prefixes(*names: str) -> dict[str, str]:
    """The entries of `PREFIXES` named, in the order given (a KeyError names an unknown prefix)."""
    return {name: PREFIXES[name] for name in names}


__all__ = [
    "ADMS", "ADMS_VOCABULARIES", "ALTR", "AUTHORITY", "AUTHORITY_ONTOLOGY", "CELEX", "DC", "DCAT", "DCATAP", "DCT",
    "DCTERMS", "DOI", "ELI", "ESCO", "EUROVOC", "EUVOC", "FOAF", "GRAPH", "IANA_MEDIA_TYPES", "ID", "LOCN", "ORG",
    "OWL", "PREFIXES", "PROF", "PROV", "RDF", "RDFS", "SCHEMA", "SCHEMA_HTTP", "SD", "SH", "SKOS", "SPDX", "TIME",
    "VANN", "VCARD", "VET", "VOID", "W3C_FORMATS", "XSD", "prefixes",
]
