"""`vetgraph stats`: what the graph holds, how much of it is confirmed, and how complete it is
against the counts the report itself declares."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field

from rdflib import URIRef

from vetgraph.completeness import Aspect
from vetgraph.completeness import completeness as reports_completeness
from vetgraph.config import UNCONFIRMED_GRAPH, Paths
from vetgraph.loading import Loaded, load_project

_REPORTS = """PREFIX vet: <https://w3id.org/vetgraph/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?report (SAMPLE(?name) AS ?label) WHERE {
  ?report a vet:Report ; vet:declaredInsightCount|vet:declaredViewpointCount
                         |vet:declaredLighthouseProjectCount ?count .
  OPTIONAL { ?report rdfs:label ?name }
} GROUP BY ?report ORDER BY ?report"""  # the reports that declare what they hold
_CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE { ?s a ?class } GROUP BY ?class"
_SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?subjects) WHERE { ?s ?p ?o }"


@dataclass
class ReportCompleteness:
    report: str
    label: str
    #: the rows of the completeness query (vetgraph.completeness), the one definition of completeness
    aspects: list[Aspect] = field(default_factory=list)


@dataclass
class Stats:
    triples: int
    confirmed_statements: int
    unconfirmed_statements: int
    subjects: int
    classes: dict[str, int] = field(default_factory=dict)
    completeness: list[ReportCompleteness] = field(default_factory=list)


def compute_stats(loaded: Loaded) -> Stats:
    dataset = loaded.dataset
    unconfirmed = len(dataset.graph(URIRef(UNCONFIRMED_GRAPH)))
    total = len(dataset)
    store = loaded.store()  # counting is the store's job (the union default graph)
    namespaces = dataset.namespace_manager
    classes: dict[str, int] = {}
    for row in store.query(_CLASSES).as_dicts():
        cls = row["class"]
        classes[cls.n3(namespaces) if isinstance(cls, URIRef) else str(cls)] = int(row["instances"])
    subjects = int(store.query(_SUBJECTS).as_dicts()[0]["subjects"])
    completeness = [
        ReportCompleteness(str(row["report"]), str(row.get("label") or row["report"]),
                           reports_completeness(store, row["report"]))
        for row in store.query(_REPORTS).as_dicts()
    ]
    return Stats(
        triples=total,
        confirmed_statements=total - unconfirmed,
        unconfirmed_statements=unconfirmed,
        subjects=subjects,
        classes=dict(sorted(classes.items(), key=lambda item: (-item[1], item[0]))),
        completeness=completeness,
    )


def format_summary(stats: Stats) -> str:
    lines = [
        f"graph: {stats.triples} statements ({stats.confirmed_statements} confirmed, "
        f"{stats.unconfirmed_statements} unconfirmed), {stats.subjects} subjects, {len(stats.classes)} classes"
    ]
    for c in stats.completeness:
        counts = [f"{a.name} {a.described}" + (f"/{a.declared}" if a.declared is not None else "")
                  for a in c.aspects]
        lines.append(f"completeness of {c.label} (described/declared): {', '.join(counts)}")
    return "\n".join(lines)


def format_text(stats: Stats) -> str:
    width = max((len(name) for name in stats.classes), default=5)
    lines = [format_summary(stats), "", f"{'class':<{width}}  instances"]
    lines += [f"{name:<{width}}  {count:>9}" for name, count in stats.classes.items()]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace) -> int:
    loaded = load_project(Paths())  # vetgraph.cli reports what cannot be loaded
    stats = compute_stats(loaded)
    if args.format == "json":
        print(json.dumps(asdict(stats), indent=2, ensure_ascii=False))
    else:
        print(format_text(stats))
    return 0
