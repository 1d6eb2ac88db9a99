"""`vetgraph stats` as a user runs it, on the real data: every figure is recomputed here, independently of
vetgraph's loader and queries (the data files parsed by pyoxigraph, counted in Python), and the completeness
figures come from the fact sheet (../shared/report/facts.yaml)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pyoxigraph as ox
import pytest

from vetgraph.config import PROJECT_ROOT, UNCONFIRMED_GRAPH, Paths
from vetgraph.loading import rdf_files

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def stats(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vetgraph", "stats", *arguments], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def data_store() -> ox.Store:
    """The data files, parsed by pyoxigraph alone (TriG keeps its named graphs; Turtle goes to the default graph)."""
    store = ox.Store()
    for path in rdf_files(Paths().data_dir):
        store.bulk_load(path=str(path))
    return store


@pytest.fixture(scope="module")
def as_json() -> dict:
    done = stats("--format", "json")
    assert (done.returncode, done.stderr) == (0, "")
    return json.loads(done.stdout)


def test_statement_and_subject_counts_are_those_of_the_data_files(as_json: dict, data_store: ox.Store) -> None:
    unconfirmed = sum(1 for _ in data_store.quads_for_pattern(None, None, None, ox.NamedNode(UNCONFIRMED_GRAPH)))
    assert unconfirmed > 0  # the real data has unconfirmed statements: the split below is not trivially 0
    assert as_json["triples"] == len(data_store)
    assert as_json["unconfirmed_statements"] == unconfirmed
    assert as_json["confirmed_statements"] == len(data_store) - unconfirmed
    assert as_json["subjects"] == len({quad.subject for quad in data_store})


def test_instances_per_class_are_those_of_the_data_files(as_json: dict, data_store: ox.Store) -> None:
    instances: dict[str, set] = defaultdict(set)
    for quad in data_store.quads_for_pattern(None, RDF_TYPE, None):
        assert not isinstance(quad.object, ox.Triple)  # a class is an IRI (or blank node), never a quoted triple
        instances[quad.object.value].add(quad.subject)
    # stats names classes by prefix (vet:Insight); the counts per class, sorted, must be the same multiset
    assert len(as_json["classes"]) == len(instances)
    assert sorted(as_json["classes"].values()) == sorted(len(members) for members in instances.values())
    assert as_json["classes"]["vet:Insight"] == len(instances["https://w3id.org/vetgraph/def#Insight"])


def test_completeness_is_what_the_fact_sheet_says(as_json: dict, facts: dict) -> None:
    declared = facts["report"]["structure_counts"]
    insights = facts["insights"]
    [report] = as_json["completeness"]  # only the report itself declares counts, not its infographic
    # The report's label is its short title with the cover's subtitle.
    short_title = facts["report"]["full_title"].split(":")[0]
    assert report["label"] == f"{short_title}: {facts['report']['subtitle']}"
    aspects = {a["name"]: (a["declared"], a["described"]) for a in report["aspects"]}
    confirmed_titles = sum(1 for insight in insights if insight["title"] and not insight.get("unconfirmed"))
    assert aspects == {
        "insights": (declared["insights"], len(insights)),
        "insight titles": (declared["insights"], sum(1 for insight in insights if insight["title"])),
        "confirmed insight titles": (declared["insights"], confirmed_titles),
        "viewpoints": (declared["viewpoints"], len(facts["viewpoints"]["items"])),
        "mandate topics": (None, len(facts["topics"])),
        "Lighthouse projects": (declared["lighthouse_projects"], len(facts["lighthouse_projects"]["items"])),
        # the fact sheet gives no number of good practices ("numerous"), so none is declared
        "good practices": (None, len(facts["good_practices"]["items"])),
    }


def test_the_text_summary_states_the_same_figures(as_json: dict) -> None:
    done = stats()
    assert (done.returncode, done.stderr) == (0, "")
    first, second, *_ = done.stdout.splitlines()
    assert first == (
        f"graph: {as_json['triples']} statements ({as_json['confirmed_statements']} confirmed, "
        f"{as_json['unconfirmed_statements']} unconfirmed), {as_json['subjects']} subjects, "
        f"{len(as_json['classes'])} classes"
    )
    aspects = as_json["completeness"][0]["aspects"]
    shown = ", ".join(f"{a['name']} {a['described']}" + (f"/{a['declared']}" if a["declared"] is not None else "")
                      for a in aspects)
    assert second.endswith(f"(described/declared): {shown}")
    for name, count in as_json["classes"].items():
        assert f"\n{name:<{max(map(len, as_json['classes']))}}  {count:>9}" in done.stdout
