"""Links to EU vocabularies, checked offline: `vetgraph links`, and the labels for `build --with-labels`.

The check reads the project's own snapshot of its link targets (`vetgraph/reference/links-snapshot.ttl`, see
vetgraph.vocab_snapshot; `--refresh` rewrites it) or, with `--vocab DIR`, a folder of vocabulary extracts such as
`../shared/vocab` (EuroVoc, ESCO, ADMS and the Publications Office authority tables). `--online` (in
vetgraph.links_online) follows the links on the web instead, and `--search` (vetgraph.linked_search) finds
resources through their linked concepts' labels. Every IRI of the data that is not vetgraph's own and not an
ontology term is checked:

- an IRI of a known EU vocabulary namespace must be a concept of its snapshot (a wrong EuroVoc id, a misspelt
  country code, a deprecated code that the snapshot leaves out such as `licence/CC_BY`: errors);
- it must not carry a deprecation marker of the EU sources (`at:deprecated "true"` in the skos-ap-act
  authority tables, `owl:deprecated true`, `euvoc:status`/`adms:status` .../concept-status/DEPRECATED,
  `dct:isReplacedBy`);
- the English label our data stores for it must be the vocabulary's skos:prefLabel (warning otherwise);
- CELEX and DOI IRIs, which have no snapshot, get a syntax check and must agree with `vet:celex` / `vet:doi`;
- other namespaces (source web pages, creativecommons.org, ...) are listed, not judged.

The mapping properties are checked too: `owl:sameAs` to or from a SKOS concept is an error (it would merge a
thing with a concept), and so is any chain of `skos:exactMatch`/`owl:sameAs` that connects two vetgraph
resources (it would merge two of our topics). Exit code: 0 no error, 1 errors, 2 cannot run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from vetgraph import namespaces as ns
from vetgraph.config import BASE_IRI, CANONICAL_BASE, PROJECT_ROOT, Paths
from vetgraph.errors import CannotRun, UsageError
from vetgraph.namespaces import VET

if TYPE_CHECKING:
    from rdflib import Graph, URIRef
    from rdflib.term import Identifier, Node

    from vetgraph.loading import Loaded

RDF_TYPE = str(ns.RDF.type)
RDFS, OWL, SKOS, DCT, SCHEMA = str(ns.RDFS), str(ns.OWL), str(ns.SKOS), str(ns.DCT), str(ns.SCHEMA)

AUTHORITY, EUROVOC, ESCO = str(ns.AUTHORITY), str(ns.EUROVOC), str(ns.ESCO)
ADMS_VOCAB, CELEX, DOI_RESOLVER = str(ns.ADMS_VOCABULARIES), str(ns.CELEX), str(ns.DOI)

#: Namespaces of EU vocabularies that have a snapshot: an IRI in them that the snapshot lacks is an error.
KNOWN_VOCABULARIES: dict[str, str] = {EUROVOC: "EuroVoc", ESCO: "ESCO", ADMS_VOCAB: "ADMS"}

#: Ontology namespaces: their IRIs are classes and properties, not link targets.
TERM_NAMESPACES = tuple(str(n) for n in (
    ns.RDF, ns.RDFS, ns.OWL, ns.XSD, ns.SKOS, ns.DCT, ns.DC, ns.DCAT, ns.FOAF, ns.ORG, ns.PROV, ns.SCHEMA,
    ns.SCHEMA_HTTP, ns.VANN, ns.VOID, ns.SH, ns.ADMS, ns.TIME, ns.VCARD, ns.LOCN, ns.DCATAP, ns.SPDX,
))

MAPPING_PROPERTIES = tuple(
    SKOS + name
    for name in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch", "mappingRelation")
)
#: SKOS integrity (S46): exactMatch is disjoint with these.
DISJOINT_WITH_EXACT = tuple(SKOS + name for name in ("broadMatch", "narrowMatch", "relatedMatch"))
#: Properties whose chains identify resources: a chain through them must never join two vetgraph resources.
IDENTITY_PROPERTIES = (SKOS + "exactMatch", OWL + "sameAs")
LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label")

# Deprecation markers of the EU sources (see module docstring).
AT_DEPRECATED = str(ns.AUTHORITY_ONTOLOGY.deprecated)
STATUS_PROPERTIES = (str(ns.EUVOC.status), str(ns.ADMS.status))
DEPRECATED_STATUS = AUTHORITY + "concept-status/DEPRECATED"

#: CELEX number: sector, year, document type, number, optional (NN) suffix / corrigendum / consolidation date.
CELEX_RE = re.compile(r"^[0-9CE]\d{4}[A-Z]{1,2}\d{4,}(?:\(\d{2}\))?(?:R\(\d{2}\))?(?:-\d{8})?$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
DOI_OTHER_FORMS = ("http://doi.org/", "http://dx.doi.org/", "https://dx.doi.org/")

EXIT_OK, EXIT_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2
ERROR, WARNING = "error", "warning"


class VocabularyError(CannotRun):
    """The snapshots cannot be used: the folder is missing, empty or holds a file that does not parse."""


# ------------------------------------------------------------------------------------------------------------
# Snapshots
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    """The vocabulary snapshots, merged into one graph."""

    folder: Path
    graph: Graph
    files: list[Path]
    #: concept IRI -> snapshot file it comes from
    concept_files: dict[str, Path] = field(default_factory=dict)

    def is_concept(self, iri: str) -> bool:
        return iri in self.concept_files

    def is_scheme(self, iri: str) -> bool:
        from rdflib import URIRef

        return (URIRef(iri), URIRef(RDF_TYPE), URIRef(SKOS + "ConceptScheme")) in self.graph

    def labels(self, iri: str, prop: str = SKOS + "prefLabel") -> list[str]:
        """English labels of a concept (skos:prefLabel by default)."""
        from rdflib import URIRef

        return sorted(str(o) for o in self.graph.objects(URIRef(iri), URIRef(prop)) if _is_english(o))

    def labels_by_language(self, iri: str, prop: str = SKOS + "prefLabel") -> dict[str, list[str]]:
        """language tag -> labels of a concept in that language."""
        return labels_by_language(self.graph, iri, prop)

    def deprecation(self, iri: str) -> str | None:
        """Why the vocabulary marks this concept as deprecated, or None."""

        return deprecation(self.graph, iri)

    def version(self, vocabulary: str) -> str:
        """owl:versionInfo of an authority table's scheme ('' if not recorded)."""
        from rdflib import URIRef

        if not vocabulary.startswith("authority/"):
            return ""
        scheme = URIRef(AUTHORITY + vocabulary.removeprefix("authority/"))
        return ", ".join(sorted(str(v) for v in self.graph.objects(scheme, URIRef(OWL + "versionInfo"))))

    def codes_labelled(self, namespace: str, labels: Iterable[str]) -> list[str]:
        """Local names of the concepts below a namespace whose English pref- or altLabel is one of `labels`."""
        wanted = {label.casefold() for label in labels}
        if not wanted:
            return []
        return [code for code in self.codes(namespace)
                if any(label.casefold() in wanted for prop in (SKOS + "prefLabel", SKOS + "altLabel")
                       for label in self.labels(namespace + code, prop))]

    def codes(self, namespace: str) -> list[str]:
        """Local names of the snapshot's concepts below a namespace (for 'did you mean' hints)."""
        return sorted(iri[len(namespace):] for iri in self.concept_files if iri.startswith(namespace))


def deprecation(graph: Graph, iri: str) -> str | None:
    """Why a vocabulary graph marks this concept as deprecated, or None."""
    from rdflib import URIRef

    from vetgraph.vocab_snapshot import END_OF_USE

    node = URIRef(iri)
    reasons = []
    for prop in (OWL + "deprecated", AT_DEPRECATED):
        if any(str(o).strip().lower() in ("true", "1") for o in graph.objects(node, URIRef(prop))):
            reasons.append(f"{_short(prop)} true")
    for prop in STATUS_PROPERTIES:
        statuses = {str(o) for o in graph.objects(node, URIRef(prop))}
        if any(status.upper().endswith(("/DEPRECATED", "#DEPRECATED", "/OBSOLETE")) for status in statuses):
            reasons.append(f"{_short(prop)} " + ", ".join(s.rsplit("/", 1)[-1] for s in sorted(statuses)))
    for prop in END_OF_USE:
        for end in sorted(str(o) for o in graph.objects(node, URIRef(prop))):
            reasons.append(f"in use until {end}")
    replacements = replaced_by(graph, iri)
    if replacements:
        reasons.append("replaced by " + ", ".join(f"<{r}>" for r in replacements))
    return "; ".join(reasons) or None


def replaced_by(graph: Graph, iri: str) -> list[str]:
    from rdflib import URIRef

    from vetgraph.vocab_snapshot import REPLACED_BY

    return sorted({str(o) for prop in REPLACED_BY for o in graph.objects(URIRef(iri), URIRef(prop))})


def labels_by_language(graph: Graph, iri: str, prop: str = SKOS + "prefLabel") -> dict[str, list[str]]:
    from rdflib import Literal, URIRef

    found: dict[str, list[str]] = defaultdict(list)
    for value in graph.objects(URIRef(iri), URIRef(prop)):
        if isinstance(value, Literal) and value.language:
            found[value.language.lower()].append(str(value))
    return {lang: sorted(values) for lang, values in sorted(found.items())}


def default_vocab_dir() -> Path:
    return Paths().vocab_dir


def load_snapshot(vocab_dir: Path | str | None = None) -> Snapshot:
    """The project's own snapshot (the default), one Turtle file, or every `*.ttl` directly in a folder (a full
    vocabulary folder such as ../shared/vocab; not the DCAT-AP shapes below it)."""
    from rdflib import Graph, URIRef

    from vetgraph.loading import LoadError, load_graph
    from vetgraph.vocab_snapshot import SNAPSHOT_FILE

    folder = Path(vocab_dir) if vocab_dir is not None else SNAPSHOT_FILE
    hint = "point to one with --vocab DIR (e.g. ../shared/vocab), or leave it out to use the project's snapshot"
    if folder.is_file():
        files = [folder]
    elif not folder.is_dir():
        raise VocabularyError(f"no vocabulary snapshot folder at {folder}: {hint}")
    else:
        files = sorted(folder.glob("*.ttl"))
    if not files:
        raise VocabularyError(f"{folder} holds no Turtle snapshot (*.ttl): {hint}")
    graph = Graph()
    concept_files: dict[str, Path] = {}
    concept = URIRef(SKOS + "Concept")
    for path in files:
        try:
            part = load_graph(path)
        except LoadError as error:
            raise VocabularyError(f"cannot read the snapshot {error}") from None
        for s in part.subjects(URIRef(RDF_TYPE), concept):
            concept_files.setdefault(str(s), path)
        graph += part
    return Snapshot(folder=folder, graph=graph, files=files, concept_files=concept_files)


# ------------------------------------------------------------------------------------------------------------
# Which IRIs are links, and to which vocabulary
# ------------------------------------------------------------------------------------------------------------


def vocabulary_of(iri: str) -> tuple[str, bool]:
    """(vocabulary name, whether it is a known EU vocabulary whose snapshot decides) for an external IRI."""
    if iri.startswith(AUTHORITY):
        table = iri[len(AUTHORITY):].split("/", 1)[0]
        return f"authority/{table}", True
    for namespace, name in KNOWN_VOCABULARIES.items():
        if iri.startswith(namespace):
            return name, True
    if iri.startswith(CELEX):
        return "CELEX", False
    if iri.startswith(DOI_RESOLVER) or iri.startswith(DOI_OTHER_FORMS):
        return "DOI", False
    parts = urlsplit(iri)
    return (f"{parts.scheme}://{parts.netloc}/" if parts.netloc else parts.scheme + ":"), False


#: vocabularies that are not in a snapshot but whose IRIs we can syntax-check
SYNTAX_CHECKED = ("CELEX", "DOI")


def is_external(term: Identifier) -> bool:
    from rdflib import URIRef

    if not isinstance(term, URIRef):
        return False
    iri = str(term)
    # the data may be moved to another base; the ontology stays at the canonical one
    return not iri.startswith((BASE_IRI, CANONICAL_BASE)) and not iri.startswith(TERM_NAMESPACES)


def _quads(source: Any) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
    """Triples of a Dataset (all graphs) or of a Graph."""
    if hasattr(source, "quads"):
        for s, p, o, _ in source.quads((None, None, None, None)):
            yield s, p, o
    else:
        yield from source.triples((None, None, None))


def external_iris(source: Any) -> dict[str, list[tuple[Identifier, Identifier]]]:
    """External IRI -> the (subject, predicate) pairs that point to it; [] if it only appears as a subject."""
    uses: dict[str, list[tuple[Identifier, Identifier]]] = {}
    for s, p, o in _quads(source):
        if is_external(s):
            uses.setdefault(str(s), [])
        if str(p) != RDF_TYPE and is_external(o):
            uses.setdefault(str(o), []).append((s, p))
    return uses


# ------------------------------------------------------------------------------------------------------------
# The check
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    severity: str
    code: str
    iri: str
    message: str
    vocabulary: str = ""
    files: list[str] = field(default_factory=list)
    #: the vetgraph resource a mapping finding is about (to find its file)
    subject: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "iri": self.iri, "vocabulary": self.vocabulary,
                "message": self.message, "files": self.files}


@dataclass
class VocabularyStats:
    name: str
    checked: bool
    version: str = ""
    iris: int = 0
    links: int = 0
    ok: int = 0
    errors: int = 0
    warnings: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"vocabulary": self.name, "checked": self.checked, "version": self.version, "iris": self.iris,
                "links": self.links, "ok": self.ok, "errors": self.errors, "warnings": self.warnings}


@dataclass
class LinkReport:
    snapshot_folder: Path
    snapshot_files: int
    findings: list[Finding] = field(default_factory=list)
    vocabularies: dict[str, VocabularyStats] = field(default_factory=dict)
    #: (prefixed property, vocabulary) -> number of statements
    by_property: Counter = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    @property
    def exit_code(self) -> int:
        return EXIT_ERRORS if self.errors else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot": str(self.snapshot_folder),
            "snapshotFiles": self.snapshot_files,
            "errors": self.errors,
            "warnings": self.warnings,
            "vocabularies": [v.as_dict() for v in self._ordered()],
            "linksByProperty": [{"property": p, "vocabulary": v, "links": n}
                                for (p, v), n in sorted(self.by_property.items())],
            "findings": [f.as_dict() for f in self.findings],
        }

    def _ordered(self) -> list[VocabularyStats]:
        # checked vocabularies first (known EU, then syntax-checked), then the listed namespaces
        def key(v: VocabularyStats) -> tuple[int, str]:
            return (0 if v.checked else 2 if v.name not in SYNTAX_CHECKED else 1, v.name.lower())

        return sorted(self.vocabularies.values(), key=key)

    def to_text(self) -> str:
        rows: list[tuple[str, ...]] = [("vocabulary", "version", "IRIs", "links", "ok", "errors", "warnings")]
        listed = []
        for v in self._ordered():
            if v.checked or v.name in SYNTAX_CHECKED:
                name = v.name + (" (syntax)" if v.name in SYNTAX_CHECKED else "")
                counts = (v.iris, v.links, v.ok, v.errors, v.warnings)
                rows.append((name, v.version, *(str(n) for n in counts)))
            else:
                listed.append(v)
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        where = (f"the snapshot {self.snapshot_folder}" if self.snapshot_folder.is_file()
                 else f"{self.snapshot_files} snapshot files in {self.snapshot_folder}")
        lines = [f"Links checked against {where}", ""]
        for number, row in enumerate(rows):
            pairs = enumerate(zip(row, widths, strict=True))
            cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
            lines.append("  ".join(cells).rstrip())
            if number == 0:
                lines.append("  ".join("-" * w for w in widths))
        if listed:
            lines += ["", "Not checked (no snapshot for these namespaces):"]
            lines += [f"  {v.name}  {v.iris} IRIs, {v.links} links" for v in listed]
        if self.by_property:
            lines += ["", "Links by property:"]
            totals: Counter = Counter()
            for (prop, _), n in self.by_property.items():
                totals[prop] += n
            ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
            lines += [f"  {prop}  {n}" for prop, n in ranked]
        if self.findings:
            lines += ["", "Findings:"]
            for f in sorted(self.findings, key=lambda f: (f.severity != ERROR, f.vocabulary, f.iri, f.code)):
                where = f" [{', '.join(f.files)}]" if f.files else ""
                lines.append(f"  {f.severity}: {f.code}: <{f.iri}>: {f.message}{where}")
        lines += ["", f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"]
        return "\n".join(lines) + "\n"


def check_links(loaded: Loaded, snapshot: Snapshot) -> LinkReport:
    """Check every external IRI of the loaded data and the mapping properties against the snapshots."""
    from rdflib import URIRef

    report = LinkReport(snapshot_folder=snapshot.folder, snapshot_files=len(snapshot.files))
    dataset = loaded.dataset
    triples = list(_quads(dataset))
    uses = external_iris(dataset)
    locate = _Locator(loaded)
    labels = _our_labels(triples)

    for iri in sorted(uses):
        vocabulary, known = vocabulary_of(iri)
        stats = report.vocabularies.get(vocabulary)
        if stats is None:
            stats = VocabularyStats(vocabulary, known, snapshot.version(vocabulary))
            report.vocabularies[vocabulary] = stats
        stats.iris += 1
        stats.links += len(uses[iri])
        for _, p in uses[iri]:
            report.by_property[(_short(str(p)), vocabulary)] += 1
        if known:
            found = _check_known(iri, vocabulary, snapshot, labels.get(iri, []))
        elif vocabulary == "CELEX":
            found = _check_celex(iri, uses[iri], triples)
        elif vocabulary == "DOI":
            found = _check_doi(iri, uses[iri], triples)
        else:
            found = []
        for f in found:
            f.vocabulary, f.files = vocabulary, locate(iri, uses[iri])
        _count(stats, found)
        report.findings += found

    for f in _check_mappings(triples, loaded, snapshot):
        f.files = locate(f.iri, [(URIRef(f.subject), None)] if f.subject else [])
        stats = report.vocabularies.get(f.vocabulary)
        if stats is not None:
            _count(stats, [f], iri_level=False)
        report.findings.append(f)
    return report


def _count(stats: VocabularyStats, found: list[Finding], iri_level: bool = True) -> None:
    errors = sum(1 for f in found if f.severity == ERROR)
    stats.errors += errors
    stats.warnings += len(found) - errors
    if iri_level and not found:
        stats.ok += 1


def _check_known(iri: str, vocabulary: str, snapshot: Snapshot, our_labels: list[str]) -> list[Finding]:
    name = vocabulary.removeprefix("authority/")
    deprecated = snapshot.deprecation(iri)
    if deprecated:
        return [Finding(ERROR, "deprecated", iri, f"deprecated in the {name} vocabulary ({deprecated})")]
    if not snapshot.is_concept(iri):
        if snapshot.is_scheme(iri):
            return []  # a concept scheme itself (e.g. the EuroVoc thesaurus) is a fine link target
        namespace = iri.rsplit("/", 1)[0] + "/"
        codes = snapshot.codes(namespace)
        if not codes and vocabulary.startswith("authority/"):
            message = f"no snapshot of the authority table '{name}', so the code cannot be checked"
        else:
            message = f"not a concept of the {name} snapshot (a wrong or deprecated code?)"
            # the label we stored says what was meant (GER "Germany" -> DEU); else codes that look alike
            close = snapshot.codes_labelled(namespace, our_labels)
            close += [c for c in difflib.get_close_matches(iri[len(namespace):], codes, n=3, cutoff=0.5)
                      if c not in close]
            if close:
                message += "; did you mean " + " or ".join(close[:3]) + "?"
        return [Finding(ERROR, "unknown-concept", iri, message)]
    preferred = snapshot.labels(iri)
    if not our_labels:
        return [Finding(WARNING, "no-label", iri,
                        f"no English label stored in our data (the vocabulary's is {_quote(preferred)})")]
    findings = []
    for label in our_labels:
        if label in preferred:
            continue
        alternative = label in snapshot.labels(iri, SKOS + "altLabel")
        kind = "an altLabel" if alternative else "not a label"
        findings.append(Finding(WARNING, "label-mismatch", iri,
                                f'our label "{label}" is {kind} of it; its prefLabel is {_quote(preferred)}'))
    return findings


def _check_celex(iri: str, uses: list[tuple[Identifier, Identifier]], triples: list[tuple]) -> list[Finding]:
    number = iri[len(CELEX):]
    if "%28" in number.upper() or "%29" in number.upper():
        message = f"percent-encoded parentheses: CELLAR writes ( and ) as they are: {CELEX}{unquote(number)}"
        return [Finding(ERROR, "celex-syntax", iri, message)]
    if not CELEX_RE.match(number):
        message = f"'{number}' is not a CELEX number (e.g. 32020H1202(01))"
        return [Finding(ERROR, "celex-syntax", iri, message)]
    return _disagreements(iri, number, uses, triples, str(VET.celex), "CELEX number")


def _check_doi(iri: str, uses: list[tuple[Identifier, Identifier]], triples: list[tuple]) -> list[Finding]:
    if iri.startswith(DOI_OTHER_FORMS):
        message = f"write DOI IRIs as {DOI_RESOLVER}10.xxxx/... (https, doi.org)"
        return [Finding(WARNING, "doi-form", iri, message)]
    doi = unquote(iri[len(DOI_RESOLVER):])
    if not DOI_RE.match(doi):
        return [Finding(ERROR, "doi-syntax", iri, f"'{doi}' is not a DOI (10.<registrant>/<suffix>)")]
    return _disagreements(iri, doi, uses, triples, str(VET.doi), "DOI")


def _disagreements(iri: str, value: str, uses: list[tuple[Identifier, Identifier]], triples: list[tuple],
                   prop: str, what: str) -> list[Finding]:
    """An identifier IRI must agree with the literal identifier the same resource states (if any)."""
    findings = []
    for subject in sorted({s for s, _ in uses}, key=str):
        stated = {str(o) for s, p, o in triples if s == subject and str(p) == prop}
        if stated and value not in stated:
            message = f"<{subject}> states {what} {', '.join(sorted(stated))}, but links to {value}"
            findings.append(Finding(ERROR, "identifier-mismatch", iri, message))
    return findings


def _check_mappings(triples: list[tuple], loaded: Loaded, snapshot: Snapshot) -> list[Finding]:
    concepts = _concepts_in_data(triples, loaded.ontology)

    def is_concept(term: Identifier) -> bool:
        return str(term) in concepts or snapshot.is_concept(str(term))

    def known(term: Identifier) -> bool:
        iri = str(term)
        return iri.startswith(BASE_IRI) or iri in snapshot.concept_files or snapshot.is_scheme(iri)

    findings: list[Finding] = []
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s, p, o in triples:
        prop = str(p)
        if prop == OWL + "sameAs" and (is_concept(s) or is_concept(o)):
            which = s if is_concept(s) else o
            message = (f"<{s}> owl:sameAs <{o}>: <{which}> is a SKOS concept; owl:sameAs would merge it with "
                       "the other resource (use a SKOS mapping property between concepts, schema:sameAs for "
                       "an identifier of a thing)")
            findings.append(Finding(ERROR, "sameas-concept", str(o), message, vocabulary_of(str(o))[0],
                                    subject=str(s)))
        if prop in MAPPING_PROPERTIES:
            pairs[(str(s), str(o))].add(prop)
            for end in (s, o):
                if known(end) and not is_concept(end):
                    message = (f"<{s}> {_short(prop)} <{o}>: <{end}> is not a SKOS concept (SKOS mapping "
                               "properties relate concepts; link things with schema:sameAs)")
                    findings.append(Finding(WARNING, "mapping-not-concept", str(o), message,
                                            vocabulary_of(str(o))[0], subject=str(s)))
    for (s, o), props in sorted(pairs.items()):
        clash = sorted(_short(p) for p in props if p in DISJOINT_WITH_EXACT)
        if SKOS + "exactMatch" in props and clash:
            message = (f"<{s}> is both skos:exactMatch and {', '.join(clash)} of it (SKOS: exactMatch is "
                       "disjoint with broad/narrow/relatedMatch)")
            findings.append(Finding(ERROR, "mapping-clash", o, message, vocabulary_of(o)[0], subject=s))
    identity = [(str(s), str(o)) for s, p, o in triples if str(p) in IDENTITY_PROPERTIES]
    identity += [(str(s), str(o)) for s, p, o in _quads(snapshot.graph) if str(p) in IDENTITY_PROPERTIES]
    findings += _merges(identity)
    return findings


def _concepts_in_data(triples: list[tuple], ontology: Graph | None) -> set[str]:
    """Resources typed skos:Concept, directly or through rdfs:subClassOf in the ontology or the data."""
    subclass = RDFS + "subClassOf"
    parents: dict[str, set[str]] = defaultdict(set)
    for s, p, o in list(triples) + (list(_quads(ontology)) if ontology is not None else []):
        if str(p) == subclass:
            parents[str(s)].add(str(o))
    concept_classes = {SKOS + "Concept"}
    changed = True
    while changed:
        changed = False
        for child, ups in parents.items():
            if child not in concept_classes and ups & concept_classes:
                concept_classes.add(child)
                changed = True
    return {str(s) for s, p, o in triples if str(p) == RDF_TYPE and str(o) in concept_classes}


def _merges(edges: list[tuple[str, str]]) -> list[Finding]:
    """Two vetgraph resources in one exactMatch/sameAs component would be merged into one: an error each."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        if a != b:
            neighbours[a].add(b)
            neighbours[b].add(a)
    seen: set[str] = set()
    findings = []
    for start in sorted(neighbours):
        if start in seen or not start.startswith(BASE_IRI):
            continue
        component, parent = _component(start, neighbours)
        seen |= component
        ours = sorted(n for n in component if n.startswith(BASE_IRI) and n != start)
        for other in ours:
            path = [other]
            while path[-1] != start:
                path.append(parent[path[-1]])
            chain = " = ".join(f"<{n}>" for n in reversed(path))
            message = f"skos:exactMatch/owl:sameAs chain merges two vetgraph resources: {chain}"
            findings.append(Finding(ERROR, "exactmatch-merge", other, message, "vetgraph", subject=start))
    return findings


def _component(start: str, neighbours: dict[str, set[str]]) -> tuple[set[str], dict[str, str]]:
    parent: dict[str, str] = {}
    component, queue = {start}, deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(neighbours[node]):
            if nxt not in component:
                component.add(nxt)
                parent[nxt] = node
                queue.append(nxt)
    return component, parent


def _our_labels(triples: Iterable[tuple]) -> dict[str, list[str]]:
    labels: dict[str, set[str]] = defaultdict(set)
    for s, p, o in triples:
        if str(p) in LABEL_PROPERTIES and _is_english(o) and is_external(s):
            labels[str(s)].add(str(o))
    return {iri: sorted(values) for iri, values in labels.items()}


class _Locator:
    """The data files (relative to the project) that mention an IRI, for findings that point to a file."""

    def __init__(self, loaded: Loaded):
        self.subject_files = loaded.subject_files

    def __call__(self, iri: str, uses: Sequence[tuple[Identifier, Identifier | None]]) -> list[str]:
        """The data files that state `iri` or the subjects of its `uses` (subject, predicate)."""
        from rdflib import URIRef

        paths: set[Path] = set(self.subject_files.get(URIRef(iri), set()))
        for s, _ in uses:
            paths |= self.subject_files.get(s, set()) if isinstance(s, URIRef) else set()
        return sorted(_relative(p) for p in paths)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _is_english(term: Node) -> bool:
    language = getattr(term, "language", None)
    return language is not None and (language.lower() == "en" or language.lower().startswith("en-"))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _quote(labels: list[str]) -> str:
    return " / ".join(f'"{label}"' for label in labels) if labels else "(none)"


_SHORT = {namespace: prefix + ":" for prefix, namespace in
          ns.prefixes("skos", "owl", "dct", "schema", "rdfs", "vet", "at", "euvoc", "adms", "foaf").items()}


def _short(iri: str) -> str:
    for namespace, prefix in _SHORT.items():
        if iri.startswith(namespace):
            return prefix + iri[len(namespace):]
    return f"<{iri}>"


# ------------------------------------------------------------------------------------------------------------
# Labels for `vetgraph build --with-labels`
# ------------------------------------------------------------------------------------------------------------


def label_triples(dataset: Any, vocab_dir: Path | str | None = None) -> Graph:
    """English labels of the EU concepts the data links to, from the snapshots, as triples to add to a dump.

    For every external IRI of `dataset` (an rdflib Dataset or Graph) that is a concept of a snapshot:
    skos:prefLabel@en and rdfs:label@en (for consumers that read only rdfs:label), skos:notation (the
    authority code, where the snapshot has one), skos:inScheme and the English label of each scheme. The
    skos:inScheme triples are also what the DCAT-AP controlled-vocabulary shapes look for.
    Raises VocabularyError (with a message saying how to point to the snapshots) if they cannot be read.
    """
    from rdflib import Graph, Literal, URIRef

    snapshot = load_snapshot(vocab_dir)
    out = Graph()
    out.bind("skos", SKOS)
    pref, label = URIRef(SKOS + "prefLabel"), URIRef(RDFS + "label")
    notation, in_scheme = URIRef(SKOS + "notation"), URIRef(SKOS + "inScheme")
    schemes: set[URIRef] = set()
    for iri in sorted(external_iris(dataset)):
        if not snapshot.is_concept(iri):
            continue
        node = URIRef(iri)
        for text in snapshot.labels(iri):
            out.add((node, pref, Literal(text, lang="en")))
            out.add((node, label, Literal(text, lang="en")))
        for code in snapshot.graph.objects(node, notation):
            out.add((node, notation, code))
        for scheme in snapshot.graph.objects(node, in_scheme):
            out.add((node, in_scheme, scheme))
            if isinstance(scheme, URIRef):
                schemes.add(scheme)
    for scheme in schemes:
        for text in snapshot.labels(str(scheme)):
            out.add((scheme, pref, Literal(text, lang="en")))
            out.add((scheme, label, Literal(text, lang="en")))
    return out


# ------------------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vocab", metavar="DIR", type=Path, default=None,
                        help="check against this vocabulary folder (*.ttl) or file instead of the project's own "
                             "snapshot (vetgraph/reference/links-snapshot.ttl)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default text)")
    parser.add_argument("--data", metavar="FILE", type=Path, action="append", default=None,
                        help="check these data files instead of the project's data/ folder (repeatable)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--online", action="store_true",
                      help="dereference every linked IRI on the web (EU vocabularies, CELEX, DOI) and report "
                           "what is gone, deprecated, replaced, relabelled or unreachable")
    mode.add_argument("--refresh", action="store_true",
                      help="rewrite the project's snapshot of its link targets, from the live vocabularies or "
                           "from --from DIR")
    mode.add_argument("--search", metavar="TEXT", default=None,
                      help="find the resources whose linked EU concepts have a label containing TEXT, in any "
                           "language of the project's snapshot (e.g. Niemcy, Berufsbildung)")
    parser.add_argument("--from", dest="source", metavar="DIR", type=Path, default=None,
                        help="with --refresh: read a local vocabulary folder (e.g. ../shared/vocab) instead of "
                             "the web")
    parser.add_argument("--date", metavar="YYYY-MM-DD", default=None,
                        help="with --refresh: the retrieval date written in the snapshot's header (required: "
                             "the committed file never takes the clock)")
    parser.add_argument("--output", metavar="FILE", type=Path, default=None,
                        help="with --refresh: where to write the snapshot (default the project's own)")
    from vetgraph.links_online import add_client_arguments

    add_client_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from vetgraph.loading import load_project

    if args.refresh:
        return _refresh(args)
    if args.search is not None:
        return _search(args)
    if args.source is not None or args.date is not None or args.output is not None:
        raise UsageError("--from, --date and --output go with --refresh")
    snapshot = load_snapshot(args.vocab)  # vetgraph.cli reports a VocabularyError (exit 2)
    loaded = load_project(data_files=args.data)  # vetgraph.cli reports what cannot be loaded
    if args.online:
        from vetgraph.links_online import check_online, client_options

        online = check_online(loaded, snapshot, client_options(args))
        if args.format == "json":
            sys.stdout.write(json.dumps(online.as_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(online.to_text())
        return online.exit_code
    report = check_links(loaded, snapshot)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return report.exit_code


def link_targets(dataset: Any) -> list[str]:
    """The external IRIs of the data that belong to a known EU vocabulary: what the snapshot keeps."""
    return sorted(iri for iri in external_iris(dataset) if vocabulary_of(iri)[1])


def _search(args: argparse.Namespace) -> int:
    from vetgraph.linked_search import search
    from vetgraph.loading import load_project

    rows = search(load_project(data_files=args.data).store(), args.search)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    for row in rows:
        print(f"<{row['resource']}>  {_short(row['property'])}  <{row['concept']}>  "
              f"\"{row['label']}\"@{row['language']}")
    matches = f"{len(rows)} match" + ("" if len(rows) == 1 else "es")
    print(f'{matches} for "{args.search}" in the labels of linked EU concepts (any language)')
    return EXIT_OK


def _refresh(args: argparse.Namespace) -> int:
    import datetime

    from vetgraph.loading import load_project
    from vetgraph.vocab_snapshot import SNAPSHOT_FILE, refresh_from_folder

    if args.date is None:
        raise UsageError("--refresh needs --date YYYY-MM-DD (the retrieval date for the snapshot's header)")
    try:
        datetime.date.fromisoformat(args.date)
    except ValueError:
        raise UsageError(f"--date {args.date}: not a date (YYYY-MM-DD)") from None
    targets = link_targets(load_project(data_files=args.data).dataset)
    if args.source is not None:
        text, missing = refresh_from_folder(args.source, targets, args.date)
    else:
        from vetgraph.links_online import client_options, refresh_online

        text, missing = refresh_online(targets, args.date, client_options(args))
    output = args.output or SNAPSHOT_FILE
    if missing:
        # a partial snapshot would silently drop concepts the data links to: keep the old one
        print(f"{output} left unchanged: {len(missing)} of {len(targets)} link targets could not be read")
        for line in missing:
            print(f"  {line}")
        return EXIT_ERRORS
    _write_atomically(output, text)
    print(f"wrote {output}: {len(targets)} link targets")
    return EXIT_OK


def _write_atomically(path: Path, text: str) -> None:
    """Never leave a half-written snapshot: write beside it, then rename."""
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise CannotRun(f"cannot write the snapshot {path}: {error.strerror or error}") from None
