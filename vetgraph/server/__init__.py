"""`vetgraph serve`: the linked-data server (SPARQL 1.1 endpoint, dereferenceable IRIs, HTML pages,
stored-query API, query UI, downloads).

    vetgraph serve                                   # validate, load, serve on http://127.0.0.1:8000/
    vetgraph serve --port 0                          # any free port (printed)
    vetgraph serve --store http://127.0.0.1:7878/query   # front a remote SPARQL endpoint instead

The data are validated first and the server refuses to start on violations. The IRI base
https://w3id.org/vetgraph/ maps to the server's own address, so http://127.0.0.1:8000/id/insight/1 is
the resource https://w3id.org/vetgraph/id/insight/1. Heavy imports happen in `run`, not at import time.
"""

from __future__ import annotations

import argparse
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vetgraph.config import DIST_DIR, Paths

if TYPE_CHECKING:  # heavy imports happen in run()
    from rdflib import Graph

    from vetgraph.loading import Loaded
    from vetgraph.queries import StoredQuery
    from vetgraph.stores import Store

#: What `run` serves: the store, the prefixes of its answers, the time its data last changed, the ontology.
Served = tuple["Store", "dict[str, str] | None", "datetime | None", "Graph | None"]

EXIT_OK, EXIT_NEGATIVE, EXIT_ERROR = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Validate the data, load them into the embedded Oxigraph store and serve them: SPARQL "
                          "1.1 endpoint at /sparql, resource pages at /id/..., stored queries at /queries, "
                          "query UI, downloads.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    from vetgraph.cli import port, seconds

    parser.add_argument("--port", type=port, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--base-url", metavar="URL",
                        help="public address of the server, if not http://HOST:PORT/ (e.g. behind a proxy)")
    parser.add_argument("--timeout", type=seconds, default=10.0, metavar="S",
                        help="time limit of every query in seconds (default 10)")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="query worker processes (default 2); a query at the time limit costs one, "
                             "which is replaced")
    parser.add_argument("--processes", type=int, default=None, metavar="N",
                        help="server processes on the port, each with its own --workers (default: one per usable "
                             "core, at most 4, when the data hold at most 10,000 statements, else 1; see "
                             "docs/server.md)")
    from vetgraph.server.group import MEMBER_OPTION

    parser.add_argument(MEMBER_OPTION, metavar="CHANNELS", help=argparse.SUPPRESS)  # group.Group sets it
    parser.add_argument("--store", metavar="URL",
                        help="serve a remote SPARQL endpoint (query URL) instead of the local data")
    from vetgraph.cli import add_auth_arguments

    add_auth_arguments(parser)  # for --store
    parser.add_argument("--data", type=Path, action="append", metavar="FILE",
                        help="serve these data files instead of data/ (repeatable)")
    from vetgraph.validation import add_validation_arguments

    add_validation_arguments(parser)
    from vetgraph.server.persisted import default_store_dir

    parser.add_argument("--store-dir", type=Path, default=None, metavar="DIR",
                        help="where validated data are kept as an Oxigraph store for the next start (default: "
                             f"{default_store_dir()}); unchanged data are served at once, without validating "
                             "or loading them again")
    parser.add_argument("--dist", type=Path, default=DIST_DIR, metavar="DIR",
                        help="build outputs to serve under /download/ (default: dist/; see vetgraph build)")
    parser.add_argument("--queries", type=Path, metavar="DIR", help="folder of stored queries (default: queries/)")
    parser.add_argument("--max-body-kb", type=int, default=1024, metavar="KB",
                        help="largest request body accepted (default 1024 KiB)")
    parser.add_argument("--max-result-mb", type=float, default=16, metavar="MB",
                        help="largest query result sent (default 16 MiB)")
    parser.add_argument("--worker-memory-mb", type=int, default=2048, metavar="MB",
                        help="address-space limit of each query worker (default 2048 MiB; 0 = none)")
    parser.add_argument("--cache-mb", type=int, default=64, metavar="MB",
                        help="memory for cached pages and query results (default 64 MiB; 0 = no cache)")
    parser.add_argument("--max-connections", type=int, default=1000, metavar="N",
                        help="open connections at most (default 1000, fewer if the open-file limit is lower); "
                             "over it the oldest connection without a whole request is closed")
    parser.add_argument("--request-timeout", type=float, default=10.0, metavar="S",
                        help="seconds a connection has to send a whole request, from when it opens or got "
                             "its last answer (default 10)")
    parser.add_argument("--redirect", choices=("303",), metavar="303",
                        help="answer /id/... with 303 See Other to the document in the negotiated format "
                             "(/id/x.html, /id/x.ttl ...) instead of 200 (strict Cool URIs, as Pubby and LodView)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines while starting")
    parser.add_argument("--log-level", default="warning",
                        choices=("critical", "error", "warning", "info", "debug"), help="server log level")


def run(args: argparse.Namespace) -> int:
    from vetgraph.errors import UsageError
    if args.timeout <= 0:
        raise UsageError("--timeout must be more than 0 seconds")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.processes is not None and args.processes < 1:
        raise UsageError("--processes must be at least 1")
    if args.processes and args.processes > 1 and args.store:
        raise UsageError("--processes is for the local data; in front of --store there is nothing to spread")
    if args.max_connections < 1:
        raise UsageError("--max-connections must be at least 1")
    if not args.request_timeout > 0:
        raise UsageError("--request-timeout must be more than 0 seconds")
    from vetgraph.progress import activated

    paths = Paths()
    # vetgraph.cli reports what cannot be loaded (exit 2) and data that do not conform (exit 1)
    with activated(not args.quiet):  # how many steps depends on whether the stored data are still current
        store_path = None
        if args.store:
            store, prefixes, last_modified, ontology = _remote(args, paths)
        else:
            (store, prefixes, last_modified, ontology), store_path = _validated_store(paths, args)
            if args.processes is None:
                from vetgraph.server.group import processes_for

                args.processes = processes_for(args.served_store.store)
            if args.processes > 1:
                return _serve_group(args)
        return _listen_and_serve(args, store, prefixes, last_modified, ontology, store_path)


def _serve_group(args: argparse.Namespace) -> int:
    """Start `--processes` members on one port (the data are validated and stored already) and supervise them
    (vetgraph.server.group)."""
    import sys

    from vetgraph.server.group import Group, reserve_port

    reserved = reserve_port(args.host, args.port)
    try:
        port = reserved.getsockname()[1]
        command = [sys.executable, "-m", "vetgraph", "serve", *args.command_argv, "--port", str(port),
                   "--processes", "1", "--quiet"]
        group = Group(command, args.processes)
        group.start()
        _announce(args, _base_url(args, port), f" with {args.processes} processes")
        return group.supervise()
    finally:
        reserved.close()


def _listen_and_serve(args: argparse.Namespace, store: Store, prefixes: dict[str, str] | None,
                      last_modified: datetime | None, ontology: Graph | None, store_path: Path | None) -> int:
    from vetgraph.errors import CannotRun
    from vetgraph.queries import load_catalogue

    catalogue = load_catalogue(args.queries)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so (else Nagle + delayed
    # ACK add ~40 ms to every keep-alive response)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.group_member is not None:  # one of `--processes N` (vetgraph.server.group): the kernel spreads connections
        from vetgraph.server.group import die_with_parent

        die_with_parent()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((args.host, args.port))
        # Listen before the URL is printed: a client may connect at once (it waits in the backlog until
        # uvicorn accepts; uvicorn sets the backlog it wants when it starts serving).
        sock.listen()
    except OSError as error:
        sock.close()
        raise CannotRun(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    base_url = _base_url(args, sock.getsockname()[1])
    return _serve(args, sock, base_url, store, ontology, catalogue, prefixes, last_modified, store_path)


def _base_url(args: argparse.Namespace, port: int) -> str:
    host = f"[{args.host}]" if ":" in args.host else args.host
    return args.base_url or f"http://{host}:{port}/"


def _announce(args: argparse.Namespace, base_url: str, how: str = "") -> None:
    """The lines that say where the server answers (the first is what scripts and the group wait for)."""
    what = "the remote store " + args.store if args.store else "the validated data"
    print(f"vetgraph serving {what}{how} at {base_url}", flush=True)
    downloads = args.dist and args.dist.is_dir()
    print(f"  SPARQL endpoint {base_url}sparql · stored queries {base_url}queries"
          + ("" if downloads else " · no downloads (run vetgraph build)"), flush=True)


def _validated_store(paths: Paths, args: argparse.Namespace) -> tuple[Served, Path]:
    """The project's data, validated, in the persistent store of --store-dir (vetgraph.server.persisted):
    opened as it is when the data did not change, else validated (NotConforming when they do not conform)
    and stored first. The rdflib graphs of a validation are dropped before serving: the store holds
    everything the server reads. Also returns the store's folder, which the query workers open."""
    from vetgraph.cli import load_validated
    from vetgraph.errors import CannotRun
    from vetgraph.loading import load_graph
    from vetgraph.memory import release_freed_memory
    from vetgraph.server.persisted import default_store_dir, open_or_build
    from vetgraph.stores import OxigraphStore

    def validated() -> Loaded:
        return load_validated(paths, args.data, jobs=args.jobs, cache=args.cache,
                              consequence="the data do not conform to the shapes; fix them before serving")

    store_dir = args.store_dir or default_store_dir()
    try:
        opened = open_or_build(store_dir, paths, args.data, validated)
    except OSError as error:
        if error.filename is None:
            raise
        raise CannotRun(f"--store-dir {store_dir}: {error.strerror or error} ({error.filename})") from None
    release_freed_memory()
    ontology = load_graph(paths.ontology_file)
    args.served_store = opened  # held (with its shared lock) while the server runs
    return (OxigraphStore(opened.store), opened.prefixes, opened.last_modified, ontology), opened.path


def _remote(args: argparse.Namespace, paths: Paths) -> Served:
    from vetgraph.errors import UsageError
    from vetgraph.loading import load_graph
    from vetgraph.remote import RemoteStore, credentials_from

    ontology = load_graph(paths.ontology_file) if paths.ontology_file.is_file() else None
    try:
        return RemoteStore(args.store, timeout=args.timeout, auth=credentials_from(args)), None, None, ontology
    except ValueError as error:  # a malformed --store URL, inconsistent credentials
        raise UsageError(str(error)) from None


def _serve(
    args: argparse.Namespace, sock: socket.socket, base_url: str, store: Store, ontology: Graph | None,
    catalogue: dict[str, StoredQuery], prefixes: dict[str, str] | None, last_modified: datetime | None,
    store_path: Path | None = None,
) -> int:
    from vetgraph.server.app import create_app
    from vetgraph.server.connections import serve

    dist = args.dist if args.dist and args.dist.is_dir() else None
    app = create_app(
        store, base_url=base_url, timeout=args.timeout, catalogue=catalogue, dist_dir=dist, ontology=ontology,
        prefixes=prefixes, workers=args.workers,
        worker_memory=args.worker_memory_mb * 2**20 if args.worker_memory_mb else None,
        max_body_bytes=args.max_body_kb * 1024, max_result_bytes=int(args.max_result_mb * 2**20),
        cache_bytes=args.cache_mb * 2**20, last_modified=last_modified, redirect=args.redirect == "303",
        store_path=store_path, bounded_in_process=args.group_member is not None,
    )
    balancer = None
    if args.group_member:
        from vetgraph.server.balance import Balancer

        balancer = Balancer.from_option(args.group_member)
    _announce(args, base_url)
    serve(app, sock, max_connections=args.max_connections, request_timeout=args.request_timeout,
          log_level=args.log_level, access_log=args.log_level in ("info", "debug"),
          on_signal=app.state.site.engine.winding_down, on_stop=app.state.site.engine.close, balancer=balancer)
    return EXIT_OK
