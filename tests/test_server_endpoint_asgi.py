"""The /sparql endpoint as a plain ASGI app: a client that walks away stops its query under any ASGI server
(by `receive`) and under ours (by the `Disconnection` our protocol fires), the answer sent without a
Response object carries the same head as one, and the cached format negotiation still refuses what it must.
Runs on an empty store with an engine that answers or hangs on demand; no worker processes."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlencode

import pytest

from vetgraph.server.app import create_app
from vetgraph.server.connections import DISCONNECT_EXTENSION, Disconnection
from vetgraph.server.sparql import Refusal, _send_answer, answer_response, result_offers
from vetgraph.server.workers import Answer, Engine, QueryRequest
from vetgraph.stores import OxigraphStore

QUERY = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"


class ScriptedEngine(Engine):
    """Answers at once with `body`, or (hang=True) never, noting whether its work was cancelled."""

    def __init__(self, body: bytes = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}', hang: bool = False):
        self.body = body
        self.hang = hang
        self.started = asyncio.Event()
        self.cancelled = False

    @property
    def capacity(self) -> int:
        return 1

    async def run(self, request: QueryRequest) -> Answer:
        self.started.set()
        if self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        if request.tabular is None:
            return Answer("graph", request.graph or "ttl", self.body)
        return Answer("select", request.tabular, self.body)


def _scope(accept: str, body: bytes, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/sparql", "raw_path": b"/sparql", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", accept.encode()),
                    (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


async def _call(engine: Engine, accept: str = "application/sparql-results+json", *,
                disconnect_after: float | None = None, disconnection: Disconnection | None = None) -> list[dict]:
    """Send one form POST through the whole app; with `disconnect_after`, the client goes away that many
    seconds after the query started (announced by `receive`, or by firing `disconnection`)."""
    app = create_app(OxigraphStore(), engine=engine, cache_bytes=0)
    body = urlencode({"query": QUERY}).encode()
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    gone = asyncio.Event()
    sent: list[dict] = []

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    extensions = None if disconnection is None else {DISCONNECT_EXTENSION: disconnection}
    call = asyncio.ensure_future(app(_scope(accept, body, extensions), receive, send))
    if disconnect_after is not None:
        assert isinstance(engine, ScriptedEngine)
        await asyncio.wait_for(engine.started.wait(), 5)
        await asyncio.sleep(disconnect_after)
        if disconnection is not None:
            disconnection.fire()
        else:
            gone.set()
    await asyncio.wait_for(call, 5)
    return sent


def _status(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def test_a_client_that_walks_away_under_another_asgi_server_stops_its_query() -> None:
    engine = ScriptedEngine(hang=True)
    sent = asyncio.run(_call(engine, disconnect_after=0.05))
    assert _status(sent) == 499 and engine.cancelled


def test_a_client_that_walks_away_under_our_server_stops_its_query_by_the_disconnection_callback() -> None:
    engine = ScriptedEngine(hang=True)
    disconnection = Disconnection()
    sent = asyncio.run(_call(engine, disconnect_after=0.05, disconnection=disconnection))
    assert _status(sent) == 499 and engine.cancelled
    assert disconnection.callback is None  # let go once the request ended


def test_a_client_gone_before_its_query_started_is_not_answered_a_result() -> None:
    engine = ScriptedEngine(hang=True)
    disconnection = Disconnection()
    disconnection.fire()
    sent = asyncio.run(_call(engine, disconnection=disconnection))
    assert _status(sent) == 499


def test_the_disconnection_is_not_taken_for_a_server_stop_nor_the_reverse() -> None:
    """A request cancelled from outside (the server stops) is cancelled, not answered 499."""
    async def scenario() -> None:
        engine = ScriptedEngine(hang=True)
        task = asyncio.ensure_future(_call(engine, disconnection=Disconnection()))
        await asyncio.wait_for(engine.started.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert engine.cancelled

    asyncio.run(scenario())


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv", "application/sparql-results+xml",
                                    "text/tab-separated-values"])
def test_an_answer_goes_out_with_the_head_a_response_object_would_give(accept: str) -> None:
    fmt = result_offers(accept).tabular
    assert fmt is not None
    answer = Answer("select", fmt.name, b"result bytes")

    async def messages(respond: Any) -> list[dict]:
        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        await respond(send)
        return sent

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    by_object = asyncio.run(messages(lambda send: answer_response(answer)(_scope(accept, b""), receive, send)))
    by_messages = asyncio.run(messages(lambda send: _send_answer(send, answer)))
    assert [m["type"] for m in by_messages] == [m["type"] for m in by_object]
    assert by_messages[0]["status"] == by_object[0]["status"] == 200
    assert sorted(by_messages[0]["headers"]) == sorted(by_object[0]["headers"])
    assert by_messages[1]["body"] == by_object[1]["body"] == b"result bytes"
    # through the whole app: the middlewares add to that head as to any other
    sent = asyncio.run(_call(ScriptedEngine(body=b"result bytes"), accept))
    headers = dict(sent[0]["headers"])
    assert headers[b"x-content-type-options"] == b"nosniff" and b"Accept" in headers[b"vary"]
    assert headers[b"content-type"].decode().startswith(fmt.media_type) and sent[1]["body"] == b"result bytes"


def test_the_cached_negotiation_answers_alike_and_refuses_unknown_formats_every_time() -> None:
    first = result_offers("text/csv;q=0.5, application/sparql-results+json", ["json"])
    assert result_offers("text/csv;q=0.5, application/sparql-results+json", ("json",)) == first
    assert first.tabular is not None and first.tabular.name == "json"
    for _ in range(2):
        with pytest.raises(Refusal) as refused:
            result_offers(None, ["no-such-format"])
        assert refused.value.status == 400
