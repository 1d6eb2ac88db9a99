"""Beyond one machine: `vetgraph publish` into an external triple store, and queries against remote endpoints.

    vetgraph publish --endpoint http://127.0.0.1:7878/store                    # Oxigraph server
    vetgraph publish --endpoint http://host:8890/sparql-graph-crud-auth --user dba --auth-env VIRTUOSO_AUTH
    vetgraph publish --endpoint http://host:3030/ds/update --protocol update   # SPARQL Update only

The data are validated first (nothing is published unless they conform), then staged, verified by
count, and swapped into place (see `vetgraph.remote.publish`). `RemoteStore` (`vetgraph.remote.endpoint`)
queries any SPARQL 1.1 endpoint through the same `Store` interface as the embedded store.
Recipes per store: docs/remote-stores.md.
"""

from __future__ import annotations

import argparse
import os
import sys

from vetgraph.cli import add_auth_arguments
from vetgraph.config import DATASET_IRI
from vetgraph.errors import CannotRun, UsageError
from vetgraph.remote.endpoint import RemoteStore
from vetgraph.remote.http import Credentials, HttpClient, RemoteError, split_credentials
from vetgraph.remote.publish import Endpoints, Publisher, PublishError, plan_graphs

__all__ = ["RemoteStore", "RemoteError", "Credentials", "PublishError", "add_arguments", "run", "credentials_from"]

EXIT_OK, EXIT_NEGATIVE, EXIT_ERROR = 0, 1, 2


def credentials_from(args: argparse.Namespace) -> Credentials | None:
    """Credentials from --user/--password/--auth-env; ValueError with a message that never holds a secret."""
    user, password = getattr(args, "user", None), getattr(args, "password", None)
    variable = getattr(args, "auth_env", None)
    token_variable = getattr(args, "token_env", None)
    if token_variable:
        if user is not None or password is not None or variable:
            raise ValueError("give either --token-env or user and password, not both")
        token = os.environ.get(token_variable)
        if not token:
            raise ValueError(f"--token-env: environment variable {token_variable} is not set")
        return Credentials.token(token)
    if variable:
        if password is not None:
            raise ValueError("give either --password or --auth-env, not both")
        value = os.environ.get(variable)
        if value is None:
            raise ValueError(f"--auth-env: environment variable {variable} is not set")
        if user is None:
            if ":" not in value:
                raise ValueError(f"--auth-env: {variable} must hold USER:PASSWORD (or give --user)")
            user, password = value.split(":", 1)
        else:
            password = value
    if user is None:
        if password is not None:
            raise ValueError("--password needs --user")
        return None
    if password is None:
        import getpass

        if not sys.stdin.isatty():
            raise ValueError("--user needs --password or --auth-env (no terminal to ask for it)")
        password = getpass.getpass(f"password for {user}: ")
    return Credentials(user, password)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Validate the data, then load them into an external triple store: our default graph into the named "
        "graph --graph, each of our named graphs into its own. Loads into staging graphs, verifies the store's "
        "triple counts, swaps them into place with MOVE, and verifies again. Idempotent."
    )
    parser.add_argument(
        "--endpoint", required=True, metavar="URL",
        help="Graph Store Protocol endpoint (--protocol gsp), e.g. http://127.0.0.1:7878/store, or SPARQL "
        "Update endpoint (--protocol update)",
    )
    parser.add_argument("--protocol", choices=("gsp", "update"), default="gsp",
                        help="Graph Store HTTP Protocol PUT (default) or SPARQL Update INSERT DATA")
    parser.add_argument("--graph", default=DATASET_IRI, metavar="IRI",
                        help=f"named graph for our default graph (default {DATASET_IRI})")
    parser.add_argument("--query-endpoint", metavar="URL",
                        help="SPARQL query endpoint for the count checks (derived from --endpoint for known stores)")
    parser.add_argument("--update-endpoint", metavar="URL",
                        help="SPARQL Update endpoint for the MOVE swap (derived from --endpoint for known stores)")
    parser.add_argument("--direct", action="store_true",
                        help="no staging graphs: replace each graph by one PUT, one after another (for stores "
                             "without SPARQL 1.1 MOVE; on Oxigraph server fast for a first load). A PUT that replaces "
                             "a graph is atomic only where the store loads it in one transaction (Oxigraph server "
                             "does); elsewhere readers may see, and a failure may leave, a graph empty or partly "
                             "loaded. A first load into an empty graph may be seen, or left, partly loaded")
    parser.add_argument("--batch-size", type=int, default=10_000, metavar="N",
                        help="triples per INSERT DATA request with --protocol update (default 10000)")
    from vetgraph.cli import seconds

    parser.add_argument("--timeout", type=seconds, default=600.0, metavar="SECONDS",
                        help="time limit of one request (default 600)")
    parser.add_argument("--retries", type=int, default=3, metavar="N",
                        help="retries after a connection failure or a 5xx answer (default 3; never after 4xx)")
    add_auth_arguments(parser)
    from vetgraph.validation import add_validation_arguments

    add_validation_arguments(parser)
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")


def _check_iri(value: str, option: str) -> None:
    import pyoxigraph as ox

    try:
        ox.NamedNode(value)
    except ValueError as error:
        raise ValueError(f"{option}: {value!r} is not an absolute IRI ({error})") from None
    if ":" not in value:
        raise ValueError(f"{option}: {value!r} is not an absolute IRI")


def run(args: argparse.Namespace) -> int:
    try:
        credentials = credentials_from(args)
        endpoint, url_credentials = split_credentials(args.endpoint)
        credentials = credentials or url_credentials
        endpoints = Endpoints.derive(endpoint, args.protocol, args.query_endpoint, args.update_endpoint)
        _check_iri(args.graph, "--graph")
    except (ValueError, RemoteError) as error:
        raise UsageError(str(error)) from None

    from vetgraph.progress import activated

    with activated(not args.quiet):
        return _publish(args, credentials, endpoints)


def _publish(args: argparse.Namespace, credentials: Credentials | None, endpoints: Endpoints) -> int:
    from vetgraph.cli import load_validated
    from vetgraph.memory import release_freed_memory

    loaded = load_validated(jobs=args.jobs, cache=args.cache, consequence="not published")
    print(f"validated: {len(loaded.files)} data files conform to the shapes")
    from vetgraph.progress import current

    with current().step("loading the data into the embedded Oxigraph store"):
        source = loaded.store().store
    del loaded
    release_freed_memory()
    http = HttpClient(credentials, timeout=args.timeout, retries=args.retries)
    try:
        plans = plan_graphs(source, args.graph)
        Publisher(http, endpoints, staging=not args.direct, batch_size=args.batch_size).publish(source, plans)
    except RemoteError as error:
        raise CannotRun(f"publish failed: {http.scrub(error.message)}") from None
    finally:
        http.close()
    return EXIT_OK
