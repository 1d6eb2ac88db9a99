"""Search through the labels of linked EU concepts, in every language: `vetgraph links --search TEXT`.

The data files keep the report's language (English); the labels in the other EU languages live in the project's
snapshot of its link targets. The search runs the stored query `reference/search-linked.rq` (its text bound as
an RDF literal by the store, never pasted into the SPARQL) on a small Oxigraph store holding the data's links
to snapshot concepts and the snapshot itself, so a Polish, German or Greek word for a EuroVoc concept finds the
insight that links to it, with the matched label and its language.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from vetgraph.stores import OxigraphStore, Store

#: The data's statements whose object is an IRI (a link, possibly to a snapshot concept).
LINKS_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(isIRI(?o)) }"


@cache
def search_query() -> Any:
    from vetgraph.queries import parse_query_file

    return parse_query_file(Path(str(files("vetgraph.reference").joinpath("search-linked.rq"))))


def label_store(data: Store) -> OxigraphStore:
    """The snapshot (every language) plus the data's links to its concepts."""
    from rdflib import Dataset, URIRef

    from vetgraph.reference import snapshot_graph

    snapshot = snapshot_graph()
    concepts = {s for s in snapshot.subjects() if isinstance(s, URIRef)}
    side = Dataset()
    for triple in snapshot:
        side.add(triple)
    links = data.query(LINKS_QUERY).graph
    for s, p, o in links if links is not None else ():
        if o in concepts:
            side.add((s, p, o))
    return OxigraphStore.from_dataset(side)


def search(data: Store, text: str, side: OxigraphStore | None = None) -> list[dict[str, str]]:
    """Rows of resource, property, concept, label, language for the resources whose linked concepts' labels
    contain `text` (any language, case ignored)."""
    from vetgraph.queries import run_stored

    result = run_stored(side or label_store(data), search_query(), {"text": text})
    return [{name: str(value) if value is not None else "" for name, value in zip(result.variables, row, strict=True)}
            for row in result.rows]
