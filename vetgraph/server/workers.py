"""Query execution with time limits that actually hold.

pyoxigraph's `Store.query` cannot be interrupted: an aggregate over a huge join runs to its end inside
Rust, and a thread running it cannot be stopped. So user queries never run in the server process. They
run in a pool of worker processes, each holding its own copy of the store (loaded once from an N-Quads
dump); a worker that passes the time limit is killed (SIGKILL) and replaced, and the client gets an
answer at the limit while the other workers go on serving.

Workers are started through a fork server (`multiprocessing` "forkserver" context, modules preloaded), so
a replacement is a fork of a small, clean process (tens of milliseconds) rather than a fresh interpreter.
Once loaded, a worker locks itself down: it can no longer open a file descriptor (RLIMIT_NOFILE set to
the lowest free descriptor), so a SERVICE clause that slipped past `querycheck` fails instead of making
the server fetch another host, and optionally its address space is capped (RLIMIT_AS).

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
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib.term import Identifier

from vetgraph.store import GRAPH_FORMATS, TABULAR_FORMATS, QueryError, QueryTimeout, ResultKind, Store
from vetgraph.terms import to_oxigraph

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger("vetgraph.server")


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
    """A worker died while running a query (e.g. it ran out of its memory allowance)."""


#: (default-graph-uri values, named-graph-uri values) of a SPARQL Protocol request
Dataset = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class QueryRequest:
    """One query to run: SELECT/ASK results are written as `tabular`, CONSTRUCT/DESCRIBE as `graph` (None:
    the client accepts no such format; NotAcceptable is raised if the query is of that kind). `dataset`
    holds the protocol's default-graph-uri / named-graph-uri lists; None means the union of all graphs."""

    sparql: str
    tabular: str | None
    graph: str | None
    timeout: float
    bindings: Mapping[str, Identifier] | None = None
    dataset: Dataset | None = None


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


def _lock_down(memory_limit: int | None) -> None:
    """No new file descriptors (so no sockets) from now on; optionally a cap on the address space."""
    import resource

    lowest_free = os.dup(0)
    os.close(lowest_free)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, lowest_free))
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


def _worker_main(conn: Connection, memory_limit: int | None) -> None:
    """Entry point of a worker process: load the dump, lock down, answer queries until the pipe closes."""
    store = ox.Store()
    store.load(conn.recv_bytes(), format=ox.RdfFormat.N_QUADS)
    _lock_down(memory_limit)
    conn.send(("ready", len(store)))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(_execute(store, *request))


# ---------------------------------------------------------------------------------------------------
# The pool, in the server process


def _context() -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["vetgraph.server.workers"])
        return context
    return multiprocessing.get_context("spawn")


@dataclass(eq=False)  # identity, so workers can live in a set
class _Worker:
    process: Any  # multiprocessing.Process
    conn: Connection


class WorkerPool(Engine):
    """`size` worker processes over copies of one store; see the module docstring."""

    def __init__(
        self,
        dump: bytes,
        *,
        size: int = 2,
        max_result_bytes: int = 16 * 2**20,
        memory_limit: int | None = None,
        start_timeout: float = 120.0,
    ):
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.size = size
        self.max_result_bytes = max_result_bytes
        self.memory_limit = memory_limit
        self.start_timeout = start_timeout
        self._dump = dump
        self._context = _context()
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: set[_Worker] = set()
        self._spawning: set[asyncio.Task] = set()
        self._closed = False
        self.replaced = 0  # workers killed at the time limit or lost, then replaced (for /health and tests)

    @property
    def capacity(self) -> int:
        return len(self._workers)

    async def start(self) -> None:
        self._idle = asyncio.Queue()
        await asyncio.gather(*(self._spawn() for _ in range(self.size)))

    def _start_process(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child, self.memory_limit), daemon=True)
        process.start()
        child.close()
        parent.send_bytes(self._dump)
        return _Worker(process, parent)

    async def _spawn(self) -> None:
        worker = await asyncio.to_thread(self._start_process)
        try:
            reply = await self._receive(worker, self.start_timeout)
        except (asyncio.TimeoutError, EOFError, OSError) as error:
            self._kill(worker)
            raise RuntimeError(f"a query worker failed to start: {error!r}") from None
        if reply[0] != "ready":
            self._kill(worker)
            raise RuntimeError(f"a query worker failed to start: {reply!r}")
        if self._closed:
            self._kill(worker)
            return
        self._workers.add(worker)
        assert self._idle is not None
        self._idle.put_nowait(worker)

    async def _receive(self, worker: _Worker, timeout: float) -> tuple:
        """The worker's next reply, waiting on its pipe without blocking the event loop."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def on_readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, on_readable)
        try:
            await asyncio.wait_for(ready, timeout)
        finally:
            loop.remove_reader(fd)
        return worker.conn.recv()

    def _kill(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        with contextlib.suppress(Exception):
            worker.process.kill()
        with contextlib.suppress(Exception):
            worker.conn.close()
        # Reap it off the event loop (join waits for the kill to land).
        asyncio.get_running_loop().run_in_executor(None, worker.process.join, 5)

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self.replaced += 1
        if self._closed:
            return
        task = asyncio.create_task(self._respawn())
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

    async def _respawn(self) -> None:
        for attempt in range(3):
            try:
                await self._spawn()
                return
            except RuntimeError as error:
                log.error("%s (attempt %d)", error, attempt + 1)
                await asyncio.sleep(1.0)

    async def run(self, request: QueryRequest) -> Answer:
        if self._idle is None:
            raise RuntimeError("the worker pool is not started")
        loop = asyncio.get_running_loop()
        timeout = request.timeout
        deadline = loop.time() + timeout
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout)
        except asyncio.TimeoutError:
            raise EngineBusy() from None
        substitutions = {ox.Variable(name): to_oxigraph(term) for name, term in (request.bindings or {}).items()}
        message = (request.sparql, request.tabular, request.graph, substitutions, self.max_result_bytes,
                   request.dataset)
        try:
            worker.conn.send(message)
            reply = await self._receive(worker, max(deadline - loop.time(), 0.001))
        except asyncio.TimeoutError:
            self._replace(worker)
            raise QueryTimeout(f"the query ran past the time limit of {timeout:g} s") from None
        except (EOFError, OSError):
            self._replace(worker)
            raise WorkerLost() from None
        except asyncio.CancelledError:
            self._replace(worker)  # its late reply must not reach the next request
            raise
        self._idle.put_nowait(worker)
        return _answer(reply)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        for worker in list(self._workers):
            self._kill(worker)


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
