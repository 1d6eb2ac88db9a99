"""Connections under pressure: uvicorn with a bounded number of open connections, a deadline for every
request to arrive whole, and one log line per interval instead of a traceback per refused `accept`.

Every connection holds a file descriptor. Without a bound, idle connections (or ones that send a request
a byte at a time) use up the process's descriptors: `accept` then fails in a loop, asyncio logs a
traceback for each failure and the server stops answering. Here:

* at most `max_connections` are open, fewer if the descriptor limit (RLIMIT_NOFILE) leaves less room;
  a connection over the bound closes the oldest one that has not sent a whole request (an idle or a
  slow one), so a flood of idle connections cannot lock out a client that asks something (`/health`
  keeps answering); only when every open connection has a request in progress is the new one refused
  with 503;
* a connection must deliver each whole request (head and body) within `request_timeout` seconds from
  when it opens or its previous answer was sent; trickling bytes does not reset the clock;
* a request head (request line and headers) may be at most `MAX_HEAD_BYTES` long, or 431 closes the
  connection: the parser keeps a head in memory until it is whole;
* such pressure, and `accept` failures should the descriptors still run out, are logged at most once
  per `LOG_INTERVAL` seconds, as counts.

The HTTP parser is httptools (llhttp, in C) on uvloop: the pure-Python h11 parser and asyncio's loop cost
the endpoint about a third of its throughput on small queries (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vetgraph.server.balance import Balancer

log = logging.getLogger("vetgraph.server")
LOG_INTERVAL = 10.0
#: Descriptors kept free for everything but connections: worker pipes, served files, logs, the listener.
RESERVED_FDS = 64
#: A response body up to this size leaves in one write with its head (a copy of it); a larger one after it.
JOIN_UP_TO = 64 * 1024
#: The longest request head accepted, as h11's default (uvicorn's other parser).
MAX_HEAD_BYTES = 16 * 1024
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def _plain_answer(status: str, text: str, *headers: str) -> bytes:
    """A whole HTTP answer written before any ASGI app sees the request; the connection closes after it."""
    body = text.encode()
    head = [f"HTTP/1.1 {status}", "content-type: text/plain; charset=utf-8", "x-content-type-options: nosniff",
            *headers, "connection: close", f"content-length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


_BUSY = _plain_answer("503 Service Unavailable", "the server has too many open connections; try again\n",
                      "retry-after: 5")
_HEAD_TOO_LONG = _plain_answer("431 Request Header Fields Too Large",
                               f"the request line and headers are longer than {MAX_HEAD_BYTES} bytes\n")


def descriptor_budget(max_connections: int) -> tuple[int, int]:
    """(connections, listen backlog) that fit the descriptor limit, raising the soft limit towards the hard
    one if needed. asyncio accepts up to `backlog` connections at once before any can be closed, so the
    backlog counts against the limit too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    backlog = min(socket.SOMAXCONN, 512, max(16, max_connections // 4))
    wanted = max_connections + backlog + RESERVED_FDS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(hard, wanted)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        room = max(soft - RESERVED_FDS, 8)
        backlog = max(4, min(backlog, room // 5))
        max_connections = max(4, room - backlog)
    return max_connections, backlog


class ConnectionGuard:
    """The shared state of one server's connections: who is waiting for a whole request, since when."""

    def __init__(self, max_connections: int, request_timeout: float, balancer: Balancer | None = None):
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        #: in a member of `serve --processes N`: the peers that take connections when this one has more
        self.balancer = balancer
        self.open: set[Any] = set()
        self._waiting: dict[Any, asyncio.TimerHandle] = {}  # insertion order = oldest first
        self._counts: Counter[str] = Counter()
        self._next_log = 0.0
        #: requests received whole and not answered yet, over all connections: this process's backlog
        self.in_progress = 0

    def opened(self, conn: GuardedProtocol) -> bool:
        """Admit a new connection, closing the oldest waiting one if the bound is reached; False: refused."""
        if len(self.open) >= self.max_connections:
            victim = next(iter(self._waiting), None)
            if victim is None:
                self._note("refused")
                conn.transport.write(_BUSY)
                conn.transport.close()
                return False
            self._note("closed idle to make room")
            self._close(victim)
        self.open.add(conn)
        self.update(conn)
        if self.balancer is not None:
            self.balancer.publish(len(self.open))
        return True

    def update(self, conn: GuardedProtocol) -> None:
        """Start the request clock when the connection waits for a request; stop it once one is whole."""
        if conn not in self.open:
            return
        if conn.answering:
            handle = self._waiting.pop(conn, None)
            if handle is not None:
                handle.cancel()
        elif conn not in self._waiting:
            self._waiting[conn] = asyncio.get_running_loop().call_later(self.request_timeout, self._expire, conn)

    def closed(self, conn: GuardedProtocol) -> None:
        self.open.discard(conn)
        handle = self._waiting.pop(conn, None)
        if handle is not None:
            handle.cancel()
        if self.balancer is not None:
            self.balancer.publish(len(self.open))

    def _expire(self, conn: GuardedProtocol) -> None:
        self._waiting.pop(conn, None)
        self._counts["timed out"] += 1
        self._close(conn)

    def _close(self, conn: GuardedProtocol) -> None:
        self.closed(conn)
        conn.transport.close()

    def _note(self, event: str) -> None:
        """Count a sign of pressure; log the counts at most once per interval."""
        self._counts[event] += 1
        now = time.monotonic()
        if now >= self._next_log:
            counts = ", ".join(f"{n} {what}" for what, n in sorted(self._counts.items()))
            log.warning("connection pressure: %d connections open (limit %d); since the last report: %s",
                        len(self.open), self.max_connections, counts)
            self._counts.clear()
            self._next_log = now + LOG_INTERVAL

    def exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The event loop's handler: an `accept` out of descriptors is counted, not logged with a traceback
        (asyncio retries it by itself); everything else goes to the default handler."""
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in _OUT_OF_RESOURCES:
            self._note(f"failed accepts ({errno.errorcode.get(error.errno, error.errno)})")
            return
        loop.default_exception_handler(context)


class _OneWriteResponses:
    """A connection's transport that sends a response head together with what is written next (the body, or
    its first chunk). uvicorn writes them separately: two TCP segments, and a client that wakes up twice,
    for what fits in one (a small query answer). 1xx heads pass at once; a held head goes out at the latest
    when the response is complete (`flush`) or the connection closes."""

    def __init__(self, transport: asyncio.Transport):
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            if len(data) > JOIN_UP_TO:  # a large body: two writes cost less than copying it
                self._transport.write(head)
            else:
                data = head + data
        elif data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 1"):
            self._head = bytes(data)
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's
        return getattr(self._transport, name)


#: The ASGI scope extension under which `GuardedProtocol` gives each request its `Disconnection`.
DISCONNECT_EXTENSION = "vetgraph.disconnect"
#: The ASGI scope extension under which it gives the `ConnectionGuard` (its `in_progress`: the backlog).
LOAD_EXTENSION = "vetgraph.load"


class Disconnection:
    """Tells a request's handler that its client closed the connection before the answer was complete: it
    calls `callback` (set by the handler, e.g. to cancel the request's query) and sets `happened`. A second
    task per query waiting on ASGI `receive` for the same news cost about 6 us (docs/performance.md)."""

    __slots__ = ("callback", "happened")

    def __init__(self) -> None:
        self.callback: Callable[[], object] | None = None
        self.happened = False

    def fire(self) -> None:
        self.happened = True
        if self.callback is not None:
            self.callback()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, reporting to a `ConnectionGuard` (`guarded_protocol` binds one)."""

    guard: ConnectionGuard
    #: whole requests received and not answered yet: while there is one, the request clock is stopped
    answering = 0
    _in_head = True  # reading a request head, or waiting for one
    _head_bytes = 0  # bytes received while in one unfinished head
    _ends = 0  # heads and messages that ended so far
    #: the peer that passed this connection on (it is served here whatever the load), or None
    received_from: int | None = None
    passed_on = False  # to a peer: nothing more to do here

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        balancer = self.guard.balancer
        if balancer is not None and self.received_from is None:
            peer = balancer.peer_for(len(self.guard.open))
            # Before a byte is read (uvloop and asyncio start reading after connection_made): the peer
            # reads the request from the socket as if it had accepted it. Closing this end of it (no
            # shutdown) leaves the connection to the peer's descriptor.
            if peer is not None and balancer.pass_on(peer, transport.get_extra_info("socket")):
                self.passed_on = True
                transport.abort()
                return
        super().connection_made(transport)
        self.transport = _OneWriteResponses(transport)  # type: ignore[assignment]
        if not self.guard.opened(self):
            self.connections.discard(self)
        if balancer is not None and self.received_from is not None:
            balancer.took_in(self.received_from)

    def data_received(self, data: bytes) -> None:
        ends = self._ends
        super().data_received(data)
        # Only a chunk in which no head or message ended belongs to one head as a whole (httptools does not
        # say where in a chunk a head starts); so at most one chunk of a head goes uncounted.
        if self._in_head and self._ends == ends:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
                self.transport.write(_HEAD_TOO_LONG)
                self.transport.close()
                return
        self.guard.update(self)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._ends += 1
        extensions = cast(dict[str, Any], self.scope.setdefault("extensions", {}))
        extensions[DISCONNECT_EXTENSION] = Disconnection()
        extensions[LOAD_EXTENSION] = self.guard
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._ends += 1
        if self.cycle is None or not self.cycle.response_complete:  # not answered early (e.g. 413)
            self.answering += 1
            self.guard.in_progress += 1
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        if self.answering > 0:
            self.answering -= 1
            self.guard.in_progress -= 1
        super().on_response_complete()
        self.guard.update(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.passed_on:
            return
        self.guard.closed(self)
        self.guard.in_progress -= self.answering  # requests it will never answer
        self.answering = 0
        cycle = self.cycle
        super().connection_lost(exc)
        if cycle is not None and not cycle.response_complete:  # the request uvicorn would report disconnected
            disconnection = cycle.scope.get("extensions", {}).get(DISCONNECT_EXTENSION)
            if isinstance(disconnection, Disconnection):
                disconnection.fire()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedProtocol]:
    """A protocol class reporting to `guard` (uvicorn takes a protocol class as `http=`)."""
    return type("GuardedHttpToolsProtocol", (GuardedProtocol,), {"guard": guard})


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, guard: ConnectionGuard, on_signal: Callable[[], None] | None,
                 on_stop: Callable[[], Awaitable[None]] | None):
        super().__init__(config)
        self.guard = guard
        self.on_signal = on_signal
        self.on_stop = on_stop
        self._stopping: asyncio.Future[None] | None = None
        self._passed: set[asyncio.Task[Any]] = set()

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        if self.on_signal is not None:
            self.on_signal()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self.guard.exception_handler)
        await super().startup(sockets)
        if self.guard.balancer is not None and not self.should_exit:
            self.guard.balancer.present()
            self.guard.balancer.publish(len(self.guard.open))
            self.guard.balancer.take_in(loop, self._serve_passed)

    def _serve_passed(self, connection: socket.socket, peer: int) -> None:
        """Serve a connection `peer` accepted, as uvicorn serves the ones it accepts."""

        def protocol() -> asyncio.Protocol:
            made = self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state)
            cast(GuardedProtocol, made).received_from = peer
            return made

        task = asyncio.ensure_future(asyncio.get_running_loop().connect_accepted_socket(protocol, connection))
        self._passed.add(task)
        task.add_done_callback(self._passed_done)

    def _passed_done(self, task: asyncio.Task[Any]) -> None:
        self._passed.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a connection passed from a peer could not be served: %s", task.exception())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.guard.balancer is not None:
            self.guard.balancer.stop_taking_in(asyncio.get_running_loop())
        # Requests still running a second before the graceful period ends are ended through `on_stop`
        # (their queries answer 503): uvicorn would cancel them, with a traceback each.
        grace = self.config.timeout_graceful_shutdown or 0
        early = asyncio.get_running_loop().call_later(max(grace - 1.0, 0.0), self._stop_early)
        try:
            await super().shutdown(sockets)
        finally:
            early.cancel()

    def _stop_early(self) -> None:
        if self.on_stop is not None and self.server_state.tasks:
            self._stopping = asyncio.ensure_future(self.on_stop())


def serve(app: Any, sock: socket.socket, *, max_connections: int, request_timeout: float, log_level: str,
          access_log: bool, on_signal: Callable[[], None] | None = None,
          on_stop: Callable[[], Awaitable[None]] | None = None, balancer: Balancer | None = None) -> None:
    """Run `app` with uvicorn on the listening socket `sock` until SIGINT/SIGTERM. `on_signal` is called in
    the signal handler (a SIGTERM to the process group reaches the helper processes at the same moment);
    `on_stop` ends the work of requests that would outlast the graceful shutdown; with `balancer` (a member
    of a group) connections are passed to and taken from the other members (balance.py)."""
    limit, backlog = descriptor_budget(max_connections)
    if limit < max_connections:
        log.warning("at most %d connections: the open-file limit (ulimit -n) leaves no room for %d", limit,
                    max_connections)
    guard = ConnectionGuard(limit, request_timeout, balancer)
    config = uvicorn.Config(app, http=guarded_protocol(guard), loop="auto", log_level=log_level, access_log=access_log,
                            lifespan="on", timeout_graceful_shutdown=3, backlog=backlog)
    _Server(config, guard, on_signal, on_stop).run(sockets=[sock])
