"""Stored SPARQL queries: the catalogue in `queries/*.rq` and the `vetgraph query` command.

Each `.rq` file holds one query and opens with `#+ ` lines of YAML metadata, grlc's decorator syntax. grlc's
keys keep grlc's meaning (GRLC_KEYS); vetgraph adds `params` (name -> type, required, default, enum,
description) and `example`, which grlc ignores. docs/queries.md has the table of what is shared:

    #+ summary: One insight with everything linked to it
    #+ params:
    #+   number: {type: integer, required: true, description: "the insight's number"}
    #+ example: vetgraph query insight --param number=3

Parameter values are validated against their declared type and bound as RDF terms (Oxigraph's SEP-0007
substitution, rdflib's initBindings), never pasted into the query text: a value such as
`x" } ; DROP ALL ; #` is only a string literal that matches nothing.

Writing a query with an optional parameter: a SELECT query must project the parameter's variable (SEP-0007),
and an unbound optional parameter must mean "no filter". `BOUND(?param)` does not see Oxigraph's
substitutions, so test for the parameter with `sameTerm(COALESCE(?param, ""), "")` ("not given"):

    FILTER(sameTerm(COALESCE(?country, ""), "") || EXISTS { ?project vet:country ?country })
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from vetgraph.errors import CannotRun, LoadError, UsageError
from vetgraph.formats import GRAPH_FORMATS, RESULT_FORMATS

if TYPE_CHECKING:  # heavy imports stay lazy: `vetgraph query --list` needs no RDF engine
    from rdflib.term import Identifier

    from vetgraph.stores import QueryResult, Store

_T = TypeVar("_T")

PARAM_TYPES = ("iri", "integer", "string", "langstring", "date", "boolean")
#: Longer integers are refused rather than converted (Python refuses beyond 4300 digits anyway).
_MAX_INTEGER_DIGITS = 100
#: grlc's decorators that vetgraph honours with grlc's meaning: `defaults` and `enumerate` (lists of
#: `- name: value` / `- name: [values]`) set the default and the allowed values of declared parameters.
GRLC_KEYS = ("summary", "description", "tags", "defaults", "enumerate")
#: grlc's decorators about a grlc deployment (where its API sends the query, how its API is called): read and
#: checked, so that one file serves both, but vetgraph runs a stored query on the store it is given.
GRLC_DEPLOYMENT_KEYS = ("endpoint", "endpoint_in_url", "method")
#: grlc's decorators that change the answer (pages of rows, reshaped JSON), which vetgraph does not implement:
#: refused, rather than giving other answers than grlc for the same file.
GRLC_REFUSED_KEYS = ("pagination", "transform")
#: vetgraph's own keys (grlc ignores them): parameters with types, and a command line that runs the query.
OWN_KEYS = ("params", "example")
METADATA_KEYS = GRLC_KEYS + GRLC_DEPLOYMENT_KEYS + OWN_KEYS
PARAM_KEYS = ("type", "required", "default", "description", "enum", "lang")
OUTPUT_FORMATS = ("table", *RESULT_FORMATS, *GRAPH_FORMATS)

_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER_RE = re.compile(r"^[+-]?[0-9]+$")
_LANG_VALUE_RE = re.compile(r"^(.*)@([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$", re.DOTALL)
_LANG_TAG_RE = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
#: Oxigraph reports syntax errors as "error at LINE:COLUMN: message".
_OX_POSITION_RE = re.compile(r"^error at (\d+):(\d+):\s*")
_MAX_MESSAGE = 100


class QueryFileError(LoadError):
    """A query file that cannot be used: no or bad metadata, or a syntax error (names file:line:col)."""


class ParameterError(ValueError):
    """A parameter value that cannot be bound: unknown, missing, or not of the declared type."""

    def __init__(self, param: str, message: str):
        self.param = param
        self.message = message
        super().__init__(f"parameter {param!r}: {message}")


@dataclass
class Param:
    """A declared query parameter; `name` is the SPARQL variable it binds."""

    name: str
    type: str = "string"
    required: bool = False
    default: str | None = None
    description: str = ""
    enum: list[str] | None = None
    #: language tag of a `langstring` value given without `@tag`
    lang: str = "en"

    def to_term(self, value: str) -> Identifier:
        """The RDF term for a value given as text; ParameterError if it is not of the declared type."""
        from rdflib import Literal, URIRef

        from vetgraph.namespaces import XSD

        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a command line in another encoding gives lone surrogates
            raise ParameterError(self.name, "the value is not valid text (it holds bytes that are not UTF-8)") from None
        if self.enum is not None and value not in self.enum:
            raise ParameterError(self.name, f"{value!r} is not one of: {', '.join(self.enum)}")
        if self.type == "iri":
            return URIRef(_check_iri(self.name, value))
        if self.type == "integer":
            if not _INTEGER_RE.match(value.strip()):
                raise ParameterError(self.name, f"expected an integer, got {value!r}")
            if len(value.strip()) > _MAX_INTEGER_DIGITS:
                raise ParameterError(self.name, f"an integer of {len(value.strip())} digits is too long "
                                                f"(at most {_MAX_INTEGER_DIGITS})")
            return Literal(int(value), datatype=XSD.integer)
        if self.type == "date":
            import datetime

            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ParameterError(self.name, f"expected a date YYYY-MM-DD, got {value!r}") from None
            return Literal(value, datatype=XSD.date)
        if self.type == "boolean":
            if value.lower() not in _BOOLEANS:
                raise ParameterError(self.name, f"expected true or false, got {value!r}")
            return Literal(_BOOLEANS[value.lower()])
        if self.type == "langstring":
            match = _LANG_VALUE_RE.match(value)
            text, lang = (match.group(1), match.group(2)) if match else (value, self.lang)
            return Literal(text, lang=lang.lower())
        return Literal(value)


def _check_iri(param: str, value: str) -> str:
    """An absolute IRI; a value without a scheme is resolved against the data's IRI base (`insight/3`)."""
    import pyoxigraph as ox

    from vetgraph.config import ID_BASE

    iri = value if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) else ID_BASE + value.lstrip("/")
    try:
        ox.NamedNode(iri)
    except ValueError as error:
        raise ParameterError(param, f"not a valid IRI ({error}): {value!r}") from None
    return iri


@dataclass
class StoredQuery:
    """One query of the catalogue (or an ad-hoc query file)."""

    name: str
    path: Path
    summary: str
    description: str
    tags: list[str]
    params: list[Param]
    #: the SPARQL text, without the `#+` metadata lines
    text: str
    example: str
    kind: str
    #: line of the file where `text` starts, to report errors at file positions
    first_line: int = 1
    _param_index: dict[str, Param] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._param_index = {p.name: p for p in self.params}

    def param(self, name: str) -> Param | None:
        return self._param_index.get(name)

    def bind(self, values: Mapping[str, str]) -> dict[str, Identifier]:
        """RDF terms for the given values plus defaults; ParameterError for unknown, missing or ill-typed ones.

        An optional parameter without value or default stays unbound (the query then does not filter on it);
        an empty value counts as no value."""
        unknown = sorted(set(values) - set(self._param_index))
        if unknown:
            known = ", ".join(p.name for p in self.params) or "none"
            raise ParameterError(unknown[0], f"unknown parameter of query {self.name!r} (parameters: {known})")
        bindings: dict[str, Identifier] = {}
        for param in self.params:
            value = values.get(param.name)
            if value is None or value == "":
                value = param.default
            if value is None:
                if param.required:
                    about = f" ({param.description})" if param.description else ""
                    raise ParameterError(param.name, f"missing: query {self.name!r} requires it{about}")
                continue
            bindings[param.name] = param.to_term(str(value))
        return bindings

    def where(self, line: int | None, column: int | None = None) -> tuple[int | None, int | None]:
        """A position in `text` as a position in the file."""
        return (None if line is None else line + self.first_line - 1), column


# --------------------------------------------------------------------------------------------------------
# Reading query files


def parse_query_file(path: Path, require_metadata: bool = True) -> StoredQuery:
    """Read one `.rq` file: metadata, parameters, kind; the SPARQL is checked for syntax (file:line:col)."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QueryFileError(path, f"cannot read: {error}") from None
    header, first_line = _header_lines(source)
    if not header and require_metadata:
        raise QueryFileError(path, "no '#+' metadata header (grlc's decorator syntax): start the file with "
                                   "'#+ summary: ...' and, for parameters, '#+ params: ...'", 1)
    metadata = _parse_metadata(path, header) if header else {}
    # no trailing newline: Oxigraph reports an error at the end of input on the line after it
    text = _rebase("\n".join(source.splitlines()[first_line - 1:]).rstrip())
    raw_params = _with_grlc_lists(path, metadata, header)
    params = _parse_params(path, raw_params, _key_line(header, "params"))
    kind = query_kind(text)
    if kind is None:
        raise QueryFileError(path, "no SELECT, ASK, CONSTRUCT or DESCRIBE query found", first_line)
    query = StoredQuery(
        name=path.stem,
        path=path,
        summary=str(metadata.get("summary", "")).strip(),
        description=str(metadata.get("description", "") or "").strip(),
        tags=[str(t) for t in metadata.get("tags") or []],
        params=params,
        text=text,
        example=str(metadata.get("example", "") or "").strip(),
        kind=kind,
        first_line=first_line,
    )
    _check_sparql(query)
    return query


def _rebase(text: str) -> str:
    """Queries are written with the canonical IRIs of the data (`<https://w3id.org/vetgraph/graph/unconfirmed>`);
    where a deployment moves the data's IRI base (VETGRAPH_BASE_IRI), they follow it, as the loader does."""
    from vetgraph.config import BASE_IRI, CANONICAL_BASE
    from vetgraph.loading import REBASED_PARTS

    if BASE_IRI == CANONICAL_BASE:
        return text
    for part in REBASED_PARTS:
        text = text.replace(f"<{CANONICAL_BASE}{part}", f"<{BASE_IRI}{part}")
    return text


def _header_lines(source: str) -> tuple[list[tuple[int, str]], int]:
    """The `#+` lines at the top of a file (line number, YAML text) and the line where the query starts."""
    header: list[tuple[int, str]] = []
    lines = source.splitlines()
    number = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#+"):
            content = stripped[2:]
            header.append((number, content[1:] if content.startswith(" ") else content))
        elif stripped and header:
            return header, number
        elif stripped:  # query text before any metadata: there is no header
            return header, number
    return header, number + 1 if header else 1


def _key_line(header: list[tuple[int, str]], key: str) -> int | None:
    for number, text in header:
        if text.startswith(f"{key}:"):
            return number
    return None


def _parse_metadata(path: Path, header: list[tuple[int, str]]) -> dict[str, Any]:
    import yaml

    try:
        metadata = yaml.safe_load("\n".join(text for _, text in header))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = header[min(mark.line, len(header) - 1)][0] if mark is not None else header[0][0]
        problem = getattr(error, "problem", None) or str(error)
        raise QueryFileError(path, f"bad '#+' metadata (YAML): {problem}", line) from None
    if not isinstance(metadata, dict):
        raise QueryFileError(path, "the '#+' metadata must be a YAML mapping (key: value lines)", header[0][0])
    for key in metadata:
        if key in GRLC_REFUSED_KEYS:
            raise QueryFileError(path, f"grlc's {key!r} is not supported: vetgraph returns every row, as SPARQL "
                                       "gives it (see docs/queries.md)", _key_line(header, str(key)))
        if key not in METADATA_KEYS:
            raise QueryFileError(path, f"unknown metadata key {key!r} (known: {', '.join(METADATA_KEYS)})",
                                 _key_line(header, str(key)))
    summary = metadata.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise QueryFileError(path, "metadata needs a non-empty 'summary'", header[0][0])
    for key in ("description", "example"):
        if metadata.get(key) is not None and not isinstance(metadata[key], str):
            raise QueryFileError(path, f"metadata {key!r} must be text", _key_line(header, key))
    tags = metadata.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise QueryFileError(path, "metadata 'tags' must be a list of words", _key_line(header, "tags"))
    endpoint = metadata.get("endpoint")
    if endpoint is not None and not (isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))):
        raise QueryFileError(path, "metadata 'endpoint' must be an http(s) URL", _key_line(header, "endpoint"))
    if metadata.get("endpoint_in_url") is not None and not isinstance(metadata["endpoint_in_url"], bool):
        raise QueryFileError(path, "metadata 'endpoint_in_url' must be true or false",
                             _key_line(header, "endpoint_in_url"))
    method = metadata.get("method")
    if method is not None and str(method).upper() not in ("GET", "POST"):
        raise QueryFileError(path, "metadata 'method' must be GET or POST (as in grlc)", _key_line(header, "method"))
    return metadata


def _with_grlc_lists(path: Path, metadata: dict[str, Any], header: list[tuple[int, str]]) -> Any:
    """`params` with grlc's `defaults` and `enumerate` folded in: each names a parameter declared under
    `params` and sets its default or its allowed values, as `default:` / `enum:` there would."""
    raw = metadata.get("params")
    for key, field_name in (("defaults", "default"), ("enumerate", "enum")):
        entries, line = metadata.get(key), _key_line(header, key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise QueryFileError(path, f"grlc's {key!r} must be a list of '- name: value' entries", line)
        for entry in entries:
            if isinstance(entry, str):  # grlc's `- name` alone: values from the endpoint
                name, value = entry, None
            elif isinstance(entry, dict) and len(entry) == 1:
                [(name, value)] = entry.items()
            else:
                raise QueryFileError(path, f"grlc's {key!r} must be a list of '- name: value' entries", line)
            if key == "enumerate" and not isinstance(value, list):
                raise QueryFileError(path, f"enumerate: {name!r} needs its list of values (grlc would ask the "
                                           "endpoint for them; vetgraph does not)", line)
            if not isinstance(raw, dict) or name not in raw:
                raise QueryFileError(path, f"{key}: {name!r} is not a parameter declared under 'params'", line)
            spec = {"type": raw[name]} if isinstance(raw[name], str) else dict(raw[name] or {})
            if field_name in spec:
                raise QueryFileError(path, f"{key}: parameter {name!r} has its {field_name} in 'params' already",
                                     line)
            raw = {**raw, name: {**spec, field_name: value}}
    return raw


def _parse_params(path: Path, raw: Any, line: int | None) -> list[Param]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise QueryFileError(path, "'params' must map each parameter name to its type, default, ...", line)
    params = []
    for name, spec in raw.items():
        where = f"parameter {name!r}"
        if not isinstance(name, str) or not _VARIABLE_RE.match(name):
            raise QueryFileError(path, f"{where}: a name must be a SPARQL variable name", line)
        if isinstance(spec, str):  # shorthand `name: integer`
            spec = {"type": spec}
        if not isinstance(spec, dict):
            raise QueryFileError(path, f"{where}: expected a mapping with 'type', 'required', 'default'", line)
        for key in spec:
            if key not in PARAM_KEYS:
                raise QueryFileError(path, f"{where}: unknown key {key!r} (known: {', '.join(PARAM_KEYS)})", line)
        ptype = spec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise QueryFileError(path, f"{where}: unknown type {ptype!r} (known: {', '.join(PARAM_TYPES)})", line)
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise QueryFileError(path, f"{where}: 'required' must be true or false", line)
        default = spec.get("default")
        if required and default is not None:
            raise QueryFileError(path, f"{where}: a required parameter cannot have a default", line)
        enum = spec.get("enum")
        if enum is not None and (not isinstance(enum, list) or not enum):
            raise QueryFileError(path, f"{where}: 'enum' must be a non-empty list", line)
        lang = str(spec.get("lang", "en"))
        if not _LANG_TAG_RE.match(lang):
            raise QueryFileError(path, f"{where}: {lang!r} is not a language tag", line)
        param = Param(
            name=name,
            type=ptype,
            required=required,
            default=None if default is None else _yaml_text(default),
            description=str(spec.get("description", "") or ""),
            enum=None if enum is None else [_yaml_text(v) for v in enum],
            lang=lang,
        )
        for value in ([param.default] if param.default is not None else []) + (param.enum or []):
            try:
                param.to_term(value)
            except ParameterError as error:
                raise QueryFileError(path, f"{where}: default or enum value does not fit: {error.message}",
                                     line) from None
        params.append(param)
    return params


def _yaml_text(value: Any) -> str:
    """A YAML scalar as the text a user would type (YAML reads `true` and `3` as bool and int)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_kind(text: str) -> str | None:
    """select/ask/construct/describe: the first query keyword after comments and the prologue."""
    from vetgraph.sparql_lexer import QUERY_FORMS, keywords, leading_keyword

    first = leading_keyword(keywords(text))
    return first.lower() if first in QUERY_FORMS else None


def _check_sparql(query: StoredQuery) -> None:
    """Parse the query with Oxigraph on an empty store, all parameters bound: syntax errors and parameters
    missing from a SELECT projection show up here, at load time, with their file position."""
    import pyoxigraph as ox

    from vetgraph.sparql_lexer import tokens
    from vetgraph.terms import to_oxigraph

    declared = {p.name for p in query.params}
    for token in tokens(query.text):
        # grlc reads parameters from variable names (?_name_iri, ?__name for optional ones); vetgraph does not,
        # and such a query would silently run with the variable unbound
        if token.kind == "var" and token.text[1:].startswith("_") and token.text[1:] not in declared:
            line = query.where(query.text.count("\n", 0, token.start) + 1)[0]
            raise QueryFileError(query.path, f"{token.text} looks like a grlc parameter variable; vetgraph does not "
                                             "read parameters from variable names: declare it under '#+ params'",
                                 line)
    substitutions = {ox.Variable(p.name): to_oxigraph(p.to_term(_sample_value(p))) for p in query.params}
    for param in query.params:
        if not re.search(rf"[?$]{param.name}\b", query.text):
            raise QueryFileError(query.path, f"parameter {param.name!r} is declared but the query has no "
                                             f"?{param.name} variable", query.first_line)
    try:
        ox.Store().query(query.text, substitutions=substitutions or None)
    except SyntaxError as error:
        message, line, column = _ox_position(str(error.msg))
        line, column = query.where(line, column)
        raise QueryFileError(query.path, f"SPARQL syntax error: {message}", line, column) from None
    except RuntimeError as error:  # SEP-0007: a bound variable must be in the SELECT projection
        raise QueryFileError(query.path, f"{error} (parameters of a SELECT query must be projected)",
                             query.first_line) from None


def _sample_value(param: Param) -> str:
    if param.default is not None:
        return param.default
    if param.enum:
        return param.enum[0]
    return {"iri": "urn:example:x", "integer": "1", "date": "2020-01-01", "boolean": "true"}.get(param.type, "x")


def _ox_position(message: str) -> tuple[str, int | None, int | None]:
    """Oxigraph's "error at L:C: message" as (short message, line, column)."""
    match = _OX_POSITION_RE.match(message)
    line = column = None
    if match:
        message, line, column = message[match.end():], int(match.group(1)), int(match.group(2))
    # Oxigraph lists every character class it expected; the first alternatives are the readable ones.
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE].rsplit(",", 1)[0] + ", ..."
    return message, line, column


def load_catalogue(queries_dir: Path | None = None) -> dict[str, StoredQuery]:
    """Every stored query of a folder (default: the project's `queries/`), sorted by name.

    Raises QueryFileError naming the file for a query without metadata, with bad metadata or bad SPARQL."""
    from vetgraph.config import Paths

    folder = queries_dir or Paths().queries_dir
    if not folder.is_dir():
        raise QueryFileError(folder, "no such folder of stored queries")
    catalogue: dict[str, StoredQuery] = {}
    for path in sorted(folder.glob("*.rq"), key=lambda p: p.stem):
        if not _NAME_RE.match(path.stem):
            raise QueryFileError(path, "a stored query's file name must be kebab-case (e.g. policy-instruments.rq)")
        catalogue[path.stem] = parse_query_file(path)
    return catalogue


# --------------------------------------------------------------------------------------------------------
# Running


def run_stored(
    store: Store, query: StoredQuery, values: Mapping[str, str], timeout: float | None = None
) -> QueryResult:
    """Bind the values (ParameterError if they do not fit) and run the query on the store."""
    return execute(store, query, query.bind(values), timeout)


def execute(
    store: Store, query: StoredQuery, bindings: Mapping[str, Identifier], timeout: float | None = None
) -> QueryResult:
    """Run a query with already-bound parameters; a QueryError's position is given in the file's lines."""
    from vetgraph.stores import QueryError

    try:
        return store.query(query.text, bindings, timeout)
    except QueryError as error:
        raise QueryError(*_locate(error, query)) from None


def _locate(error: Any, query: StoredQuery) -> tuple[str, int | None, int | None]:
    """Message, file line and column of a QueryError raised on `query.text`."""
    message, line, column = _ox_position(error.message)
    if error.line is not None:
        line, column = error.line, error.column
    line, column = query.where(line, column)
    return message, line, column


# --------------------------------------------------------------------------------------------------------
# The `vetgraph query` command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vetgraph.config import ID_BASE

    parser.add_argument("name", nargs="?", help="name of a stored query (see --list)")
    parser.add_argument("--list", action="store_true", help="list the stored queries with their parameters")
    parser.add_argument("--file", type=Path, metavar="FILE.rq", help="run an ad-hoc query file instead")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                        help=f"a parameter value (repeatable); IRIs without a scheme are read relative to {ID_BASE}")
    parser.add_argument("-f", "--format", choices=OUTPUT_FORMATS, default=None,
                        help="output format (default: table for SELECT/ASK, ttl for CONSTRUCT/DESCRIBE)")
    from vetgraph.cli import seconds

    parser.add_argument("--timeout", type=seconds, default=30.0, metavar="S",
                        help="stop a query that runs longer than S seconds (default 30; 0 = no limit)")
    parser.add_argument("--store", choices=("oxigraph", "rdflib"), default="oxigraph",
                        help="query engine over the local data (default: oxigraph)")
    parser.add_argument("--queries", type=Path, metavar="DIR", help="folder of stored queries (default: queries/)")
    parser.add_argument("--endpoint", metavar="URL",
                        help="query a remote SPARQL endpoint (a store filled by 'vetgraph publish') instead of "
                             "the local data")
    from vetgraph.cli import add_auth_arguments

    add_auth_arguments(parser)  # for --endpoint


def run(args: argparse.Namespace) -> int:
    try:
        if args.list:
            print(format_listing(load_catalogue(args.queries).values()), end="")
            return 0
        query = _chosen_query(args)
        values = _param_values(args.param)
        if values and args.file is not None and not query.params:
            raise ParameterError(next(iter(values)), f"{query.path} declares no parameters "
                                                      "(add a '#+ params:' header to give it some)")
        bindings = query.bind(values)
        fmt = _output_format(query.kind, args.format)
        store = _make_store(args)
        output, negative = _run_limited(lambda: _render(store, query, bindings, fmt), args.timeout)
    except ParameterError as error:  # vetgraph.cli reports the others (LoadError, UsageError, _QueryFailed)
        raise UsageError(str(error)) from None
    sys.stdout.buffer.write(output)
    sys.stdout.flush()
    return 1 if negative else 0


_UsageError = UsageError


class _QueryFailed(CannotRun):
    """The query ran and failed (syntax, timeout, engine error); the message is ready to print."""


def _chosen_query(args: argparse.Namespace) -> StoredQuery:
    if args.file is not None:
        if args.name:
            raise _UsageError("give a stored query NAME or --file, not both")
        return parse_query_file(args.file, require_metadata=False)
    if not args.name:
        raise _UsageError("name a stored query (vetgraph query --list shows them) or give --file FILE.rq")
    catalogue = load_catalogue(args.queries)
    if args.name not in catalogue:
        import difflib

        close = difflib.get_close_matches(args.name, list(catalogue), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; vetgraph query --list shows them"
        raise _UsageError(f"no stored query named {args.name!r}{hint}")
    return catalogue[args.name]


def _param_values(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise _UsageError(f"--param expects KEY=VALUE, got {item!r}")
        if key.strip() in values:  # silently keeping the last one would run another query than asked
            raise _UsageError(f"--param {key.strip()} is given twice; give each parameter once")
        values[key.strip()] = value
    return values


def _output_format(kind: str, fmt: str | None) -> str:
    from vetgraph.stores import GRAPH_FORMATS, TABULAR_FORMATS

    graph = kind in ("construct", "describe")
    if fmt is None or fmt == "table":
        return "ttl" if graph else "table"
    if graph and fmt not in GRAPH_FORMATS:
        raise _UsageError(f"a {kind.upper()} query gives RDF: use --format {', '.join(GRAPH_FORMATS)}")
    if not graph and fmt not in TABULAR_FORMATS:
        raise _UsageError(f"a {kind.upper()} query gives a result table: use --format table, "
                          f"{', '.join(TABULAR_FORMATS)}")
    return fmt


def _make_store(args: argparse.Namespace) -> Store:
    """The one place that chooses the engine the command queries (remote endpoints plug in here)."""
    if getattr(args, "endpoint", None):
        from vetgraph.remote import RemoteStore, credentials_from

        try:
            return RemoteStore(args.endpoint, timeout=args.timeout or None, auth=credentials_from(args))
        except ValueError as error:
            raise _UsageError(str(error)) from None
    from vetgraph.loading import load_project
    from vetgraph.stores import RdflibStore

    loaded = load_project()
    if args.store == "rdflib":
        return RdflibStore(loaded.dataset)
    return loaded.store()


def _render(store: Store, query: StoredQuery, bindings: Mapping[str, Identifier], fmt: str) -> tuple[bytes, bool]:
    """Run the query and write its result: the aligned table, or a W3C result format / RDF syntax.

    Also says whether the result is negative (an ASK answered false), for the exit code."""
    from vetgraph.stores import QueryError
    from vetgraph.tables import format_result, turtle

    graph = query.kind in ("construct", "describe")
    try:
        if fmt != "table" and query.kind == "select":
            _, data = store.native(query.text, fmt, bindings)
            return data, False
        result = store.query(query.text, bindings)
    except QueryError as error:
        raise _QueryFailed(str(LoadError(query.path, *_locate(error, query)))) from None
    except (RuntimeError, OSError, ValueError) as error:  # engine-level failures (e.g. bad regex at run time)
        raise _QueryFailed(f"{query.path}: query failed: {error}") from None
    negative = result.kind == "ask" and not result.boolean
    if graph and fmt == "ttl":  # readable Turtle: grouped by subject, with prefixes
        return (turtle(result.graph) if result.graph is not None else b""), False
    if fmt != "table":
        return result.serialize(fmt), negative
    return format_result(result, hide={p.name for p in query.params}).encode("utf-8"), negative


def _run_limited(work: Callable[[], _T], timeout: float | None) -> _T:
    """Run `work` in a forked child process and stop it after `timeout` seconds.

    pyoxigraph cannot interrupt a running query from Python, so the query runs where it can be killed;
    fork shares the already loaded store with the child at no copying cost."""
    import multiprocessing

    if not timeout or timeout <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return work()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(work, sender), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            process.kill()
            raise _QueryFailed(f"the query ran longer than {timeout:g} s and was stopped (raise --timeout to "
                               "give it more time)")
        try:
            status, payload = receiver.recv()
        except EOFError:
            process.join()
            raise _QueryFailed(f"the query process ended without a result (exit code {process.exitcode})") from None
    finally:
        process.join(timeout=5)
        receiver.close()
    if status == "failed":
        raise _QueryFailed(payload)
    return payload


def _child(work: Callable[[], Any], sender: Any) -> None:
    try:
        sender.send(("ok", work()))
    except _QueryFailed as error:
        sender.send(("failed", str(error)))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which prints it
        sender.send(("failed", f"query failed: {type(error).__name__}: {error}"))
    finally:
        sender.close()


def format_listing(queries: Any) -> str:
    """`vetgraph query --list`: name, summary and parameters of each stored query."""
    lines = []
    for query in queries:
        lines.append(f"{query.name:<20} {query.summary}")
        for param in query.params:
            flags = "required" if param.required else (f"default {param.default}" if param.default is not None
                                                       else "optional")
            choice = f", one of {'|'.join(param.enum)}" if param.enum else ""
            text = f": {param.description}" if param.description else ""
            lines.append(f"{'':<22}--param {param.name}=<{param.type}> ({flags}{choice}){text}")
    return "\n".join(lines) + ("\n" if lines else "")
