"""The result cache: each partition's kept results on disk, for incremental validation."""

from __future__ import annotations

import os

from rdflib import Graph
from rdflib.term import Node

from vetgraph.validation.closure import Triple


class ResultCache:
    """pySHACL's results per partition, on disk, keyed by everything they depend on: the partition's focus
    nodes and closure, the shapes and the ontology (canonicalised, so blank-node labels do not matter),
    the options and the pySHACL and rdflib versions. An unchanged partition is not validated again; any change
    in its closure (even one triple in a neighbouring report that a shape reads) changes its key. Entries are
    pickles: use a folder only vetgraph writes to. Nothing is evicted; delete the folder to start afresh."""

    def __init__(self, folder: os.PathLike | str, shapes: Graph, ontology: Graph | None, options: dict):
        import hashlib
        from importlib.metadata import version

        from rdflib.compare import to_canonical_graph

        self.folder = os.fspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        digest = hashlib.sha256()
        for graph in (shapes, ontology if ontology is not None else Graph()):
            for line in sorted(_n3(t) for t in to_canonical_graph(graph)):
                digest.update(line.encode())
            digest.update(b"\x00")
        digest.update(repr(sorted((k, repr(v)) for k, v in options.items())).encode())
        digest.update(f"pyshacl {version('pyshacl')} rdflib {version('rdflib')}".encode())
        self.context = digest.hexdigest()

    def key(self, focus: list[Node], triples: set[Triple]) -> str:
        import hashlib

        digest = hashlib.sha256(self.context.encode())
        for line in sorted(n.n3() for n in focus):
            digest.update(line.encode() + b"\n")
        digest.update(b"\x00")
        for line in sorted(_n3(t) for t in triples):
            digest.update(line.encode())
        return digest.hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], key + ".pickle")

    def get(self, key: str) -> list[Triple] | None:
        import pickle

        try:
            with open(self._path(key), "rb") as stream:
                return pickle.load(stream)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    def put(self, key: str, triples: list[Triple]) -> None:
        """Written atomically (a temporary file renamed), so a crash never leaves a half entry."""
        import pickle
        import tempfile

        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(triples, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def _n3(triple: Triple) -> str:
    return " ".join(term.n3() for term in triple) + "\n"
