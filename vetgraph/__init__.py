"""vetgraph: linked open data of the ET 2020 Working Group on VET report *Innovation & Digitalisation* (2020).

From Python (see vetgraph.api)::

    import vetgraph
    rows = vetgraph.query("insight", number=3)   # a stored query, parameters bound as RDF terms
    graph = vetgraph.dataset()                     # rdflib Dataset; vetgraph.store(): a pyoxigraph Store
"""

from vetgraph.api import dataset, query, store

__version__ = "0.1.0"
__all__ = ["dataset", "query", "store", "__version__"]

