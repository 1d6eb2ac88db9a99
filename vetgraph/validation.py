"""`vetgraph validate`: the data against the SHACL shapes, with pySHACL.

The readable report names severity, focus node (with its label), path, message and the data file that
describes the focus node. Exit codes follow pySHACL: 0 conforms (warnings allowed), 1 violations, 2 error.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Identifier, Node

from vetgraph.config import PROJECT_ROOT, Paths
from vetgraph.loading import Loaded, LoadError, load_project

SH = Namespace("http://www.w3.org/ns/shacl#")
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass
class Finding:
    """One SHACL validation result, made readable."""

    severity: str
    focus: Identifier
    focus_label: str | None
    path: str | None
    message: str
    component: str
    value: str | None = None
    files: list[str] = field(default_factory=list)
    location: str | None = None  # e.g. "lighthouse-projects.csv:7: column country" for curated rows
    #: the same path, component and value with full IRIs (no prefixes), for machine consumers
    path_iri: str | None = None
    component_iri: str = ""
    value_nt: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "focusNode": str(self.focus),
            "focusLabel": self.focus_label,
            "path": self.path_iri,
            "value": self.value_nt,
            "message": self.message,
            "constraintComponent": self.component_iri,
            "files": self.files,
            "location": self.location,
        }


@dataclass
class ValidationOutcome:
    """The result of validating the project: counts, readable findings and the standard report graph."""

    results: list[Finding]
    report_graph: Graph

    @property
    def violations(self) -> int:
        return sum(1 for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.results if r.severity == "Warning")

    @property
    def conforms(self) -> bool:
        """True when there is no Violation; completeness Warnings do not make the data invalid."""
        return self.violations == 0

    def summary(self) -> str:
        return f"{_plural(self.violations, 'violation')}, {_plural(self.warnings, 'warning')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@contextmanager
def parsed_queries_cached() -> Iterator[None]:
    """Parse each SPARQL constraint once instead of once per focus node.

    pySHACL hands rdflib the text of a SPARQL constraint for every focus node and rdflib parses it every
    time: two thirds of the validation time of the real data, and more at scale. A translated query is
    reusable by design (what rdflib's prepareQuery returns), so caching the translation changes nothing
    but speed. The patch is undone when validation ends."""
    from rdflib.plugins.sparql import processor

    @functools.lru_cache(maxsize=256)
    def translate(text: str, base: str | None, namespaces: tuple[tuple[str, str], ...]):
        return processor.translateQuery(processor.parseQuery(text), base, dict(namespaces))

    original = processor.SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = translate(strOrQuery, base, tuple(sorted((initNs or {}).items())))  # noqa: N806
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original  # type: ignore[method-assign]


def run_pyshacl(data: Graph, shapes: Graph, ontology: Graph) -> Graph:
    """pySHACL over one data graph; returns the sh:ValidationReport graph."""
    from pyshacl import validate as shacl_validate

    with parsed_queries_cached():
        _conforms, report_graph, _text = shacl_validate(
            data,
            shacl_graph=shapes,
            ont_graph=ontology,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
    return report_graph


def validate(loaded: Loaded, jobs: int | None = None) -> ValidationOutcome:
    """Validate the loaded project's data (all named graphs together) against its shapes."""
    data = loaded.union()
    if jobs and jobs > 1:
        from vetgraph.parallel_validation import validate_partitioned

        # Same pySHACL options as run_pyshacl; validate_partitioned returns (conforms, report graph).
        _conforms, report_graph = validate_partitioned(
            data, loaded.shapes, loaded.ontology, jobs=jobs, inference="none", advanced=True, allow_warnings=True
        )
    else:
        report_graph = run_pyshacl(data, loaded.shapes, loaded.ontology)
    return ValidationOutcome(results=_findings(report_graph, data, loaded), report_graph=report_graph)


def _findings(report: Graph, data: Graph, loaded: Loaded) -> list[Finding]:
    from vetgraph.curation import locate  # curated resources point back to their spreadsheet row

    namespaces = data.namespace_manager
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path_node = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        label = data.value(focus, RDFS.label) if focus is not None else None
        files = sorted(
            str(_relative(p))
            for p in loaded.subject_files.get(focus, set())  # type: ignore[arg-type]
        )
        message = report.value(result, SH.resultMessage)
        component = report.value(result, SH.sourceConstraintComponent)
        findings.append(
            Finding(
                severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),  # type: ignore[arg-type]
                focus=focus,  # type: ignore[arg-type]
                focus_label=str(label) if label is not None else None,
                path=render_path(path_node, report, namespaces) if path_node is not None else None,
                message=str(message) if message is not None else _n3(component, namespaces),
                component=_n3(component, namespaces) if component is not None else "",
                value=_n3(value, namespaces) if value is not None and value != focus else None,
                files=files,
                location=locate(focus, path_node),
                path_iri=render_path(path_node, report, None) if path_node is not None else None,
                component_iri=str(component) if component is not None else "",
                value_nt=value.n3() if isinstance(value, (URIRef, Literal)) and value != focus else None,
            )
        )
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    findings.sort(key=lambda f: (order[f.severity], str(f.focus), f.path or "", f.message))
    return findings


def _n3(node: Node, namespaces) -> str:
    if isinstance(node, Literal):
        return node.n3()
    if isinstance(node, URIRef):
        return node.n3(namespaces) if namespaces is not None else str(node)
    return str(node)


def render_path(node: Node, graph: Graph, namespaces) -> str:
    """A SHACL property path in SPARQL property-path syntax, e.g. `(dct:date|dct:issued)` or `^org:member`."""
    if isinstance(node, URIRef):
        return _n3(node, namespaces)
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(render_path(n, graph, namespaces) for n in Collection(graph, alternatives)) + ")"
    inverse = graph.value(node, SH.inversePath)
    if inverse is not None:
        return "^" + render_path(inverse, graph, namespaces)
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(node, predicate)
        if inner is not None:
            return render_path(inner, graph, namespaces) + suffix
    if (node, RDF.first, None) in graph:
        return "/".join(render_path(n, graph, namespaces) for n in Collection(graph, node))
    return str(node)


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        return path


# --- output ---------------------------------------------------------------------------------------


def format_text(outcome: ValidationOutcome, namespaces) -> str:
    lines = []
    for f in outcome.results:
        focus = URIRef(f.focus).n3(namespaces) if isinstance(f.focus, URIRef) else str(f.focus)
        head = f"{f.severity}: {focus}"
        if f.focus_label:
            head += f' "{f.focus_label}"'
        if f.path:
            head += f" {f.path}"
        lines.append(head)
        lines.append(f"  {f.message}")
        if f.value is not None:
            lines.append(f"  value: {f.value}")
        if f.location:
            lines.append(f"  at {f.location}")
        elif f.files:
            lines.append(f"  in {', '.join(f.files)}")
    lines.append(outcome.summary())
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["text", "turtle", "json"],
        default="text",
        help="text (readable), turtle (the standard sh:ValidationReport) or json",
    )
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        metavar="FILE",
        help="validate these data files instead of data/ (repeatable)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="validate partitions in N parallel processes (large graphs)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary line")


def run(args: argparse.Namespace) -> int:
    from vetgraph.curation import CurationError

    try:
        loaded = load_project(Paths(), data_files=args.data)
    except CurationError as error:  # curated spreadsheet rows a curator can fix (a LoadError too)
        print(str(error), file=sys.stderr)
        return 1
    except LoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outcome = validate(loaded, jobs=args.jobs)
    if args.format == "turtle":
        sys.stdout.write(outcome.report_graph.serialize(format="turtle"))
    elif args.format == "json":
        payload = {
            "conforms": outcome.conforms,
            "violations": outcome.violations,
            "warnings": outcome.warnings,
            "results": [f.as_dict() for f in outcome.results],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif args.quiet:
        print(outcome.summary())
    else:
        print(format_text(outcome, loaded.dataset.namespace_manager))
        from vetgraph.stats import compute_stats, format_summary

        print(format_summary(compute_stats(loaded)))
    return 0 if outcome.conforms else 1
