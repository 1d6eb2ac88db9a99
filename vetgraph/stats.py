"""`vetgraph stats`: what the graph holds, how much of it is confirmed, and how complete it is
against the counts the report itself declares."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field

from rdflib import URIRef

from vetgraph.config import UNCONFIRMED_GRAPH, VET_NS, Paths
from vetgraph.loading import Loaded, load_project

VET = VET_NS

_COMPLETENESS = f"""
PREFIX vet: <{VET}>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?report ?label ?declaredInsights ?declaredProjects
       (COUNT(DISTINCT ?insight) AS ?insights) (COUNT(DISTINCT ?titled) AS ?titledInsights)
       (COUNT(DISTINCT ?project) AS ?projects) (COUNT(DISTINCT ?practice) AS ?practices)
WHERE {{
  ?report a vet:Report ; vet:declaredInsightCount ?declaredInsights ; rdfs:label ?label .
  OPTIONAL {{ ?report vet:declaredLighthouseProjectCount ?declaredProjects }}
  OPTIONAL {{ ?insight a vet:Insight ; vet:partOfReport ?report .
             OPTIONAL {{ ?insight dct:title ?title . BIND(?insight AS ?titled) }} }}
  OPTIONAL {{ ?project a vet:LighthouseProject ; vet:presentedIn ?report }}
  OPTIONAL {{ ?practice a vet:GoodPractice ; vet:presentedIn ?report }}
}}
GROUP BY ?report ?label ?declaredInsights ?declaredProjects
ORDER BY ?report
"""
_CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE { ?s a ?class } GROUP BY ?class"
_SUBJECTS = "SELECT (COUNT(DISTINCT ?s) AS ?subjects) WHERE { ?s ?p ?o }"


@dataclass
class ReportCompleteness:
    report: str
    label: str
    declared_insights: int
    insights: int
    titled_insights: int
    declared_lighthouse_projects: int | None
    lighthouse_projects: int
    good_practices: int


@dataclass
class Stats:
    triples: int
    confirmed_statements: int
    unconfirmed_statements: int
    subjects: int
    classes: dict[str, int] = field(default_factory=dict)
    completeness: list[ReportCompleteness] = field(default_factory=list)


def compute_stats(loaded: Loaded) -> Stats:
    from vetgraph.store import OxigraphStore

    dataset = loaded.dataset
    unconfirmed = len(dataset.graph(URIRef(UNCONFIRMED_GRAPH)))
    total = len(dataset)
    store = OxigraphStore.from_dataset(dataset)  # counting is the store's job (the union default graph)
    namespaces = dataset.namespace_manager
    classes: dict[str, int] = {}
    for row in store.query(_CLASSES).as_dicts():
        cls = row["class"]
        classes[cls.n3(namespaces) if isinstance(cls, URIRef) else str(cls)] = int(row["instances"])
    subjects = int(store.query(_SUBJECTS).as_dicts()[0]["subjects"])
    completeness = []
    for row in store.query(_COMPLETENESS).as_dicts():
        completeness.append(
            ReportCompleteness(
                report=str(row["report"]),
                label=str(row["label"]),
                declared_insights=int(row["declaredInsights"]),
                insights=int(row["insights"]),
                titled_insights=int(row["titledInsights"]),
                declared_lighthouse_projects=int(row["declaredProjects"]) if "declaredProjects" in row else None,
                lighthouse_projects=int(row["projects"]),
                good_practices=int(row["practices"]),
            )
        )
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
        lines.append(
            f"completeness of {c.label}: insights {c.insights}/{c.declared_insights} "
            f"({c.titled_insights} with a title), Lighthouse projects {c.lighthouse_projects}/"
            f"{c.declared_lighthouse_projects if c.declared_lighthouse_projects is not None else '?'} described, "
            f"good practices described: {c.good_practices}"
        )
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
