"""Load test of the linked-data server against Oxigraph's own server and rdflib-endpoint, on the same data.

    .venv/bin/python -m bench.bench_server                        # 8 clients, 10 s per scenario
    .venv/bin/python -m bench.bench_server --clients 8 --duration 5 --only vetgraph,oxigraph
    .venv/bin/python -m bench.bench_server --json bench/results/server.json

Closed loop: N clients, each with one keep-alive connection, send a request as soon as the previous answer
has arrived, for a fixed duration; loopback only (every server binds 127.0.0.1 on a free port). Servers run
one at a time, each in its own process, so they do not compete for the CPU with each other (the load
generator shares the machine with the server under test, the same for all).

Targets and scenarios:
  vetgraph          `vetgraph serve` (validated data, worker pool, result and page cache as shipped; on small
                    data one server process per core, vetgraph.server.group)
  vetgraph-nocache  the same with --cache-mb 0: every request is computed again
  vetgraph-single   the same with --processes 1 (one server process whatever the data)
  oxigraph          `oxigraph serve-read-only --union-default-graph` on an N-Quads dump of the same data,
                    loaded with `oxigraph load` and compacted with `oxigraph optimize` (RocksDB on disk)
  oxigraph-memory   `oxigraph serve` without --location (in-memory store, as vetgraph's), same dump via POST
  rdflib-endpoint   `rdflib-endpoint serve` on the same dump (rdflib Dataset, default_union=True)

  stored   the stored queries that take no parameter with a default (round robin): vetgraph through its API
           (/queries/NAME, SPARQL JSON); the others get the same query text at their SPARQL endpoint
  sparql   the same texts through vetgraph's /sparql (protocol path, for comparison with `stored`)
  pages    resource pages (HTML) of insights, topics, viewpoints and actors; for the SPARQL-only servers the
           nearest equivalent, `DESCRIBE <iri>` as Turtle
  turtle   the same resources as Turtle (vetgraph's dereferencing with content negotiation)
  repeated one query text again and again: a grouped count over all statements (a result cache answers it)
  distinct the same query, but every request a new text (a unique LIMIT above the result size), so no
           cache can answer: what the query path itself costs (vetgraph at /sparql, Oxigraph at /query)

Printed: requests/s, p50 and p99 latency per target and scenario, errors, and the targets of docs/performance.md:
vetgraph >= 50% of Oxigraph's throughput and >= 10x rdflib-endpoint's on the stored queries, p99 < 100 ms
for resource pages at 8 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

from bench.common import stop_process
from vetgraph.config import ID_BASE, PROJECT_ROOT

RESOURCES = ([f"insight/{n}" for n in range(1, 9)] + [f"topic/{n}" for n in range(1, 9)]
             + ["viewpoint/1", "viewpoint/2", "vision", "report/innovation-digitalisation-2020",
                "agent/cedefop", "agent/european-commission", "group/et2020-wg-vet-2018-2020"])
TARGETS = ("vetgraph", "vetgraph-nocache", "vetgraph-single", "oxigraph", "oxigraph-memory", "rdflib-endpoint")


@dataclass
class Outcome:
    target: str
    scenario: str
    clients: int
    seconds: float
    requests: int
    errors: int
    error_statuses: str
    rps: float
    p50_ms: float
    p99_ms: float


# --- a minimal HTTP/1.1 keep-alive client (the generator must cost little CPU) -------------------------


def _raw(method: str, host: str, path: str, accept: str, body: bytes | None = None,
         content_type: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Accept: {accept}", "Connection: keep-alive"]
    if body is not None:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status of one response, its body read and dropped; True when the server closes the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            await reader.readexactly(size + 2)
    elif status not in (204, 304):
        await reader.read()
        return status, True
    return status, headers.get("connection", "").lower() == "close"


async def _client(host: str, port: int, requests: Sequence[bytes], offset: int, stop_at: float,
                  latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = offset
    loop = asyncio.get_running_loop()
    try:
        while loop.time() < stop_at:
            raw = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            try:
                writer.write(raw)
                status, closed = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                status, closed = 599, True  # counted as an error; the client reconnects
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors.append(status)
            if closed:
                writer.close()
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:  # the server is gone (it crashed): this client stops
                    errors.append(599)
                    return
    finally:
        writer.close()


async def _load(host: str, port: int, requests: Sequence[bytes], clients: int, duration: float
                ) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    errors: list[int] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(_client(host, port, requests, i * 7, started + duration, latencies, errors)
                           for i in range(clients)))
    return latencies, errors, loop.time() - started


def measure(target: str, scenario: str, base: str, requests: Sequence[bytes], clients: int,
            duration: float, warmup: float) -> Outcome:
    parsed = urllib.parse.urlsplit(base)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    asyncio.run(_load(host, port, requests, clients, warmup))  # warm caches, JITs, connection pools
    latencies, errors, seconds = asyncio.run(_load(host, port, requests, clients, duration))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    statuses = ", ".join(f"{code}x{count}" for code, count in sorted(Counter(errors).items()))
    return Outcome(target, scenario, clients, round(seconds, 2), len(latencies), len(errors), statuses,
                   round(len(latencies) / seconds, 1), round(statistics.median(latencies) * 1000, 2),
                   round(p99 * 1000, 2))


# --- the servers ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    """Wait until `url` answers; a server that does not is stopped before the error is raised."""
    try:
        _poll_http(url, process, seconds)
    except RuntimeError:
        process.kill()
        process.wait()
        raise


def _poll_http(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            program = cast(list[str], process.args)[0]  # every server here is started from a list of str
            raise RuntimeError(f"{program} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _log(workdir: Path, target: str):
    """The server's stderr goes to a file, shown when a scenario had errors."""
    return (workdir / f"{target}.log").open("ab")


def start(target: str, dump: Path, data_files: Sequence[Path] | None, workdir: Path,
          limit: float | None = None) -> tuple[subprocess.Popen, str]:
    """Start a target server on a free loopback port; `limit`: its query time limit where it has one."""
    port = _free_port()
    limit_args = ["--timeout-s", f"{limit:g}"] if limit else []
    base = f"http://127.0.0.1:{port}"
    if target.startswith("vetgraph"):
        command = [sys.executable, "-m", "vetgraph", "serve", "--port", str(port), "--dist", str(workdir / "none")]
        for path in data_files or []:
            command += ["--data", str(path)]
        if target == "vetgraph-nocache":
            command += ["--cache-mb", "0"]
        if target == "vetgraph-single":
            command += ["--processes", "1"]
        if limit:
            command += ["--timeout", f"{limit:g}"]
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=_log(workdir, target))
        _wait_http(base + "/health", process)
        return process, base
    if target.startswith("oxigraph"):
        binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        # No --timeout-s for throughput: in Oxigraph 0.5.13 it starts a watchdog thread per query that lives
        # for the whole limit, and the server aborts once thousands pile up (see time_limits()).
        common = ["--bind", f"127.0.0.1:{port}", "--union-default-graph", *limit_args]
        if target == "oxigraph":
            location = workdir / "oxigraph"
            if not location.exists():
                for step in (["load", "--location", str(location), "--file", str(dump)],
                             ["optimize", "--location", str(location)]):
                    subprocess.run([binary, *step], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            command = [binary, "serve-read-only", "--location", str(location), *common]
        else:
            command = [binary, "serve", *common]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=_log(workdir, target))
        _wait_http(base + "/query?query=ASK%7B%7D", process)
        if target == "oxigraph-memory":
            request = urllib.request.Request(base + "/store", data=dump.read_bytes(), method="POST",
                                             headers={"Content-Type": "application/n-quads"})
            urllib.request.urlopen(request, timeout=60).read()
        return process, base
    binary = shutil.which("rdflib-endpoint") or str(Path(sys.executable).parent / "rdflib-endpoint")
    process = subprocess.Popen([binary, "serve", str(dump), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=_log(workdir, target))
    _wait_http(base + "/?query=ASK%7B%7D", process)  # the rdflib-endpoint CLI serves SPARQL at /
    return process, base


#: The query of the repeated and distinct scenarios: every statement read, one row per predicate.
GROUPED_COUNT = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p LIMIT "


class Unique(Sequence[bytes]):
    """Requests that are never the same twice: item i of any index is built from a shared counter (the
    clients run in one event loop, so no two get the same number)."""

    def __init__(self, build):
        self.build, self.counter = build, 0

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index):
        self.counter += 1
        return self.build(self.counter)


def scenarios(target: str, base: str, queries: dict[str, str]) -> dict[str, Sequence[bytes]]:
    host = urllib.parse.urlsplit(base).netloc
    json_results = "application/sparql-results+json"
    form = "application/x-www-form-urlencoded"

    def post(path: str, query: str) -> bytes:
        return _raw("POST", host, path, json_results, urllib.parse.urlencode({"query": query}).encode(), form)

    def grouped(path: str) -> dict[str, Sequence[bytes]]:
        # LIMIT above any result size: the same answer as the repeated text, a new text for every request
        return {"repeated": [post(path, GROUPED_COUNT + "100000000")],
                "distinct": Unique(lambda n: post(path, GROUPED_COUNT + str(100000000 + n)))}

    if target.startswith("vetgraph"):
        return {
            "stored": [_raw("GET", host, f"/queries/{name}", json_results) for name in queries],
            "sparql": [post("/sparql", text) for text in queries.values()],
            "pages": [_raw("GET", host, f"/id/{r}", "text/html") for r in RESOURCES],
            "turtle": [_raw("GET", host, f"/id/{r}", "text/turtle") for r in RESOURCES],
            **grouped("/sparql"),
        }
    path = "/query" if target.startswith("oxigraph") else "/"
    describe = [_raw("POST", host, path, "text/turtle",
                     urllib.parse.urlencode({"query": f"DESCRIBE <{ID_BASE}{r}>"}).encode(), form)
                for r in RESOURCES]
    return {"stored": [post(path, text) for text in queries.values()], "pages": describe, **grouped(path)}


def benchmark_queries() -> dict[str, str]:
    """Stored queries that run as they are (no parameter with a default, none required), by name."""
    from vetgraph.queries import load_catalogue

    return {name: q.text for name, q in load_catalogue().items()
            if all(not p.required and p.default is None for p in q.params)}


def dump_data(data_files: Sequence[Path] | None, path: Path) -> None:
    import pyoxigraph as ox

    from vetgraph.config import Paths
    from vetgraph.loading import load_project
    from vetgraph.stores import OxigraphStore

    loaded = load_project(Paths(), data_files=data_files)
    OxigraphStore.from_dataset(loaded.dataset).store.dump(str(path), format=ox.RdfFormat.N_QUADS)


# --- do time limits hold? --------------------------------------------------------------------------------

PATHOLOGICAL = {
    "cross join": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "path over all nodes": "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:p>|!<urn:p>)* ?b . ?c ?d ?e . ?f ?g ?h }",
}


@dataclass
class LimitCheck:
    target: str
    query: str
    limit_s: float
    status: str  # HTTP status, or "no answer"
    seconds: float
    simple_query_ms: float | None  # a trivial query sent while the pathological one runs
    note: str = ""


def _post_query(base: str, path: str, query: str, wait: float) -> tuple[str, float, bytes]:
    started = time.monotonic()
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=wait) as response:
            return str(response.status), time.monotonic() - started, response.read()
    except urllib.error.HTTPError as failure:
        return str(failure.code), time.monotonic() - started, failure.read()
    except OSError:
        return "no answer", time.monotonic() - started, b""


def time_limits(dump: Path, data_files: Sequence[Path] | None, workdir: Path, limit: float, wait: float,
                targets: Sequence[str]) -> list[LimitCheck]:
    """Each pathological query against each server with a time limit of `limit` s: when does the client get
    an answer, what answer, and does a simple query sent meanwhile get through? A fresh server per query
    (a query that is not stopped keeps burning CPU)."""
    checks = []
    for target in targets:
        if target not in ("vetgraph", "vetgraph-single", "oxigraph"):
            continue  # rdflib-endpoint has no time limit; vetgraph-nocache runs the same engine as vetgraph
        path = "/sparql" if target.startswith("vetgraph") else "/query"
        for name, query in PATHOLOGICAL.items():
            process, base = start(target, dump, data_files, workdir, limit=limit)
            try:
                with ThreadPoolExecutor(1) as pool:
                    pending = pool.submit(_post_query, base, path, query, wait)
                    time.sleep(0.5)
                    status, seconds, _ = _post_query(base, path, "SELECT * { ?s ?p ?o } LIMIT 1", wait)
                    simple = seconds * 1000 if status == "200" else None
                    status, seconds, body = pending.result()
                note = ""
                if status == "200" and b"cancelled" in body:
                    note = "200 with an error message inside a truncated result"
                elif status == "no answer":
                    note = f"no answer within {wait:g} s"
                checks.append(LimitCheck(target, name, limit, status, round(seconds, 2),
                                         None if simple is None else round(simple, 1), note))
            finally:
                process.kill()
                process.wait()
    return checks


def oxigraph_threads(dump: Path, workdir: Path, limit: float, seconds: float, clients: int) -> str:
    """Threads of `oxigraph serve-read-only --timeout-s` after `seconds` of small queries (one watchdog
    thread per query, alive for the whole limit)."""
    process, base = start("oxigraph", dump, None, workdir, limit=limit)
    try:
        requests = scenarios("oxigraph", base, {})["pages"]
        try:
            outcome = measure("oxigraph", "pages", base, requests, clients, seconds, 0.1)
        except OSError as error:
            return f"oxigraph serve-read-only --timeout-s {limit:g}: the load failed ({error}); server exit code " \
                   f"{process.poll()}"
        status = Path(f"/proc/{process.pid}/status")
        threads = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("Threads")),
                       "?") if status.exists() else "?"
        alive = "still running" if process.poll() is None else f"exited with {process.returncode}"
        return (f"oxigraph serve-read-only --timeout-s {limit:g}: {outcome.requests} DESCRIBE requests in "
                f"{outcome.seconds:g} s ({outcome.errors} errors) left {threads} threads; server {alive}")
    finally:
        process.kill()
        process.wait()


# --- report -----------------------------------------------------------------------------------------------


def table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| server | scenario | clients | req/s | p50 ms | p99 ms | errors |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        lines.append(f"| {o.target} | {o.scenario} | {o.clients} | {o.rps:,.0f} | {o.p50_ms:.1f} | {o.p99_ms:.1f} "
                     f"| {o.errors} |")
    return "\n".join(lines)


def limit_table(checks: Sequence[LimitCheck]) -> str:
    lines = ["| server | pathological query | limit s | status | answered after s | simple query meanwhile ms | note |",
             "|---|---|---:|---|---:|---:|---|"]
    for c in checks:
        simple = "no answer" if c.simple_query_ms is None else f"{c.simple_query_ms:.1f}"
        lines.append(f"| {c.target} | {c.query} | {c.limit_s:g} | {c.status} | {c.seconds:.2f} | {simple} | {c.note} |")
    return "\n".join(lines)


def verdict(outcomes: Sequence[Outcome]) -> list[str]:
    found = {(o.target, o.scenario): o for o in outcomes}
    lines = []
    for ours_name in ("vetgraph", "vetgraph-nocache"):
        ours = found.get((ours_name, "stored"))
        for other, factor in (("oxigraph", 0.5), ("oxigraph-memory", 0.5), ("rdflib-endpoint", 10.0)):
            theirs = found.get((other, "stored"))
            if ours and theirs and theirs.rps:
                ratio = ours.rps / theirs.rps
                mark = "met" if ratio >= factor else "NOT met"
                lines.append(f"stored queries: {ours_name} / {other} throughput = {ratio:.2f}x "
                             f"(target >= {factor:g}x): {mark}")
    for ours_name in ("vetgraph", "vetgraph-single"):
        for scenario, goal in (("repeated", None), ("distinct", 0.8)):  # a repeated text is the cache's case
            ours, theirs = found.get((ours_name, scenario)), found.get(("oxigraph", scenario))
            if ours and theirs and theirs.rps:
                ratio = ours.rps / theirs.rps
                mark = "" if goal is None else f" (target >= {goal:g}x): {'met' if ratio >= goal else 'NOT met'}"
                lines.append(f"{scenario} grouped count: {ours_name} / oxigraph serve-read-only throughput = "
                             f"{ratio:.2f}x at {ours.clients} clients{mark}")
    for target in ("vetgraph", "vetgraph-nocache"):
        pages = found.get((target, "pages"))
        if pages:
            mark = "met" if pages.p99_ms < 100 else "NOT met"
            lines.append(f"resource pages: {target} p99 = {pages.p99_ms:.1f} ms at {pages.clients} clients "
                         f"(target < 100 ms): {mark}")
    return lines


def _run_target(target: str, dump: Path, args: argparse.Namespace, workdir: Path, queries: dict[str, str]
                ) -> list[Outcome]:
    outcomes = []
    process, base = start(target, dump, args.data, workdir)
    try:
        for scenario, requests in scenarios(target, base, queries).items():
            if args.scenarios and scenario not in args.scenarios.split(","):
                continue
            outcome = measure(target, scenario, base, requests, args.clients, args.duration, args.warmup)
            outcomes.append(outcome)
            if outcome.errors:
                log = (workdir / f"{target}.log").read_text(errors="replace").strip().splitlines()
                print("    server log: " + " | ".join(log[-3:]), flush=True)
            print(f"  {target:<17} {scenario:<7} {outcome.rps:>9,.0f} req/s  p50 {outcome.p50_ms:>7.1f} ms"
                  f"  p99 {outcome.p99_ms:>7.1f} ms  errors {outcome.errors} {outcome.error_statuses}", flush=True)
    finally:
        stop_process(process)
    return outcomes


def _medians(rounds: Sequence[Outcome]) -> list[Outcome]:
    """Per target and scenario, the round with the median throughput."""
    grouped: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in rounds:
        grouped.setdefault((outcome.target, outcome.scenario), []).append(outcome)
    return [sorted(group, key=lambda o: o.rps)[len(group) // 2] for group in grouped.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.bench_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per scenario (default 2)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat all targets this many times, interleaved, and report the median round "
                             "(evens out load from other processes; default 1)")
    parser.add_argument("--only", help=f"comma-separated targets (default all: {','.join(TARGETS)})")
    parser.add_argument("--data", type=Path, action="append", help="data files instead of data/ (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--limit", type=float, default=2.0, help="time limit for the pathological queries (s)")
    parser.add_argument("--wait", type=float, default=30.0, help="how long a client waits for them (s)")
    parser.add_argument("--skip-limits", action="store_true", help="skip the time-limit checks")
    parser.add_argument("--scenarios", help="comma-separated scenarios to run (default all)")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 64 and 0 < args.duration <= 120 and 1 <= args.rounds <= 5):
        parser.error("--clients must be 1-64, --duration at most 120 s, --rounds 1-5 (a bounded benchmark)")
    targets = [t for t in (args.only.split(",") if args.only else TARGETS)]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))}")
    queries = benchmark_queries()
    with tempfile.TemporaryDirectory(prefix="vetgraph-bench-") as tmp:
        workdir = Path(tmp)
        dump = workdir / "data.nq"
        dump_data(args.data, dump)
        print(f"{len(queries)} stored queries ({', '.join(queries)}), {len(RESOURCES)} resources; "
              f"{args.clients} clients, {args.duration:g} s per scenario; CPUs: {os.cpu_count()}", flush=True)
        rounds: list[Outcome] = []
        for number in range(1, args.rounds + 1):
            for target in targets:
                print(f"round {number}, {target}: load average {os.getloadavg()[0]:.1f} before start", flush=True)
                rounds.extend(_run_target(target, dump, args, workdir, queries))
        outcomes = _medians(rounds)
        checks: list[LimitCheck] = []
        threads = None
        if not args.skip_limits:
            checks = time_limits(dump, args.data, workdir, args.limit, args.wait, targets)
            if "oxigraph" in targets:
                threads = oxigraph_threads(dump, workdir, 10.0, min(args.duration, 5.0), args.clients)
    print()
    print(table(outcomes))
    print()
    for line in verdict(outcomes):
        print(line)
    if checks:
        print()
        print(limit_table(checks))
    if threads:
        print()
        print(threads)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"throughput": [asdict(o) for o in outcomes], "time_limits": [asdict(c) for c in checks],
                   "oxigraph_timeout_threads": threads}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
