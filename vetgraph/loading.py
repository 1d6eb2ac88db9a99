"""Loading the ontology, the shapes and the data into memory, with errors that name file and line.

Files are parsed by Oxigraph's parsers (fast, precise positions) and handed to rdflib, whose graph model
pySHACL needs. Turtle (`.ttl`) files go to the default graph; TriG (`.trig`) files may also fill named
graphs, e.g. the graph of unconfirmed statements.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import NamespaceManager

from vetgraph import formats
from vetgraph.config import Paths
from vetgraph.errors import LoadError
from vetgraph.terms import to_rdflib

if TYPE_CHECKING:
    from vetgraph.curation import Provenance
    from vetgraph.stores import OxigraphStore

# rdflib warns on stderr about a boolean it cannot read; vetgraph.release_checks reports it as a violation.
warnings.filterwarnings("ignore", message="Parsing weird boolean", category=UserWarning, module="rdflib.term")

#: file suffix -> parser format, for every RDF syntax of the format registry
RDF_FORMATS: dict[str, ox.RdfFormat] = {"." + f.extension: f.rdf for f in formats.RDF_FORMATS.values()}


@dataclass
class Loaded:
    """Everything that was loaded: the project's graphs, where they came from, and (on first use) the same
    data in the embedded Oxigraph store, so that every command converts once."""

    dataset: Dataset
    ontology: Graph
    shapes: Graph
    #: subject IRI -> the data files that describe it (for error reports that point to a file)
    subject_files: dict[URIRef, set[Path]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    #: the locations the project was loaded from
    paths: Paths = field(default_factory=Paths)
    #: which spreadsheet cell each curated statement came from (None: no curated rows were loaded)
    provenance: Provenance | None = None
    _store: OxigraphStore | None = field(default=None, repr=False, compare=False)

    def union(self) -> Graph:
        """All data statements in one graph, whatever named graph they are in."""
        return union_graph(self.dataset)

    def store(self) -> OxigraphStore:
        """The data in the embedded Oxigraph store, converted on the first call only."""
        if self._store is None:
            from vetgraph.stores import OxigraphStore

            self._store = OxigraphStore.from_dataset(self.dataset)
        return self._store

    def locate(self, focus_node: object, path: object = None) -> str | None:
        """'file.csv:row: column X' for a result about a curated statement, or None when it is not curated."""
        return self.provenance.locate(focus_node, path) if self.provenance is not None else None


def union_graph(dataset: Dataset) -> Graph:
    """The statements of every graph of `dataset` in one graph, with the dataset's prefixes."""
    union = Graph(bind_namespaces="core")
    for prefix, namespace in dataset.namespaces():
        union.bind(prefix, namespace)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def new_dataset() -> Dataset:
    """An empty Dataset that binds only the core prefixes (rdflib binds dozens by default)."""
    dataset = Dataset()
    dataset.namespace_manager = NamespaceManager(dataset, bind_namespaces="core")
    return dataset


def rdf_files(folder: Path) -> list[Path]:
    """The RDF files below a folder, in a stable order."""
    if not folder.is_dir():
        raise LoadError(folder, "no such folder")
    return sorted(p for p in folder.rglob("*") if p.suffix in RDF_FORMATS and p.is_file())


def line_of_literal(path: Path, lexical: str, typed: bool = False) -> int | None:
    """The line of a `"lexical"` literal (`"lexical"^^datatype` when `typed`) in a Turtle-family file
    (Oxigraph's quads carry no positions).

    Looks for the quoted form (followed by `^^` when typed), outside comments, so that the same text in a
    valid literal or a comment earlier in the file is not taken for it."""
    pattern = re.compile(r'(?<!\\)["\']{1,3}' + re.escape(lexical) + r'["\']{1,3}' + (r"\s*\^\^" if typed else ""))
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            if pattern.search(line):
                return number
    except (OSError, UnicodeDecodeError):
        return None
    return None


def parse_file(
    path: Path, into: Dataset, base_iri: str | None = None, subjects: set[URIRef] | None = None
) -> None:
    """Parse one RDF file into `into`; raise LoadError with the position of the first problem.
    With `subjects`, also collect the IRIs the file describes."""
    fmt = RDF_FORMATS.get(path.suffix)
    if fmt is None:
        raise LoadError(path, f"unknown RDF file extension {path.suffix!r} (known: {', '.join(RDF_FORMATS)})")
    if fmt == ox.RdfFormat.RDF_XML:
        _refuse_xml_entities(path)
    try:
        if _starts_with_bom(path):  # editors on Windows add an invisible U+FEFF that no RDF grammar allows
            quads = list(ox.parse(input=path.read_bytes()[len(_BOM):], format=fmt, base_iri=base_iri))
        else:
            quads = list(ox.parse(path=str(path), format=fmt, base_iri=base_iri))
    except SyntaxError as error:
        message = re.sub(r"^Parser error at line \d+ between columns \d+ and \d+: ", "", str(error.msg))
        message = re.sub(r" \([^()]*, line \d+\)$", "", message)
        raise LoadError(path, message, error.lineno, error.offset) from None
    except (OSError, ValueError) as error:
        raise LoadError(path, str(error)) from None
    rebase = rebaser()
    for prefix, namespace in _prefixes(path):
        into.bind(prefix, rebase(URIRef(namespace)) if rebase else namespace, override=False)
    graphs: dict[object, Graph] = {}
    # Terms repeat a lot (predicates, classes, subjects): convert each distinct one once.
    terms: dict[object, object] = {}

    def convert(term):
        converted = terms.get(term)
        if converted is None:
            if isinstance(term, ox.Literal) and len(term.value) > MAX_LITERAL_CHARS:
                raise LoadError(path, _too_long(term.value, quad))
            converted = to_rdflib(term)
            if rebase:
                converted = rebase(converted)
            terms[term] = converted
        return converted

    for quad in quads:
        s, p, o = convert(quad.subject), convert(quad.predicate), convert(quad.object)
        if subjects is not None and isinstance(s, URIRef):
            subjects.add(s)
        graph_name = quad.graph_name
        key = graph_name.value if isinstance(graph_name, ox.NamedNode) else None
        if key and rebase:
            key = str(rebase(URIRef(key)))
        graph = graphs.get(key)
        if graph is None:
            graph = into.graph(URIRef(key)) if key else into.default_graph
            graphs[key] = graph
        graph.add((s, p, o))


#: The longest literal the data may hold. The report's longest texts are a few thousand characters; a literal
#: of megabytes is a mistake or an attack, and every dump and check of the release would hold copies of it.
MAX_LITERAL_CHARS = 1_000_000


def _too_long(value: str, quad: ox.Quad) -> str:
    start = value[:40].encode("unicode_escape").decode("ascii")
    return (f"a literal of {len(value):,} characters (\"{start}...\", object of {quad.subject} {quad.predicate}) "
            f"is longer than the {MAX_LITERAL_CHARS:,} characters a literal may have")


def _refuse_xml_entities(path: Path) -> None:
    """Refuse RDF/XML that declares entities before Oxigraph reads it: Oxigraph's RDF/XML parser expands
    internal entities, so a "billion laughs" file of a kilobyte grows into gigabytes. defusedxml runs expat
    with every entity declaration and external reference forbidden (a DOCTYPE without them is fine)."""
    from xml.sax import SAXException
    from xml.sax.handler import ContentHandler

    import defusedxml.sax
    from defusedxml import DefusedXmlException

    class Locating(ContentHandler):
        locator = None

        def setDocumentLocator(self, locator) -> None:  # noqa: N802 - the SAX API's name
            self.locator = locator

    handler = Locating()
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(handler)
    try:
        parser.parse(str(path))
    except DefusedXmlException as error:
        line = handler.locator.getLineNumber() if handler.locator else None
        name = getattr(error, "name", None)
        what = f'declares the XML entity "{name}"' if name else "refers to an external XML resource"
        raise LoadError(path, f"{what}: entity declarations (they can expand a small file into gigabytes) and "
                        "external references are not accepted in RDF/XML data", line) from None
    except SAXException as error:  # not well-formed: say where, as expat saw it
        line = handler.locator.getLineNumber() if handler.locator else None
        raise LoadError(path, f"not well-formed XML: {error.getMessage()}", line) from None
    except OSError as error:
        raise LoadError(path, str(error)) from None


#: What moves with the data's IRI base (VETGRAPH_BASE_IRI): resources, graphs, the dataset; the vocabulary stays.
REBASED_PARTS = ("id/", "graph/", "dataset")


def rebaser():
    """A function moving the data's canonical IRIs onto the configured base, or None when they agree."""
    from vetgraph import config

    if config.BASE_IRI == config.CANONICAL_BASE:
        return None
    moved = tuple(config.CANONICAL_BASE + part for part in REBASED_PARTS)

    def rebase(term):
        if isinstance(term, URIRef) and str(term).startswith(moved):
            return URIRef(config.BASE_IRI + str(term)[len(config.CANONICAL_BASE) :])
        return term

    return rebase


_PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def _prefixes(path: Path) -> list[tuple[str, str]]:
    """The prefixes a Turtle/TriG file declares, so dumps keep readable names."""
    if path.suffix not in (".ttl", ".trig"):
        return []
    return _PREFIX_RE.findall(utf8_text(path))


_BOM = b"\xef\xbb\xbf"


def _starts_with_bom(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(_BOM)) == _BOM


def utf8_text(path: Path) -> str:
    """The text of a UTF-8 file (without a byte-order mark); LoadError with the line and column of the first
    byte that is not UTF-8 (Oxigraph's parsers let such bytes pass inside comments)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        raise LoadError(path, f"byte 0x{data[error.start]:02X} is not UTF-8: save the file as UTF-8", line,
                        column) from None


def load_graph(path: Path) -> Graph:
    """One RDF file as a single graph (ontology, shapes, a fixture)."""
    dataset = new_dataset()
    parse_file(path, dataset)
    return union_graph(dataset)


def load_data(data_files: Iterable[Path], on_file: Callable[[], object] | None = None,
              ) -> tuple[Dataset, dict[URIRef, set[Path]]]:
    """The data files as one dataset, and which file describes which subject (`on_file()` after each file)."""
    from vetgraph.memory import cyclic_gc_paused

    dataset = new_dataset()
    subject_files: dict[URIRef, set[Path]] = {}
    with cyclic_gc_paused():
        for path in data_files:
            subjects: set[URIRef] = set()
            parse_file(path, dataset, subjects=subjects)
            for subject in subjects:
                subject_files.setdefault(subject, set()).add(path)
            if on_file is not None:
                on_file()
    return dataset, subject_files


def merge(part: Dataset, into: Dataset, path: Path, subject_files: dict[URIRef, set[Path]] | None = None) -> None:
    """Add the statements of `part` (read from `path`) to `into`, each in its graph, with their prefixes;
    record in `subject_files` that `path` describes each of their subjects."""
    for prefix, namespace in part.namespaces():
        into.bind(prefix, namespace, override=False)
    for s, p, o, g in part.quads((None, None, None, None)):
        target = into.default_graph if g is None or g == DATASET_DEFAULT_GRAPH_ID else into.graph(g)
        target.add((s, p, o))
        if subject_files is not None and isinstance(s, URIRef):
            subject_files.setdefault(s, set()).add(path)


def load_project(paths: Paths | None = None, data_files: Iterable[Path] | None = None) -> Loaded:
    """Ontology, shapes and data of the project (or of the given data files only). The project's data include
    the rows of its curation spreadsheets (vetgraph.curation), which raise CurationError when one has a problem."""
    from vetgraph.progress import current

    paths = paths or Paths()
    files = list(data_files) if data_files is not None else rdf_files(paths.data_dir)
    with current().step("loading ontology, shapes and data", total=len(files) + 2, unit="files") as step:
        ontology = load_graph(paths.ontology_file)
        shapes = load_graph(paths.shapes_file)
        step.update(2)
        dataset, subject_files = load_data(files, on_file=step.update)
        provenance = None
        if data_files is None:
            from vetgraph.curation import add_curated

            provenance, curated_files = add_curated(dataset, subject_files, paths)
            files.extend(curated_files)
    return Loaded(dataset=dataset, ontology=ontology, shapes=shapes, subject_files=subject_files, files=files,
                  paths=paths, provenance=provenance)
