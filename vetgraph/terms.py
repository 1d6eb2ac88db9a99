"""Conversion between pyoxigraph and rdflib terms (both sides are used: Oxigraph for speed, rdflib for SHACL)."""

from __future__ import annotations

import logging
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier, Node

from vetgraph.namespaces import RDF, XSD

_XSD_STRING = str(XSD.string)
_RDF_LANGSTRING = str(RDF.langString)

# rdflib logs a traceback for every ill-typed literal; we report those ourselves with file and line.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


def to_rdflib(term: Any) -> Identifier:
    """An rdflib term for a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        # normalize=False: keep the lexical form the data wrote (rdflib would turn "yes"^^xsd:boolean into
        # "false"), so that an ill-typed literal is reported, and published, as written.
        return Literal(term.value, datatype=URIRef(datatype), normalize=False)
    if isinstance(term, ox.DefaultGraph):
        return None  # type: ignore[return-value]
    raise TypeError(f"unsupported term {term!r}")


def to_oxigraph(term: Node) -> Any:
    """A pyoxigraph term for an rdflib term (IRI, blank node or literal; TypeError for anything else)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) not in (_XSD_STRING, _RDF_LANGSTRING):
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def written(data: bytes | None) -> bytes:
    """What a pyoxigraph `serialize` returns when it is given no output to write to: the bytes."""
    assert data is not None, "serialize was given an output"
    return data
