"""What the external SPARQL servers honour that `RemoteStore` relies on (protocol dataset parameters).
The servers themselves are in tests/helpers/servers.py."""

from __future__ import annotations

import httpx

from tests.helpers.rdf import integer
from tests.helpers.servers import OxigraphServer, remote_fixture_store


def _load_fixture(server: OxigraphServer, graph: str) -> None:
    import pyoxigraph as ox

    body = remote_fixture_store().dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    response = httpx.put(server.base + "/store", params={"graph": graph}, content=body,
                         headers={"Content-Type": "application/n-triples"})
    response.raise_for_status()


def test_oxigraph_server_honours_dataset_parameters(oxigraph_server: OxigraphServer) -> None:
    """default-graph-uri makes the named graphs the default graph; named-graph-uri limits GRAPH ?g."""
    from vetgraph.remote import RemoteStore

    _load_fixture(oxigraph_server, "urn:test:a")
    _load_fixture(oxigraph_server, "urn:test:b")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }"
    only_a = RemoteStore(oxigraph_server.base + "/query", default_graphs=["urn:test:a"], named_graphs=[])
    both = RemoteStore(oxigraph_server.base + "/query", default_graphs=["urn:test:a", "urn:test:b"],
                       named_graphs=["urn:test:b"])
    none = RemoteStore(oxigraph_server.base + "/query", default_graphs=[], named_graphs=[])
    assert integer(only_a.query(count).rows[0][0]) == 4
    # Oxigraph evaluates a pattern over each listed graph: a triple in both graphs counts twice, as it does
    # in the embedded store's union default graph.
    assert integer(both.query(count).rows[0][0]) == 8
    assert integer(none.query(count).rows[0][0]) == 0  # the store's real default graph is empty
    graphs = both.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert [str(row[0]) for row in graphs.rows] == ["urn:test:b"]
