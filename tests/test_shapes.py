"""Every SHACL shape of ontology/shapes.ttl has a fixture that breaks it, and validation reports exactly that.

Each file of tests/data/shapes/ other than base.trig is validated together with base.trig, a small, valid
and entirely fictitious report. The file's `# expect:` lines list every result that must come out, and nothing
else may:

    # expect: SEVERITY FOCUS PATH COMPONENT SHAPE ["message fragment"]

PATH is a CURIE, `a|b|...` for an sh:alternativePath, or `-` when the result has no path. SHAPE names
where the constraint lives: the node shape for its own constraints (anonymous property shapes, SPARQL
constraints), or `NodeShape/PropertyShape` for a named property shape reached from that node shape (SHACL
reports only the property shape; the node shape is derived from which shapes target the focus node). The
optional quoted fragment must occur in the result message; it tells apart the SPARQL constraints of one node
shape. `# expect: nothing` marks a positive control.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Graph, Namespace, URIRef
from rdflib import namespace as rdflib_ns
from rdflib.collection import Collection
from rdflib.term import Node

from tests.helpers.shared import FIXTURES
from vetgraph.config import ID_BASE, SHAPES_IRI, VET_NS, Paths
from vetgraph.loading import Loaded, load_data, load_graph, load_project
from vetgraph.validation import ValidationOutcome, validate

SHAPES_FIXTURES = FIXTURES / "shapes"
BASE = SHAPES_FIXTURES / "base.trig"
CASES = sorted(p for p in SHAPES_FIXTURES.iterdir() if p.suffix in (".ttl", ".trig") and p != BASE)
TEST_IRI_BASE = ID_BASE + "test/"

SH = Namespace("http://www.w3.org/ns/shacl#")
# Reused vocabularies by their rdflib name; the closed namespaces themselves stay out of module globals,
# because pytest's collection probes module attributes and they warn about every unknown name.
REUSED = {"rdfs": "RDFS", "dct": "DCTERMS", "skos": "SKOS", "org": "ORG", "foaf": "FOAF", "prov": "PROV"}
REUSED |= {"schema": "SDO", "dcat": "DCAT"}
PREFIXES = {
    "sh": str(SH),
    "vsh": SHAPES_IRI + "#",
    "vet": VET_NS,
    "test": TEST_IRI_BASE,
    **{prefix: str(getattr(rdflib_ns, name)) for prefix, name in REUSED.items()},
}
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}

Path_ = tuple[URIRef, ...]  # one predicate, or the members of an sh:alternativePath


@dataclass(frozen=True)
class Result:
    """One validation result, in the terms the fixture headers use."""

    severity: str
    focus: Node
    path: Path_ | None
    component: URIRef
    node_shape: URIRef
    property_shape: URIRef | None

    def __str__(self) -> str:
        path = "|".join(_curie(p) for p in self.path) if self.path else "-"
        shape = _curie(self.node_shape) + (f"/{_curie(self.property_shape)}" if self.property_shape else "")
        return f"{self.severity} {_curie(self.focus)} {path} {_curie(self.component)} {shape}"


@dataclass(frozen=True)
class Expected:
    result: Result
    fragment: str | None


def _expand(token: str) -> URIRef:
    if token.startswith(("http://", "https://")):
        return URIRef(token)
    prefix, _, local = token.partition(":")
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix in {token!r} (known: {', '.join(PREFIXES)})")
    return URIRef(PREFIXES[prefix] + local)


def _curie(node: Node) -> str:
    for prefix, namespace in PREFIXES.items():
        if isinstance(node, URIRef) and node.startswith(namespace) and len(node) > len(namespace):
            return f"{prefix}:{node[len(namespace) :]}"
    return str(node)


def parse_expectations(path: Path) -> list[Expected]:
    """The `# expect:` lines of a fixture; a fixture without any is a mistake, `# expect: nothing` is not."""
    expected: list[Expected] = []
    saw_nothing = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("# expect:"):
            continue
        words = shlex.split(line[len("# expect:") :])
        if words == ["nothing"]:
            saw_nothing = True
            continue
        if len(words) not in (5, 6):
            raise ValueError(
                f'{path.name}:{number}: expected SEVERITY FOCUS PATH COMPONENT SHAPE ["fragment"]'
            )
        severity, focus, path_token, component, shape = words[:5]
        node_shape, _, property_shape = shape.partition("/")
        result = Result(
            severity=severity,
            focus=_expand(focus),
            path=None if path_token == "-" else tuple(_expand(p) for p in path_token.split("|")),
            component=_expand(component),
            node_shape=_expand(node_shape),
            property_shape=_expand(property_shape) if property_shape else None,
        )
        expected.append(Expected(result, words[5] if len(words) == 6 else None))
    if not expected and not saw_nothing:
        raise ValueError(f"{path.name}: no '# expect:' line (write '# expect: nothing' for a valid fixture)")
    if expected and saw_nothing:
        raise ValueError(f"{path.name}: '# expect: nothing' together with expected results")
    return expected


@functools.cache
def run(*files: Path) -> tuple[Loaded, ValidationOutcome]:
    """Validate these data files (cached: the coverage test reuses the runs of the fixture tests)."""
    project = project_graphs()
    dataset, subject_files = load_data(files)
    loaded = Loaded(dataset, project.ontology, project.shapes, subject_files, list(files))
    return loaded, validate(loaded)


@functools.cache
def project_graphs() -> Loaded:
    """The project's ontology and shapes, parsed once (validation does not modify them)."""
    return load_project(Paths(), data_files=[])


def _targets(shapes: Graph, data: Graph, node_shape: Node, focus: Node) -> bool:
    """Whether `node_shape` targets `focus` in the validated data (class targets follow rdfs:subClassOf)."""
    for cls in shapes.objects(node_shape, SH.targetClass):
        for focus_type in data.objects(focus, RDF.type):
            if cls in set(data.transitive_objects(focus_type, RDFS.subClassOf)):
                return True
    if any((focus, p, None) in data for p in shapes.objects(node_shape, SH.targetSubjectsOf)):
        return True
    if any((None, p, focus) in data for p in shapes.objects(node_shape, SH.targetObjectsOf)):
        return True
    return focus in set(shapes.objects(node_shape, SH.targetNode))


def _result_path(report: Graph, path_node: Node | None) -> Path_ | None:
    if path_node is None:
        return None
    if isinstance(path_node, URIRef):
        return (path_node,)
    alternatives = report.value(path_node, SH.alternativePath)
    assert alternatives is not None, "a complex path other than sh:alternativePath in the report"
    return tuple(Collection(report, alternatives))  # type: ignore[arg-type]


def _shape_of(shapes: Graph, data: Graph, source_shape: Node, focus: Node) -> tuple[URIRef, URIRef | None]:
    """(node shape, named property shape or None) for a result's sh:sourceShape."""
    if isinstance(source_shape, BNode):  # an anonymous property shape: its owner is the node shape
        owners = list(shapes.subjects(SH.property, source_shape))
        assert len(owners) == 1, f"anonymous shape with {len(owners)} owners"
        return owners[0], None  # type: ignore[return-value]
    if (source_shape, RDF.type, SH.NodeShape) in shapes:  # e.g. a SPARQL constraint of the node shape
        return source_shape, None  # type: ignore[return-value]
    owners = [n for n in shapes.subjects(SH.property, source_shape) if _targets(shapes, data, n, focus)]
    assert len(owners) == 1, f"{_curie(source_shape)} reaches {focus} through {owners}: ambiguous"
    return owners[0], source_shape  # type: ignore[return-value]


def actual_results(loaded: Loaded, outcome: ValidationOutcome) -> list[tuple[Result, str]]:
    """(result, message) for every result of the sh:ValidationReport."""
    report = outcome.report_graph
    data = loaded.union() + loaded.ontology  # what pySHACL validated: the data mixed with the ontology
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(node, SH.focusNode)
        source_shape = report.value(node, SH.sourceShape)
        assert focus is not None and source_shape is not None  # every SHACL result names both
        node_shape, property_shape = _shape_of(loaded.shapes, data, source_shape, focus)
        result = Result(
            severity=SEVERITIES[report.value(node, SH.resultSeverity)],  # type: ignore[index]
            focus=focus,
            path=_result_path(report, report.value(node, SH.resultPath)),
            component=report.value(node, SH.sourceConstraintComponent),  # type: ignore[arg-type]
            node_shape=node_shape,
            property_shape=property_shape,
        )
        results.append((result, str(report.value(node, SH.resultMessage) or "")))
    return results


def test_base_alone_gives_no_result() -> None:
    loaded, outcome = run(BASE)
    assert [str(r) for r, _ in actual_results(loaded, outcome)] == []
    assert outcome.conforms and outcome.warnings == 0


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_fixture_gives_exactly_its_expected_results(case: Path) -> None:
    expected = parse_expectations(case)
    loaded, outcome = run(BASE, case)
    unmatched = actual_results(loaded, outcome)
    missing = []
    for item in expected:
        match = next(
            (
                a
                for a in unmatched
                if a[0] == item.result and (item.fragment is None or item.fragment in a[1])
            ),
            None,
        )
        if match is None:
            missing.append(f"{item.result}" + (f' "{item.fragment}"' if item.fragment else ""))
        else:
            unmatched.remove(match)
    unexpected = [f'{r} "{message}"' for r, message in unmatched]
    assert not missing and not unexpected, f"\nmissing: {missing}\nunexpected: {unexpected}"
    # The readable findings agree with the standard report.
    severities = Counter(e.result.severity for e in expected)
    assert (outcome.violations, outcome.warnings) == (severities["Violation"], severities["Warning"])
    assert outcome.conforms == (severities["Violation"] == 0)


def test_fixtures_cover_every_named_shape() -> None:
    """A shape added to shapes.ttl without a fixture that violates it fails here."""
    shapes = load_graph(Paths().shapes_file)
    named = {
        s
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in shapes.subjects(RDF.type, kind)
        if isinstance(s, URIRef)
    }
    covered: set[URIRef] = set()
    for case in CASES:
        for item in parse_expectations(case):
            covered.add(item.result.node_shape)
            if item.result.property_shape is not None:
                covered.add(item.result.property_shape)
    assert named, "no named shape found in shapes.ttl"
    assert sorted(_curie(s) for s in named - covered) == []
    assert sorted(_curie(s) for s in covered - named) == [], "fixtures name shapes that shapes.ttl lacks"


def _message_pattern(template: str) -> re.Pattern[str]:
    """A regex for the messages an sh:message template with {?var} placeholders produces."""
    return re.compile(".+?".join(re.escape(part) for part in re.split(r"\{\?\w+\}", template)))


def test_fixtures_cover_every_sparql_constraint() -> None:
    """Each SPARQL constraint (numbering, declared counts, completeness) is triggered by at least one fixture.

    pySHACL copies the constraint into the report under a new blank node, so a result is traced back to its
    constraint by its message, which instantiates the constraint's sh:message template."""
    loaded, _ = run(BASE)
    templates = {
        c: (node_shape, _message_pattern(str(loaded.shapes.value(c, SH.message))))
        for node_shape, c in loaded.shapes.subject_objects(SH.sparql)
    }
    messages = [
        (result.node_shape, message)
        for case in CASES
        for result, message in actual_results(*run(BASE, case))
        if result.component == SH.SPARQLConstraintComponent
    ]
    untriggered = [
        f"{_curie(node_shape)}: {pattern.pattern}"
        for node_shape, pattern in templates.values()
        if not any(shape == node_shape and pattern.fullmatch(message) for shape, message in messages)
    ]
    assert templates and untriggered == []


def test_fixtures_use_only_fictitious_iris() -> None:
    """Fixtures never look like facts about the real report: every vetgraph instance IRI is under id/test/."""
    offending = {}
    for case in [BASE, *CASES]:
        graph = load_graph(case)
        iris = {t for triple in graph for t in triple if isinstance(t, URIRef)}
        bad = sorted(i for i in iris if i.startswith(ID_BASE) and not i.startswith(TEST_IRI_BASE))
        if bad:
            offending[case.name] = bad
    assert offending == {}


def test_expectation_parser_rejects_a_fixture_without_expectations(tmp_path: Path) -> None:
    """So that a fixture without its header cannot pass by expecting nothing."""
    silent = tmp_path / "silent.ttl"
    silent.write_text("<https://example.org/a> <https://example.org/b> <https://example.org/c> .\n")
    with pytest.raises(ValueError, match="no '# expect:' line"):
        parse_expectations(silent)
