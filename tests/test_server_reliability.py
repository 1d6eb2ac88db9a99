"""`vetgraph serve` under hostile and careless use, as real processes on loopback with bounded counts:
idle and half-sent connections beyond the open-file limit, pathological queries from several clients
(and clients that walk away), and the query workers' life cycle (a killed worker or fork server, Ctrl-C).

Distinct clients are distinct source addresses on loopback (127.0.0.2, 127.0.0.3, ...), as the server
tells clients apart by peer address."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.servers import MARGIN, PATHOLOGICAL, descendants, is_running, start_serve, stop_process
from vetgraph.server.connections import MAX_HEAD_BYTES

pytestmark = pytest.mark.slow
SIMPLE = "SELECT ?n {{ <https://w3id.org/vetgraph/id/insight/{i}> <https://w3id.org/vetgraph/def#number> ?n }}"


def _client(number: int, timeout: float = 60) -> httpx.Client:
    """An HTTP client whose connections come from 127.0.0.NUMBER (a client of its own for the server)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=f"127.0.0.{number}"), timeout=timeout)


def _address(url: str) -> tuple[str, int]:
    host, port = url.split("//")[1].rstrip("/").split(":")
    return host, int(port)


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _fork_server_and_workers(server_pid: int) -> tuple[int, list[int]]:
    fork_server = next(p for p in descendants(server_pid) if "multiprocessing.forkserver" in _command(p))
    return fork_server, descendants(fork_server)


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _post_ignoring_errors(url: str, query: str, source: str = "127.0.0.1") -> None:
    """A query whose answer does not matter (e.g. the server is about to be stopped under it)."""
    transport = httpx.HTTPTransport(local_address=source)
    with contextlib.suppress(httpx.HTTPError), httpx.Client(transport=transport, timeout=90) as client:
        client.post(url, data={"query": query})


def _closed_by_peer(connection: socket.socket) -> bool:
    connection.settimeout(5)
    try:
        return connection.recv(100) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture()
def stderr_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "stderr.txt"


# --- connections -------------------------------------------------------------------------------------------


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_idle_connections_beyond_the_file_limit_leave_health_answering(stderr_file: Path) -> None:
    """400 idle connections against a server allowed 256 open files: /health and queries still answer,
    and the log holds a few lines, not a traceback per refused accept."""
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent"], stderr=err, preexec_fn=_low_file_limit)
    idle: list[socket.socket] = []
    try:
        for _ in range(400):
            try:
                idle.append(socket.create_connection(_address(url), timeout=2))
            except OSError:
                pass  # the listen queue was full for a moment: fine, it is a flood
        time.sleep(1.0)
        started = time.monotonic()
        health = httpx.get(url + "health", timeout=5)
        assert health.status_code == 200 and health.json()["query_workers"] == 2
        assert time.monotonic() - started < 5
        query = httpx.get(url + "sparql", params={"query": SIMPLE.format(i=4)}, timeout=10)
        assert query.status_code == 200 and '"4"' in query.text
    finally:
        for connection in idle:
            connection.close()
        stop_process(process)
    log = stderr_file.read_text()
    assert "Traceback" not in log and "Too many open files" not in log
    assert len(log) < 2000, log[:2000]


def test_half_sent_requests_are_closed_at_the_request_timeout(stderr_file: Path) -> None:
    """A request head sent a byte at a time, or a body that stops short, does not hold a connection
    (and its descriptor) beyond --request-timeout."""
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--request-timeout", "1"], stderr=err)
    try:
        trickle = socket.create_connection(_address(url), timeout=5)
        trickle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        body = socket.create_connection(_address(url), timeout=5)
        body.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 100\r\n\r\nASK {")
        started = time.monotonic()
        closed_after = None
        while time.monotonic() - started < 6:
            try:
                trickle.sendall(b"X")  # one byte of a header line every 0.2 s
            except OSError:
                closed_after = time.monotonic() - started
                break
            time.sleep(0.2)
        assert closed_after is not None and closed_after < 4, closed_after
        assert _closed_by_peer(body)  # half a body: closed too, nothing answered
        trickle.close()
        body.close()
        assert httpx.get(url + "health", timeout=5).status_code == 200
    finally:
        stop_process(process)
    assert "Traceback" not in stderr_file.read_text()


def _answers(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    connection.settimeout(10)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_an_endless_request_head_gets_431_and_a_large_body_or_pipelined_requests_do_not(stderr_file: Path) -> None:
    """The parser keeps an unfinished head in memory: beyond MAX_HEAD_BYTES the connection is answered 431 and
    closed (h11, uvicorn's other parser, stops at the same size). A query body ten times that size, and
    requests pipelined in one packet, are not heads and pass."""
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent"], stderr=err)
    try:
        endless = socket.create_connection(_address(url), timeout=5)
        endless.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(OSError):  # the server may close while the rest is still being sent
            for _ in range(MAX_HEAD_BYTES // 1000 + 2):
                endless.sendall(b"X-Filler: " + b"x" * 988 + b"\r\n")
        answer = _answers(endless)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        endless.close()

        padding = "#" + "x" * (10 * MAX_HEAD_BYTES) + "\n"  # a comment: the query stays the same
        body = (padding + SIMPLE.format(i=7)).encode()
        pipelined = socket.create_connection(_address(url), timeout=5)
        request = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\n"
                   b"Content-Type: application/sparql-query\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        pipelined.sendall(request + request.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
        answers = _answers(pipelined)
        assert answers.count(b"HTTP/1.1 200 OK") == 2, answers[:500]
        pipelined.close()
    finally:
        stop_process(process)
    assert "Traceback" not in stderr_file.read_text()


# --- pathological queries -------------------------------------------------------------------------------


def test_short_queries_stay_fast_while_four_pathological_ones_run(stderr_file: Path) -> None:
    """Four pathological queries from four clients, then a bounded series of unique simple queries from a
    fifth: p99 under 250 ms on a 2-core machine, and the pathological ones still end at the time limit."""
    limit = 6.0
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--timeout", str(limit), "--workers", "2",
                               "--cache-mb", "0"], stderr=err)
    outcomes: dict[int, tuple[int, float, str]] = {}

    def pathological(number: int) -> None:
        with _client(number) as client:
            started = time.monotonic()
            response = client.post(url + "sparql", data={"query": PATHOLOGICAL[number % 2]})
            outcomes[number] = (response.status_code, time.monotonic() - started, response.text)

    threads = [threading.Thread(target=pathological, args=(n,)) for n in (2, 3, 4, 5)]
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # all four run now, past the point where they count as long
        latencies = []
        with _client(6) as client:
            for i in range(100):
                if time.monotonic() - began > limit - 0.5:
                    break
                query = SIMPLE.format(i=i % 8 + 1) + f" # {i}"  # a text of its own: nothing cached
                started = time.monotonic()
                response = client.get(url + "sparql", params={"query": query})
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200, response.text
                time.sleep(0.02)
        for thread in threads:
            thread.join(timeout=limit + 30)
        health = httpx.get(url + "health").json()
    finally:
        stop_process(process)
    assert len(latencies) >= 30, len(latencies)
    p99 = sorted(latencies)[math.ceil(0.99 * len(latencies)) - 1]
    assert p99 < 0.25, f"p99 {p99 * 1000:.0f} ms over {len(latencies)} queries"
    for number, (status, seconds, text) in outcomes.items():
        assert status == 503 and "time limit" in text, (number, status, text)
        assert limit - 0.2 <= seconds <= limit + MARGIN, (number, seconds)
    assert len(outcomes) == 4
    assert health["long_queries"] == 0 and health["query_workers"] == 2


def test_a_client_that_walks_away_frees_its_worker_and_one_client_cannot_take_the_long_lane(
        stderr_file: Path) -> None:
    """Fire-and-forget: queries whose clients disconnect are stopped at once (their workers end), and one
    client gets at most its share of the lane for long queries (a clear 503 beyond it)."""
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--timeout", "30", "--workers", "2"], stderr=err)
    try:
        def walk_away(number: int) -> None:
            with _client(number, timeout=1.0) as client, pytest.raises(httpx.TimeoutException):
                client.post(url + "sparql", data={"query": PATHOLOGICAL[0]})

        threads = [threading.Thread(target=walk_away, args=(n,)) for n in (2, 3, 4, 5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        started = time.monotonic()  # the abandoned queries' workers are free (or replaced) at once
        assert httpx.get(url + "sparql", params={"query": SIMPLE.format(i=3)}, timeout=60).status_code == 200
        assert time.monotonic() - started < 2
        assert httpx.get(url + "health").json()["long_queries"] == 0
        _, workers = _fork_server_and_workers(process.pid)
        assert _until(lambda: len([w for w in workers if is_running(w)]) == 2, 2), workers

        answers: dict[int, httpx.Response] = {}

        def greedy(index: int) -> None:
            with _client(7, timeout=60) as client:
                answers[index] = client.post(url + "sparql", data={"query": PATHOLOGICAL[index % 2] + f" #{index}"})

        threads = [threading.Thread(target=greedy, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        assert _until(lambda: len(answers) == 1, 5), answers  # the third is refused soon, not at the limit
        refused = next(iter(answers.values()))
        assert refused.status_code == 503 and "as many as one client may run at once" in refused.text
        assert refused.headers["retry-after"]
        assert httpx.get(url + "health").json()["long_queries"] == 2
    finally:
        stop_process(process)
    assert "Traceback" not in stderr_file.read_text()


def test_a_client_sending_many_queries_at_once_does_not_queue_others_behind_them(stderr_file: Path) -> None:
    """A freed worker goes to the client holding the fewest, not to the longest queue: a second client's
    simple query is answered while sixteen pathological ones from a first client still wait their turn
    (two of them run on in the long lane, the others are refused one by one as they pass 0.25 s). Judged by
    order, not by a wall-clock bound, so that a loaded machine slows both sides alike."""
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--timeout", "30", "--workers", "2"], stderr=err)
    answered: list[tuple[float, int]] = []  # (when, status) of the first client's queries

    def pathological(number: int) -> None:
        transport = httpx.HTTPTransport(local_address="127.0.0.7")
        with contextlib.suppress(httpx.HTTPError), httpx.Client(transport=transport, timeout=90) as client:
            status = client.post(url + "sparql", data={"query": PATHOLOGICAL[number % 2] + f" #{number}"}).status_code
            answered.append((time.monotonic(), status))

    threads = [threading.Thread(target=pathological, args=(i,)) for i in range(16)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.1)
        with _client(8) as client:
            response = client.get(url + "sparql", params={"query": SIMPLE.format(i=6)})
        simple_at = time.monotonic()
        assert response.status_code == 200, response.text
        deadline = time.monotonic() + 60
        while sum(1 for _, status in answered if status == 503) < 14 and time.monotonic() < deadline:
            time.sleep(0.1)
        refusals = sorted(when for when, status in answered if status == 503)
        assert len(refusals) == 14, answered  # all but the two the long lane holds
        before = sum(1 for when in refusals if when < simple_at)
        assert before < 7, f"the simple query waited behind {before} of the other client's 14 refused queries"
    finally:
        stop_process(process)
        for thread in threads:
            thread.join(timeout=10)
    assert "Traceback" not in stderr_file.read_text()


# --- worker life cycle ------------------------------------------------------------------------------------


def test_workers_never_outlive_the_server_even_if_the_fork_server_is_killed(stderr_file: Path) -> None:
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--timeout", "60"], stderr=err)
    busy: dict[str, httpx.Response] = {}
    try:
        thread = threading.Thread(target=lambda: busy.setdefault("answer", httpx.post(
            url + "sparql", data={"query": PATHOLOGICAL[0]}, timeout=90)))
        thread.start()
        time.sleep(1.0)  # it runs
        fork_server, workers = _fork_server_and_workers(process.pid)
        assert len(workers) >= 2
        os.kill(fork_server, signal.SIGKILL)
        # The pool notices and starts workers again (through a new fork server); /health tells it.
        assert _until(lambda: not any(is_running(w) for w in workers), 3), [w for w in workers if is_running(w)]
        thread.join(timeout=10)
        assert busy["answer"].status_code == 503 and "worker stopped" in busy["answer"].text
        assert _until(lambda: httpx.get(url + "health").json()["query_workers"] == 2, 10)
        assert httpx.get(url + "sparql", params={"query": SIMPLE.format(i=5)}).status_code == 200
        _, fresh = _fork_server_and_workers(process.pid)
        long_one = threading.Thread(target=_post_ignoring_errors, args=(url + "sparql", PATHOLOGICAL[1]))
        long_one.start()
        time.sleep(1.0)
        _, fresh = _fork_server_and_workers(process.pid)
        process.kill()  # the hardest end: no clean-up code runs in the server
        process.wait()
        assert _until(lambda: not any(is_running(w) for w in fresh), 5), [w for w in fresh if is_running(w)]
        long_one.join(timeout=10)
    finally:
        stop_process(process)


def test_a_killed_idle_worker_is_replaced_and_health_tells(stderr_file: Path) -> None:
    with stderr_file.open("w") as err:
        process, url = start_serve(["--dist", "/nonexistent", "--cache-mb", "0"], stderr=err)
    try:
        _, workers = _fork_server_and_workers(process.pid)
        os.kill(workers[0], signal.SIGKILL)
        assert _until(lambda: httpx.get(url + "health").json()["workers_replaced"] >= 1, 5)
        assert _until(lambda: httpx.get(url + "health").json()["query_workers"] == 2, 5)
        for i in range(1, 5):  # every worker answers; none reports a wrong memory problem
            response = httpx.get(url + "sparql", params={"query": SIMPLE.format(i=i)})
            assert response.status_code == 200, response.text
    finally:
        stop_process(process)
    log = stderr_file.read_text()
    assert "ended while idle" in log and "Traceback" not in log


@pytest.mark.parametrize("processes", ["1", "2"])
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_everything_quietly(stop: signal.Signals, processes: str) -> None:
    """Ctrl-C in a terminal signals the whole process group, workers (and the members of --processes) included."""
    process, url = start_serve(["--processes", processes, "--dist", "/nonexistent", "--timeout", "30"],
                               start_new_session=True)
    try:
        running = threading.Thread(target=_post_ignoring_errors, args=(url + "sparql", PATHOLOGICAL[0]))
        running.start()
        time.sleep(1.0)
        everything = descendants(process.pid)
        os.killpg(process.pid, stop)
        process.wait(timeout=20)
        assert process.stderr is not None  # start_serve pipes stderr unless told otherwise
        stderr = process.stderr.read()
        running.join(timeout=10)
    finally:
        stop_process(process)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert _until(lambda: not any(is_running(p) for p in everything), 5), [p for p in everything if is_running(p)]
