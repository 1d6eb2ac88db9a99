"""`vetgraph validate`: the data against the SHACL shapes, with pySHACL.

The readable report names severity, focus node (with its label), path, message and the data file that
describes the focus node. Exit codes follow pySHACL: 0 conforms (warnings allowed), 1 violations, 2 error.

This module is the package's public face (`validate`, the readable report, the command and its options);
`partitioned` runs pySHACL on large graphs in parallel, from the modules beside it (see its docstring).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Identifier, Node

from vetgraph.config import PROJECT_ROOT, Paths
from vetgraph.loading import Loaded, load_project
from vetgraph.namespaces import RDF, RDFS, SH

SEVERITIES: dict[Node | None, str] = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
#: How pySHACL runs: no inference (the data state their types), SHACL-AF (sh:expression), and warnings
#: do not break conformance (completeness gaps are warnings).
PYSHACL_OPTIONS: dict[str, Any] = {"inference": "none", "advanced": True, "allow_warnings": True}


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


def violations_text(outcome: ValidationOutcome, loaded: Loaded, limit: int | None = None) -> str:
    """The violations of an outcome as `vetgraph validate` prints them (the first `limit`), for the commands
    that refuse to go on with data that do not conform (build, serve, publish)."""
    shown = [f for f in outcome.results if f.severity == "Violation"][:limit]
    text = format_text(ValidationOutcome(shown, outcome.report_graph), loaded.dataset.namespace_manager)
    return text.rsplit("\n", 1)[0]  # without the summary line, which would count only the shown ones


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def validate(loaded: Loaded, jobs: int | None = None, cache_dir: Path | None = None,
             progress: Callable[[int, int], None] | None = None) -> ValidationOutcome:
    """Validate the loaded project's data (all named graphs together) against its shapes: pySHACL on
    partitions of the focus nodes in `jobs` processes (default: the usable cores; results equal to one
    pySHACL run, see vetgraph.validation.partitioned), or one plain pySHACL run on data too small for
    partitioning to pay. With `cache_dir`, unchanged partitions keep their results. `progress(done, total)`
    hears of each validated partition."""
    from vetgraph.validation.partitioned import validate_partitioned

    _conforms, report_graph = validate_partitioned(
        loaded.dataset, loaded.shapes, loaded.ontology, jobs=jobs, cache_dir=cache_dir, progress=progress,
        **PYSHACL_OPTIONS
    )
    from vetgraph.release_checks import check_release  # what the release needs and SHACL cannot see

    located = check_release(loaded, report_graph)
    return ValidationOutcome(results=_findings(report_graph, loaded, located), report_graph=report_graph)


def _findings(report: Graph, loaded: Loaded, located: dict | None = None) -> list[Finding]:
    data = loaded.dataset
    namespaces = data.namespace_manager
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path_node = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        labels = data.quads((focus, RDFS.label, None, None)) if focus is not None else iter(())
        label = next((o for _, _, o, _ in labels), None)
        described_in = loaded.subject_files.get(focus, set()) if isinstance(focus, URIRef) else set()
        files = sorted(str(_relative(p)) for p in described_in)
        message = report.value(result, SH.resultMessage)
        component = report.value(result, SH.sourceConstraintComponent)
        findings.append(
            Finding(
                severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
                focus=focus,  # type: ignore[arg-type]
                focus_label=str(label) if label is not None else None,
                path=render_path(path_node, report, namespaces) if path_node is not None else None,
                message=str(message) if message is not None else _n3(component, namespaces),
                component=_n3(component, namespaces) if component is not None else "",
                value=_n3(value, namespaces) if value is not None and value != focus else None,
                files=files,
                # a release check knows its line; a curated row points back to its cell
                location=(located or {}).get(result) or loaded.locate(focus, path_node),
                path_iri=render_path(path_node, report, None) if path_node is not None else None,
                component_iri=str(component) if component is not None else "",
                value_nt=value.n3() if isinstance(value, (URIRef, Literal)) and value != focus else None,
            )
        )
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    findings.sort(key=lambda f: (order[f.severity], str(f.focus), f.path or "", f.message))
    return findings


def _n3(node: Node | None, namespaces) -> str:
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_validation_arguments(parser: argparse.ArgumentParser) -> None:
    """--jobs and --cache, the same for every command that validates (validate, build, serve, publish)."""
    from vetgraph.cli import folder

    parser.add_argument(
        "--jobs", type=_positive, default=None, metavar="N",
        help="validate partitions of the focus nodes in N processes (default: the usable cores)",
    )
    parser.add_argument(
        "--cache", type=folder, default=None, metavar="DIR",
        help="keep each partition's validation results in DIR and reuse them while the partition is unchanged",
    )


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
    add_validation_arguments(parser)
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the summary line")


def run(args: argparse.Namespace) -> int:
    from vetgraph.progress import activated

    with activated(not args.quiet, steps=2):  # progress on stderr; the report below goes to stdout
        loaded = load_project(Paths(), data_files=args.data)  # vetgraph.cli reports what cannot be loaded
        from vetgraph.cli import validated_outcome

        outcome = validated_outcome(loaded, jobs=args.jobs, cache=args.cache)
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
