"""vetgraph: linked open data of the ET 2020 Working Group on VET report *Innovation & Digitalisation* (2020).

From Python (see vetgraph.api)::

    import vetgraph
    rows = vetgraph.query("insight", number=3)   # a stored query, parameters bound as RDF terms
    graph = vetgraph.dataset()                     # rdflib Dataset; vetgraph.store(): a pyoxigraph Store
"""

import sys
import types

from vetgraph.api import dataset, query, store

__version__ = "0.1.0"
__all__ = ["dataset", "query", "store", "__version__"]


class _Package(types.ModuleType):
    """Keeps `vetgraph.store` the API function: importing the submodule vetgraph.store (the store abstraction)
    would otherwise rebind the package attribute to that module. The submodule stays importable by its name
    (`from vetgraph.store import OxigraphStore`), which reads sys.modules, not this attribute."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
