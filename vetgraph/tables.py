"""Aligned, terminal-friendly tables of query results (`vetgraph query --format table`).

IRIs are shortened with well-known prefixes (listed under the table), literals show their text. On a
terminal the table fits its width the way psql or `column` would: short columns (IRIs, numbers, booleans,
labels) keep their width, long free text wraps at spaces, and no word, IRI or number is ever cut unless a
single one is longer than the whole table can give it. When even that cannot fit, each row is printed as a
record (one `name | value` line per column, like psql's expanded display). Piped or redirected output is not
wrapped at all (one line per row) unless COLUMNS is set. The W3C formats (csv/tsv/json/xml, RDF syntaxes)
come from `QueryResult.serialize`, not from here.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence

from rdflib import XSD, BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from vetgraph.namespaces import prefixes
from vetgraph.stores import QueryResult, serialize_triples

#: prefix -> namespace used to shorten IRIs in tables (display only; longest namespace wins)
PREFIXES: dict[str, str] = prefixes("id", "vet", "rdf", "rdfs", "owl", "xsd", "skos", "dct", "foaf", "org", "prov",
                                     "schema", "dcat", "eurovoc", "esco", "authority")

#: prefixes whose local names contain "/" (fine in a table, escaped in Turtle)
_PATH_PREFIXES = {"id", "esco", "authority"}
#: free-text columns up to this width keep their natural width; wider ones give way first
SHORT_TEXT = 25
#: a single token (IRI, code) longer than this may be cut, as a last resort, to keep the table layout
MAX_UNBROKEN = 40
SEPARATOR = "  "
#: columns holding only these datatypes are right-aligned, as numbers are in psql
_NUMERIC = frozenset({
    XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long, XSD.short, XSD.byte,
    XSD.nonNegativeInteger, XSD.positiveInteger, XSD.negativeInteger, XSD.nonPositiveInteger,
    XSD.unsignedInt, XSD.unsignedLong, XSD.unsignedShort, XSD.unsignedByte,
})
#: where a header such as `viewpointUnconfirmed` may wrap: between camelCase humps, after "_" or "-"
_HEADER_BREAKS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[_-])(?=.)")


def cell_text(term: Identifier | None, prefixes: Mapping[str, str] = PREFIXES, used: set[str] | None = None) -> str:
    """How one term reads in a table: prefixed IRI, literal text, `_:b` for blank nodes, '' for unbound."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        return " ".join(str(term).split())  # newlines would break the row layout
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, URIRef):
        iri = str(term)
        best = max((ns for ns in prefixes.values() if iri.startswith(ns) and len(iri) > len(ns)), key=len,
                   default=None)
        if best is not None:
            prefix = next(p for p, ns in prefixes.items() if ns == best)
            if used is not None:
                used.add(prefix)
            return f"{prefix}:{iri[len(best):]}"
        return iri
    return str(term)


def column_widths(natural: Sequence[int], minimum: Sequence[int], budget: int) -> list[int]:
    """Widths that fit `budget` characters: cap the widest columns at one common limit, never below minimum."""
    if sum(natural) <= budget:
        return list(natural)
    low, high = 1, max(natural)
    while low < high:  # the largest cap whose table still fits
        cap = (low + high + 1) // 2
        if sum(max(min(n, cap), m) for n, m in zip(natural, minimum, strict=True)) <= budget:
            low = cap
        else:
            high = cap - 1
    return [max(min(n, low), m) for n, m in zip(natural, minimum, strict=True)]


def terminal_width() -> int | None:
    """The width to fit, or None for "do not wrap".

    COLUMNS wins when set (also for pipes, so a caller can ask for a width); otherwise a terminal's own
    width; otherwise (pipe, file, test) None: a program reading the output wants one line per row."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout is not None and sys.stdout.isatty():
            return shutil.get_terminal_size(fallback=(120, 24)).columns
    except (AttributeError, ValueError, OSError):  # stdout replaced or closed
        pass
    return None


def format_table(
    variables: Sequence[str],
    rows: Iterable[Sequence[Identifier | None]],
    width: int | None = None,
    hide: set[str] | frozenset[str] = frozenset(),
    prefixes: Mapping[str, str] = PREFIXES,
) -> str:
    """Rows as an aligned table with a header, a rule, a row count and the prefixes used.

    `width`: the characters to fit; None asks `terminal_width()`; 0 never wraps (one line per row)."""
    if width is None:
        width = terminal_width() or 0
    shown = [i for i, v in enumerate(variables) if v not in hide] or list(range(len(variables)))
    headers = [variables[i] for i in shown]
    used: set[str] = set()
    terms = [[row[i] for i in shown] for row in rows]
    cells = [[cell_text(term, prefixes, used) for term in row] for row in terms]
    numeric = [bool(column) and all(isinstance(t, Literal) and t.datatype in _NUMERIC for t in column)
               for column in ([t for t in col if t is not None] for col in zip(*terms, strict=True))] \
        if terms else [False] * len(headers)
    widths = _plan(headers, cells, width - len(SEPARATOR) * (len(headers) - 1)) if width > 0 else None
    if widths is None and width > 0:
        lines = _records(headers, cells, width)
    else:
        lines = _table(headers, cells, widths, numeric)
    count = len(cells)
    lines.append(f"({count} row{'s' if count != 1 else ''})")
    if used:
        lines.append("prefixes: " + ", ".join(f"{p}: <{prefixes[p]}>" for p in sorted(used)))
    return "\n".join(lines) + "\n"


def _plan(headers: Sequence[str], cells: Sequence[Sequence[str]], budget: int) -> list[int] | None:
    """Column widths that fit `budget`, cutting no token if at all possible; None if no table fits.

    In order: natural widths; short columns natural and long free text sharing the rest in proportion;
    short columns down to their longest token too (labels wrap at spaces, headers at camelCase humps);
    tokens longer than MAX_UNBROKEN cut; else None (the caller prints records)."""
    columns = list(zip(*cells, strict=True)) if cells else [()] * len(headers)
    natural = [max([len(h), *map(len, column)]) for h, column in zip(headers, columns, strict=True)]
    if sum(natural) <= budget:
        return natural
    floor = [max([len(s) for s in _HEADER_BREAKS.split(h)] + [len(t) for text in column for t in text.split(" ")])
             for h, column in zip(headers, columns, strict=True)]
    long = [n > SHORT_TEXT and any(" " in text for text in column) for n, column in zip(natural, columns, strict=True)]
    short_natural = sum(n for n, is_long in zip(natural, long, strict=True) if not is_long)
    long_floor = sum(f for f, is_long in zip(floor, long, strict=True) if is_long)
    if short_natural + long_floor <= budget:
        return _fill(natural, natural, floor, long, budget)
    if sum(floor) <= budget:
        return _fill(natural, floor, floor, long, budget)
    lowest = [min(f, MAX_UNBROKEN) for f in floor]
    if sum(lowest) <= budget:
        return column_widths(natural, lowest, budget)
    return None


def _fill(natural: Sequence[int], short: Sequence[int], floor: Sequence[int], long: Sequence[bool],
          budget: int) -> list[int]:
    """Short columns at `short` widths, long ones sharing what is left; any rest widens the short ones."""
    picked = [i for i, is_long in enumerate(long) if is_long]
    shares = _share(budget - sum(s for s, is_long in zip(short, long, strict=True) if not is_long),
                    [natural[i] for i in picked], [floor[i] for i in picked])
    widths = dict(zip(picked, shares, strict=True))
    rest = [i for i, is_long in enumerate(long) if not is_long]
    grown = column_widths([natural[i] for i in rest], [short[i] for i in rest], budget - sum(shares))
    widths.update(zip(rest, grown, strict=True))
    return [widths[i] for i in range(len(long))]


def _share(total: int, natural: Sequence[int], floor: Sequence[int]) -> list[int]:
    """`total` split in proportion to the natural widths, each share within [floor, natural]."""
    shares: dict[int, int] = {}
    while True:  # fix the shares that hit a bound, then split the rest among the others
        free = [i for i in range(len(natural)) if i not in shares]
        if not free:
            return [shares[i] for i in range(len(natural))]
        left = total - sum(shares.values())
        weight = sum(natural[i] for i in free)
        ideal = {i: left * natural[i] / weight for i in free}
        bounded = {i: floor[i] for i in free if ideal[i] < floor[i]} or \
            {i: natural[i] for i in free if ideal[i] > natural[i]}
        if not bounded:
            sizes = {i: int(ideal[i]) for i in free}
            by_fraction = sorted(free, key=lambda i: ideal[i] - sizes[i], reverse=True)
            for i in by_fraction[:left - sum(sizes.values())]:  # hand out what rounding down left over
                sizes[i] += 1
            bounded = sizes
        shares.update(bounded)


def _table(headers: Sequence[str], cells: Sequence[Sequence[str]], widths: Sequence[int] | None,
           numeric: Sequence[bool]) -> list[str]:
    """Header, rule and rows; with `widths`, cells wrap inside their column and wrapped rows stand apart."""
    if widths is None:
        widths = [max([len(h), *(len(row[c]) for row in cells)]) for c, h in enumerate(headers)]
        head = [[h] for h in headers]
        body = [[[text] for text in row] for row in cells]
    else:
        head = [_wrap_header(h, w) for h, w in zip(headers, widths, strict=True)]
        body = [[_wrap(text, w) for text, w in zip(row, widths, strict=True)] for row in cells]
    lines = _block(head, widths, [False] * len(widths))
    lines.append(_line(["-" * w for w in widths], widths, numeric))
    spaced = any(len(part) > 1 for row in body for part in row)  # a blank line shows where a wrapped row ends
    for k, row in enumerate(body):
        if spaced and k:
            lines.append("")
        lines.extend(_block(row, widths, numeric))
    return lines


def _records(headers: Sequence[str], cells: Sequence[Sequence[str]], width: int) -> list[str]:
    """Each row as `name | value` lines under a `-[ row N ]` rule, for tables too wide to fit."""
    key = max(map(len, headers), default=0)
    room = max(width - key - 3, 10)
    lines: list[str] = []
    for n, row in enumerate(cells, start=1):
        title = f"-[ row {n} ]"
        lines.append(title + "-" * max(width - len(title), 0))
        for name, text in zip(headers, row, strict=True):
            for k, part in enumerate(_wrap(text, room)):
                lines.append(f"{name if k == 0 else '':<{key}} | {part}".rstrip())
    return lines


def _wrap(text: str, width: int) -> list[str]:
    """Text wrapped at spaces; only a token longer than the whole width is cut, see `_cut`."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if len(word) > width:  # the last resort: the over-long token starts a line and is cut
            if current:
                lines.append(current)
            *whole, current = _cut(word, width)
            lines.extend(whole)
        elif current and len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            if current:
                lines.append(current)
            current = word
    return [*lines, current]


def _cut(token: str, width: int) -> list[str]:
    """An over-long token in pieces of at most `width`, cut after a "/" or "#" (else a "-") near the end.

    `id:instrument/` + `digital-education-...` reads better than a cut at an arbitrary letter."""
    pieces = []
    while len(token) > width:
        cut = width
        for marks in ("/#?&", "-_.:=,"):  # path and query separators first, then word joints
            at = max(token.rfind(mark, 0, width) for mark in marks) + 1
            if at >= width // 2:  # not so early that the piece is a stub
                cut = at
                break
        pieces.append(token[:cut])
        token = token[cut:]
    return [*pieces, token]


def _wrap_header(header: str, width: int) -> list[str]:
    """A header wrapped between its camelCase words (`viewpoint` / `Unconfirmed`), cut only if a word is longer."""
    lines = [""]
    for word in _HEADER_BREAKS.split(header):
        if lines[-1] and len(lines[-1]) + len(word) > width:
            lines.append("")
        lines[-1] += word  # joined without a space: the lines read as the header's own name
    return [piece for line in lines for piece in _cut(line, width)]


def _block(parts: Sequence[Sequence[str]], widths: Sequence[int], numeric: Sequence[bool]) -> list[str]:
    """The lines of one wrapped row (or header): column k shows its k-th piece, top-aligned."""
    return [_line([p[k] if k < len(p) else "" for p in parts], widths, numeric)
            for k in range(max((len(p) for p in parts), default=1))]


def _line(texts: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    return SEPARATOR.join(t.rjust(w) if right else t.ljust(w)
                          for t, w, right in zip(texts, widths, numeric, strict=True)).rstrip()


def format_result(result: QueryResult, width: int | None = None, hide: set[str] | frozenset[str] = frozenset()) -> str:
    """A query result for the terminal: a table (SELECT), true/false (ASK), Turtle (CONSTRUCT/DESCRIBE).

    `hide` names columns not worth repeating on every row, such as the bound parameters."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    if result.kind == "graph":
        return turtle(result.graph).decode("utf-8") if result.graph is not None else ""
    return format_table(result.variables, result.rows, width=width, hide=hide)


def turtle(graph: Graph) -> bytes:
    """A graph as readable Turtle: statements grouped by subject, well-known prefixes.

    Only prefixes whose local names need no escaping are used: `id:insight\\/3` would be valid Turtle but
    harder to read than the full IRI."""
    namespaces = {p: ns for p, ns in PREFIXES.items() if ns.endswith(("#", "/")) and p not in _PATH_PREFIXES}
    used = {p: ns for p, ns in namespaces.items() if any(str(t).startswith(ns) for triple in graph for t in triple)}
    return serialize_triples(sorted(graph), "ttl", prefixes=used)
