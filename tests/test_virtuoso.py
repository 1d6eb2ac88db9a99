"""Publishing to a real Virtuoso (Debian virtuoso-opensource) with authentication, and querying it back.

The fixture starts its own `virtuoso-t` on a fresh database in a temporary folder (throwaway virtuoso.ini,
free loopback ports for HTTP and ISQL, a random dba password set through isql-vt). Skipped with a reason
when Virtuoso is not installed; under CI=true (where .ci/virtuoso.sh installs it) its absence fails.
Virtuoso's authenticated endpoints use HTTP Digest: /sparql-graph-crud-auth (Graph Store Protocol) and
/sparql-auth (query and update); /sparql answers anonymous read-only queries.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.helpers.rdf import dumped, example_bindings, same
from tests.helpers.servers import free_port, remote_fixture_store, stop_process, wait_for_http
from tests.helpers.shared import require_program
from vetgraph.config import DATASET_IRI
from vetgraph.remote import RemoteStore
from vetgraph.remote.http import Credentials, HttpClient, RemoteError
from vetgraph.remote.publish import STAGING_PREFIX, Endpoints, Publisher, plan_graphs
from vetgraph.stores import OxigraphStore, QueryTimeout

pytestmark = pytest.mark.virtuoso
INI_TEMPLATE = Path(__file__).resolve().parent / "data" / "remote" / "virtuoso.ini.in"


@dataclass
class Virtuoso:
    base: str
    password: str

    @property
    def credentials(self) -> Credentials:
        return Credentials("dba", self.password)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    binary = require_program(shutil.which("virtuoso-t"), "Virtuoso (virtuoso-t)", "run .ci/virtuoso.sh")
    isql = require_program(shutil.which("isql-vt"), "Virtuoso's isql-vt", "run .ci/virtuoso.sh")
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port, isql_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(INI_TEMPLATE.read_text().format(dir=folder, http_port=http_port, isql_port=isql_port))
    process = subprocess.Popen([binary, "-f", "-c", str(ini)], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{http_port}"
    try:
        try:
            wait_for_http(base + "/sparql?query=ASK%7B%7D", process, 120, "virtuoso-t")
        except RuntimeError as error:
            log = folder / "virtuoso.log"
            pytest.fail(f"{error}\n{log.read_text(errors='replace')[-2000:] if log.exists() else ''}")
        password = "t" + secrets.token_hex(10)  # letters and digits: an SQL identifier for SET PASSWORD
        # ISQL's `SET PASSWORD old new` changes the connected user's password; it goes through stdin, not
        # the command line (visible to every process). A query with the new password proves it took.
        for login, script in (("dba", f"SET PASSWORD dba {password};\n"), (password, "SELECT 1;\n")):
            done = subprocess.run([isql, f"127.0.0.1:{isql_port}", "dba", login], input=script, text=True,
                                  capture_output=True, timeout=60)
            if done.returncode != 0 or "Error" in done.stdout + done.stderr:
                pytest.fail(f"isql-vt could not set up the dba account: {done.stdout[-500:]} {done.stderr[-500:]}")
        yield Virtuoso(base, password)
    finally:
        stop_process(process)


def publisher(server: Virtuoso, endpoint: str, protocol: str = "gsp", password: str | None = None,
              **options) -> tuple[Publisher, list[str]]:
    lines: list[str] = []
    credentials = Credentials("dba", password if password is not None else server.password)
    http = HttpClient(credentials, timeout=120, retries=1, backoff=0.05)
    return Publisher(http, Endpoints.derive(server.base + endpoint, protocol), out=lines.append, **options), lines


def remote_graph(server: Virtuoso, graph: str) -> Graph:
    store = RemoteStore(server.base + "/sparql", default_graphs=[graph], named_graphs=[])
    try:
        answer = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").graph
        assert answer is not None
        return answer
    finally:
        store.close()


def test_publish_with_digest_auth_and_read_back_exactly(virtuoso: Virtuoso, loaded) -> None:
    source = OxigraphStore.from_dataset(loaded.dataset).store
    publish, lines = publisher(virtuoso, "/sparql-graph-crud-auth")
    for _ in range(2):  # publishing again leaves one copy
        report = publish.publish(source, plan_graphs(source, DATASET_IRI))
        assert report.after == {plan.target: plan.triples for plan in report.plans}
        for plan in report.plans:
            ours = Graph().parse(data=dumped(source, ox.RdfFormat.N_TRIPLES, from_graph=plan.source).decode(),
                                 format="nt")
            assert isomorphic(remote_graph(virtuoso, plan.target), ours), plan.target
    assert any(line.startswith("  store: Virtuoso/") for line in lines)


def test_publish_with_sparql_update_keeps_blank_nodes_and_is_idempotent(virtuoso: Virtuoso) -> None:
    source = remote_fixture_store()
    target = "urn:vetgraph:test:virtuoso-update"
    publish, _ = publisher(virtuoso, "/sparql-auth", "update", batch_size=3)
    for _ in range(2):
        publish.publish(source, plan_graphs(source, target))
        ours = Graph().parse(data=dumped(source, ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()).decode(),
                             format="nt")
        assert isomorphic(remote_graph(virtuoso, target), ours)
    leftovers = RemoteStore(virtuoso.base + "/sparql", default_graphs=[], named_graphs=[]).query(
        f'ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
    )
    assert leftovers.boolean is False


def test_wrong_password_is_refused_and_never_shown(virtuoso: Virtuoso, capsys: pytest.CaptureFixture) -> None:
    wrong = "Wr0ng-" + secrets.token_hex(6)
    publish, _ = publisher(virtuoso, "/sparql-graph-crud-auth", password=wrong)
    source = remote_fixture_store()
    with pytest.raises(RemoteError) as caught:
        publish.publish(source, plan_graphs(source, "urn:vetgraph:test:refused"))
    assert "401" in caught.value.message and "refused the credentials as user 'dba'" in caught.value.message
    assert wrong not in str(caught.value) and virtuoso.password not in str(caught.value)


def test_cli_publish_with_auth_env(virtuoso: Virtuoso, capsys: pytest.CaptureFixture,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from vetgraph.cli import main

    monkeypatch.setenv("VETGRAPH_TEST_AUTH", f"dba:{virtuoso.password}")
    code = main(["publish", "--endpoint", virtuoso.base + "/sparql-graph-crud-auth", "--auth-env", "VETGRAPH_TEST_AUTH",
                 "--graph", "urn:vetgraph:test:cli"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "verified: the store's count of every graph equals ours" in captured.out
    monkeypatch.setenv("VETGRAPH_TEST_AUTH", "dba:not-the-password")
    code = main(["publish", "--endpoint", virtuoso.base + "/sparql-graph-crud-auth", "--auth-env", "VETGRAPH_TEST_AUTH",
                 "--graph", "urn:vetgraph:test:cli", "--retries", "0"])
    captured = capsys.readouterr()
    assert code == 2
    assert "401" in captured.err and "not-the-password" not in captured.err + captured.out
    assert virtuoso.password not in captured.err + captured.out + os.environ.get("VETGRAPH_NOT_SET", "")


def test_anonymous_writes_are_refused_cleanly(virtuoso: Virtuoso) -> None:
    http = HttpClient(None, timeout=30, retries=0)
    source = remote_fixture_store()
    endpoints = Endpoints("gsp", virtuoso.base + "/sparql-graph-crud", virtuoso.base + "/sparql", None)
    with pytest.raises(RemoteError) as caught:
        Publisher(http, endpoints, out=lambda line: None).publish(source, plan_graphs(source, "urn:vetgraph:test:anon"))
    message = caught.value.message
    assert "answered 4" in message or "answered 5" in message
    assert "the store said:" in message


#: Debian's Virtuoso 7.2 departs from SPARQL 1.1 on some stored queries (docs/remote-stores.md lists what was
#: seen: EXISTS inside && or || refused with SQ074, EXISTS returned as xsd:integer 1/0, sameTerm(COALESCE(..))
#: false for an unbound variable, wrong group keys with GROUP BY over UNION, queries mixing EXISTS and OPTIONAL
#: that never finish). Those are the store's; what this test holds our client to: every answer is read
#: (no client-side failure), refusals carry the store's own message, and most stored queries, including
#: parameterised ones, give exactly the embedded answers. It runs last in the module: a query Virtuoso never
#: finishes can hold up the server.


def test_stored_queries_on_virtuoso_give_the_embedded_answers_where_virtuoso_follows_the_standard(
    virtuoso: Virtuoso, loaded, oxigraph_store: OxigraphStore
) -> None:
    from vetgraph.queries import load_catalogue

    catalogue = load_catalogue()
    if not catalogue:
        pytest.skip("queries/ holds no stored query yet")
    source = OxigraphStore.from_dataset(loaded.dataset).store
    publisher(virtuoso, "/sparql-graph-crud-auth")[0].publish(source, plan_graphs(source, DATASET_IRI))
    anonymous = RemoteStore(virtuoso.base + "/sparql", timeout=8, retries=0)
    authenticated = RemoteStore(virtuoso.base + "/sparql-auth", timeout=8, auth=virtuoso.credentials, retries=0)
    outcome: dict[str, list[str]] = {
        "same": [], "EXISTS as integer": [], "refused": [], "different": [], "did not finish": []
    }
    parameterised_same = 0
    for name, query in catalogue.items():
        for bindings in example_bindings(query):
            case = f"{name} {dict((k, str(v)) for k, v in bindings.items())}"
            here = oxigraph_store.query(query.text, bindings)
            try:
                there = anonymous.query(query.text, bindings)
            except QueryTimeout:
                outcome["did not finish"].append(case)
                continue
            except RemoteError as error:
                assert error.status and error.store_text, f"{case}: {error.message}"
                outcome["refused"].append(case)
                continue
            if same(there, here):
                outcome["same"].append(case)
                parameterised_same += bool(bindings)
            elif same(booleans_as_integers(there), booleans_as_integers(here)):
                outcome["EXISTS as integer"].append(case)
            else:
                outcome["different"].append(case)
    first = outcome["same"][0].split(" ")[0]
    assert same(authenticated.query(catalogue[first].text), anonymous.query(catalogue[first].text))
    anonymous.close()
    authenticated.close()
    print("Virtuoso:", {kind: len(cases) for kind, cases in outcome.items()}, outcome)
    assert len(outcome["same"]) >= len(catalogue) // 2, outcome
    assert parameterised_same >= 5, outcome


def booleans_as_integers(result):
    """A copy of a SELECT result with xsd:boolean values written as Virtuoso writes them (xsd:integer 1/0)."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    from vetgraph.stores import QueryResult

    def convert(term):
        if isinstance(term, Literal) and term.datatype == XSD.boolean:
            return Literal(1 if term.toPython() else 0, datatype=XSD.integer)
        return term

    rows = [tuple(convert(t) for t in row) for row in result.rows]
    return QueryResult(result.kind, variables=result.variables, rows=rows, boolean=result.boolean, graph=result.graph)
