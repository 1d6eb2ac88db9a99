"""What a release needs of the data beyond the SHACL shapes, checked when the data are validated.

Data that conform to the shapes must also go into every dump of `vetgraph build`. Three things can stop
that, and SHACL cannot see them, so they are checked here and reported as Violations of the validation
report, naming the statement and the data file (with its line where the file shows it):

- a predicate whose IRI cannot be written in RDF/XML (it must end in an XML name, e.g. `.../p/1` does not);
- a literal holding a character that XML 1.0 cannot carry (NUL and most other control characters);
- a typed literal whose lexical form is not one of its datatype (`"twenty"^^xsd:gYear`, `"2020-13"^^xsd:gYearMonth`).

Lexical forms are checked by Oxigraph's XSD casts (its `oxsdatatypes`, the same code that reads them in
queries) for the XSD types it implements, and by rdflib's own conversion (`Literal.ill_typed`) for the other
types rdflib knows (e.g. xsd:nonNegativeInteger).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from vetgraph.config import PROJECT_ROOT
from vetgraph.loading import Loaded, line_of_literal
from vetgraph.namespaces import RDF, SH, XSD

XSD_NS = str(XSD)
#: The "shape" the results of these checks come from, and their constraint components.
RELEASE_CHECK = URIRef("urn:vetgraph:check:release")
RDFXML_PREDICATE = URIRef("urn:vetgraph:check:rdfxml-predicate")
XML_CHARACTER = URIRef("urn:vetgraph:check:xml-character")
LEXICAL_FORM = URIRef("urn:vetgraph:check:lexical-form")

#: XSD types whose lexical forms Oxigraph's casts check (xsd:gMonthDay is left to rdflib: Oxigraph refuses
#: the valid "--02-29").
OXIGRAPH_CASTS = frozenset(
    XSD_NS + name for name in (
        "boolean", "double", "float", "decimal", "integer", "dateTime", "date", "time", "gYear", "gYearMonth",
        "gMonth", "gDay", "duration", "yearMonthDuration", "dayTimeDuration",
    )
)
#: Characters outside the XML 1.0 `Char` production (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Problem:
    """One statement the release cannot carry."""

    subject: Node
    predicate: Node
    value: Node
    component: URIRef
    message: str


def check_release(loaded: Loaded, report: Graph) -> dict[Node, str]:
    """Add a Violation to the SHACL `report` for every statement the release cannot carry; return, for each
    added result, where it is (`file:line`) when the data file shows it."""
    problems = list(find_problems(loaded.dataset))
    if not problems:
        return {}
    located: dict[Node, str] = {}
    reports = list(report.subjects(RDF.type, SH.ValidationReport))
    for problem in problems:
        result = BNode()
        for node in reports:
            report.add((node, SH.result, result))
        report.add((result, RDF.type, SH.ValidationResult))
        report.add((result, SH.focusNode, problem.subject))
        report.add((result, SH.resultPath, problem.predicate))
        report.add((result, SH.value, problem.value))
        report.add((result, SH.resultSeverity, SH.Violation))
        report.add((result, SH.sourceConstraintComponent, problem.component))
        report.add((result, SH.sourceShape, RELEASE_CHECK))
        report.add((result, SH.resultMessage, Literal(problem.message)))
        where = _where(loaded, problem)
        if where:
            located[result] = where
    for node in reports:
        report.set((node, SH.conforms, Literal(False)))
    return located


def find_problems(dataset: Dataset) -> Iterator[Problem]:
    """The statements of `dataset` (any graph) that no release can carry, each once, in a stable order."""
    # One pass collects what to check; a second pass, only when something is wrong, finds the statements.
    predicates: set[Node] = set()
    typed: set[tuple[str, str]] = set()
    bad_characters: dict[Literal, str] = {}  # literal -> the first character XML cannot carry
    ill_typed: set[tuple[str, str]] = set()
    for _, p, o, _ in dataset.quads((None, None, None, None)):
        predicates.add(p)
        if isinstance(o, Literal):
            bad = _NOT_XML.search(str(o))
            if bad:
                bad_characters[o] = bad.group()
            elif o.datatype is not None:
                typed.add((str(o), str(o.datatype)))
                # rdflib's own verdict, computed when the literal was made, for the types Oxigraph does not cast
                # (rdflib's converters can be replaced globally, e.g. by OWL-RL: Oxigraph decides where it can).
                if o.ill_typed and str(o.datatype) not in OXIGRAPH_CASTS:
                    ill_typed.add((str(o), str(o.datatype)))
    bad_predicates = {p for p in predicates if not _rdfxml_writable(p)}
    bad_lexical = ill_typed | _ill_typed(typed)
    if not (bad_predicates or bad_lexical or bad_characters):
        return
    found: dict[tuple, Problem] = {}
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        if (s, p, o) in found:
            continue
        if p in bad_predicates:
            found[s, p, o] = Problem(
                s, p, o, RDFXML_PREDICATE,
                f"the predicate <{p}> cannot be written in RDF/XML (the release's vetgraph.rdf): its IRI must "
                "end in an XML name (a letter or '_' first), e.g. .../p/n1, not .../p/1",
            )
        elif isinstance(o, Literal) and o in bad_characters:
            found[s, p, o] = Problem(
                s, p, o, XML_CHARACTER,
                f"the literal holds the character U+{ord(bad_characters[o]):04X}, which XML 1.0 (the release's RDF/XML "
                "dump) cannot carry: remove it",
            )
        elif isinstance(o, Literal) and o.datatype is not None and (str(o), str(o.datatype)) in bad_lexical:
            found[s, p, o] = Problem(s, p, o, LEXICAL_FORM, f'"{o}" is not a valid {_short(o.datatype)}')
    yield from sorted(found.values(), key=lambda x: (str(x.subject), str(x.predicate), str(x.value)))


def _rdfxml_writable(predicate: Node) -> bool:
    """Whether Oxigraph's RDF/XML writer (the one the build uses) gives well-formed XML for this predicate."""
    from vetgraph.dumps import _well_formed_xml  # the same check the build applies to its RDF/XML dump

    triple = ox.Triple(ox.NamedNode("urn:vetgraph:check"), ox.NamedNode(str(predicate)), ox.Literal("x"))
    try:
        _well_formed_xml(ox.serialize([triple], format=ox.RdfFormat.RDF_XML) or b"")
    except Exception:  # noqa: BLE001 - expat's ExpatError or the writer's own refusal: not writable either way
        return False
    return True


def _ill_typed(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (lexical form, datatype) pairs whose lexical form is not in the datatype's lexical space."""
    bad: set[tuple[str, str]] = set()
    by_type: dict[str, list[str]] = {}
    for lexical, datatype in pairs:
        if datatype in OXIGRAPH_CASTS:
            by_type.setdefault(datatype, []).append(lexical)
    store = ox.Store()
    for datatype, lexicals in by_type.items():
        values = " ".join(str(ox.Literal(lexical)) for lexical in lexicals)
        query = f"SELECT ?o WHERE {{ VALUES ?o {{ {values} }} BIND(<{datatype}>(?o) AS ?cast) FILTER(!BOUND(?cast)) }}"
        solutions = store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)  # a SELECT query
        bad.update((solution["o"].value, datatype) for solution in solutions)
    return bad


def _short(datatype: URIRef) -> str:
    text = str(datatype)
    return "xsd:" + text[len(XSD_NS):] if text.startswith(XSD_NS) else f"<{text}>"


def _where(loaded: Loaded, problem: Problem) -> str | None:
    """`file:line` of a problem in the Turtle-family files that describe its subject, where one shows it:
    the predicate's `<IRI>`, or the literal as written (raw, or with N-Triples escapes such as `\\u0000`)."""
    if not isinstance(problem.subject, URIRef):
        return None  # the files are known per subject IRI
    for path in sorted(loaded.subject_files.get(problem.subject, set())):
        if path.suffix not in (".ttl", ".trig", ".nt", ".nq"):
            continue
        if problem.component == RDFXML_PREDICATE:
            line = _line_of_text(path, f"<{problem.predicate}>")
        elif isinstance(problem.value, Literal):
            lexical = str(problem.value)
            escaped = str(ox.Literal(lexical))[1:-1]
            typed = problem.component == LEXICAL_FORM
            line = line_of_literal(path, lexical, typed) or line_of_literal(path, escaped, typed)
        else:
            line = None
        if line is not None:
            return f"{_relative(path)}:{line}"
    return None


def _line_of_text(path: Path, text: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if text in line and not line.lstrip().startswith("#"):
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        return path
