"""Publishing to a real Oxigraph server (started by the test on 127.0.0.1) and querying it back: counts,
idempotence, every stored query remote == embedded, SPARQL Update loading, and a server killed mid-publish."""

from __future__ import annotations

import signal

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers.rdf import dumped, example_bindings, same
from tests.helpers.servers import OxigraphServer, remote_fixture_store, stop_process
from vetgraph.config import DATASET_IRI, UNCONFIRMED_GRAPH
from vetgraph.remote import RemoteStore
from vetgraph.remote import publish as publish_module
from vetgraph.remote.http import HttpClient
from vetgraph.remote.publish import STAGING_PREFIX, Endpoints, Publisher, PublishError, plan_graphs
from vetgraph.stores import OxigraphStore


def store_graph(server: OxigraphServer, graph: str) -> Graph:
    """What the server holds in one named graph (empty Graph if it has none)."""
    response = httpx.get(server.base + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    result = Graph()
    if response.status_code == 404:
        return result
    response.raise_for_status()
    return result.parse(data=response.text, format="nt")


def local_graph(source: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Graph:
    return Graph().parse(data=dumped(source, ox.RdfFormat.N_TRIPLES, from_graph=graph).decode(), format="nt")


def graph_names(server: OxigraphServer) -> set[str]:
    response = httpx.post(server.base + "/query", data={"query": "SELECT DISTINCT ?g { GRAPH ?g {} }"},
                          headers={"Accept": "application/sparql-results+json"})
    return {b["g"]["value"] for b in response.json()["results"]["bindings"]}


def publish(server: OxigraphServer, source: ox.Store, protocol: str = "gsp", **options) -> list[str]:
    lines: list[str] = []
    endpoint = server.base + ("/store" if protocol == "gsp" else "/update")
    http = HttpClient(None, timeout=60, retries=options.pop("retries", 2), backoff=0.05)
    try:
        Publisher(http, Endpoints.derive(endpoint, protocol), out=lines.append, **options).publish(
            source, plan_graphs(source, DATASET_IRI)
        )
    finally:
        http.close()
    return lines


def assert_holds_exactly(server: OxigraphServer, source: ox.Store, staging_left: bool = False) -> None:
    """The store's target graphs equal ours (blank nodes up to renaming); no staging graph is left over."""
    assert isomorphic(store_graph(server, DATASET_IRI), local_graph(source, ox.DefaultGraph()))
    assert isomorphic(store_graph(server, UNCONFIRMED_GRAPH), local_graph(source, ox.NamedNode(UNCONFIRMED_GRAPH)))
    if not staging_left:
        assert not any(g.startswith(STAGING_PREFIX) for g in graph_names(server))


def test_publish_fixture_verifies_counts_and_is_idempotent(oxigraph_server: OxigraphServer) -> None:
    source = remote_fixture_store()
    first = publish(oxigraph_server, source)
    assert first[-1].startswith("verified: the store's count of every graph equals ours (26 triples in 2 graphs)")
    assert any("replaced (0 -> 24 triples) by MOVE" in line for line in first)
    assert_holds_exactly(oxigraph_server, source)
    second = publish(oxigraph_server, source)
    assert any("replaced (24 -> 24 triples) by MOVE" in line for line in second)
    assert_holds_exactly(oxigraph_server, source)  # one copy, not two
    assert graph_names(oxigraph_server) == {DATASET_IRI, UNCONFIRMED_GRAPH}


def test_publish_with_sparql_update_keeps_blank_nodes_together(oxigraph_server: OxigraphServer) -> None:
    source = remote_fixture_store()
    publish(oxigraph_server, source, protocol="update", batch_size=2)  # many batches: bnodes must not split
    assert_holds_exactly(oxigraph_server, source)


def test_direct_mode_replaces_graphs_and_removes_an_emptied_graph(oxigraph_server: OxigraphServer) -> None:
    source = remote_fixture_store()
    publish(oxigraph_server, source)
    source.remove_graph(ox.NamedNode(UNCONFIRMED_GRAPH))  # every statement confirmed since
    lines = publish(oxigraph_server, source, staging=False)
    assert any("each graph is replaced by its own PUT" in line for line in lines)
    assert len(store_graph(oxigraph_server, UNCONFIRMED_GRAPH)) == 0
    assert_holds_exactly(oxigraph_server, source)


def test_wrong_paths_fail_before_anything_is_written(oxigraph_server: OxigraphServer) -> None:
    source = remote_fixture_store()
    publish(oxigraph_server, source)
    base = oxigraph_server.base
    http = HttpClient(None, timeout=10, retries=0)
    wrong_gsp = Endpoints("gsp", base + "/graph-store", base + "/query", base + "/update")
    with pytest.raises(PublishError) as caught:
        Publisher(http, wrong_gsp, out=lambda line: None).publish(source, plan_graphs(source, DATASET_IRI))
    assert "404" in str(caught.value) and "check the endpoint URL" in str(caught.value)
    assert "no target graph was changed" in str(caught.value)
    wrong_query = Endpoints("gsp", base + "/store", base + "/no-such-endpoint", base + "/update")
    with pytest.raises(publish_module.RemoteError, match="404"):
        Publisher(http, wrong_query, out=lambda line: None).publish(source, plan_graphs(source, DATASET_IRI))
    assert_holds_exactly(oxigraph_server, source)


def _bigger(source: ox.Store, triples: int) -> ox.Store:
    """The fixture plus enough extra statements that a PUT takes a while (invented test statements)."""
    bigger = ox.Store()
    bigger.bulk_extend(source.quads_for_pattern(None, None, None, None))
    p = ox.NamedNode("https://w3id.org/vetgraph/id/fixture/p")
    bigger.bulk_extend(
        ox.Quad(ox.NamedNode(f"https://w3id.org/vetgraph/id/fixture/s{i}"), p, ox.Literal(f"fixture value {i}"))
        for i in range(triples)
    )
    return bigger


def test_server_killed_during_publish_leaves_the_old_copy_and_a_rerun_completes(
    oxigraph_server: OxigraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = remote_fixture_store()
    publish(oxigraph_server, old)
    new = _bigger(old, 15_000)  # about 1.6 MB of N-Triples: two 1 MiB chunks on the wire
    chunks_sent = 0
    original_iter = publish_module.Body.__iter__

    def kill_midway(body):  # the server dies while the body is on the wire
        nonlocal chunks_sent
        for chunk in original_iter(body):
            chunks_sent += 1
            if chunks_sent == 2:
                oxigraph_server.kill()
            yield chunk

    monkeypatch.setattr(publish_module.Body, "__iter__", kill_midway)
    with pytest.raises(PublishError) as caught:
        publish(oxigraph_server, new, retries=1)
    message = str(caught.value)
    assert oxigraph_server.process is not None
    assert chunks_sent >= 2 and oxigraph_server.process.poll() == -signal.SIGKILL  # it died mid-body, killed
    assert "connection" in message or "cannot connect" in message
    assert "store state: no target graph was changed" in message
    monkeypatch.setattr(publish_module.Body, "__iter__", original_iter)

    oxigraph_server.start()  # same folder: what survived the kill
    # The old copy, whole: no half-replaced graph. The staging graph may hold the partial load (as reported).
    assert_holds_exactly(oxigraph_server, old, staging_left=True)
    publish(oxigraph_server, new)
    assert_holds_exactly(oxigraph_server, new)
    publish(oxigraph_server, new)
    assert_holds_exactly(oxigraph_server, new)


def test_direct_publish_killed_mid_put_keeps_the_old_copy_for_readers_and_after_a_restart(
    oxigraph_server: OxigraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--direct` on Oxigraph server: each PUT is one transaction. While the body is on the wire readers see the
    previous copy, whole; killed mid-PUT, the server restarts with it; publishing again completes."""
    old = remote_fixture_store()
    publish(oxigraph_server, old)
    old_graph = local_graph(old, ox.DefaultGraph())
    new = _bigger(old, 15_000)
    chunks_sent = 0
    seen_by_readers: list[Graph] = []
    original_iter = publish_module.Body.__iter__

    def kill_midway(body):
        nonlocal chunks_sent
        for chunk in original_iter(body):
            chunks_sent += 1
            if chunks_sent == 2:
                seen_by_readers.append(store_graph(oxigraph_server, DATASET_IRI))
                oxigraph_server.kill()
            yield chunk

    monkeypatch.setattr(publish_module.Body, "__iter__", kill_midway)
    with pytest.raises(PublishError) as caught:
        publish(oxigraph_server, new, staging=False, retries=1)
    message = str(caught.value)
    assert oxigraph_server.process is not None
    assert chunks_sent >= 2 and oxigraph_server.process.poll() is not None
    assert f"<{DATASET_IRI}> keeps its previous copy where the store loads a PUT in one transaction" in message
    monkeypatch.setattr(publish_module.Body, "__iter__", original_iter)
    assert isomorphic(seen_by_readers[0], old_graph)  # mid-PUT, a reader saw the previous copy, whole

    oxigraph_server.start()
    assert_holds_exactly(oxigraph_server, old)  # and it survived the kill
    publish(oxigraph_server, new, staging=False)
    assert_holds_exactly(oxigraph_server, new)


def test_a_body_over_the_stores_limit_is_refused_with_its_message(oxigraph_server: OxigraphServer) -> None:
    """Oxigraph server caps SPARQL request bodies at 128 MiB and answers 400 with the limit: a clean message,
    no retry (this sends 129 MiB once, over loopback)."""
    from vetgraph.remote.http import Body, RemoteError

    def write(spool) -> None:
        spool.write(b'INSERT DATA { <urn:x:s> <urn:x:p> "')
        block = b"a" * (1 << 20)
        for _ in range(129):
            spool.write(block)
        spool.write(b'" }')

    body = Body.of(write)
    http = HttpClient(None, timeout=60, retries=2, backoff=0.01)
    with pytest.raises(RemoteError) as caught:
        http.send("POST", oxigraph_server.base + "/update", body=body,
                  headers={"Content-Type": "application/sparql-update"}, what="INSERT DATA batch")
    body.close()
    message = caught.value.message
    assert "answered 400" in message and "too large" in message
    assert "the store said: SPARQL body payloads are limited to 134217728 bytes" in message
    assert "gave up" not in message  # a 4xx is never retried


def test_cli_publish_real_data_and_every_stored_query_answers_the_same_remotely(
    oxigraph_server: OxigraphServer, loaded, oxigraph_store: OxigraphStore, capsys: pytest.CaptureFixture
) -> None:
    from vetgraph.cli import main
    from vetgraph.queries import load_catalogue

    assert main(["publish", "--endpoint", oxigraph_server.base + "/store"]) == 0
    out = capsys.readouterr().out
    assert "validated:" in out and "verified: the store's count of every graph equals ours" in out
    assert main(["publish", "--endpoint", oxigraph_server.base + "/store"]) == 0  # idempotent
    expected = OxigraphStore.from_dataset(loaded.dataset).store
    assert_holds_exactly(oxigraph_server, expected)

    catalogue = load_catalogue()
    if not catalogue:
        pytest.skip("queries/ holds no stored query yet")
    remote = RemoteStore(oxigraph_server.base + "/query", timeout=30)
    checked = 0
    for name, query in catalogue.items():
        for bindings in example_bindings(query):
            here = oxigraph_store.query(query.text, bindings)
            there = remote.query(query.text, bindings)
            assert same(there, here), f"{name} with {bindings}"
            checked += 1
    remote.close()
    assert checked >= len(catalogue)


@pytest.mark.parametrize(
    ("arguments"),
    [
        ["insight", "--param", "number=3"],
        ["insight", "--param", "number=3", "--format", "csv"],
        ["insights", "--format", "json"],
        ["describe", "--param", "resource=insight/1", "--format", "nt"],
    ],
)
def test_cli_query_endpoint_prints_what_the_local_query_prints(
    oxigraph_server: OxigraphServer, loaded, capsys: pytest.CaptureFixture, arguments: list[str]
) -> None:
    from vetgraph.cli import main
    from vetgraph.queries import load_catalogue

    if arguments[0] not in load_catalogue():
        pytest.skip(f"no stored query {arguments[0]!r}")
    source = OxigraphStore.from_dataset(loaded.dataset).store
    publish(oxigraph_server, source)
    local_code = main(["query", *arguments])
    local = capsys.readouterr()
    remote_code = main(["query", *arguments, "--endpoint", oxigraph_server.base + "/query"])
    remote = capsys.readouterr()
    assert (remote_code, remote.err) == (local_code, local.err)
    if "nt" in arguments:  # blank node labels differ between stores: compare the graphs
        assert isomorphic(Graph().parse(data=remote.out, format="nt"), Graph().parse(data=local.out, format="nt"))
    else:
        assert remote.out == local.out


def test_serve_store_fronts_what_publish_loaded(oxigraph_server: OxigraphServer, loaded) -> None:
    """End to end, as a user would: `vetgraph publish`, then `vetgraph serve --store` in its own process."""
    import re
    import subprocess
    import sys

    source = OxigraphStore.from_dataset(loaded.dataset).store
    publish(oxigraph_server, source)
    process = subprocess.Popen(
        [sys.executable, "-m", "vetgraph", "serve", "--store", oxigraph_server.base + "/query", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None  # stdout=PIPE
        first = process.stdout.readline()
        match = re.search(r" at (http://127\.0\.0\.1:\d+/)", first)
        assert match, first
        base = match.group(1)
        count = httpx.get(base + "sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert int(count.json()["results"]["bindings"][0]["n"]["value"]) == len(source)
        page = httpx.get(base + "id/insight/1", headers={"Accept": "text/html"}, timeout=30)
        assert page.status_code == 200 and "<title>Insight 1" in page.text
    finally:
        stop_process(process)
