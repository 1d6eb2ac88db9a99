"""How fast the distinct-query scenario could go without the hop to a query worker: a design spike, not a server.

    .venv/bin/python -m bench.bench_ceiling                 # 2 processes, 3 rounds against Oxigraph's server
    .venv/bin/python -m bench.bench_ceiling --processes 4 --rounds 5 --listen shared

`vetgraph serve` runs every query in a worker process that it can kill at the time limit (pyoxigraph cannot
stop a running query), so each query crosses two processes. This script measures the other design: N
processes accept on one port (SO_REUSEPORT, or one shared listening socket), read HTTP with the same stack
as `vetgraph serve` (uvicorn on httptools and uvloop, `vetgraph.server.connections.serve`) and run the query
in-process on their own in-memory copy of the data. It has no time limit, no checks and no other route: it
is the ceiling such a design could reach, for docs/performance.md, printed beside `oxigraph serve-read-only`
in interleaved rounds of the `distinct` scenario of `bench.bench_server` (4 clients).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from bench import bench_server
from bench.common import stop_process


def _serve_in_process(listen: str, dump: Path) -> None:
    """One spike process: the query runs in the event loop, on this process's copy of the data."""
    import pyoxigraph as ox

    from vetgraph.server.connections import serve

    store = ox.Store()
    store.load(path=str(dump), format=ox.RdfFormat.N_QUADS)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = dict(parse_qsl(body.decode("utf-8"))).get("query", "ASK {}")
        results = store.query(query, use_default_graph_as_union=True)
        assert isinstance(results, (ox.QuerySolutions, ox.QueryBoolean))  # the scenario's queries are SELECTs
        answer = results.serialize(format=ox.QueryResultsFormat.JSON)
        assert answer is not None  # serialize() without an output returns the bytes
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/sparql-results+json"), (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    if listen.isdigit():  # the descriptor of the listening socket the parent shares
        sock = socket.socket(fileno=int(listen))
    else:  # a port of its own socket (SO_REUSEPORT)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", int(listen.removeprefix("port="))))
        sock.listen()
    print("ready", flush=True)
    serve(app, sock, max_connections=100, request_timeout=30, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="spike processes on the port (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per round and server (default 4)")
    parser.add_argument("--listen", choices=("reuseport", "shared"), default="reuseport",
                        help="how the processes share the port (default reuseport; see the code)")
    parser.add_argument("--serve-one", nargs=2, metavar=("LISTEN", "DUMP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_one:
        _serve_in_process(args.serve_one[0], Path(args.serve_one[1]))
        return 0
    work = Path(tempfile.mkdtemp(prefix="vetgraph-ceiling-"))
    dump = work / "data.nq"
    bench_server.dump_data(None, dump)
    # reuseport: each process its own socket on the port, the kernel spreads new connections by a hash of
    # their addresses; shared: one listening socket all accept from (gunicorn's model). Either way connections,
    # not requests, are spread: with four keep-alive clients one process may get them all.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if args.listen == "reuseport":
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    if args.listen == "shared":
        listener.listen()
        listen, shared = str(listener.fileno()), [listener.fileno()]
    else:
        listen, shared = f"port={port}", []  # bound, not listening: it only holds the port
    spike_base = f"http://127.0.0.1:{port}"
    spikes = [subprocess.Popen([sys.executable, "-m", "bench.bench_ceiling", "--serve-one", listen, str(dump)],
                               cwd=Path(__file__).parents[1], pass_fds=shared,
                               env={**os.environ, "PYTHONHASHSEED": str(n)}, stdout=subprocess.PIPE, text=True)
              for n in range(args.processes)]
    oxigraph, oxigraph_base = bench_server.start("oxigraph", dump, None, work)
    try:
        for process in spikes:  # each listens on the port once it said so
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a spike process ended before it listened (exit code {process.wait()})")
        figures: dict[str, list[float]] = {"spike": [], "oxigraph": []}
        targets = {"spike": spike_base, "oxigraph": oxigraph_base}
        for round_number in range(args.rounds):
            for name, base in targets.items():
                target = "oxigraph" if name == "oxigraph" else "vetgraph"  # the spike takes vetgraph's requests
                requests = bench_server.scenarios(target, base, {})["distinct"]
                outcome = bench_server.measure(target, "distinct", base, requests, 4, args.duration, 0.5)
                if outcome.errors:
                    raise RuntimeError(f"{name}: error answers {outcome.error_statuses}")
                figures[name].append(outcome.rps)
            print(f"round {round_number + 1}: {args.processes} in-process servers {figures['spike'][-1]:,.0f} req/s, "
                  f"oxigraph serve-read-only {figures['oxigraph'][-1]:,.0f} req/s, "
                  f"ratio {figures['spike'][-1] / figures['oxigraph'][-1]:.2f}x", flush=True)
        spike, theirs = statistics.median(figures["spike"]), statistics.median(figures["oxigraph"])
        print(f"median: {spike:,.0f} / {theirs:,.0f} req/s = {spike / theirs:.2f}x")
    finally:
        listener.close()
        for process in spikes:
            stop_process(process)
        stop_process(oxigraph)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
