"""The graph from Python, for data users: `vetgraph.dataset()`, `vetgraph.store()`, `vetgraph.query()`.

Each reads the project as the commands do (vetgraph.config: the checkout, or the copy an installed wheel
carries, or VETGRAPH_PROJECT) and is not validated again (`vetgraph validate` does that). Stored queries run
exactly as `vetgraph query NAME --param k=v` does: same catalogue, parameters checked against their declared
type and bound as RDF terms, on the embedded Oxigraph store with the union of all graphs as default graph.
The heavy modules (rdflib, pyoxigraph) are imported inside the functions, so `import vetgraph` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Dataset, Graph
    from rdflib.term import Identifier

    from vetgraph.stores import OxigraphStore

_loaded_store: OxigraphStore | None = None


def dataset() -> Dataset:
    """The graph as an rdflib `Dataset`: the default graph holds what a source states, the named graph
    `https://w3id.org/vetgraph/graph/unconfirmed` what no source states directly (curated rows included).

    A new Dataset on every call, so changing it changes nothing else."""
    from vetgraph.loading import load_project

    return load_project().dataset


def store() -> pyoxigraph.Store:
    """The graph in a new in-memory pyoxigraph `Store`, its two graphs kept apart: query with
    `use_default_graph_as_union=True` to see both, as the stored queries do."""
    from vetgraph.loading import load_project

    return load_project().store().store


def query(name: str, /, **params: object) -> list[dict[str, Identifier]] | bool | Graph:
    """Run the stored query `name` (`vetgraph query --list` lists them) with its parameters.

    Values are given as Python values or text (`number=3`, `text="selfie"`, `country="DEU"`) and bound as
    RDF terms of the query's declared types, as `vetgraph query NAME --param k=v` binds them. A SELECT query
    returns its rows, each a dict of variable name to rdflib term (unbound variables left out); an ASK query
    a bool; a CONSTRUCT or DESCRIBE query an rdflib `Graph`.

    Raises KeyError for an unknown query and vetgraph.queries.ParameterError for a missing, unknown or
    ill-typed parameter. The graph is loaded once per process, on the first call."""
    from vetgraph.queries import load_catalogue, run_stored

    catalogue = load_catalogue()
    if name not in catalogue:
        raise KeyError(f"no stored query named {name!r}; there are: {', '.join(catalogue)}")
    values = {key: _text(value) for key, value in params.items()}
    result = run_stored(_store(), catalogue[name], values)
    if result.kind == "ask":
        return bool(result.boolean)
    if result.kind == "graph":
        assert result.graph is not None  # every engine fills it for a graph result
        return result.graph
    return result.as_dicts()


def _store() -> OxigraphStore:
    """The store the stored queries run on, loaded once (queries cannot change it)."""
    global _loaded_store
    if _loaded_store is None:
        from vetgraph.loading import load_project

        _loaded_store = load_project().store()
    return _loaded_store


def _text(value: object) -> str:
    """A parameter value as the command line would give it (True -> "true", 3 -> "3")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
