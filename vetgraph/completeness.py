"""How complete the graph is against what the report declares ("12 Lighthouse projects declared, 3
described"). The one definition is the stored query `queries/completeness.rq`; `vetgraph stats`, the home
page and its overview read it through `completeness()`, and a test holds the SHACL completeness warnings
to the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rdflib import URIRef

from vetgraph.config import PROJECT_ROOT

if TYPE_CHECKING:
    from vetgraph.queries import StoredQuery
    from vetgraph.stores import Store

#: The definition ships with the project (a --queries folder of the user's may not hold it).
QUERY_FILE = PROJECT_ROOT / "queries" / "completeness.rq"


@dataclass(frozen=True)
class Aspect:
    """One row of the completeness query: what the report declares of something against what is described."""

    name: str  # "insights", "insight titles", "confirmed insight titles", "viewpoints", ...
    declared: int | None  # None: the report declares no count of it
    described: int

    @property
    def missing(self) -> int | None:
        return None if self.declared is None else self.declared - self.described


@lru_cache(maxsize=1)
def _query() -> StoredQuery:
    from vetgraph.queries import parse_query_file

    return parse_query_file(QUERY_FILE)


def completeness(store: Store, report: URIRef | str) -> list[Aspect]:
    """The completeness of one report, aspect by aspect, in the query's order."""
    from vetgraph.queries import execute

    aspects = []
    for row in execute(store, _query(), {"report": URIRef(str(report))}).as_dicts():
        declared = row.get("declared")
        aspects.append(Aspect(str(row["aspect"]), int(declared) if declared is not None else None,
                              int(row["described"])))
    return aspects


def aspect(aspects: list[Aspect], name: str) -> Aspect:
    """The aspect called `name` (KeyError when the query has no such row)."""
    for candidate in aspects:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
