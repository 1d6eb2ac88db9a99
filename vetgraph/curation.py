"""Curation spreadsheets: rows of `data/curation/*.csv` become RDF through a declared W3C CSVW mapping.

The mapping lives in `data/curation/curation-metadata.json` (W3C "Metadata Vocabulary for Tabular Data"):
per table an `aboutUrl` template that mints each row's IRI from its slug (so re-running never duplicates a
resource), per column a `propertyUrl`, a `valueUrl` template for links, a datatype with its constraints and a
language. The `csvw` library reads that metadata (dialect, datatypes, URI templates); this module applies the
W3C csv2rdf "minimal mode" to it, because the library implements csv2json but not csv2rdf. Two additions of
vetgraph, which CSVW has no notion of: the `evidence` column picks the named graph of the row (unconfirmed
rows go to the graph of unconfirmed statements), and an insight row replaces the title, summary and evidence
that the data records for that insight (see SUPERSEDED).

Before converting, every cell is checked with messages a curator understands, naming file, spreadsheet row
(the header is row 1) and column, with a suggestion where one exists:
    lighthouse-projects.csv:7: column country: "GER" is not an EU country code (did you mean DEU?)
Codes are checked against what the project knows offline: the countries and agents the data describes or
links to, and the EU country and corporate-body tables of the vocabulary snapshot when it is present
(`VETGRAPH_VOCAB`); a code found in neither is reported, with the reason, rather than published unchecked.
"""

from __future__ import annotations

import csv
import difflib
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph, Literal, URIRef

from vetgraph.config import PROJECT_ROOT, UNCONFIRMED_GRAPH, Paths
from vetgraph.loading import LoadError, load_data, load_graph, merge, new_dataset, rdf_files, rebaser, union_graph
from vetgraph.namespaces import DCTERMS, DOI, PREFIXES, RDFS, SKOS, VET, XSD, prefixes

CURATION_FOLDER = "curation"
METADATA_FILE = "curation-metadata.json"
#: The mapping shipped with the project, used when a data folder's curation/ has none of its own.
DEFAULT_METADATA = PROJECT_ROOT / "data" / CURATION_FOLDER / METADATA_FILE
COUNTRY_NS, CORPORATE_BODY_NS, AGENT_NS = (PREFIXES[p] for p in ("country", "corporatebody", "agent"))
REPORT_DOI_URL = str(DOI["10.2767/25307"])
#: Tables first read so that later tables can refer to their rows (a project's coordinator is an actor).
TABLE_ORDER = ("actors.csv", "lighthouse-projects.csv", "good-practices.csv", "insights.csv")
#: Per table: a property a curated row gives -> the properties of the data it replaces on that subject. The
#: title read in the report outranks the secondary wording or the "not recorded" mark the data holds, and the
#: data's editorial note is about where its title came from.
SUPERSEDED: dict[str, dict[URIRef, tuple[URIRef, ...]]] = {
    "insights.csv": {
        DCTERMS.title: (DCTERMS.title, VET.titleEvidence, SKOS.editorialNote),
        DCTERMS.description: (DCTERMS.description,),
    },
}
#: Tables whose rows describe resources that the data already has (their IRIs are not minted by a row).
DESCRIBES_EXISTING = frozenset(SUPERSEDED)
#: Common confusions with the EU country table's codes (Eurostat's and ISO alpha-2 codes).
COUNTRY_ALIASES = {"EL": "GRC", "UK": "GBR", "GR": "GRC", "GB": "GBR", "EU": "EUR"}

#: Prefixes of the converted rows, so that dumps and diffs read project:x rather than full IRIs.
ROW_PREFIXES = prefixes("project", "practice", "agent", "insight", "country", "vet", "dct", "skos", "schema", "foaf",
                        "org")
_XSD_TYPES = {
    "integer": XSD.integer, "decimal": XSD.decimal, "boolean": XSD.boolean, "date": XSD.date,
    "dateTime": XSD.dateTime, "anyURI": XSD.anyURI, "gYear": XSD.gYear,
}


@dataclass(frozen=True)
class CurationIssue:
    """One problem in a curation file, where a curator can find and fix it."""

    file: str
    row: int | None
    column: str | None
    message: str
    suggestion: str | None = None
    #: the file itself cannot be read (not UTF-8, not CSV, a broken mapping), as opposed to a cell that does
    #: not conform
    unreadable: bool = False

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        text = f"{where}: column {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        return f"{text} ({self.suggestion})" if self.suggestion else text


class CurationError(LoadError):
    """The curation files have problems; nothing of them may be published. A LoadError, so that every
    command that reports unloadable input (build, serve, stats, ...) prints these lines, not a traceback."""

    def __init__(self, issues: Iterable[CurationIssue], folder: Path | str = CURATION_FOLDER):
        self.issues = list(issues)
        first = self.issues[0] if self.issues else None
        super().__init__(Path(folder) / first.file if first else folder, str(self), first.row if first else None)

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    @property
    def input_read(self) -> bool:  # type: ignore[override]
        """True when every file was read and only cells or rows do not conform (exit 1, like a SHACL
        violation); False when a file cannot be read at all (exit 2)."""
        return not any(issue.unreadable for issue in self.issues)


@dataclass
class Codes:
    """What the curated rows may refer to: code -> English label ("" when no label is known)."""

    countries: dict[str, str] = field(default_factory=dict)
    corporate_bodies: dict[str, str] = field(default_factory=dict)
    #: actor slug -> label, and corporate-body code -> slug of the agent that matches it
    agents: dict[str, str] = field(default_factory=dict)
    agent_by_code: dict[str, str] = field(default_factory=dict)
    #: the vocabulary snapshot read, or None when it is absent (codes outside the data cannot be checked)
    snapshot: Path | None = None


@dataclass
class Provenance:
    """Where each curated statement came from, to point SHACL results back to a spreadsheet cell."""

    #: resources minted by a row (a project, practice or actor) -> (file, row)
    rows: dict[URIRef, tuple[str, int]] = field(default_factory=dict)
    #: (subject, property) -> (file, row, column) of the cell that gave it
    cells: dict[tuple[URIRef, URIRef], tuple[str, int, str]] = field(default_factory=dict)

    def locate(self, focus_node: Any, path: Any = None) -> str | None:
        cell = self.cells.get((focus_node, path))
        if cell is not None:
            return f"{cell[0]}:{cell[1]}: column {cell[2]}"
        row = self.rows.get(focus_node)
        return f"{row[0]}:{row[1]}" if row is not None else None


# --------------------------------------------------------------------------------------------------------
# Reference codes


def _label(graph: Graph, node: URIRef) -> str:
    for predicate in (SKOS.prefLabel, RDFS.label):
        for value in graph.objects(node, predicate):
            if isinstance(value, Literal) and value.language in (None, "en"):
                return str(value)
    return ""


def _codes_in(graph: Graph, namespace: str) -> dict[str, str]:
    """Codes of the authority-table IRIs of `namespace` that the graph mentions (a code is its IRI's tail)."""
    found: dict[str, str] = {}
    for node in set(graph.subjects()) | set(graph.objects()):
        if isinstance(node, URIRef) and node.startswith(namespace) and "/" not in node[len(namespace):]:
            code = node[len(namespace):]
            found[code] = found.get(code) or _label(graph, node)
    return found


def collect_codes(data: Graph, vocab_dir: Path | None) -> Codes:
    """The countries, corporate bodies and agents that curated rows may refer to."""
    codes = Codes(countries=_codes_in(data, COUNTRY_NS), corporate_bodies=_codes_in(data, CORPORATE_BODY_NS))
    for node in set(data.subjects()):
        if isinstance(node, URIRef) and node.startswith(AGENT_NS):
            slug = node[len(AGENT_NS):]
            codes.agents[slug] = _label(data, node)
            for target in data.objects(node, None):
                if isinstance(target, URIRef) and target.startswith(CORPORATE_BODY_NS):
                    codes.agent_by_code.setdefault(target[len(CORPORATE_BODY_NS):], slug)
    if vocab_dir is not None and (vocab_dir / "country.ttl").is_file():
        codes.snapshot = vocab_dir
        for name, table in (("country.ttl", codes.countries), ("corporate-body.ttl", codes.corporate_bodies)):
            path = vocab_dir / name
            if path.is_file():
                graph = load_graph(path)
                namespace = COUNTRY_NS if name == "country.ttl" else CORPORATE_BODY_NS
                for code, label in _codes_in(graph, namespace).items():
                    table[code] = table.get(code) or label
    return codes


# --------------------------------------------------------------------------------------------------------
# Cell checks: each returns (message, suggestion) for a bad value, or None


def _close(value: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _by_name(value: str, table: dict[str, str]) -> list[str]:
    """Codes whose label is, or starts with, what was typed ("Germany", "GER" -> DEU)."""
    typed = value.strip().casefold()
    if len(typed) < 3:
        return []
    exact = [code for code, label in table.items() if label.casefold() == typed]
    return exact or sorted(code for code, label in table.items() if label.casefold().startswith(typed))


def _did_you_mean(candidates: list[str], table: dict[str, str] | None = None) -> str | None:
    if not candidates:
        return None
    shown = [f"{code} ({table[code]})" if table and table.get(code) and len(candidates) > 1 else code
             for code in candidates[:3]]
    return "did you mean " + " or ".join(shown) + "?"


def _suggest_code(value: str, table: dict[str, str], aliases: dict[str, str]) -> str | None:
    upper = value.strip().upper()
    if upper in table:  # right code, wrong case or spaces
        return _did_you_mean([upper])
    if upper in aliases and aliases[upper] in table:
        return _did_you_mean([aliases[upper]])
    named = _by_name(value, table)
    if named:
        return _did_you_mean(named, table)
    if len(upper) == 2:
        prefixed = sorted(code for code in table if code.startswith(upper))
        if len(prefixed) == 1:
            return _did_you_mean(prefixed)
    close = _close(upper, table)
    return _did_you_mean([close]) if close else None


class Checker:
    """The offline knowledge behind the checks: reference codes and the slugs of the curated actors."""

    def __init__(self, codes: Codes | Callable[[], Codes]):
        self._codes = codes

    @property
    def codes(self) -> Codes:
        """The codes, collected on first use: empty templates need no parsing of the data."""
        if callable(self._codes):
            self._codes = self._codes()
        return self._codes

    def country(self, value: str) -> tuple[str, str | None] | None:
        if value in self.codes.countries:
            return None
        suggestion = _suggest_code(value, self.codes.countries, COUNTRY_ALIASES)
        if re.fullmatch(r"[A-Z]{3}", value) and self.codes.snapshot is None and suggestion is None:
            return (f'"{value}" cannot be checked: it is not a country the data links to, and the EU country '
                    "table snapshot is absent", "set VETGRAPH_VOCAB to the folder holding country.ttl")
        return f'"{value}" is not an EU country code', suggestion

    def corporate_body(self, value: str) -> tuple[str, str | None] | None:
        if value in self.codes.corporate_bodies:
            return None
        suggestion = _suggest_code(value, self.codes.corporate_bodies, {})
        if self.codes.snapshot is None and suggestion is None:
            return (f'"{value}" cannot be checked: it is not a corporate body the data links to, and the EU '
                    "corporate-body table snapshot is absent", "set VETGRAPH_VOCAB to the folder holding it")
        return f'"{value}" is not a code of the EU corporate-body table', suggestion

    def actor(self, value: str) -> tuple[str, str | None] | None:
        agents = self.codes.agents
        if value in agents:
            return None
        typed = value.strip()
        slug = self.codes.agent_by_code.get(typed.upper())
        if slug is None:
            named = [s for s, label in agents.items() if label and label.casefold() == typed.casefold()]
            slug = named[0] if named else _close(_slugify(typed), agents)
        message = f'"{value}" is not an actor: use the slug of a row of actors.csv or of an agent in the data'
        return message, (f"did you mean {slug}?" if slug else "add the organisation to actors.csv")


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _check_slug(value: str) -> tuple[str, str | None]:
    suggestion = _slugify(value)
    return (f'"{value}" is not a slug: use lower-case letters, digits and hyphens',
            f"did you mean {suggestion}?" if suggestion else None)


def _check_url(value: str) -> tuple[str, str | None]:
    text = value.strip()
    if re.fullmatch(r"10\.\d{4,9}/\S+", text):
        return f'"{value}" is a DOI, not a URL', f"did you mean https://doi.org/{text}?"
    if text.startswith("www."):
        return f'"{value}" is not a web address', f"did you mean https://{text}?"
    return f'"{value}" is not a web address (http:// or https://)', None


def _check_page(value: str) -> tuple[str, str | None]:
    numbers = re.findall(r"[1-9][0-9]*", value)
    suggestion = "-".join(numbers[:2]) if numbers else None
    return (f'"{value}" is not a page number: write the number printed on the page, or a range like 23-24',
            f"did you mean {suggestion}?" if suggestion else None)


def _check_number(value: str, noun: str, low: int, high: int) -> tuple[str, str | None]:
    numbers = [n for n in re.findall(r"\d+", value) if low <= int(n) <= high]
    suggestion = f"did you mean {numbers[0]}?" if len(numbers) == 1 and numbers[0] != value.strip() else None
    article = "an" if noun[:1] in "aeiou" else "a"
    return f'"{value}" is not {article} {noun} from {low} to {high}', suggestion


def _check_evidence(value: str) -> tuple[str, str | None]:
    close = _close(value.strip().casefold(), ("confirmed", "unconfirmed"))
    return (f'"{value}" is not an evidence level: write confirmed or unconfirmed',
            f"did you mean {close}?" if close else None)


# --------------------------------------------------------------------------------------------------------
# Reading the tables


@dataclass
class _Row:
    number: int  # the spreadsheet row (header = 1)
    cells: dict[str, Any]  # column name -> parsed value (None, a value or a list of values)
    raw: dict[str, str]


@dataclass
class _Table:
    name: str
    path: Path
    table: Any  # csvw.Table
    rows: list[_Row] = field(default_factory=list)


def _load_metadata(path: Path) -> Any:
    from csvw import TableGroup

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        group = TableGroup.from_file(path)
    if caught:  # a broken mapping is the maintainer's problem, but say where it is
        raise CurationError([CurationIssue(path.name, None, None, str(w.message), unreadable=True)
                             for w in caught], path.parent)
    return group


#: Separators spreadsheet programs write into ".csv" files: the comma; the semicolon, in every locale whose
#: decimal mark is a comma (most of the EU); the tab of "Text (tab delimited)".
SEPARATORS = (",", ";", "\t")


def _read_records(
    path: Path, dialect: Any, is_title: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """The file's records, numbered from 1. The separator is the mapping's (CSVW dialect), unless the header
    row splits into more of the template's column titles (`is_title`) with another of SEPARATORS."""
    params = dialect.as_python_formatting_parameters() if dialect else {}
    params = {k: v for k, v in params.items() if k in ("delimiter", "quotechar", "doublequote", "escapechar")}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if is_title is not None:
            header = handle.readline()
            handle.seek(0)
            params["delimiter"] = _separator(header, params.get("delimiter", ","), is_title)
        yield from enumerate(csv.reader(handle, **params), start=1)


def _separator(header: str, declared: str, is_title: Callable[[str], bool]) -> str:
    """The separator (of the declared one and SEPARATORS) that splits `header` into the most column titles."""
    best, matches = declared, -1
    for separator in dict.fromkeys((declared, *SEPARATORS)):
        cells = next(csv.reader([header], delimiter=separator), [])
        count = sum(1 for cell in cells if is_title(cell.strip()))
        if count > matches:
            best, matches = separator, count
    return best


class _Reader:
    """Reads and checks the curation tables of one folder."""

    def __init__(self, folder: Path, group: Any, checker: Checker):
        self.folder = folder
        self.group = group
        self.checker = checker
        self.issues: list[CurationIssue] = []

    def issue(self, file: str, row: int | None, column: str | None, message: str, hint: str | None = None,
              unreadable: bool = False):
        self.issues.append(CurationIssue(file, row, column, message, hint, unreadable))

    def read(self) -> list[_Table]:
        tables = {str(t.url): t for t in self.group.tables}
        order = [n for n in TABLE_ORDER if n in tables] + sorted(set(tables) - set(TABLE_ORDER))
        read: list[_Table] = []
        for name in order:
            path = self.folder / name
            if path.is_file():
                table = self.read_table(_Table(name, path, tables[name]))
                read.append(table)
                if name == "actors.csv" and table.rows:  # later tables may name these, even with issues
                    agents = self.checker.codes.agents
                    for row in table.rows:
                        if row.cells.get("slug"):
                            agents.setdefault(row.cells["slug"], str(row.cells.get("name") or ""))
        return read

    def read_table(self, table: _Table) -> _Table:
        columns = {c.name: c for c in table.table.tableSchema.columns if not c.virtual}
        dialect = table.table._get_dialect()
        def is_title(cell: str) -> bool:
            return any(c.has_title(cell) for c in columns.values())

        try:
            records = list(_read_records(table.path, dialect, is_title))
        except UnicodeDecodeError:
            self.issue(table.name, None, None, "is not UTF-8 text", 'save it as "CSV UTF-8"', unreadable=True)
            return table
        except csv.Error as error:
            self.issue(table.name, None, None, f"cannot be read as CSV: {error}", unreadable=True)
            return table
        if not records:
            self.issue(table.name, None, None, "has no header row", "copy the header row from the template")
            return table
        header = [h.strip() for h in records[0][1]]
        positions: dict[str, int] = {}
        for index, title in enumerate(header):
            column = next((c for c in columns.values() if c.has_title(title)), None)
            if column is not None:
                positions[column.name] = index
            elif title:
                close = _close(title, columns)
                self.issue(table.name, 1, title, "is not a column of this template",
                           f"did you mean {close}?" if close else f"known columns: {', '.join(columns)}")
        for name, column in columns.items():
            if name not in positions and column.required:
                self.issue(table.name, 1, name, "is missing from the header row",
                           "copy the header row from the template")
        if any(i.file == table.name and i.row == 1 for i in self.issues):
            return table
        read_at = set(positions.values())
        keys = table.table.tableSchema.primaryKey or []
        seen: dict[tuple, int] = {}
        for number, record in records[1:]:
            if not any(cell.strip() for cell in record):
                continue  # spreadsheet programs leave empty rows behind
            extra = [cell.strip() for i, cell in enumerate(record) if i not in read_at and cell.strip()]
            if extra:  # a cell under no column would be lost: say so rather than drop it
                shown = ", ".join(f'"{cell}"' for cell in extra[:3]) + (", ..." if len(extra) > 3 else "")
                self.issue(table.name, number, None,
                           f"{len(extra)} cell(s) under no column of the header row: {shown}",
                           "a cell that holds the separator needs quotes; otherwise move or remove the extra cells")
            raw = {name: (record[i] if i < len(record) else "") for name, i in positions.items()}
            row = _Row(number, {}, raw)
            for name, column in columns.items():
                row.cells[name] = self.read_cell(table.name, number, column, raw.get(name, ""))
            key = tuple(row.cells.get(k) for k in keys)
            if keys and None not in key:
                if key in seen:
                    shown = ", ".join(str(k) for k in key)
                    self.issue(table.name, number, keys[0], f'"{shown}" is already used by row {seen[key]}',
                               "merge the two rows if they describe the same thing, or give this one another "
                               + ("number" if keys == ["number"] else "slug"))
                else:
                    seen[key] = number
            table.rows.append(row)
        return table

    def read_cell(self, file: str, row: int, column: Any, raw: str) -> Any:
        text = raw.strip()
        if not text:
            if column.required:
                message, suggestion = "is empty, but every row needs it", None
                if column.name == "source":
                    message = "no source: every row needs the URL of the document that states it"
                    suggestion = f"for the report itself: {REPORT_DOI_URL}"
                elif column.name == "page":
                    message = "no page: give the page of the report where this is printed"
                self.issue(file, row, column.name, message, suggestion)
            return [] if column.separator else None
        parts = [p.strip() for p in text.split(column.separator)] if column.separator else [text]
        values = []
        for part in parts:
            if not part:
                continue
            value = self.read_value(file, row, column, part)
            if value is not None:
                values.append(value)
        if column.separator:
            return values
        return values[0] if values else None

    def read_value(self, file: str, row: int, column: Any, text: str) -> Any:
        """One cell value (a list item), checked by the column's kind, then by the CSVW datatype."""
        kind = column.name
        problem: tuple[str, str | None] | None = None
        value: Any = None
        datatype = column.inherit("datatype")
        try:  # the datatype of a list column applies to each item
            value = datatype.read(text) if datatype is not None else text
        except ValueError as error:
            problem = self.explain(column, text, str(error))
        if problem is None:
            if kind == "country":
                problem = self.checker.country(text)
            elif kind == "corporate_body":
                problem = self.checker.corporate_body(text)
            elif kind == "coordinator":
                problem = self.checker.actor(text)
        if problem is not None:
            self.issue(file, row, column.name, *problem)
            return None
        return value

    def explain(self, column: Any, text: str, error: str) -> tuple[str, str | None]:
        kind = column.name
        datatype = column.inherit("datatype")
        noun = column.common_props.get("rdfs:label", kind)
        if kind == "country":
            return self.checker.country(text) or (f'"{text}" is not an EU country code', None)
        if kind == "corporate_body":
            return self.checker.corporate_body(text) or (f'"{text}" is not a corporate-body code', None)
        if kind == "coordinator":
            return self.checker.actor(text) or _check_slug(text)
        if kind == "slug":
            return _check_slug(text)
        if kind == "evidence":
            return _check_evidence(text)
        if kind == "page":
            return _check_page(text)
        if datatype is not None and datatype.base == "anyURI":
            return _check_url(text)
        if datatype is not None and datatype.base == "integer":
            return _check_number(text, noun, int(datatype.minimum or 1), int(datatype.maximum or 10**9))
        return f'"{text}" is not valid here: {error}', None


# --------------------------------------------------------------------------------------------------------
# csv2rdf


def _literal(column: Any, value: Any) -> Literal:
    datatype = column.inherit("datatype")
    base = datatype.base if datatype is not None else "string"
    if base in ("string", "any", "anyAtomicType"):
        lang = column.inherit("lang")
        return Literal(str(value), lang=None if lang in (None, "und") else lang)
    text = datatype.formatted(value) if hasattr(datatype, "formatted") else str(value)
    return Literal(text, datatype=_XSD_TYPES.get(base, XSD[base]))


def _template_value(value: Any) -> str:
    """The string a URI template receives for a cell value (an anyURI value is read as a URIReference)."""
    return value.unsplit() if hasattr(value, "unsplit") else str(value)


Statement = tuple[URIRef, URIRef, Any, "str | None"]  # (s, p, o, the column it comes from)


def convert_row(table: Any, row: _Row, rownum: int) -> tuple[URIRef, list[Statement]]:
    """W3C csv2rdf minimal mode for one row: its subject and statements."""
    schema = table.tableSchema
    context = {name: _template_value(v) for name, v in row.cells.items()
               if v is not None and not isinstance(v, list)}
    subject = URIRef(table.expand(schema.aboutUrl, context, _row=rownum))
    triples: list[Statement] = []
    for column in schema.columns:
        if column.suppressOutput:
            continue
        about = column.aboutUrl
        cell_subject = URIRef(table.expand(about, context, _row=rownum)) if about else subject
        predicate = URIRef(table.expand(column.propertyUrl, context, _row=rownum, _name=column.name))
        value_url = column.inherit("valueUrl")
        if column.virtual:
            value_iri = URIRef(table.expand(value_url, context, _row=rownum))
            triples.append((cell_subject, predicate, value_iri, None))
            continue
        value = row.cells.get(column.name)
        for item in value if isinstance(value, list) else ([] if value is None else [value]):
            if value_url:
                item_context = dict(context, **{column.name: _template_value(item)})
                obj: Any = URIRef(table.expand(value_url, item_context, _row=rownum, _name=column.name))
            else:
                obj = _literal(column, item)
            triples.append((cell_subject, predicate, obj, column.name))
    return subject, triples


def _evidence_triples(file: str, subject: URIRef, confirmed: bool) -> list[Statement]:
    """What the evidence column says in the graph (vetgraph's addition to the CSVW mapping)."""
    triples: list[Statement] = []
    if not confirmed:
        triples.append((subject, VET.evidence, VET.Unconfirmed, "evidence"))
    if file == "insights.csv":  # the title was read in the report, or is the curator's unconfirmed reading
        level = VET.AsPrinted if confirmed else VET.Unconfirmed
        triples.append((subject, VET.titleEvidence, level, "evidence"))
    return triples


# --------------------------------------------------------------------------------------------------------
# Entry points


def curation_dir(data_dir: Path) -> Path:
    return Path(data_dir) / CURATION_FOLDER


def _data_graph(data_dir: Path) -> Graph:
    """The RDF data of the folder (for codes and agents it already describes)."""
    dataset, _ = load_data(rdf_files(data_dir))
    return union_graph(dataset)


def _only_template_headers(folder: Path, metadata: Path) -> bool:
    """True when every table present is just the template's header row (the state of a fresh checkout)."""
    import json

    try:
        tables = json.loads(metadata.read_text(encoding="utf-8"))["tables"]
        for table in tables:
            path = folder / table["url"]
            if not path.is_file():
                continue
            lines = [line for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip(", \t")]
            expected = [c["name"] for c in table["tableSchema"]["columns"] if not c.get("virtual")]
            if len(lines) != 1 or next(csv.reader(lines)) != expected:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False  # let the full reading report what is wrong
    return True


def read_curated(
    data_dir: Path, vocab_dir: Path | None = None, data: Graph | Callable[[], Graph] | None = None
) -> tuple[list[tuple[Path, Dataset]], Provenance, list[CurationIssue]]:
    """Check and convert the curation tables of `data_dir/curation/`: (datasets, provenance, issues).

    `data` is the project's RDF data already loaded (or a function giving it), whose codes and agents the
    rows may refer to; without it the data files are read again."""
    folder = curation_dir(data_dir)
    if not folder.is_dir() or not any(folder.glob("*.csv")):
        return [], Provenance(), []
    metadata = folder / METADATA_FILE if (folder / METADATA_FILE).is_file() else DEFAULT_METADATA
    if _only_template_headers(folder, metadata):  # nothing to convert: spare loading the csvw library
        return [], Provenance(), []
    group = _load_metadata(metadata)

    def codes() -> Codes:
        graph = data() if callable(data) else data if data is not None else _data_graph(data_dir)
        return collect_codes(graph, vocab_dir if vocab_dir is not None else Paths().vocab_dir)

    reader = _Reader(folder, group, Checker(codes))
    tables = reader.read()
    _check_across_tables(tables, reader)
    provenance = Provenance()
    results: list[tuple[Path, Dataset]] = []
    # The mapping writes canonical IRIs, like the data files; the loader's rule moves both to the configured base.
    rebase = rebaser() or (lambda term: term)
    for table in tables:
        dataset = new_dataset()
        for prefix, namespace in ROW_PREFIXES.items():
            dataset.bind(prefix, namespace)
        for rownum, row in enumerate(table.rows, start=1):
            subject, triples = convert_row(table.table, row, rownum)
            confirmed = row.cells.get("evidence") != "unconfirmed"
            target = dataset.default_graph if confirmed else dataset.graph(URIRef(UNCONFIRMED_GRAPH))
            subject = rebase(subject)
            if table.name not in DESCRIBES_EXISTING:
                provenance.rows[subject] = (table.name, row.number)
            for s, p, o, column in [*triples, *_evidence_triples(table.name, subject, confirmed)]:
                s, p, o = rebase(s), rebase(p), rebase(o)
                target.add((s, p, o))
                if column is not None and s == subject:
                    provenance.cells.setdefault((s, p), (table.name, row.number, column))
        results.append((table.path, dataset))
    return results, provenance, reader.issues


def _check_across_tables(tables: list[_Table], reader: _Reader) -> None:
    """A Lighthouse project is already a good practice: one slug belongs in one of the two tables."""
    by_name = {t.name: t for t in tables}
    projects, practices = by_name.get("lighthouse-projects.csv"), by_name.get("good-practices.csv")
    if projects is None or practices is None:
        return
    project_rows = {r.cells.get("slug"): r.number for r in projects.rows if r.cells.get("slug")}
    for row in practices.rows:
        slug = row.cells.get("slug")
        if slug in project_rows:
            reader.issue(
                practices.name, row.number, "slug",
                f'"{slug}" is also in lighthouse-projects.csv, row {project_rows[slug]}',
                "a Lighthouse project is a good practice already: keep it in lighthouse-projects.csv only",
            )


def load_curated(data_dir: Path, vocab_dir: Path | None = None) -> list[tuple[Path, Dataset]]:
    """The curated rows of `data_dir/curation/` as RDF, one dataset per CSV file; CurationError if any row has
    a problem (then nothing of the curation files is returned). Empty templates give empty datasets."""
    results, _, issues = read_curated(Path(data_dir), vocab_dir)
    if issues:
        raise CurationError(issues, curation_dir(data_dir))
    return results


def add_curated(
    dataset: Dataset, subject_files: dict[URIRef, set[Path]], paths: Paths
) -> tuple[Provenance, list[Path]]:
    """Check the curation spreadsheets of `paths.data_dir` and merge their rows into the loaded `dataset`
    (see apply_curated): where each curated statement came from, and the spreadsheets read. Codes are checked
    against `dataset` itself and `paths.vocab_dir`, so no data file is parsed twice. CurationError if any row
    has a problem (then nothing of the curation files is merged)."""
    results, provenance, issues = read_curated(
        paths.data_dir, paths.vocab_dir, data=lambda: union_graph(dataset)
    )
    if issues:
        raise CurationError(issues, curation_dir(paths.data_dir))
    apply_curated(dataset, results, subject_files)
    return provenance, [path for path, _ in results]


def superseded(data: Dataset, curated: Iterable[tuple[Path, Dataset]]) -> list[tuple[Any, Any, Any, Any]]:
    """The quads of `data` that curated rows replace (see SUPERSEDED), to remove before merging them in."""
    quads: list[tuple[Any, Any, Any, Any]] = []
    for path, dataset in curated:
        rules = SUPERSEDED.get(path.name, {})
        quads_of_rows = dataset.quads((None, None, None, None))
        given = {(s, p) for s, p, _, _ in quads_of_rows if isinstance(p, URIRef) and p in rules}
        for subject, curated_property in sorted(given):
            for replaced in rules[curated_property]:
                quads.extend(data.quads((subject, replaced, None, None)))
    return quads


def apply_curated(
    dataset: Dataset, curated: Iterable[tuple[Path, Dataset]], subject_files: dict[URIRef, set[Path]] | None = None
) -> None:
    """Merge curated datasets into `dataset` (as `load_project` does), first removing the statements they
    replace; `subject_files` records which curation file describes each subject."""
    curated = list(curated)
    for quad in superseded(dataset, curated):
        dataset.remove(quad)
    for path, part in curated:
        merge(part, dataset, path, subject_files)

