"""What goes over the wire: responses leave in one write (head and body together), 1xx and HEAD answers are not
held back, worker replies are framed as multiprocessing.Connection frames them, and the pool does no costly
work per query (it once built an error message with repr() of every waiting worker's process)."""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
from pathlib import Path

import pyoxigraph as ox
import pytest

from tests.helpers.rdf import dumped
from tests.helpers.servers import start_serve, stop_process
from vetgraph.server.connections import JOIN_UP_TO, _OneWriteResponses
from vetgraph.server.workers import QueryRequest, WorkerPool, _Channel, _Worker


class _Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_a_response_head_leaves_with_the_write_after_it() -> None:
    recording = _Recording()
    transport = _OneWriteResponses(recording)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert recording.writes == []
    transport.write(b"ok")
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # interim answers pass at once
    transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # no body follows: flushed when the response is done
    transport.flush()
    large = b"x" * (JOIN_UP_TO + 1)  # not copied to be joined: two writes
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(large)
    transport.write(b"HTTP/1.1 400 Bad Request\r\n\r\nbad")  # a whole answer, then the connection closes
    transport.close()  # what is held goes out before
    assert recording.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", b"HTTP/1.1 100 Continue\r\n\r\n",
                                b"HTTP/1.1 204 No Content\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", large,
                                b"HTTP/1.1 400 Bad Request\r\n\r\nbad"]
    assert recording.closed
    assert transport.is_closing()  # everything else is the transport's


def _frame(message: object) -> bytes:
    payload = pickle.dumps(message)
    return struct.pack("!i", len(payload)) + payload


def test_worker_replies_are_read_in_pieces_or_several_at_once_and_a_lost_worker_is_an_eof() -> None:
    async def scenario() -> list[object]:
        channel = _Channel()
        large = ("ok", "select", "json", b"x" * 300_000)
        stream = _frame(large) + _frame(("second",))
        long_header = pickle.dumps(("long length form",))
        stream += struct.pack("!iQ", -1, len(long_header)) + long_header  # how Connection frames over 2 GiB
        for start in range(0, len(stream), 65536):
            channel.data_received(stream[start:start + 65536])
        got = [await channel.reply(1.0) for _ in range(3)]
        got.append(await channel.reply(0.01))  # nothing more: None at the timeout
        channel.connection_lost(None)
        with pytest.raises(EOFError):
            await channel.reply(1.0)
        return [large == got[0], *got[1:]]

    assert asyncio.run(scenario()) == [True, ("second",), ("long length form",), None]


def test_queries_that_wait_for_a_worker_cost_no_repr_of_the_workers() -> None:
    """More queries than workers: each waits in the queue, and leaving it must not format the worker."""

    calls: list[int] = []

    def counted(self: object) -> str:  # reprlib, which asyncio uses, swallows exceptions: count instead
        calls.append(1)
        return "worker"

    async def scenario() -> list[bytes]:
        store = ox.Store()
        store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o")))
        pool = WorkerPool(dumped(store, ox.RdfFormat.N_QUADS), size=1)
        await pool.start()
        try:
            answers = await asyncio.gather(*(pool.run(QueryRequest(f"ASK {{ ?s ?p ?o }} # {n}", "json", None, 10.0))
                                             for n in range(20)))
            return [answer.body for answer in answers]
        finally:
            await pool.close()

    original = _Worker.__repr__
    _Worker.__repr__ = counted  # type: ignore[method-assign]
    try:
        bodies = asyncio.run(scenario())
    finally:
        _Worker.__repr__ = original  # type: ignore[method-assign]
    assert len(bodies) == 20 and all(b"true" in body for body in bodies)
    assert calls == []


def _exchange(url: str, request: bytes, until: bytes) -> bytes:
    host, port = url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while until not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_head_and_expect_100_continue_over_a_real_connection(tmp_path: Path) -> None:
    with (tmp_path / "err.txt").open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent"], stderr=err)
    try:
        # HEAD: a head and no body; the same connection then answers a GET whole
        both = _exchange(url, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
                              b"Connection: close\r\n\r\n", b"}")
        assert both.startswith(b"HTTP/1.1 200 OK\r\n") and both.count(b"HTTP/1.1 200 OK") == 2
        assert both.rstrip().endswith(b"}")
        # Expect: 100-continue gets its interim answer before the body is sent
        body = b"ASK { ?s ?p ?o }"
        head = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\nContent-Type: application/sparql-query\r\n"
                b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
        host, port = url.split("//")[1].rstrip("/").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(head)
            interim = connection.recv(100)
            connection.sendall(body)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.rstrip().endswith(b"true"), answer
    finally:
        stop_process(process)


def test_a_connection_whose_body_ends_after_an_early_answer_is_closed_when_idle(tmp_path: Path) -> None:
    """A body over the limit is answered 413 at once; its rest, arriving afterwards, completes a request that
    is already answered. It must not count as one being answered (the request clock would stay stopped and an
    idle connection would be held for ever)."""
    import time

    with (tmp_path / "err.txt").open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--request-timeout", "1", "--max-body-kb", "1"],
                                   stderr=err)
    try:
        host, port = url.split("//")[1].rstrip("/").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                               b"Content-Length: 2000\r\n\r\n")
            answer = connection.recv(65536)
            assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
            connection.sendall(b"x" * 2000)
            started = time.monotonic()
            connection.settimeout(10)
            try:
                while connection.recv(65536):
                    pass
            except (ConnectionResetError, TimeoutError):
                pass
            waited = time.monotonic() - started
        assert waited < 4, f"the idle connection was held {waited:.1f} s"
    finally:
        stop_process(process)
