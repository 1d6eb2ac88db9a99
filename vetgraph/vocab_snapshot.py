"""The project's own snapshot of its link targets: `vetgraph links --refresh`, read by the offline `vetgraph links`.

Only the EU vocabulary concepts the data links to (and the schemes they belong to) are kept, and of them only
what a link check and the pages need: type, scheme, labels in every language, notation, the version of the
scheme, and the deprecation and replacement statements. The file (`vetgraph/reference/links-snapshot.ttl`)
ships in the package, so a fresh clone or an installed wheel checks its links without `../shared`.

Its header records, per vocabulary, where the part came from, its version where the vocabulary states one,
the retrieval date given on the command line (never the clock: the committed file must be reproducible) and
the licence. The triples are written sorted, so the same sources give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from vetgraph import namespaces as ns

if TYPE_CHECKING:
    from rdflib import Graph

#: Where the committed snapshot lives (package data, shipped in the wheel).
SNAPSHOT_FILE = Path(str(files("vetgraph.reference").joinpath("links-snapshot.ttl")))

#: End-of-use dates of the EU sources: the authority tables (skos-ap-act `at:end.use`, euvoc `euvoc:endDate`).
END_OF_USE = (str(ns.AUTHORITY_ONTOLOGY["end.use"]), str(ns.EUVOC.endDate))
#: Replacement statements of the EU sources (Dublin Core, and EuroVoc's own for merged concepts).
REPLACED_BY = (str(ns.DCT.isReplacedBy), str(ns.EUVOC.replacedBy))
#: Deprecation flags and statuses (ESCO and EU Vocabularies give a status concept; ADMS has adms:status).
DEPRECATED_FLAGS = (str(ns.OWL.deprecated), str(ns.AUTHORITY_ONTOLOGY.deprecated))
STATUSES = (str(ns.EUVOC.status), str(ns.ADMS.status))

#: What is kept of each link target (skos:exactMatch too: the check follows exactMatch chains through it).
KEPT = (str(ns.RDF.type), str(ns.SKOS.inScheme), str(ns.SKOS.exactMatch), str(ns.SKOS.prefLabel), str(ns.SKOS.altLabel),
        str(ns.SKOS.notation), str(ns.OWL.versionInfo), *DEPRECATED_FLAGS, *STATUSES, *END_OF_USE, *REPLACED_BY)
#: What is kept of each concept scheme a target is in.
KEPT_FOR_SCHEMES = (str(ns.RDF.type), str(ns.SKOS.prefLabel), str(ns.OWL.versionInfo))

#: Licence of each vocabulary family, as their publishers state it (see ../shared/vocab/README.md).
EU_REUSE = ("(c) European Union; reuse authorised provided the source is acknowledged, CC BY 4.0 "
            "(Commission Decision 2011/833/EU, Decision C(2019) 1655)")
LICENCES = {
    "ADMS": "(c) 2016 European Union, ISA Open Metadata Licence v1.1",
}


@dataclass
class Part:
    """One vocabulary's share of the snapshot: where it came from and under which terms."""

    vocabulary: str
    source: str
    version: str = ""
    concepts: int = 0

    @property
    def licence(self) -> str:
        return LICENCES.get(self.vocabulary, EU_REUSE)


def extract(targets: Iterable[str], source: Graph) -> Graph:
    """The snapshot graph: what `KEPT` says of each target that `source` describes, plus its schemes."""
    from rdflib import Graph, URIRef

    out = Graph(bind_namespaces="none")
    schemes: set[URIRef] = set()
    for iri in sorted(set(targets)):
        node = URIRef(iri)
        for prop in KEPT:
            for value in source.objects(node, URIRef(prop)):
                out.add((node, URIRef(prop), value))
                if prop == str(ns.SKOS.inScheme) and isinstance(value, URIRef):
                    schemes.add(value)
    for scheme in schemes:
        for prop in KEPT_FOR_SCHEMES:
            for value in source.objects(scheme, URIRef(prop)):
                out.add((scheme, URIRef(prop), value))
    return out


def described(graph: Graph, iri: str) -> bool:
    from rdflib import URIRef

    return (URIRef(iri), None, None) in graph


def parts_of(snapshot: Graph, origin: dict[str, str]) -> list[Part]:
    """One Part per vocabulary of the snapshot's concepts; `origin` maps a concept IRI to its source."""
    from rdflib import URIRef

    from vetgraph.links import vocabulary_of

    parts: dict[str, Part] = {}
    for iri in sorted(origin):
        vocabulary = vocabulary_of(iri)[0]
        part = parts.setdefault(vocabulary, Part(vocabulary, origin[iri]))
        if origin[iri] not in part.source.split("; "):
            part.source += "; " + origin[iri]
        part.concepts += 1
        versions = {str(v) for scheme in snapshot.objects(URIRef(iri), ns.SKOS.inScheme)
                    for v in snapshot.objects(scheme, ns.OWL.versionInfo)}
        if versions:
            part.version = ", ".join(sorted(versions | set(filter(None, part.version.split(", ")))))
    return [parts[name] for name in sorted(parts)]


def serialize(snapshot: Graph, parts: list[Part], date: str, how: str) -> str:
    """Turtle with a header, subjects, predicates and objects sorted: the same input gives the same bytes."""
    from rdflib import URIRef
    from rdflib.namespace import NamespaceManager

    from vetgraph.namespaces import prefixes

    manager = NamespaceManager(snapshot, bind_namespaces="none")
    table = prefixes("rdf", "skos", "owl", "dct", "at", "euvoc", "adms", "eurovoc", "esco", "country",
                     "corporatebody", "licence", "language", "filetype", "access", "frequency", "theme")
    for prefix, namespace in table.items():
        manager.bind(prefix, namespace, override=True, replace=True)
    lines = [
        "# vetgraph's own snapshot of its link targets: the EU vocabulary concepts the data links to, with their",
        "# type, scheme, labels in every language the source gives, notation, exact matches, scheme version and",
        "# deprecation or replacement statements; nothing else. Written by `vetgraph links --refresh`; not by hand.",
        f"# Retrieved: {date} ({how})",
        "#",
        "# Parts (vocabulary: concepts; source; version; licence):",
    ]
    for part in parts:
        version = part.version or "not stated by the source"
        lines.append(f"# - {part.vocabulary}: {part.concepts}; source {part.source}; version {version};")
        lines.append(f"#   licence {part.licence}")
    lines.append("")
    lines += [f"@prefix {prefix}: <{namespace}> ." for prefix, namespace in sorted(table.items())]
    lines.append("")

    def key(term: object) -> tuple[str, str]:
        return (type(term).__name__, term.n3() if hasattr(term, "n3") else str(term))

    for subject in sorted(set(snapshot.subjects()), key=key):
        statements = []
        for prop in sorted(set(snapshot.predicates(subject)), key=key):
            shown = "a" if prop == URIRef(str(ns.RDF.type)) else prop.n3(manager)
            values = sorted(snapshot.objects(subject, prop), key=key)
            statements.append(f"    {shown} " + ",\n        ".join(v.n3(manager) for v in values))
        lines.append(subject.n3(manager) + "\n" + " ;\n".join(statements) + " .\n")
    return "\n".join(lines)


def refresh_from_folder(folder: Path, targets: Iterable[str], date: str) -> tuple[str, list[str]]:
    """The snapshot text for `targets`, read from a local folder of vocabulary files (e.g. ../shared/vocab), and
    a line per target the folder does not describe."""
    from vetgraph.links import load_snapshot

    vocab = load_snapshot(folder)
    found = sorted(iri for iri in set(targets) if vocab.is_concept(iri) or vocab.is_scheme(iri))
    snapshot = extract(found, vocab.graph)
    origin = {iri: f"{vocab.concept_files[iri].name} of a local vocabulary folder (--from)"
              for iri in found if iri in vocab.concept_files}
    missing = [f"<{iri}>: not in {folder}" for iri in sorted(set(targets)) if iri not in found]
    return serialize(snapshot, parts_of(snapshot, origin), date, "read from a local vocabulary folder"), missing
