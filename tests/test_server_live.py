"""`vetgraph serve` as a real process on a loopback port: third-party SPARQL clients (SPARQLWrapper,
rdflib's SPARQLStore) get the expected answers, the time limit holds for pathological queries while other
requests are answered, the server refuses to start on invalid data, and it fronts a remote store."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.query import ResultRow

from tests.helpers.servers import MARGIN, PATHOLOGICAL, start_serve, stop_process
from vetgraph.config import DATASET_IRI, PROJECT_ROOT, UNCONFIRMED_GRAPH

FIXTURES = Path(__file__).resolve().parent / "data" / "server"
TIMEOUT = 2.0
@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    process, url = start_serve(["--timeout", str(TIMEOUT), "--workers", "2", "--dist", "/nonexistent"])
    try:
        yield url
    finally:
        stop_process(process)


def test_serve_prints_the_url_and_maps_the_iri_base(server) -> None:
    assert server.startswith("http://127.0.0.1:") and server.endswith("/")
    response = httpx.get(server + "id/insight/1", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef("https://w3id.org/vetgraph/id/insight/1"), None, None) in graph


def test_sparqlwrapper_gets_the_expected_answers(server) -> None:
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(server + "sparql")
    client.setQuery("PREFIX vet: <https://w3id.org/vetgraph/def#> "
                    "SELECT ?n WHERE { ?i a vet:Insight ; vet:number ?n } ORDER BY ?n")
    client.setReturnFormat(JSON)
    answer = client.query().convert()
    assert isinstance(answer, dict)  # SPARQLWrapper parsed SPARQL JSON
    rows = answer["results"]["bindings"]
    assert [int(r["n"]["value"]) for r in rows] == list(range(1, 9))
    client.setMethod("POST")
    client.setQuery('ASK { ?r <https://w3id.org/vetgraph/def#doi> "10.2767/25307" }')
    answer = client.query().convert()
    assert isinstance(answer, dict)
    assert answer["boolean"] is True
    client.setMethod("GET")
    client.setQuery("CONSTRUCT WHERE { <https://w3id.org/vetgraph/id/insight/7> ?p ?o }")
    client.setReturnFormat(TURTLE)
    turtle = client.query().convert()
    assert isinstance(turtle, (bytes, str)), type(turtle)
    graph = Graph().parse(data=turtle, format="turtle")
    assert (URIRef("https://w3id.org/vetgraph/id/insight/7"), URIRef("https://w3id.org/vetgraph/def#number"),
            Literal(7)) in graph


def test_rdflib_sparqlstore_gets_the_expected_answers(server) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(store=SPARQLStore(server + "sparql", returnFormat="json"))
    rows = list(graph.query("SELECT ?doi WHERE { ?r <https://w3id.org/vetgraph/def#doi> ?doi }"))
    values = set()
    for row in rows:
        assert isinstance(row, ResultRow)  # a SELECT answers rows
        values.add(row[0])
    assert Literal("10.2767/25307") in values
    assert graph.query("ASK { <https://w3id.org/vetgraph/id/insight/1> ?p ?o }").askAnswer is True


@pytest.mark.parametrize("url, parser", [("graph/unconfirmed", "guess"), ("graph/unconfirmed.rdf", "rdfxml")])
def test_rapper_reads_the_graph_of_unconfirmed_statements(server, loaded, url, parser) -> None:
    from rdflib.compare import isomorphic

    if shutil.which("rapper") is None:
        pytest.skip("rapper (raptor2-utils) is not installed")
    # "guess": Raptor sends an Accept header of every syntax it reads and picks its parser by Content-Type.
    done = subprocess.run(["rapper", "-q", "-i", parser, "-o", "ntriples", server + url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert isomorphic(Graph().parse(data=done.stdout, format="nt"), loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH)))


@pytest.mark.slow
@pytest.mark.parametrize("pathological", PATHOLOGICAL)
def test_time_limit_holds_while_other_requests_are_answered(server, pathological) -> None:
    outcome: dict[str, Any] = {}

    def slow() -> None:
        started = time.monotonic()
        response = httpx.post(server + "sparql", data={"query": pathological}, timeout=60)
        outcome["status"], outcome["seconds"], outcome["text"], outcome["at"] = (
            response.status_code, time.monotonic() - started, response.text, time.monotonic())

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.4)  # the pathological query is running now
    quick = httpx.get(server + "sparql", params={"query": "SELECT ?n { <https://w3id.org/vetgraph/id/insight/2> "
                                                          "<https://w3id.org/vetgraph/def#number> ?n }"}, timeout=30)
    quick_at = time.monotonic()
    page = httpx.get(server + "id/insight/3", headers={"Accept": "text/html"}, timeout=30)
    thread.join(timeout=TIMEOUT + 30)
    assert quick.status_code == 200 and quick.json()["results"]["bindings"][0]["n"]["value"] == "2"
    # by order, not by a bound that a loaded machine stretches: answered while the pathological one still ran
    assert quick_at < float(outcome["at"]), "a simple query waited for the pathological one"
    assert page.status_code == 200
    assert outcome["status"] == 503, outcome
    assert "time limit" in str(outcome["text"])
    assert TIMEOUT - 0.2 <= float(outcome["seconds"]) <= TIMEOUT + MARGIN, outcome["seconds"]
    # The killed worker is replaced: the pool is back to full strength.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        health = httpx.get(server + "health").json()
        if health["query_workers"] == 2:
            break
        time.sleep(0.2)
    assert health["query_workers"] == 2 and health["workers_replaced"] >= 1


def test_refuses_to_start_on_violations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vetgraph", "serve", "--port", "0", "--data", str(FIXTURES / "invalid.ttl")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "Violation" in result.stderr and "do not conform" in result.stderr
    assert result.stdout == ""  # never started


def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "vetgraph", "serve", "--port", str(port)],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


# --- in front of a remote store -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oxigraph_url(tmp_path_factory, loaded) -> Iterator[str]:
    """`oxigraph serve` holding the data in the published layout (data graph + unconfirmed graph)."""
    binary = Path(sys.executable).parent / "oxigraph"
    if not binary.exists() and not shutil.which("oxigraph"):
        message = "the oxigraph server binary is absent (pip install oxigraph)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen([str(binary if binary.exists() else shutil.which("oxigraph")), "serve",
                                "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        lines = []
        for s, p, o, g in loaded.dataset.quads((None, None, None, None)):
            graph = UNCONFIRMED_GRAPH if g is not None and str(g) == UNCONFIRMED_GRAPH else DATASET_IRI
            lines.append(f"{s.n3()} {p.n3()} {o.n3()} <{graph}> .")
        httpx.post(base + "/store", content="\n".join(lines).encode(),
                   headers={"Content-Type": "application/n-quads"}, timeout=30).raise_for_status()
        yield base + "/query"
    finally:
        process.kill()
        process.wait()


def test_app_fronts_a_remote_store(oxigraph_url, loaded) -> None:
    from rdflib.compare import isomorphic
    from starlette.testclient import TestClient

    from vetgraph.queries import load_catalogue
    from vetgraph.remote import RemoteStore
    from vetgraph.server.app import create_app

    app = create_app(RemoteStore(oxigraph_url, timeout=10), ontology=loaded.ontology, catalogue=load_catalogue())
    with TestClient(app) as client:
        select = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s a "
                                                         "<https://w3id.org/vetgraph/def#Insight> }"})
        assert select.status_code == 200, select.text
        assert json.loads(select.text)["results"]["bindings"][0]["n"]["value"] == "8"
        page = client.get("/id/insight/1", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Embracing the benefits" in page.text
        stored = client.get("/queries/insight", params={"number": "2", "format": "csv"})
        assert stored.status_code == 200 and "insight/2" in stored.text
        assert client.get("/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> {} }"}
                          ).status_code == 403
        assert client.get("/").status_code == 200
        unconfirmed = client.get("/graph/unconfirmed.nt")  # the named graph, through the remote store
        assert unconfirmed.status_code == 200, unconfirmed.text
        assert isomorphic(Graph().parse(data=unconfirmed.text, format="nt"),
                          loaded.dataset.graph(URIRef(UNCONFIRMED_GRAPH)))
