"""Query execution with time limits that actually hold.

pyoxigraph's `Store.query` cannot be interrupted: an aggregate over a huge join runs to its end inside
Rust, and a thread running it cannot be stopped. So user queries never run in the server process. They
run in a pool of worker processes, each over the finished on-disk store (copied into its memory when small,
see `_open_store`) or its own copy loaded from an N-Quads dump; a worker that passes the time limit is
killed (SIGKILL) and replaced, and the client gets an answer at the limit while the other workers go on
serving. The server reads the workers' replies through asyncio protocols (`_Channel`).

A query that runs long leaves the pool's lane for new queries (its worker drops to the lowest CPU
priority and another takes its place), so a few pathological queries cannot make short ones wait; the
long lane is bounded overall and per client (`WorkerPool`).

Workers are started through a fork server (`multiprocessing` "forkserver" context, modules preloaded), so
a replacement is a fork of a small, clean process (tens of milliseconds) rather than a fresh interpreter.
A worker dies with the fork server (PR_SET_PDEATHSIG), which ends with the server, so no worker outlives
it, even one busy inside a query; it ignores SIGINT (Ctrl-C in a terminal reaches the whole process
group: the server decides when its workers end). Once loaded, a worker locks itself down: it can no
longer open a file descriptor (RLIMIT_NOFILE set to the lowest free descriptor), so a SERVICE clause that
slipped past `querycheck` fails instead of making the server fetch another host, and optionally its
address space is capped (RLIMIT_AS).

`ThreadEngine` runs any other `Store` (e.g. a remote SPARQL endpoint, whose own HTTP timeout ends the
work) in a thread with the same interface.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib.term import Identifier

from vetgraph.server.group import die_with_parent
from vetgraph.server.querycheck import bounded
from vetgraph.stores import GRAPH_FORMATS, TABULAR_FORMATS, QueryError, QueryTimeout, ResultKind, Store
from vetgraph.terms import to_oxigraph

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger("vetgraph.server")
#: Seconds after which a running query counts as long and leaves the lane for new queries (the stored
#: queries take milliseconds; a person's ad-hoc query that takes longer can wait a little for CPU).
LONG_AFTER = 0.25
LOW_PRIORITY = 19  # the nice value of a long-lane worker
#: Workers copy a finished store into memory up to this many statements (`_open_store`): the 100x corpus
#: (119k) is copied in 0.7 s; the 1000x one (1.2M) stays on disk so that a restart takes seconds.
IN_MEMORY_UP_TO = 500_000
#: What a statement of an in-memory copy takes, generously (measured: 0.8 KiB of resident memory at 100x)
COPY_BYTES_PER_STATEMENT = 1024
#: Up to this many statements, a pool asked to (`in_process_up_to`, as each process of `serve --processes N`
#: does) keeps a copy in the server process and runs there, in the event loop, the queries whose work the
#: data's size bounds (`querycheck.bounded`): they end in milliseconds, so they need no killable process, and
#: skip the hop to one. Worth it only with a server process per core: alone, one process would do all the
#: work on one core (docs/performance.md).
IN_PROCESS_UP_TO = 10_000
#: ... but only while the server process has at most this many requests in progress, this one included: a
#: process the kernel gave most connections of a few busy clients would otherwise do all their work on one
#: core; beyond this backlog a bounded query goes to a worker, which another core can run.
RUN_HERE_WHILE_AT_MOST = 2


class EngineBusy(Exception):
    """No worker became free before the request's time limit."""


class ResultTooLarge(Exception):
    """The serialized result passed the configured cap."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"the result is larger than the limit of {limit} bytes")


class NotAcceptable(Exception):
    """The query's result kind cannot be written in any format the client accepts."""

    def __init__(self, kind: ResultKind):
        self.kind = kind
        super().__init__(kind)


class WorkerLost(Exception):
    """A worker died while running a query (e.g. it ran out of its memory allowance); `reason` says how."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class Overloaded(Exception):
    """A long-running query found no room in the long lane (full, or its client holds its share)."""


#: (default-graph-uri values, named-graph-uri values) of a SPARQL Protocol request
Dataset = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class QueryRequest:
    """One query to run: SELECT/ASK results are written as `tabular`, CONSTRUCT/DESCRIBE as `graph` (None:
    the client accepts no such format; NotAcceptable is raised if the query is of that kind). `dataset`
    holds the protocol's default-graph-uri / named-graph-uri lists; None means the union of all graphs.
    `client` identifies who asks (the peer address), for the per-client share of long-running queries;
    `backlog` how busy the server process is (see RUN_HERE_WHILE_AT_MOST)."""

    sparql: str
    tabular: str | None
    graph: str | None
    timeout: float
    bindings: Mapping[str, Identifier] | None = None
    dataset: Dataset | None = None
    client: str | None = None
    backlog: int = 0  # requests in progress in the server process, this one included (0: unknown)


@dataclass(frozen=True)
class Answer:
    kind: ResultKind
    format: str  # a key of TABULAR_FORMATS or GRAPH_FORMATS
    body: bytes


class Engine(ABC):
    """Runs SPARQL with a time limit and returns the serialized result."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def winding_down(self) -> None:  # noqa: B027 - optional hook
        """The server is about to stop (called from a signal handler): start nothing new."""

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many queries can run at once right now (for /health)."""

    @abstractmethod
    async def run(self, request: QueryRequest) -> Answer:
        """Run the query within its time limit and return the serialized result."""


# ---------------------------------------------------------------------------------------------------
# The worker process


class _TooLarge(Exception):
    pass


class _CappedSink(io.BytesIO):
    """A binary writer that refuses to grow past `limit` bytes (so a huge result stops early)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, data: ReadableBuffer, /) -> int:
        if self.tell() + memoryview(data).nbytes > self.limit:
            raise _TooLarge()
        return super().write(data)


def _lock_down(memory_limit: int | None, store_path: str | None = None) -> None:
    """No new file descriptors (so no sockets) from now on, but for the table files of an on-disk store,
    which RocksDB opens when a query first reads them (a 1000x store has dozens); optionally a cap on the
    address space."""
    import resource

    lowest_free = os.dup(0)
    os.close(lowest_free)
    table_files = len(os.listdir(store_path)) if store_path is not None else 0
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free + table_files, lowest_free + table_files))
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


def _dataset_options(dataset: Dataset | None) -> dict[str, Any]:
    """Store.query options: the union of all graphs by default, or the graphs the request names."""
    if not dataset or not (dataset[0] or dataset[1]):
        return {"use_default_graph_as_union": True}
    defaults, named = dataset
    options: dict[str, Any] = {}
    if defaults:
        options["default_graph"] = [ox.NamedNode(iri) for iri in defaults]
    else:
        options["use_default_graph_as_union"] = True
    if named:
        options["named_graphs"] = [ox.NamedNode(iri) for iri in named]
    return options


def _execute(
    store: ox.Store,
    sparql: str,
    tabular: str | None,
    graph: str | None,
    substitutions: dict,
    max_bytes: int,
    dataset: Dataset | None,
) -> tuple:
    """Run one query; the reply is a tuple (status, ...) that pickles without any import."""
    try:
        options = _dataset_options(dataset)
        raw = store.query(sparql, substitutions=substitutions or None, **options)
        sink = _CappedSink(max_bytes)
        # evaluation is lazy: most errors surface in serialize
        if isinstance(raw, ox.QueryTriples):
            kind, fmt = "graph", graph
            if not fmt:
                return ("unacceptable", kind)
            raw.serialize(output=sink, format=GRAPH_FORMATS[fmt][1])
        else:
            kind, fmt = ("select" if isinstance(raw, ox.QuerySolutions) else "ask"), tabular
            if not fmt:
                return ("unacceptable", kind)
            raw.serialize(output=sink, format=TABULAR_FORMATS[fmt][1])
        return ("ok", kind, fmt, sink.getvalue())
    except SyntaxError as error:
        return ("syntax", str(error.msg), error.lineno, error.offset)
    except _TooLarge:
        return ("too-large", max_bytes)
    except Exception as error:  # an evaluation error (type error, refused SERVICE ...): report, keep serving
        return ("error", f"{type(error).__name__}: {error}")


# Messages between the server and a worker are framed as multiprocessing.Connection frames them (the
# dump is sent with Connection.send_bytes before): a signed 4-byte big-endian length, or -1 and an 8-byte
# length; the payload is a plain pickle (the messages hold no file descriptors, which ForkingPickler is for).


def _framed(message: tuple) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    size = len(payload)
    return (struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!iQ", -1, size)) + payload


_INCOMPLETE = object()  # what _take_message gives while the buffer holds no whole message


def _take_message(buffer: bytearray) -> Any:
    """The first whole message in `buffer`, removed from it, or _INCOMPLETE."""
    if len(buffer) < 4:
        return _INCOMPLETE
    (size,) = struct.unpack_from("!i", buffer)
    start = 4
    if size == -1:
        if len(buffer) < 12:
            return _INCOMPLETE
        (size,) = struct.unpack_from("!Q", buffer, 4)
        start = 12
    if len(buffer) < start + size:
        return _INCOMPLETE
    message = pickle.loads(buffer[start:start + size])
    del buffer[:start + size]
    return message


class _WorkerPipe:
    """The worker's end, blocking: one read for a message that fits in 64 KiB (a Connection needs two)."""

    def __init__(self, fd: int):
        self.fd = fd
        self._buffer = bytearray()

    def receive(self) -> Any:
        while (message := _take_message(self._buffer)) is _INCOMPLETE:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        return message

    def send(self, message: tuple) -> None:
        data = memoryview(_framed(message))
        while data:
            data = data[os.write(self.fd, data):]


class _Lost:
    """Delivered by a channel whose worker closed its end (it died, or was killed)."""


_LOST = _Lost()


class _Channel(asyncio.Protocol):
    """The server's end of a worker's pipe, read by the event loop as data arrive: no blocking read of a large
    reply, no reader to add and remove per query."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._buffer = bytearray()
        self._replies: deque[Any] = deque()  # arrived and not taken yet
        self._waiter: asyncio.Future[bool] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (message := _take_message(self._buffer)) is not _INCOMPLETE:
            self._deliver(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._deliver(_LOST)

    def _deliver(self, item: Any) -> None:
        self._replies.append(item)
        if self._waiter is not None:
            _settle(self._waiter, True)

    def send(self, message: tuple) -> None:
        assert self.transport is not None
        self.transport.write(_framed(message))

    async def reply(self, timeout: float) -> Any:
        """The next message within `timeout` seconds, or None; EOFError once the worker's end is closed."""
        if not self._replies:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[bool] = loop.create_future()
            self._waiter = waiter
            expiry = loop.call_later(timeout, _settle, waiter, False)
            try:
                await waiter
            finally:
                expiry.cancel()
                self._waiter = None
            if not self._replies:
                return None
        if self._replies[0] is _LOST:
            raise EOFError("the worker closed its pipe")
        return self._replies.popleft()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _die_with_parent() -> None:
    """SIGKILL this process when its parent (the fork server) ends. The fork server ends when the server
    does (it watches a pipe from it), so a worker never outlives the server, even inside a long query."""
    die_with_parent(signal.SIGKILL)


def _let_go_of_the_fork_server() -> None:
    """Close this worker's copy of the fork server's "alive" pipe. The fork server ends when every holder
    of that pipe has closed it: the server and, by inheritance, each worker. Held here, a worker busy in
    a long query would keep the fork server (and so itself, see `_die_with_parent`) alive after the server
    died. A worker starts no processes of its own, so it has no use for the fork server."""
    from multiprocessing import forkserver

    holder = getattr(forkserver, "_forkserver", None)
    fd = getattr(holder, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        with contextlib.suppress(OSError):
            os.close(fd)
        holder._forkserver_alive_fd = None  # type: ignore[union-attr]


def _open_store(store_path: str, in_memory_up_to: int, memory_limit: int | None = None) -> tuple[ox.Store, bool]:
    """The finished store, opened read-only (any number of processes may, in milliseconds), or an
    in-memory copy of it when it holds at most `in_memory_up_to` statements and the copy takes at most a
    quarter of the worker's `memory_limit`: a query on the copy reads no RocksDB blocks and takes about 40 %
    less time on small data; a large store stays on disk so that a worker starts in milliseconds and does
    not hold a copy. The second value: whether it stayed on disk."""
    on_disk = ox.Store.read_only(store_path)
    statements = len(on_disk)
    if statements > in_memory_up_to or memory_limit and statements * COPY_BYTES_PER_STATEMENT > memory_limit // 4:
        return on_disk, True
    copy = ox.Store()
    copy.bulk_extend(on_disk)
    return copy, False  # the on-disk store is closed when `on_disk` goes, with its files


def _worker_main(conn: Connection, memory_limit: int | None, store_path: str | None = None,
                 in_memory_up_to: int = 0) -> None:
    """Entry point of a worker process: open the finished store (`store_path`, see `_open_store`) or load
    the dump sent through the pipe, lock down, answer queries until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _let_go_of_the_fork_server()
    try:
        on_disk = False
        if store_path is not None:
            store, on_disk = _open_store(store_path, in_memory_up_to, memory_limit)
        else:
            store = ox.Store()
            store.load(conn.recv_bytes(), format=ox.RdfFormat.N_QUADS)
        _lock_down(memory_limit, store_path if on_disk else None)
        pipe = _WorkerPipe(conn.fileno())
        pipe.send(("ready", len(store)))
        while True:
            pipe.send(_execute(store, *pipe.receive()))
    except (EOFError, OSError):  # the server closed the pipe (it stops, or gave up on this worker)
        return


# ---------------------------------------------------------------------------------------------------
# The pool, in the server process


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["vetgraph.server.workers"])
        return context
    return multiprocessing.get_context("spawn")


@dataclass(eq=False)  # identity, so workers can live in sets
class _Worker:
    process: Any  # multiprocessing.Process
    channel: _Channel
    dead: bool = False  # its process ended (seen on its sentinel)


def _settle(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _lower_priority(pid: int) -> None:
    """Nice 19 for every thread of the process: on a small machine a long query then takes only the CPU
    time that short queries leave. (Linux nice values are per thread; PRIO_PROCESS on the pid alone would
    touch the main thread only.)"""
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, LOW_PRIORITY)


def _exit_reason(code: int | None, memory_limit: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
        if -code in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS) and memory_limit:
            return f"it ended with {name}, most likely because it needed more memory than it is allowed"
        return f"it was ended by {name}"
    return f"it exited with code {code}" if code is not None else "it stopped answering"


class WorkerPool(Engine):
    """Worker processes over copies of one store; see the module docstring.

    Two lanes: `size` workers take new queries. A query still running after `long_after` seconds moves
    to the long lane: its worker gets the lowest CPU priority and a fresh worker takes its place, so a
    short query always finds a worker and the CPU. The long lane holds at most `long_slots` queries, at
    most `long_per_client` of them from one client (peer address); a query that would pass either cap
    is stopped with `Overloaded`. A long-lane worker is retired when its query ends (its priority cannot
    be raised again without privileges)."""

    def __init__(
        self,
        dump: bytes | Path,
        *,
        size: int = 2,
        long_slots: int | None = None,
        long_per_client: int | None = None,
        long_after: float = LONG_AFTER,
        max_result_bytes: int = 16 * 2**20,
        memory_limit: int | None = None,
        in_memory_up_to: int = IN_MEMORY_UP_TO,
        in_process_up_to: int = 0,
        start_timeout: float = 120.0,
    ):
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.long_slots = 2 * size if long_slots is None else long_slots
        self.long_per_client = max(1, self.long_slots // 2) if long_per_client is None else long_per_client
        self.long_after = long_after
        self.max_result_bytes = max_result_bytes
        self.memory_limit = memory_limit
        self.in_memory_up_to = in_memory_up_to
        self.in_process_up_to = in_process_up_to
        self.start_timeout = start_timeout
        # the data: N-Quads each worker loads into memory, or the folder of a finished store it opens read-only
        self._dump = dump if isinstance(dump, bytes) else None
        self._store_path = None if isinstance(dump, bytes) else str(dump)
        self._context = _context()
        self._lane: set[_Worker] = set()  # workers for new queries, idle or busy
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[tuple[asyncio.Future[_Worker | None], str | None]] = deque()  # (request, client)
        self._holder: dict[_Worker, str | None] = {}  # busy lane worker -> the client it serves
        self._long: dict[_Worker, str | None] = {}  # long-lane worker -> its client
        self._pending = 0  # replacements being started
        self._tasks: set[asyncio.Task] = set()
        self._started = False
        self._closed = False
        self.replaced = 0  # workers started to take the place of one that left the lane (for /health, tests)
        self._local: ox.Store | None = None  # the copy for bounded queries, see IN_PROCESS_UP_TO
        self.ran_here = 0  # bounded queries answered in this process (for /health, tests)

    @property
    def capacity(self) -> int:
        return len(self._lane)

    @property
    def long_running(self) -> int:
        return len(self._long)

    async def start(self) -> None:
        workers = await asyncio.gather(*(self._start_worker() for _ in range(self.size)))
        for worker in workers:
            self._admit(worker)
        if self.in_process_up_to > 0:
            self._local = await asyncio.to_thread(self._local_copy)
        self._started = True

    def _local_copy(self) -> ox.Store | None:
        """An in-memory copy for bounded queries, if the data hold at most `in_process_up_to` statements."""
        if self._dump is not None:
            if self._dump.count(b"\n") > self.in_process_up_to:  # N-Quads: a statement a line
                return None
            store = ox.Store()
            store.load(self._dump, format=ox.RdfFormat.N_QUADS)
            return store
        assert self._store_path is not None
        store, on_disk = _open_store(self._store_path, self.in_process_up_to)
        return None if on_disk else store

    def _start_process(self) -> tuple[Any, socket.socket]:
        """Start a worker process (blocking: run in a thread); its pipe's end as a socket for the loop."""
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, self.memory_limit, self._store_path,
                                                                           self.in_memory_up_to), daemon=True)
        try:
            process.start()
            if self._dump is not None:
                parent.send_bytes(self._dump)
            # a duplex Pipe is a Unix socket pair: the loop takes over a duplicate of the server's end
            return process, socket.socket(fileno=os.dup(parent.fileno()))
        finally:
            child.close()
            parent.close()

    async def _start_worker(self) -> _Worker:
        try:
            process, sock = await asyncio.to_thread(self._start_process)
        except (EOFError, OSError) as error:  # e.g. the fork server was killed a moment ago
            raise RuntimeError(f"a query worker failed to start: {error!r}") from None
        try:
            _, channel = await asyncio.get_running_loop().connect_accepted_socket(_Channel, sock)
        except BaseException:  # the process would be left without anyone to end it
            sock.close()
            process.kill()
            raise
        worker = _Worker(process, channel)
        try:
            reply = await channel.reply(self.start_timeout)
            if reply is None:
                reply = ("no answer within", self.start_timeout, "s")
        except EOFError as error:
            reply = (repr(error),)
        except asyncio.CancelledError:
            self._kill(worker)
            raise
        if reply[0] != "ready":
            self._kill(worker)
            raise RuntimeError(f"a query worker failed to start: {' '.join(map(str, reply))}")
        return worker

    def _admit(self, worker: _Worker) -> None:
        """A started worker joins the lane; its sentinel tells the pool at once if it dies while idle."""
        if self._closed:
            self._kill(worker)
            return
        self._lane.add(worker)
        asyncio.get_running_loop().add_reader(worker.process.sentinel, self._on_exit, worker)
        self._release(worker)

    def winding_down(self) -> None:
        self._closed = True  # a plain flag: safe to set from a signal handler

    def _on_exit(self, worker: _Worker) -> None:
        asyncio.get_running_loop().remove_reader(worker.process.sentinel)
        worker.dead = True
        if worker in self._idle:  # a busy worker's death is the running query's to report
            self._idle.remove(worker)
            if self._closed:  # e.g. a SIGTERM to the whole process group reached it too
                self._drop(worker)
                return
            log.warning("a query worker (pid %s) ended while idle (%s); starting another", worker.process.pid,
                        _exit_reason(worker.process.exitcode, self.memory_limit))
            self._drop(worker)

    def _kill(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_reader(worker.process.sentinel)
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.channel.close()
        # Reap it off the event loop (join waits for the kill to land).
        loop.run_in_executor(None, worker.process.join, 5)

    def _drop(self, worker: _Worker) -> None:
        """End a worker; if it was in the lane, start another in its place."""
        self._kill(worker)
        self._long.pop(worker, None)
        self._holder.pop(worker, None)
        if worker in self._lane:
            self._lane.discard(worker)
            self._refill()

    def _refill(self) -> None:
        if self._closed or not self._started:
            return
        for _ in range(self.size - len(self._lane) - self._pending):
            self.replaced += 1
            self._pending += 1
            task = asyncio.create_task(self._replacement())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _replacement(self) -> None:
        delay = 0.5
        counted = True
        try:
            while not self._closed:
                try:
                    worker = await self._start_worker()
                except RuntimeError as error:
                    log.error("%s; trying again in %g s", error, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
                    continue
                self._pending -= 1
                counted = False
                self._admit(worker)
                return
        finally:
            if counted:
                self._pending -= 1

    def _release(self, worker: _Worker) -> None:
        """A lane worker is free: to a waiting request of the client that holds the fewest lane workers
        (the longest-waiting among equals), or idle. So a client that sends many queries at once cannot
        make another client wait behind all of them."""
        self._holder.pop(worker, None)
        if worker.dead:
            self._drop(worker)
            return
        if not self._waiters:
            self._idle.append(worker)
            return
        holding = Counter(self._holder.values())
        waiting = [(holding[client], index) for index, (future, client) in enumerate(self._waiters)
                   if not future.done()]
        if waiting:
            _, index = min(waiting)
            future, client = self._waiters[index]
            del self._waiters[index]
            self._holder[worker] = client
            future.set_result(worker)
            return
        self._idle.append(worker)

    async def _acquire(self, deadline: float, client: str | None) -> _Worker:
        loop = asyncio.get_running_loop()
        while True:
            if self._idle:
                worker = self._idle.popleft()
                self._holder[worker] = client
            else:
                waiter: asyncio.Future[_Worker | None] = loop.create_future()
                entry = (waiter, client)
                self._waiters.append(entry)
                expiry = loop.call_later(max(deadline - loop.time(), 0.0), _settle, waiter, None)
                try:
                    handed = await waiter
                except asyncio.CancelledError:
                    late = waiter.result() if waiter.done() and not waiter.cancelled() else None
                    if late is not None:
                        self._release(late)  # handed over just as the request was abandoned
                    raise
                finally:
                    expiry.cancel()
                    # Usually `_release` took it out already. Not remove() under suppress(ValueError): the
                    # error's message is built with repr() of the entry, the future and the worker's process
                    # (which polls the process): 40 us of every query that waited for a worker.
                    if entry in self._waiters:
                        self._waiters.remove(entry)
                if handed is None:
                    raise EngineBusy()
                worker = handed
            if not worker.dead:
                return worker
            self._drop(worker)

    def _promote(self, worker: _Worker, client: str | None) -> None:
        """Move a worker whose query runs long to the long lane, or refuse (Overloaded)."""
        held = sum(1 for owner in self._long.values() if owner == client)
        ran = f"this query ran longer than {self.long_after:g} s"
        if held >= self.long_per_client:
            raise Overloaded(f"{ran} while {held} long-running {'query' if held == 1 else 'queries'} from your "
                             "address already ran here, as many as one client may run at once")
        if len(self._long) >= self.long_slots:
            raise Overloaded(f"{ran} while {len(self._long)} long-running queries already ran here, as many "
                             "as this server runs at once")
        self._lane.discard(worker)
        self._holder.pop(worker, None)
        self._long[worker] = client
        _lower_priority(worker.process.pid)
        self._refill()

    async def run(self, request: QueryRequest) -> Answer:
        if not self._started:
            raise RuntimeError("the worker pool is not started")
        substitutions = {ox.Variable(name): to_oxigraph(term) for name, term in (request.bindings or {}).items()}
        if (self._local is not None and request.backlog <= RUN_HERE_WHILE_AT_MOST and request.dataset is None
                and bounded(request.sparql)):
            self.ran_here += 1  # in the event loop: its work is bounded by the (small) data
            return _answer(_execute(self._local, request.sparql, request.tabular, request.graph, substitutions,
                                    self.max_result_bytes, None))
        loop = asyncio.get_running_loop()
        timeout = request.timeout
        deadline = loop.time() + timeout
        message = (request.sparql, request.tabular, request.graph, substitutions, self.max_result_bytes,
                   request.dataset)
        while True:
            worker = await self._acquire(deadline, request.client)
            if not worker.channel.lost:
                worker.channel.send(message)
                break
            self._drop(worker)  # it died while idle, a moment before its sentinel told: take another
        try:
            reply = await worker.channel.reply(min(self.long_after, max(deadline - loop.time(), 0.001)))
            if reply is None and deadline - loop.time() > 0:
                self._promote(worker, request.client)
                reply = await worker.channel.reply(max(deadline - loop.time(), 0.001))
            if reply is None:
                self._drop(worker)
                raise QueryTimeout(f"the query ran past the time limit of {timeout:g} s")
        except EOFError:
            await loop.run_in_executor(None, worker.process.join, 1.0)
            reason = ("the server is shutting down" if self._closed
                      else _exit_reason(worker.process.exitcode, self.memory_limit))
            self._drop(worker)
            raise WorkerLost(reason) from None
        except (asyncio.CancelledError, Overloaded):
            self._drop(worker)  # its late reply must not reach the next request
            raise
        if worker in self._long:
            self._drop(worker)  # a long-lane worker is retired; the lane was refilled when it left
        else:
            self._release(worker)
        return _answer(reply)

    async def close(self) -> None:
        """End every worker. A busy worker's query learns it on its pipe and answers its client (so its
        pipe is closed there, after its reader is removed)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for waiter, _ in self._waiters:
            _settle(waiter, None)
        idle = set(self._idle)
        self._idle.clear()
        for worker in [*self._lane, *self._long]:
            if worker in idle:
                self._kill(worker)
            else:
                with contextlib.suppress(Exception):
                    asyncio.get_running_loop().remove_reader(worker.process.sentinel)
                with contextlib.suppress(Exception):
                    worker.process.kill()


def _answer(reply: tuple) -> Answer:
    status = reply[0]
    if status == "ok":
        return Answer(reply[1], reply[2], reply[3])
    if status == "syntax":
        raise QueryError(reply[1], reply[2], reply[3])
    if status == "unacceptable":
        raise NotAcceptable(reply[1])
    if status == "too-large":
        raise ResultTooLarge(reply[1])
    raise QueryError(reply[1])


class ThreadEngine(Engine):
    """Any `Store` (e.g. `vetgraph.remote.RemoteStore`) in threads. The thread cannot be killed: the store's
    own timeout (the remote endpoint's HTTP timeout) must end the work; the client gets its answer at
    the limit either way."""

    def __init__(self, store: Store, *, max_result_bytes: int = 16 * 2**20, concurrency: int = 8):
        self.store = store
        self.max_result_bytes = max_result_bytes
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency

    @property
    def capacity(self) -> int:
        return self._concurrency

    async def run(self, request: QueryRequest) -> Answer:
        if request.dataset and (request.dataset[0] or request.dataset[1]):
            raise QueryError("default-graph-uri and named-graph-uri are not supported in front of a remote store")
        timeout = request.timeout

        def work() -> Answer:
            result = self.store.query(request.sparql, request.bindings, timeout)
            fmt = request.graph if result.kind == "graph" else request.tabular
            if fmt is None:
                raise NotAcceptable(result.kind)
            body = result.serialize(fmt)
            if len(body) > self.max_result_bytes:
                raise ResultTooLarge(self.max_result_bytes)
            return Answer(result.kind, fmt, body)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except asyncio.TimeoutError:
            raise EngineBusy() from None
        try:
            return await asyncio.wait_for(asyncio.to_thread(work), max(deadline - loop.time(), 0.001))
        except asyncio.TimeoutError:
            raise QueryTimeout(f"the query ran past the time limit of {timeout:g} s") from None
        finally:
            self._slots.release()
