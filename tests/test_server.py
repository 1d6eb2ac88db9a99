"""The SPARQL 1.1 Protocol endpoint of `vetgraph serve`: every method and media type, content negotiation
with q-values, errors with the parser's message, refused updates and SERVICE, the service description,
limits on request and result size, CORS. Runs the real app (with its worker processes) over the real data.
"""

from __future__ import annotations

import asyncio
import csv
import http.server
import io
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from httpx import Response
from rdflib import Graph, Literal, URIRef
from starlette.testclient import TestClient

from tests.helpers.rdf import dumped
from tests.helpers.servers import app_client
from vetgraph.config import UNCONFIRMED_GRAPH
from vetgraph.queries import load_catalogue
from vetgraph.server.querycheck import inspect
from vetgraph.server.workers import QueryRequest, WorkerPool
from vetgraph.stores import QueryError

INSIGHT_1 = URIRef("https://w3id.org/vetgraph/id/insight/1")
INSIGHTS = "PREFIX vet: <https://w3id.org/vetgraph/def#> SELECT ?i ?n { ?i a vet:Insight ; vet:number ?n } ORDER BY ?n"
CONSTRUCT = "CONSTRUCT { ?i ?p ?o } WHERE { BIND(<https://w3id.org/vetgraph/id/insight/1> AS ?i) ?i ?p ?o }"
ASK = "ASK { <https://w3id.org/vetgraph/id/insight/1> ?p ?o }"
SELECT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.fixture(scope="module")
def client(oxigraph_store, loaded) -> Iterator[TestClient]:
    options = {"ontology": loaded.ontology, "catalogue": load_catalogue(), "timeout": 10, "workers": 2}
    with app_client(oxigraph_store, **options) as test_client:
        yield test_client


def _send(client: TestClient, query: str, method: str, media_type: str) -> Response:
    """Send `query` to /sparql the way `method` says: GET, POST of a form, or POST of the query itself."""
    headers = {"Accept": media_type}
    if method == "get":
        return client.get("/sparql", params={"query": query}, headers=headers)
    if method == "post-form":
        return client.post("/sparql", data={"query": query}, headers=headers)
    return client.post("/sparql", content=query.encode(),
                       headers={**headers, "Content-Type": "application/sparql-query"})


def _insight_numbers(body: bytes, media_type: str) -> list[int]:
    """The ?n column of the INSIGHTS query, read from any of the four result formats."""
    if media_type.endswith("json"):
        return [int(b["n"]["value"]) for b in json.loads(body)["results"]["bindings"]]
    if media_type.endswith("xml"):
        ns = "{http://www.w3.org/2005/sparql-results#}"
        root = ET.fromstring(body)
        counts = []
        for b in root.iter(f"{ns}binding"):
            if b.get("name") == "n":
                literal = b.find(f"{ns}literal")
                assert literal is not None and literal.text is not None
                counts.append(int(literal.text))
        return counts
    if media_type == "text/csv":
        return [int(row["n"]) for row in csv.DictReader(io.StringIO(body.decode()))]
    rows = list(csv.reader(io.StringIO(body.decode()), delimiter="\t"))
    column = rows[0].index("?n")
    return [int(row[column].split("^^")[0].strip('"')) for row in rows[1:]]


# --- methods x media types ---------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", list(SELECT_TYPES))
@pytest.mark.parametrize("method", ["get", "post-form", "post-direct"])
def test_select_in_every_result_format_by_every_method(client, media_type, method) -> None:
    response = _send(client, INSIGHTS, method, media_type)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]
    assert _insight_numbers(response.content, media_type) == list(range(1, 9))


@pytest.mark.parametrize("media_type", list(GRAPH_TYPES))
@pytest.mark.parametrize("method", ["get", "post-form", "post-direct"])
def test_construct_in_every_rdf_format_by_every_method(client, oxigraph_store, media_type, method) -> None:
    response = _send(client, CONSTRUCT, method, media_type)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    graph = Graph().parse(data=response.content, format=GRAPH_TYPES[media_type])
    expected = oxigraph_store.query(CONSTRUCT).graph
    assert set(graph) == set(expected) and len(graph) > 5


def test_ask_answers_true_and_false(client) -> None:
    assert client.get("/sparql", params={"query": ASK}).json() == {"head": {}, "boolean": True}
    missing = ASK.replace("insight/1", "insight/99")
    assert client.get("/sparql", params={"query": missing}).json()["boolean"] is False


def test_accept_q_values_and_format_parameter_choose_the_format(client) -> None:
    picked = client.get("/sparql", params={"query": INSIGHTS},
                        headers={"Accept": "text/csv;q=0.5, application/sparql-results+xml"})
    assert picked.headers["content-type"].startswith("application/sparql-results+xml")
    low = client.get("/sparql", params={"query": INSIGHTS},
                     headers={"Accept": "application/sparql-results+json;q=0.1, text/*;q=0.6"})
    assert low.headers["content-type"].startswith("text/csv")  # text/csv comes before TSV in server order
    excluded = client.get("/sparql", params={"query": INSIGHTS},
                          headers={"Accept": "text/csv;q=0, */*;q=0.5"})
    assert excluded.headers["content-type"].startswith("application/sparql-results+json")
    by_param = client.get("/sparql", params={"query": INSIGHTS, "format": "tsv"}, headers={"Accept": "text/csv"})
    assert by_param.headers["content-type"].startswith("text/tab-separated-values")
    alias = client.get("/sparql", params={"query": INSIGHTS}, headers={"Accept": "application/json"})
    assert alias.headers["content-type"].startswith("application/sparql-results+json")


def test_406_when_no_acceptable_format(client) -> None:
    select = client.get("/sparql", params={"query": INSIGHTS}, headers={"Accept": "text/turtle"})
    assert select.status_code == 406
    assert "application/sparql-results+json" in select.text
    construct = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert construct.status_code == 406
    assert "text/turtle" in construct.text
    unknown = client.get("/sparql", params={"query": INSIGHTS, "format": "yaml"})
    assert unknown.status_code == 400 and "unknown format" in unknown.text


def test_syntax_error_is_400_with_the_parsers_message(client) -> None:
    bad = "SELECT * WHERE { ?s ?p }"
    with pytest.raises(SyntaxError) as parser:
        ox.Store().query(bad)
    response = client.get("/sparql", params={"query": bad})
    assert response.status_code == 400
    assert str(parser.value.msg) in response.text


def test_evaluation_error_is_400_with_a_message(client) -> None:
    response = client.get("/sparql", params={"query": 'SELECT * { BIND(REGEX("a", "(") AS ?x) }'})
    # Oxigraph evaluates an invalid regex to an error (unbound), so this still answers; a wrong dataset IRI
    # is a real evaluation-time failure:
    assert response.status_code == 200
    failing = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": "not an iri"})
    assert failing.status_code == 400 and failing.text.strip()


# --- read-only, no SERVICE --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sparql-update-body", "form-update", "get-update", "update-in-query"])
def test_updates_are_refused(client, how) -> None:
    update = "INSERT DATA { <urn:x> <urn:y> <urn:z> }"
    if how == "sparql-update-body":
        response = client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"})
    elif how == "form-update":
        response = client.post("/sparql", data={"update": update})
    elif how == "get-update":
        response = client.get("/sparql", params={"update": update})
    else:
        response = client.get("/sparql", params={"query": "PREFIX ex: <urn:ex:> " + update})
    assert response.status_code == 403
    assert "read-only" in response.text
    assert client.get("/sparql", params={"query": "ASK { <urn:x> <urn:y> <urn:z> }"}).json()["boolean"] is False


SERVICE_QUERIES = [
    "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    r"SELECT * { \u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "PREFIX ex: <urn:ex:>\nSELECT * { ?s ex:a\\# SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * {?s ?p ?o} # comment\n; SERVICE<http://127.0.0.1:9/>{}",
]
NOT_SERVICE = [
    "SELECT * { ?s ?p ?o } LIMIT 1 # a SERVICE in a comment",
    'SELECT ?x { BIND("SERVICE <http://127.0.0.1:9/>" AS ?x) }',
    "SELECT ?x { BIND('''multi\nline SERVICE''' AS ?x) }",
    "PREFIX ex: <urn:service:> SELECT ?service { ?service ex:SERVICE ?o } LIMIT 1",
    "SELECT * { <urn:x#SERVICE> ?p ?o }",
]


@pytest.mark.parametrize("query", SERVICE_QUERIES)
def test_service_is_refused(client, query) -> None:
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 403, response.text
    assert "SERVICE" in response.text


@pytest.mark.parametrize("query", NOT_SERVICE)
def test_service_in_comments_strings_iris_and_names_is_not_refused(client, query) -> None:
    assert not inspect(query).service
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 200, response.text


def test_query_forms_are_recognised() -> None:
    assert inspect("PREFIX a: <urn:a> BASE <urn:b> # c\n select * {}").form == "SELECT"
    assert inspect("construct where { ?s ?p ?o }").form == "CONSTRUCT"
    assert inspect("DELETE WHERE { ?s ?p ?o }").update
    assert not inspect("SELECT (RAND() AS ?r) {}").deterministic
    assert inspect("SELECT ?rand {}").deterministic


@pytest.mark.parametrize("query", [*SERVICE_QUERIES, *NOT_SERVICE, INSIGHTS, CONSTRUCT, ASK, "SELECT (NOW() AS ?t) {}",
                                   "select (\\u0052AND() as ?r) {}", "PREFIX uuid: <urn:u> SELECT * { ?s uuid:x ?o }",
                                   "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "# only a comment", ""])
def test_the_quick_check_agrees_with_reading_every_keyword(query) -> None:
    """inspect() reads only the leading keyword of a text in which no refused or nondeterministic word can be."""
    from vetgraph.server.querycheck import NONDETERMINISTIC, QueryInfo
    from vetgraph.sparql_lexer import QUERY_FORMS, UPDATE_KEYWORDS, keywords, leading_keyword

    words = keywords(query)
    first = leading_keyword(words)
    assert inspect(query) == QueryInfo(first if first in QUERY_FORMS else None, first in UPDATE_KEYWORDS,
                                       "SERVICE" in words, not any(w in NONDETERMINISTIC for w in words))


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.hits.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


def test_workers_cannot_fetch_even_if_the_check_is_bypassed() -> None:
    """Defence in depth: a worker has no free file descriptors, so SERVICE fails without any request."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hits = []
    query = f"SELECT * {{ SERVICE <http://127.0.0.1:{server.server_port}/sparql> {{ ?s ?p ?o }} }}"

    async def scenario() -> tuple[str, bytes]:
        pool = WorkerPool(dumped(ox.Store(), ox.RdfFormat.N_QUADS), size=1)
        await pool.start()
        try:
            with pytest.raises(QueryError) as failure:
                await pool.run(QueryRequest(query, "json", None, 5.0))
            answer = await pool.run(QueryRequest("ASK {}", "json", None, 5.0))  # the worker still serves
            return failure.value.message, answer.body
        finally:
            await pool.close()

    try:
        message, body = asyncio.run(scenario())
    finally:
        server.shutdown()
    assert "open files" in message
    assert _Recorder.hits == []
    assert b"true" in body


# --- service description, dataset, limits, CORS ----------------------------------------------------------


def test_service_description_in_rdf_and_query_ui_for_browsers(client, oxigraph_store) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    services = list(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef(sd + "Service")))
    assert len(services) == 1
    assert (services[0], URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in graph
    assert (None, URIRef(sd + "resultFormat"), URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON")) in graph
    assert (None, URIRef("http://rdfs.org/ns/void#triples"), Literal(len(oxigraph_store))) in graph
    page = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and "yasgui.min.js" in page.text


def test_dataset_parameters_select_the_graphs(client, oxigraph_store) -> None:
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    everything = client.get("/sparql", params={"query": count}).json()
    only_unconfirmed = client.get("/sparql", params={"query": count, "default-graph-uri": UNCONFIRMED_GRAPH}).json()
    expected = len(list(oxigraph_store.store.quads_for_pattern(None, None, None, ox.NamedNode(UNCONFIRMED_GRAPH))))
    assert int(only_unconfirmed["results"]["bindings"][0]["n"]["value"]) == expected
    assert expected > 0  # the real data has unconfirmed statements: the two counts below differ
    # the union default graph counts a statement once per graph that holds it, as Oxigraph's own store does
    assert int(everything["results"]["bindings"][0]["n"]["value"]) == len(oxigraph_store.store)


def test_post_without_a_known_content_type_is_415_and_without_query_400(client) -> None:
    response = client.post("/sparql", content=b"SELECT * {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert client.post("/sparql", data={"nothing": "x"}).status_code == 400
    assert client.post("/sparql", content=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"}
                       ).status_code == 400


def test_request_body_over_the_limit_is_413(oxigraph_store) -> None:
    with app_client(oxigraph_store, max_body_bytes=1000, workers=1) as small:
        big = "SELECT * { ?s ?p ?o } #" + "x" * 2000
        response = small.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
        assert response.status_code == 413 and "1000 bytes" in response.text
        assert small.post("/sparql", data={"query": "ASK {}"}).status_code == 200


def test_result_over_the_limit_is_refused_with_a_message(oxigraph_store) -> None:
    with app_client(oxigraph_store, max_result_bytes=2000, workers=1, cache_bytes=0) as small:
        response = small.get("/sparql", params={"query": "SELECT * { ?s ?p ?o }"})
        assert response.status_code == 503
        assert "2000 bytes" in response.text and "LIMIT" in response.text
        assert small.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"}).status_code == 200


def test_cors_for_get_and_preflight(client) -> None:
    response = client.get("/sparql", params={"query": ASK}, headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options("/sparql", headers={"Origin": "https://example.org",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    data = client.get("/id/insight/1", headers={"Origin": "https://example.org", "Accept": "text/turtle"})
    assert data.headers["access-control-allow-origin"] == "*"


def test_health(client, oxigraph_store) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["triples"] == len(oxigraph_store) and body["query_workers"] == 2


def test_unknown_path_is_404_and_wrong_method_405(client) -> None:
    assert client.get("/nothing-here").status_code == 404
    assert client.delete("/sparql").status_code == 405


def test_a_worker_that_runs_out_of_memory_is_replaced() -> None:
    """A query that needs more memory than a worker may have kills only that worker: a clear error, and
    the pool is whole again at once."""
    from vetgraph.server.workers import WorkerLost

    data = "\n".join(f"<urn:s{i}> <urn:p> \"{'x' * 40}{i}\" ." for i in range(300))

    async def scenario() -> tuple[type, int, int, bytes]:
        store = ox.Store()
        store.load(data.encode(), format=ox.RdfFormat.N_TRIPLES)
        pool = WorkerPool(dumped(store, ox.RdfFormat.N_QUADS), size=1, memory_limit=256 * 2**20)
        await pool.start()
        try:
            greedy = "SELECT (STRLEN(GROUP_CONCAT(CONCAT(?a, ?b, ?c))) AS ?n) { ?s ?p ?a . ?t ?q ?b . ?u ?r ?c }"
            with pytest.raises(WorkerLost) as lost:
                await pool.run(QueryRequest(greedy, "json", None, 60.0))
            for _ in range(200):
                if pool.capacity == 1:
                    break
                await asyncio.sleep(0.05)
            answer = await pool.run(QueryRequest("ASK { ?s ?p ?o }", "json", None, 5.0))
            return lost.type, pool.capacity, pool.replaced, answer.body
        finally:
            await pool.close()

    kind, capacity, replaced, body = asyncio.run(scenario())
    assert kind.__name__ == "WorkerLost" and capacity == 1 and replaced == 1
    assert b"true" in body


def test_head_requests_answer_like_get_without_a_body(client) -> None:
    for path in ("/", "/id/insight/1", "/queries", "/health"):
        head = client.head(path, headers={"Accept": "text/html"})
        get = client.get(path, headers={"Accept": "text/html"})
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
