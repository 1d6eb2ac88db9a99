"""`vetgraph serve --processes N` (vetgraph.server.group) and what makes it worth it: queries whose work the
data's size bounds (`querycheck.bounded`) run in the server process, every other query in a killable worker.
Members answer on one port, time limits hold, a member that ends is replaced, and all of it stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from tests.helpers.rdf import dumped
from tests.helpers.servers import MARGIN, PATHOLOGICAL, descendants, is_running, start_serve
from vetgraph.server.querycheck import bounded
from vetgraph.server.workers import QueryRequest, WorkerPool

GROUPED = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p LIMIT 1000"
JOIN = "SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r } LIMIT 3"


@pytest.mark.parametrize("query", [
    GROUPED,
    "PREFIX vet: <https://w3id.org/vetgraph/def#> SELECT ?i WHERE { ?i a vet:Insight }",
    "SELECT * { ?s ?p ?o } LIMIT 10",
    "ASK { <http://x> ?p ?o . }",
    "select distinct ?s where { ?s ?p \"x\" } order by desc(?s) offset 2 limit 5",
    "SELECT (SUM(?o) AS ?t) (MAX(?o) AS ?m) (COUNT(DISTINCT ?s) AS ?c) WHERE { ?s ?p ?o } GROUP BY ?s",
    "# a comment\nSELECT ?s WHERE { ?s ?p ?o }",
])
def test_queries_over_one_pattern_with_aggregates_only_are_bounded(query: str) -> None:
    assert bounded(query)


@pytest.mark.parametrize("query", [
    JOIN,  # a join: rows multiply
    "SELECT ?s WHERE { ?s ?p ?o ; ?q ?r }",
    "SELECT ?s WHERE { ?s ?p ?o , ?r }",
    "SELECT ?s { ?s <http://p>* ?o }",  # a property path
    "SELECT ?s { ?s ?p ?o FILTER(?o) }",
    "SELECT (STRLEN(?o) AS ?l) { ?s ?p ?o }",  # any function but the aggregates
    "SELECT (GROUP_CONCAT(?o) AS ?x) { ?s ?p ?o }",  # a value that grows with the data
    "SELECT (xsd:integer(?o) AS ?l) { ?s ?p ?o }",
    "SELECT (<http://f>(?o) AS ?l) { ?s ?p ?o }",
    "SELECT ?s { ?s ?p ?o } ORDER BY (?o + 1)",
    "SELECT ?s { { ?s ?p ?o } }",
    "SELECT ?s FROM <http://g> { ?s ?p ?o }",
    "SELECT ?s { ?s ?p ?o } VALUES ?s { <http://a> }",
    "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s { SERVICE <http://x> { ?s ?p ?o } }",
    "SELECT ?s { ?s ?p ?o } GROUP BY ?s HAVING (COUNT(*) > 1)",
    "SELECT ?s \\u007B ?s ?p ?o }",  # an escaped brace
    "SELECT ?s WHERE { ?s ?p '}' }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE ?s { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s ?p ?o } SELECT",
    "SELECT ?s { ?s ?p \"x\"@en }",
    "SELECT ?s { ?s ?p }",
    "SELECT " + "(COUNT(*) AS ?n) " * 200 + "{ ?s ?p ?o }",  # too long
])
def test_anything_else_is_not(query: str) -> None:
    assert not bounded(query)


def _pool_answers(store: ox.Store, requests: list[QueryRequest], in_process_up_to: int) -> tuple[list, int]:
    async def scenario() -> tuple[list, int]:
        pool = WorkerPool(dumped(store, ox.RdfFormat.N_QUADS), size=1, in_process_up_to=in_process_up_to)
        await pool.start()
        try:
            answers: list[object] = []
            for request in requests:
                try:
                    answers.append(await pool.run(request))
                except Exception as error:  # noqa: BLE001 - compared as outcomes
                    answers.append(type(error).__name__)
            return answers, pool.ran_here
        finally:
            await pool.close()

    return asyncio.run(scenario())


def test_a_pool_runs_bounded_queries_itself_and_the_rest_in_its_workers_with_the_same_answers(
        oxigraph_store) -> None:
    store = oxigraph_store.store
    unconfirmed = (("https://w3id.org/vetgraph/graph/unconfirmed",), ())
    requests = [QueryRequest(GROUPED, "json", None, 10.0), QueryRequest(JOIN, "csv", None, 10.0),
                QueryRequest(GROUPED, "csv", None, 10.0, dataset=unconfirmed),
                QueryRequest("SELECT * { ?s ?p ?o", "json", None, 10.0)]
    here, ran_here = _pool_answers(store, requests, in_process_up_to=len(store))
    there, ran_there = _pool_answers(store, requests, in_process_up_to=0)
    assert ran_here == 1 and ran_there == 0  # the grouped count without a dataset; the join and the rest not
    assert here == there
    assert here[3] == "QueryError"
    too_small, _ = _pool_answers(store, requests[:1], in_process_up_to=len(store) - 1)
    assert too_small == here[:1]


def test_a_busy_server_process_sends_bounded_queries_to_its_workers(oxigraph_store) -> None:
    """A process the kernel gave most connections would otherwise do all their work on one core."""
    from vetgraph.server.workers import RUN_HERE_WHILE_AT_MOST

    requests = [QueryRequest(GROUPED, "json", None, 10.0, backlog=RUN_HERE_WHILE_AT_MOST),
                QueryRequest(GROUPED, "json", None, 10.0, backlog=RUN_HERE_WHILE_AT_MOST + 1)]
    answers, ran_here = _pool_answers(oxigraph_store.store, requests, in_process_up_to=10_000)
    assert ran_here == 1 and answers[0] == answers[1]


def test_the_result_cap_holds_for_queries_run_in_process(oxigraph_store) -> None:
    async def scenario() -> None:
        pool = WorkerPool(dumped(oxigraph_store.store, ox.RdfFormat.N_QUADS), size=1, in_process_up_to=10_000,
                          max_result_bytes=1000)
        await pool.start()
        try:
            from vetgraph.server.workers import ResultTooLarge

            with pytest.raises(ResultTooLarge):
                await pool.run(QueryRequest("SELECT * { ?s ?p ?o }", "json", None, 10.0))
            assert pool.ran_here == 1
        finally:
            await pool.close()

    asyncio.run(scenario())


def _processes_behind(url: str, tries: int = 60) -> set[int]:
    """The server processes that answer /health, over fresh connections (the kernel spreads them)."""
    seen = set()
    for _ in range(tries):
        seen.add(httpx.get(url + "health", timeout=10).json()["process"])
        if len(seen) > 1:
            break
    return seen


def test_keep_alive_clients_are_spread_evenly_over_the_members_whatever_the_kernel_chose(tmp_path: Path) -> None:
    # Four clients, one after another, each keeping its connection: 2 and 2, every round. The kernel's hash
    # alone gives that 3 times in 8 (balance.py), so three rounds of it without the hand-over: 1 in 19.
    process, url = start_serve(["--processes", "2", "--dist", "/nonexistent"])
    try:
        for _ in range(3):
            clients = [httpx.Client(base_url=url, timeout=10) for _ in range(4)]
            try:
                behind = [client.get("health").json()["process"] for client in clients]
                behind += [client.get("health").json()["process"] for client in clients]  # the same connections
                assert sorted(behind.count(pid) for pid in set(behind)) == [4, 4], behind
                answers = [c.post("sparql", data={"query": GROUPED}, headers={"Accept": "text/csv"}) for c in clients]
                assert all(a.status_code == 200 and a.text.startswith("p,n") for a in answers)
            finally:
                for client in clients:
                    client.close()
            time.sleep(0.5)  # the members see the connections closed
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_processes_share_the_port_keep_the_time_limit_replace_a_member_and_stop_on_sigterm(tmp_path: Path) -> None:
    with (tmp_path / "stderr").open("w") as err:
        process, url = start_serve(["--processes", "2", "--dist", "/nonexistent", "--timeout", "2"], stderr=err)
    try:
        members = _processes_behind(url)
        assert len(members) == 2 and process.pid not in members
        answered = httpx.post(url + "sparql", data={"query": GROUPED}, headers={"Accept": "text/csv"}, timeout=10)
        assert answered.status_code == 200 and answered.text.startswith("p,n")
        assert sum(httpx.get(url + "health").json()["queries_in_process"] for _ in range(10)) >= 1

        started = time.monotonic()
        stopped = httpx.post(url + "sparql", data={"query": PATHOLOGICAL[0]}, timeout=30)
        took = time.monotonic() - started
        assert stopped.status_code == 503 and "time limit" in stopped.text, stopped.text
        assert 2 - 0.2 <= took <= 2 + MARGIN, took

        victim = next(iter(members))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _processes_behind(url, tries=20)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"no member took the place of {victim}")
        everything = descendants(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(is_running(pid) for pid in everything):
        time.sleep(0.2)
    assert not [pid for pid in everything if is_running(pid)], "a member or a worker outlived the server"


@pytest.mark.parametrize("arguments, message", [
    (["--processes", "0"], "--processes must be at least 1"),
    (["--processes", "2", "--store", "http://127.0.0.1:9/query"], "--processes is for the local data"),
])
def test_processes_refuses_what_it_cannot_do(arguments: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "vetgraph", "serve", *arguments], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_by_default_small_data_get_a_process_per_core_and_larger_data_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from vetgraph.server import group
    from vetgraph.server.workers import IN_PROCESS_UP_TO

    def store_of(statements: int) -> ox.Store:
        store = ox.Store()
        store.extend(ox.Quad(ox.NamedNode(f"http://example.org/{n}"), ox.NamedNode("http://example.org/p"),
                             ox.Literal(str(n))) for n in range(statements))
        return store

    small, large = store_of(IN_PROCESS_UP_TO), store_of(IN_PROCESS_UP_TO + 1)
    for cores, expected in ((1, 1), (2, 2), (16, group.MAX_AUTO_PROCESSES)):
        monkeypatch.setattr(group.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert group.processes_for(small) == expected
        assert group.processes_for(large) == 1


def test_plain_serve_on_the_real_data_runs_the_default_number_of_processes(tmp_path: Path) -> None:
    from vetgraph.server.group import processes_for

    expected = processes_for(ox.Store())  # an empty store is small: one per usable core, at most 4
    with (tmp_path / "stderr").open("w") as err:
        process = subprocess.Popen([sys.executable, "-m", "vetgraph", "serve", "--port", "0", "--dist", "/nonexistent"],
                                   stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if expected > 1:
            assert f"with {expected} processes at http://" in first, first
        else:
            assert first.startswith("vetgraph serving the validated data at http://"), first
        url = first.strip().split(" at ")[-1]
        assert httpx.get(url + "health", timeout=10).json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_a_member_that_never_starts_listening_is_stopped_and_named() -> None:
    from vetgraph.errors import CannotRun
    from vetgraph.server.group import Group

    group = Group([sys.executable, "-c", "import time; time.sleep(60)"], 1, start_timeout=0.5)
    before = set(descendants(os.getpid()))
    started = time.monotonic()
    with pytest.raises(CannotRun, match="did not start within 0.5 s"):
        group.start()
    assert time.monotonic() - started < 10
    assert not [pid for pid in set(descendants(os.getpid())) - before if is_running(pid)]  # the member was killed
    group.channels.close()


def test_a_member_that_fails_at_start_is_named_with_its_exit_code() -> None:
    from vetgraph.errors import CannotRun
    from vetgraph.server.group import Group

    group = Group([sys.executable, "-c", "import sys; sys.exit(3)"], 1)
    with pytest.raises(CannotRun, match="failed to start \\(exit code 3\\)"):
        group.start()
    group.channels.close()
