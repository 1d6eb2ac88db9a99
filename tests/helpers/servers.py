"""Servers for the tests, on 127.0.0.1 with free ports: starting, waiting for and stopping processes; the
`oxigraph serve` binary of the venv (pip package `oxigraph`); a tiny scripted HTTP server (answers given in
advance, requests recorded) for faults a real store will not produce on demand (500 then 200, 413 from a
proxy, 401 challenges); and the app in process, behind Starlette's TestClient."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from bench.common import stop_process
from tests.helpers.shared import FIXTURES, require_program
from vetgraph.config import PROJECT_ROOT

if TYPE_CHECKING:
    import pyoxigraph
    from starlette.testclient import TestClient

REMOTE_FIXTURE = FIXTURES / "remote" / "fixture.trig"


@contextmanager
def app_client(store, **options) -> Iterator[TestClient]:
    """A Starlette TestClient over `create_app(store, **options)`, its lifespan (worker pool) running."""
    from starlette.testclient import TestClient

    from vetgraph.server.app import create_app

    with TestClient(create_app(store, **options)) as client:
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str:
    candidate = Path(sys.executable).parent / "oxigraph"
    found = str(candidate) if candidate.exists() else shutil.which("oxigraph")
    return require_program(found, "oxigraph server", "pip install oxigraph")


def wait_for_http(url: str, process: subprocess.Popen | None, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} before answering")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within {seconds} s")


class OxigraphServer:
    """`oxigraph serve` on a folder; can be killed (SIGKILL) and started again on the same data."""

    def __init__(self, location: Path):
        self.binary = oxigraph_binary()
        self.location = location
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OxigraphServer:
        for _ in range(3):  # a free port can be taken by someone else before we bind it: try another
            self.port = free_port()
            self.process = subprocess.Popen(
                [self.binary, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # a full pipe nobody reads would block it
            )
            try:
                wait_for_http(self.base + "/", self.process, 20, "oxigraph serve")
                return self
            except RuntimeError:
                self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)


# -- a scripted fake server ---------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: close the connection without any answer (simulates a reset)
    drop: bool = False


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body_size: int


_Server = TypeVar("_Server", bound="LoopbackHTTPServer")


class LoopbackHTTPServer:
    """A stdlib HTTP server on a free loopback port, run in a thread by `with`: the life cycle that the test
    stand-ins share (set `self.httpd` in __init__)."""

    httpd: ThreadingHTTPServer

    def start(self, handler: type[BaseHTTPRequestHandler], server: type[ThreadingHTTPServer] = ThreadingHTTPServer,
              ) -> None:
        self.httpd = server(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self: _Server) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class FakeServer(LoopbackHTTPServer):
    """Answers requests from a script, in order (the last answer repeats); records every request."""

    def __init__(self, answers: list[Answer]):
        self.answers = list(answers)
        self.seen: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                size = 0
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    while (length := int(self.rfile.readline().strip() or b"0", 16)) > 0:
                        size += len(self.rfile.read(length))
                        self.rfile.readline()
                    self.rfile.readline()
                else:
                    size = len(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                fake.seen.append(Seen(self.command, self.path, dict(self.headers.items()), size))
                answer = fake.answers.pop(0) if len(fake.answers) > 1 else fake.answers[0]
                if answer.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.start(Handler)



def remote_fixture_store() -> pyoxigraph.Store:
    """tests/data/remote/fixture.trig in an embedded pyoxigraph store."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(path=str(REMOTE_FIXTURE), format=ox.RdfFormat.TRIG)
    return store


#: Allowed lateness of an answer at the time limit on a loaded 2-core machine (kill, reply, HTTP).
MARGIN = 2.5
PATHOLOGICAL = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:p>|!<urn:p>)* ?b . ?c ?d ?e . ?f ?g ?h }",
]


def start_serve(args: list[str], cwd: Path = PROJECT_ROOT, **popen: Any) -> tuple[subprocess.Popen, str]:
    """Run `vetgraph serve ARGS --port 0` (`--processes 1` unless ARGS say); the URL it prints once it
    listens. `popen`: more Popen options (e.g. stderr to a file, a preexec_fn setting resource limits, a
    session of its own)."""
    # One server process unless the test asks for more: most tests look into one process's pool and caches.
    single = [] if any(a.startswith("--processes") for a in args) else ["--processes", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "vetgraph", "serve", "--port", "0", *single, *args],
        cwd=cwd, stdout=subprocess.PIPE, text=True, **{"stderr": subprocess.PIPE, **popen},
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        first = lines.get(timeout=90)
    except queue.Empty:
        process.kill()
        raise RuntimeError("vetgraph serve printed no URL within 90 s") from None
    url = first.strip().split(" at ")[-1]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "health", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"vetgraph serve at {url} did not become healthy")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an exited child nobody reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
