"""Running a stored query from the tests: bind the values as `vetgraph query` and the server do, then run it."""

from __future__ import annotations

from collections.abc import Mapping

from vetgraph.queries import StoredQuery, execute
from vetgraph.store import QueryResult, Store


def run_stored(store: Store, query: StoredQuery, values: Mapping[str, str]) -> QueryResult:
    """Bind the values (ParameterError if they do not fit) and run the query on the store."""
    return execute(store, query, query.bind(values))
