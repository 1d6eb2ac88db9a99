"""The Python API (vetgraph.dataset, vetgraph.store, vetgraph.query) on the checkout: the same graph and the same
answers as the command line, parameters bound the same way, and `import vetgraph` still light."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rdflib import Graph, Literal, URIRef

import vetgraph
from vetgraph.config import ID_BASE, UNCONFIRMED_GRAPH
from vetgraph.queries import ParameterError


def cli_json(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "vetgraph", "query", *args, "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def as_json_terms(rows: list[dict]) -> list[dict[str, str]]:
    """API rows in the shape of SPARQL JSON bindings' values, to compare with the command's answer."""
    return [{name: str(term) for name, term in row.items()} for row in rows]


def test_query_binds_parameters_as_the_command_does() -> None:
    rows = vetgraph.query("insight", number=3)
    expected = cli_json("insight", "--param", "number=3")
    assert isinstance(rows, list)  # a SELECT query answers rows
    assert as_json_terms(rows) == [{k: v["value"] for k, v in b.items()} for b in expected["results"]["bindings"]]
    assert rows and all(row["insight"] == URIRef(ID_BASE + "insight/3") for row in rows)
    # Text and Python values alike; a value that only looks like SPARQL is a string that matches nothing.
    assert vetgraph.query("insight", number="3") == rows
    assert vetgraph.query("search", text='x" } ; DROP ALL ; #') == []
    found = vetgraph.query("search", text="Schmitt")
    assert isinstance(found, list)
    assert {row["resource"] for row in found} == {
        URIRef(ID_BASE + "person/nicolas-schmit")}


def test_query_results_of_every_kind_and_errors() -> None:
    assert vetgraph.query("exists", resource="person/nicolas-schmit") is True
    described = vetgraph.query("describe", resource="person/nicolas-schmit")
    assert isinstance(described, Graph)  # a DESCRIBE query answers a graph
    assert (URIRef(ID_BASE + "person/nicolas-schmit"), None, Literal("Nicolas Schmit")) in described
    with pytest.raises(ParameterError, match="number"):
        vetgraph.query("insight", number="three")
    with pytest.raises(ParameterError, match="missing"):
        vetgraph.query("insight")
    with pytest.raises(ParameterError, match="unknown parameter"):
        vetgraph.query("insight", number=3, colour="red")
    with pytest.raises(KeyError, match="insights"):
        vetgraph.query("no-such-query")


def test_dataset_and_store_hold_both_graphs(loaded) -> None:
    dataset = vetgraph.dataset()
    assert len(dataset.default_graph) == len(loaded.dataset.default_graph)
    assert len(dataset.graph(URIRef(UNCONFIRMED_GRAPH))) == len(loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH))) > 0
    store = vetgraph.store()
    assert len(store) == sum(1 for _ in loaded.dataset.quads((None, None, None, None)))
    assert [str(g.value) for g in store.named_graphs()] == [UNCONFIRMED_GRAPH]
    assert vetgraph.dataset() is not dataset  # a new one every time: changing it changes nothing else


def test_the_api_names_survive_importing_every_submodule() -> None:
    """vetgraph.store() once shared its name with the submodule vetgraph/store.py (now stores.py): importing
    the submodule rebound the package attribute to the module."""
    import importlib
    import pkgutil

    for module in pkgutil.walk_packages(vetgraph.__path__, "vetgraph."):
        if module.name.rsplit(".", 1)[-1] in vetgraph.__all__:
            raise AssertionError(f"{module.name} shadows the API name vetgraph.{module.name.rsplit('.', 1)[-1]}")
    importlib.import_module("vetgraph.stores")
    assert callable(vetgraph.store) and callable(vetgraph.dataset) and callable(vetgraph.query)


def test_import_vetgraph_stays_light() -> None:
    # The command starts fast because only the module of the command being run imports an RDF engine.
    code = "import sys, vetgraph; print(sorted(m for m in ('rdflib', 'pyoxigraph', 'pyshacl') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
