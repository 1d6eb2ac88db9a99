"""`vetgraph diff OLD [NEW]`: the statements added and removed between two releases, grouped by resource.

OLD and NEW are RDF dumps in any format the loader reads (.ttl .trig .nt .nq .rdf .jsonld); NEW omitted
(or `-`) means the current data of the project, curated spreadsheet rows included. Statements are compared
with their named graph, so a statement that moves into or out of the graph of unconfirmed statements is a
change. Blank nodes are compared after canonical relabelling (W3C RDFC-1.0, `vetgraph.canonical`), so two
parses of one file are equal. Exit codes: 0 equal, 1 different, 2 cannot compare (a file that does not load).

`changes_markdown(old, new)` renders the same comparison as the CHANGES.md of a release.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import RDFS, SKOS, BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import DCTERMS, FOAF, XSD, NamespaceManager

from vetgraph.canonical import canonical_rdflib_quads
from vetgraph.formats import RDF_FORMATS
from vetgraph.namespaces import prefixes

EXIT_EQUAL, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2
#: Dump formats that hold one graph: a comparison with one of them ignores named graphs.
SINGLE_GRAPH_FORMATS = tuple("." + f.extension for f in RDF_FORMATS.values() if not f.named_graphs)
LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel, DCTERMS.title, FOAF.name)
PLAIN_DATATYPES = (XSD.integer, XSD.boolean)

#: (subject, predicate, object, graph name or None for the default graph)
Quad = tuple[Any, Any, Any, Any]


@dataclass
class ResourceChange:
    """The statements about one subject that were added or removed."""

    subject: Any
    label: str | None
    status: str  # "added" (new resource), "removed" (gone), "changed"
    added: list[Quad] = field(default_factory=list)
    removed: list[Quad] = field(default_factory=list)


@dataclass
class Comparison:
    """The difference between two datasets."""

    added: set[Quad]
    removed: set[Quad]
    resources: list[ResourceChange]
    namespaces: NamespaceManager

    @property
    def equal(self) -> bool:
        return not self.added and not self.removed

    def summary(self) -> str:
        if self.equal:
            return "no changes"
        counts = {s: sum(1 for r in self.resources if r.status == s) for s in ("added", "changed", "removed")}
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        resources = f"{len(self.resources)} resource{'s' * (len(self.resources) != 1)} ({', '.join(parts)})"
        return f"{len(self.added)} statements added, {len(self.removed)} removed, in {resources}"


# --------------------------------------------------------------------------------------------------------
# Loading


def load_dump(path: Path) -> Dataset:
    """One dump (any RDF format the loader reads) as a dataset; LoadError names file and line."""
    from vetgraph.loading import LoadError, new_dataset, parse_file

    if not path.is_file():
        raise LoadError(path, "no such file")
    dataset = new_dataset()
    parse_file(path, dataset)
    return dataset


def current_data() -> Dataset:
    """The project's data as `vetgraph build` publishes it (curated rows included)."""
    from vetgraph.loading import load_project

    return load_project().dataset


# --------------------------------------------------------------------------------------------------------
# Comparing


def _graph_name(name: Any) -> URIRef | None:
    return None if name is None or name == DATASET_DEFAULT_GRAPH_ID else URIRef(str(name))


def quads(data: Graph | Dataset, triples: bool = False) -> set[Quad]:
    """The statements of a graph or dataset as quads, blank nodes canonically relabelled (RDFC-1.0); with
    `triples`, all in the default graph (the view of a dump format without named graphs)."""
    if isinstance(data, Dataset):
        rows = [(s, p, o, None if triples else _graph_name(g)) for s, p, o, g in data.quads((None, None, None, None))]
    else:
        rows = [(s, p, o, None) for s, p, o in data]
    return set(canonical_rdflib_quads(rows))


def _labels(statements: Iterable[Quad]) -> dict[Any, str]:
    """English (or untagged) labels by subject, the first label property found winning."""
    candidates: dict[Any, dict[int, str]] = {}
    for s, p, o, _ in statements:
        if p in LABEL_PROPERTIES and isinstance(o, Literal) and o.language in (None, "en"):
            rank = LABEL_PROPERTIES.index(p)
            candidates.setdefault(s, {}).setdefault(rank, str(o))
    return {s: ranks[min(ranks)] for s, ranks in candidates.items()}


def _namespaces(*sources: Graph | Dataset) -> NamespaceManager:
    """The prefixes the compared data declare (e.g. dct:, not rdflib's default dcterms:), then the core ones."""
    manager = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
    for source in sources:
        for prefix, namespace in source.namespaces():
            if prefix:
                manager.bind(prefix, namespace, override=False)
    from vetgraph.curation import ROW_PREFIXES

    fallback: dict[str, str] = {p: str(n) for p, n in NamespaceManager(Graph(), bind_namespaces="core").namespaces()}
    fallback.update(prefixes("topic", "report", "graph"))
    fallback.update(ROW_PREFIXES)
    for prefix, iri in fallback.items():  # N-Quads and RDF/XML dumps declare no prefixes
        manager.bind(prefix, iri, override=False)
    return manager


def _sort_key(quad: Quad) -> tuple[str, str, str]:
    s, p, o, g = quad
    return str(p), str(o), str(g or "")


def compare(old: Graph | Dataset, new: Graph | Dataset, triples: bool = False) -> Comparison:
    """The statements of `new` not in `old` (added) and of `old` not in `new` (removed), by resource;
    with `triples`, whatever named graph they are in."""
    old_quads, new_quads = quads(old, triples), quads(new, triples)
    added, removed = new_quads - old_quads, old_quads - new_quads
    labels = _labels(old_quads)
    labels.update(_labels(new_quads))  # the new label wins when a label changed
    old_subjects = {q[0] for q in old_quads}
    new_subjects = {q[0] for q in new_quads}
    by_subject: dict[Any, ResourceChange] = {}
    for quad in sorted(added | removed, key=lambda q: (str(q[0]), *_sort_key(q))):
        subject = quad[0]
        change = by_subject.get(subject)
        if change is None:
            status = ("added" if subject not in old_subjects
                      else "removed" if subject not in new_subjects else "changed")
            change = by_subject[subject] = ResourceChange(subject, labels.get(subject), status)
        (change.added if quad in added else change.removed).append(quad)
    return Comparison(added, removed, list(by_subject.values()), _namespaces(old, new))


# --------------------------------------------------------------------------------------------------------
# Rendering


def _term(node: Any, namespaces: NamespaceManager) -> str:
    """A term as Turtle writes it: prefixed names, bare numbers and booleans."""
    if isinstance(node, Literal) and node.datatype in PLAIN_DATATYPES and not node.ill_typed:
        return str(node)
    return node.n3(namespaces)


def _statement_lines(change: ResourceChange, namespaces: NamespaceManager) -> list[str]:
    """'+ predicate object [graph]' lines, removed before added for each predicate so edits read as pairs."""
    lines = []
    marked = [("-", q) for q in change.removed] + [("+", q) for q in change.added]
    for sign, (_, p, o, g) in sorted(marked, key=lambda m: (*_sort_key(m[1]), m[0] == "+")):
        where = f"  [graph {_term(g, namespaces)}]" if g is not None else ""
        lines.append(f"{sign} {_term(p, namespaces)} {_term(o, namespaces)}{where}")
    return lines


def _heading(change: ResourceChange, namespaces: NamespaceManager) -> str:
    name = _term(change.subject, namespaces)
    label = f' "{change.label}"' if change.label else ""
    note = {"added": " (new)", "removed": " (removed)", "changed": ""}[change.status]
    return f"{name}{label}{note}"


def format_text(comparison: Comparison) -> str:
    lines = []
    for change in comparison.resources:
        lines.append(_heading(change, comparison.namespaces))
        lines.extend("  " + line for line in _statement_lines(change, comparison.namespaces))
        lines.append("")
    lines.append(comparison.summary())
    return "\n".join(lines)


def _json_term(node: Any) -> dict[str, str]:
    """An RDF term in the shape of the SPARQL 1.1 JSON results format."""
    if isinstance(node, URIRef):
        return {"type": "uri", "value": str(node)}
    if isinstance(node, BNode):
        return {"type": "bnode", "value": str(node)}
    term = {"type": "literal", "value": str(node)}
    if node.language:
        term["xml:lang"] = node.language
    elif node.datatype:
        term["datatype"] = str(node.datatype)
    return term


def to_json(comparison: Comparison) -> dict[str, Any]:
    def statements(items: list[Quad]) -> list[dict[str, Any]]:
        return [{"predicate": _json_term(p), "object": _json_term(o), "graph": str(g) if g is not None else None}
                for _, p, o, g in items]

    return {
        "equal": comparison.equal,
        "added": len(comparison.added),
        "removed": len(comparison.removed),
        "resources": [
            {
                "subject": _json_term(change.subject),
                "label": change.label,
                "status": change.status,
                "added": statements(change.added),
                "removed": statements(change.removed),
            }
            for change in comparison.resources
        ],
    }


def format_markdown(comparison: Comparison, old_name: str = "the previous release", new_name: str = "") -> str:
    title = f"# Changes{' in ' + new_name if new_name else ''}"
    if comparison.equal:
        return f"{title}\n\nNo changes: the data is the same as in {old_name}.\n"
    lines = [title, "", f"Compared with {old_name}: {comparison.summary()}.", ""]
    sections = (("added", "New resources"), ("changed", "Changed resources"), ("removed", "Removed resources"))
    for status, heading in sections:
        changes = [c for c in comparison.resources if c.status == status]
        if not changes:
            continue
        lines += [f"## {heading}", ""]
        for change in changes:
            name = change.label or _term(change.subject, comparison.namespaces)
            lines += [f"### {name}", ""]
            if isinstance(change.subject, URIRef):
                lines += [f"<{change.subject}>", ""]
            lines += ["```diff", *_statement_lines(change, comparison.namespaces), "```", ""]
    return "\n".join(lines)


def changes_markdown(
    old: Graph | Dataset, new: Graph | Dataset, old_name: str = "the previous release", new_name: str = ""
) -> str:
    """CHANGES.md text: what `new` adds to and removes from `old`, grouped by resource with labels."""
    return format_markdown(compare(old, new), old_name, new_name)


# --------------------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD", help="the earlier dump (.ttl .trig .nt .nq .rdf .jsonld)")
    parser.add_argument("new", nargs="?", default="-", metavar="NEW",
                        help="the later dump; omitted or '-': the current data of the project")
    parser.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                        help="text (default), json, or markdown (as CHANGES.md)")
    parser.add_argument("--triples", action="store_true",
                        help="compare statements whatever named graph they are in (automatic when a dump is "
                             ".ttl, .nt or .rdf, which hold a single graph)")


def run(args: argparse.Namespace) -> int:
    # vetgraph.cli reports a dump that cannot be read (exit 2) and a curated row that does not conform (exit 1)
    old = load_dump(args.old)
    new = current_data() if str(args.new) == "-" else load_dump(Path(args.new))
    single = [str(p) for p in (args.old, args.new) if Path(str(p)).suffix in SINGLE_GRAPH_FORMATS]
    triples = args.triples or bool(single)
    if single and not args.triples:
        print(f"note: compared without named graphs: {', '.join(single)} holds a single graph", file=sys.stderr)
    comparison = compare(old, new, triples=triples)
    if args.format == "json":
        print(json.dumps(to_json(comparison), indent=2, ensure_ascii=False))
    elif args.format == "markdown":
        new_name = "the current data" if str(args.new) == "-" else str(args.new)
        sys.stdout.write(format_markdown(comparison, old_name=str(args.old), new_name=new_name))
    else:
        print(format_text(comparison))
    return EXIT_EQUAL if comparison.equal else EXIT_DIFFERENT
